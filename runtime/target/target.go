// Package target is what the proxy's failover loop tries, one after the
// other: a Target is an address with the graph ID that accounts for it (a
// pool member, a registered contact, a carrier), and an Iterator hands them
// out and hears how each try went. The loop knows nothing of pools: each
// kind of target brings its own Iterator (Pool here; contacts and carriers
// in the packages that own them).
package target

import (
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
)

// Target is one place a request can be sent.
type Target struct {
	// ID is the graph ID that accounts for the try: health, call counts
	// and the dialog table are keyed by it (a member ID, a contact's
	// binding ID, a carrier ID).
	ID graph.ID
	// Group is the ID of what the target belongs to (the member's pool,
	// the address of record, the carrier table); "" when none.
	Group graph.ID
	// Addr is host:port to send to; Transport is "udp" or "tcp".
	Addr, Transport string
	// Member is set when the target is a pool member, nil otherwise.
	Member *graph.Member
	// URI is the Request-URI to send with (a registered contact); "" keeps
	// the request's own.
	URI string
	// Carrier is set when the target is a PSTN carrier, nil otherwise.
	Carrier *graph.Carrier
}

// Iterator hands out the targets of one request in order and hears how
// each try went. It is used by one goroutine (the request's handler).
type Iterator interface {
	// Next returns the next target to try; false when none is left (the
	// list is exhausted, or the try limit is reached).
	Next() (Target, bool)
	// Retries reports whether a final status from a target (0 for a
	// timeout or a transport error) should go to the next target instead
	// of the caller.
	Retries(code int) bool
	// NoAnswer bounds the wait for a target's first answer; 0 means the
	// transaction timers only.
	NoAnswer() time.Duration
	// Failed reports that the try of t failed with code (0: timeout or
	// transport error); counts is false when the failure must not count
	// against t's health (the proxy itself was overloaded).
	Failed(t Target, code int, why string, counts bool)
	// Answered reports that t gave the caller its final answer, code.
	Answered(t Target, code int)
}

// Timed is an Iterator that wants each try's post-dial delay: the time
// from sending to the target's first ringing (1xx above 100) or final
// answer; 0 when it gave none.
type Timed interface {
	PDD(t Target, pdd time.Duration)
}
