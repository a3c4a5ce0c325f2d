package runtime

import (
	"fmt"
	"time"

	"github.com/emiago/sipgo/sip"
)

// DefaultTransactionLinger is how long a finished transaction is kept to
// absorb retransmissions: Kamailio's tm wait timer (wt_timer) has the same
// 5 s default. It covers a UDP sender's longest retransmission interval
// (T2 = 4 s), which is what the lingering is for.
const DefaultTransactionLinger = 5 * time.Second

// Bounds of SetTransactionLinger: below a second a lost final answer's
// retransmissions are relayed twice on a loaded network; above 64·T1 the
// RFC 3261 values themselves apply.
const (
	MinTransactionLinger = time.Second
	MaxTransactionLinger = 32 * time.Second
)

// SetTransactionLinger sets how long sipgo keeps a UDP transaction once it
// has its final answer: Timer J (non-INVITE server), Timer L (INVITE
// server after a 2xx, RFC 6026), Timer M (INVITE client after a 2xx),
// Timer D (client after a non-2xx; sipgo uses D for non-INVITE client
// transactions too, where RFC 3261 says K) and Timer K.
//
// RFC 3261 has them at 64·T1 = 32 s, for a sender that retransmits until
// Timer F. A proxy keeps every transaction, with its parsed messages and
// timers, for that long after the call's messages are done: at 2,500
// calls/s that is 80,000 calls' transaction pairs, most of the proxy's
// memory (BENCHMARKS.md). Kamailio and OpenSIPS keep a finished
// transaction for 5 s; so does sipfront, and what arrives later goes
// without it (docs/serving.md#transactions has the whole table): an
// INVITE of a call the dialog table tracks is dropped (Server.staleInvite),
// another request is relayed again as a new transaction, a 2xx goes
// upstream statelessly (the stray 2xx path of runtime/forward; dropped on
// a topology-hidden or carrier leg, whose Via is gone), and a late non-2xx
// final is dropped.
//
// The timers are process-wide sipgo globals read by every transaction, so
// this is called once, before any Server starts (sipfront serve does it
// from --transaction-linger); it is not safe while transactions run.
func SetTransactionLinger(d time.Duration) error {
	if d < MinTransactionLinger || d > MaxTransactionLinger {
		return fmt.Errorf("transaction linger %s: want between %s and %s", d, MinTransactionLinger, MaxTransactionLinger)
	}
	sip.Timer_D = d
	sip.Timer_J = d
	sip.Timer_K = d
	sip.Timer_L = d
	sip.Timer_M = d
	return nil
}
