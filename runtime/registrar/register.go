package registrar

import (
	"time"
)

// NoExpires marks an absent Expires header or expires parameter.
const NoExpires = -1

// DefaultExpires is the lifetime of a binding whose REGISTER names none
// (RFC 3261 §10.3 step 6 lets the registrar choose; 3600 s is the RFC's
// suggested default), before max_expires clamps it.
const DefaultExpires = time.Hour

// Contact is one Contact header value of a REGISTER.
type Contact struct {
	// URI is the contact URI; Key its §19.1.4 comparison form (URI if empty).
	URI string
	Key string
	// Expires is the expires parameter in seconds, NoExpires when absent.
	Expires int
	// Q is the q parameter in thousandths, QUnset when absent.
	Q int
}

// Request is a REGISTER reduced to what §10.3 reads.
type Request struct {
	// User and Domain are the user and host of the To URI (the address of
	// record).
	User, Domain string
	// Star is a `Contact: *`; Contacts are the other Contact values.
	Star     bool
	Contacts []Contact
	// Expires is the Expires header in seconds, NoExpires when absent.
	Expires   int
	CallID    string
	CSeq      uint32
	Source    string
	Transport string
	UserAgent string
}

// Result is the registrar's answer to a REGISTER.
type Result struct {
	Status int
	Reason string
	// MinExpires is set on a 423 (the Min-Expires header, in seconds).
	MinExpires int
	// Bindings are the user's current bindings after the request (a 200
	// lists each with its remaining time).
	Bindings []Binding
}

// Limits are the registrar block's settings.
type Limits struct {
	MinExpires  time.Duration
	MaxExpires  time.Duration
	MaxContacts int
}

// Results of Register, as metric labels.
const (
	ResultOK         = "ok"
	ResultForeign    = "foreign_domain"
	ResultBad        = "bad_request"
	ResultTooBrief   = "interval_too_brief"
	ResultOutOfOrder = "out_of_order"
	ResultTooMany    = "too_many_contacts"
	ResultStoreError = "store_error"
)

// Results lists every value Outcome returns, for metrics to create their
// series up front.
var Results = []string{ResultOK, ResultForeign, ResultBad, ResultTooBrief, ResultOutOfOrder,
	ResultTooMany, ResultStoreError}

// Outcome names a Result for metrics (registrations by result).
func (r *Result) Outcome() string {
	switch r.Status {
	case 200:
		return ResultOK
	case 404:
		return ResultForeign
	case 423:
		return ResultTooBrief
	case 403:
		return ResultTooMany
	case 500:
		return ResultStoreError
	}
	if r.Reason == reasonCSeq {
		return ResultOutOfOrder
	}
	return ResultBad
}

const reasonCSeq = "Invalid CSeq Number"

func fail(status int, reason string) Result { return Result{Status: status, Reason: reason} }

// apply computes a user's bindings after req (RFC 3261 §10.3 steps 5 to 7),
// from the current bindings cur, which it does not modify. It returns the
// new set or a failed Result.
func apply(lim Limits, cur []Binding, req *Request, now time.Time) ([]Binding, Result) {
	if req.Star {
		return applyStar(cur, req, now)
	}
	next := make([]Binding, 0, len(cur)+len(req.Contacts))
	for i := range cur {
		if cur[i].Live(now.UnixNano()) {
			next = append(next, cur[i])
		}
	}
	touched := make([]bool, len(next), len(next)+len(req.Contacts))
	added := 0
	for i := range req.Contacts {
		c := &req.Contacts[i]
		secs, res := lifetime(lim, c.Expires, req.Expires)
		if res.Status != 0 {
			return nil, res
		}
		key := c.Key
		if key == "" {
			key = c.URI
		}
		j := find(next, key)
		if j >= 0 && !newer(&next[j], req) {
			return nil, fail(400, reasonCSeq)
		}
		if secs == 0 {
			if j >= 0 {
				next = append(next[:j], next[j+1:]...)
				touched = append(touched[:j], touched[j+1:]...)
			}
			continue
		}
		b := Binding{User: req.User, Domain: req.Domain, URI: c.URI, Key: key, Q: c.Q,
			Expires: now.Add(time.Duration(secs) * time.Second).UnixNano(), Updated: now.UnixNano(),
			CallID: req.CallID, CSeq: req.CSeq, Source: req.Source, Transport: req.Transport, UserAgent: req.UserAgent}
		if j >= 0 {
			next[j], touched[j] = b, true
			continue
		}
		next, touched = append(next, b), append(touched, true)
		added++
	}
	if added > lim.MaxContacts && lim.MaxContacts > 0 {
		return nil, fail(403, "Too Many Contacts")
	}
	return evictOldest(next, touched, lim.MaxContacts), Result{}
}

// applyStar handles `Contact: *`: valid only with Expires: 0 (§10.3 step
// 6), it removes every binding, subject to the Call-ID/CSeq check.
func applyStar(cur []Binding, req *Request, now time.Time) ([]Binding, Result) {
	if req.Expires != 0 || len(req.Contacts) > 0 {
		return nil, fail(400, "Contact * Needs Expires 0 Alone")
	}
	for i := range cur {
		if cur[i].Live(now.UnixNano()) && !newer(&cur[i], req) {
			return nil, fail(400, reasonCSeq)
		}
	}
	return nil, Result{}
}

// lifetime is a contact's granted lifetime in seconds: its expires
// parameter, else the Expires header, else DefaultExpires; 423 under the
// minimum, clamped to the maximum.
func lifetime(lim Limits, param, header int) (int, Result) {
	secs := param
	if secs == NoExpires {
		secs = header
	}
	if secs == NoExpires {
		secs = int(DefaultExpires / time.Second)
	}
	if secs == 0 {
		return 0, Result{}
	}
	if min := int(lim.MinExpires / time.Second); secs < min {
		return 0, Result{Status: 423, Reason: "Interval Too Brief", MinExpires: min}
	}
	if max := int(lim.MaxExpires / time.Second); max > 0 && secs > max {
		secs = max
	}
	return secs, Result{}
}

// newer is §10.3 step 7: a request may change a binding when it comes from
// another Call-ID, or from the same one with a higher CSeq.
func newer(b *Binding, req *Request) bool {
	return b.CallID != req.CallID || req.CSeq > b.CSeq
}

func find(bs []Binding, key string) int {
	for i := range bs {
		if bs[i].Key == key {
			return i
		}
	}
	return -1
}

// evictOldest keeps at most max bindings by dropping the least recently
// updated among those the request did not touch: a phone that rebooted and
// registers a new contact (a new NAT port) replaces its stale binding
// instead of being locked out until it expires.
func evictOldest(bs []Binding, touched []bool, max int) []Binding {
	for max > 0 && len(bs) > max {
		oldest := -1
		for i := range bs {
			if !touched[i] && (oldest < 0 || bs[i].Updated < bs[oldest].Updated) {
				oldest = i
			}
		}
		if oldest < 0 {
			break
		}
		bs = append(bs[:oldest], bs[oldest+1:]...)
		touched = append(touched[:oldest], touched[oldest+1:]...)
	}
	return bs
}
