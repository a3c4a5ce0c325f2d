package dialog

import (
	"crypto/rand"
	"encoding/hex"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// Side says which party of a dialog sent a request.
type Side uint8

// Sides of a dialog.
const (
	// Caller is the party that sent the initial INVITE (From tag).
	Caller Side = iota + 1
	// Callee is the party that answered it (To tag).
	Callee
)

// Party is one side of a dialog as the proxy saw it.
type Party struct {
	// Contact is where in-dialog requests to the party go (its Contact
	// URI); nil when it sent none.
	Contact *sip.Uri
	// Addr and Transport are where the party is reached: the caller's
	// source address (NAT), the callee's target.
	Addr, Transport string
	// Routes is the route set toward the party beyond this proxy, in the
	// order the Route headers take (the proxies between us and it).
	Routes []sip.Uri
}

// Legs is what the proxy learnt of both parties. It is written by Record
// and Answer before the dialog is confirmed and only read afterwards.
type Legs struct {
	Caller, Callee Party
	// From and To are the headers of the initial INVITE (To without the
	// callee's tag), for the BYE the proxy sends itself.
	From *sip.FromHeader
	To   *sip.ToHeader
	// Token is the user part of the Contact the proxy shows each side
	// when topology hiding is on ("" otherwise); an in-dialog request to
	// it must belong to this dialog. Dialogs are found by Call-ID and
	// tags, which topology hiding leaves alone; masking the Call-ID would
	// need an index by token.
	Token string
}

// Record stores what the initial INVITE req tells of the caller: its
// Contact, source address, the Record-Route entries of the proxies before
// us (its route set) and From/To. hide asks for a topology-hiding token.
func (t *Table) Record(callID, fromTag string, req *sip.Request, hide bool) *Legs {
	l := &Legs{Caller: Party{Addr: req.Source(), Transport: strings.ToLower(req.Transport())}}
	if c := req.Contact(); c != nil {
		l.Caller.Contact = c.Address.Clone()
	}
	for _, h := range req.Headers() {
		if rr, ok := h.(*sip.RecordRouteHeader); ok {
			l.Caller.Routes = append(l.Caller.Routes, *rr.Address.Clone())
		}
	}
	if f := req.From(); f != nil {
		l.From = &sip.FromHeader{DisplayName: f.DisplayName, Address: *f.Address.Clone(), Params: f.Params.Clone()}
	}
	if to := req.To(); to != nil {
		l.To = &sip.ToHeader{DisplayName: to.DisplayName, Address: *to.Address.Clone(), Params: to.Params.Clone()}
	}
	if hide {
		l.Token = newToken()
	}
	sh := t.shardFor(callID)
	sh.mu.Lock()
	e := sh.find(callID, fromTag)
	if e != nil {
		l.Callee.Addr, l.Callee.Transport = e.d.Addr, e.d.Transport
		e.d.Legs = l
		e.d.CallerCSeq = cseqOf(req)
	}
	sh.mu.Unlock()
	return l
}

// Answer stores what the 2xx res tells of the callee: its Contact and the
// Record-Route entries of the proxies after us, reversed (its route set),
// and the dialog's current target address. isOwn recognises this proxy's
// entries. It records nothing, and returns false, when the dialog already
// has another To tag (a second 2xx of a fork, RFC 3261 §16.7 step 5).
func (t *Table) Answer(callID, fromTag string, res *sip.Response, isOwn func(*sip.Uri) bool) bool {
	tag := ""
	if to := res.To(); to != nil {
		tag, _ = to.Params.Get("tag")
	}
	var contact *sip.Uri
	if c := res.Contact(); c != nil {
		contact = c.Address.Clone()
	}
	var routes []sip.Uri
	for _, h := range res.Headers() {
		rr, ok := h.(*sip.RecordRouteHeader)
		if !ok {
			continue
		}
		if isOwn(&rr.Address) {
			break // the entries after ours are the caller's side
		}
		routes = append(routes, *rr.Address.Clone())
	}
	for i, j := 0, len(routes)-1; i < j; i, j = i+1, j-1 {
		routes[i], routes[j] = routes[j], routes[i]
	}
	sh := t.shardFor(callID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.find(callID, fromTag)
	if e == nil || (e.d.ToTag != "" && e.d.ToTag != tag) {
		return false
	}
	if e.d.Legs != nil {
		l := *e.d.Legs // a new value: readers may hold the old one
		l.Callee = Party{Contact: contact, Addr: e.d.Addr, Transport: e.d.Transport, Routes: routes}
		e.d.Legs = &l
	}
	return true
}

// Verdict is the result of matching an in-dialog request.
type Verdict uint8

// Verdicts of Match.
const (
	// Known: the request belongs to a tracked dialog and its CSeq is new.
	Known Verdict = iota + 1
	// Unknown: no tracked dialog has these Call-ID and tags.
	Unknown
	// OldCSeq: the CSeq is lower than the last one from that party (RFC
	// 3261 §12.2.2: out of order).
	OldCSeq
	// Sibling: the tracked dialog's Call-ID and caller tag with another
	// tag on the callee's side: a second 2xx of a fork made it (RFC 3261
	// §16.7 step 5), and one side is ending it. It is not tracked.
	Sibling
)

// Retransmitted reports whether an INVITE without a To tag, with these
// Call-ID, From tag and CSeq, belongs to a call the table tracks: the
// dialog exists and the CSeq is not above the caller's last. It is then a
// retransmission that outlived the proxy's INVITE transaction (the caller
// never heard the 2xx within the transaction linger), not a new call; a
// new attempt of the same call (after a challenge) carries a higher CSeq.
func (t *Table) Retransmitted(callID, fromTag string, cseq uint32) bool {
	sh := t.shardFor(callID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.find(callID, fromTag)
	return e != nil && e.d.CallerCSeq != 0 && cseq <= e.d.CallerCSeq
}

// Acked marks the 2xx of the dialog acknowledged, for an ACK relayed
// without matching the table (dialog validation off); toTag must be the
// answered one (not a fork's sibling).
func (t *Table) Acked(callID, fromTag, toTag string) {
	sh := t.shardFor(callID)
	sh.mu.Lock()
	if e := sh.find(callID, fromTag); e != nil && e.d.Established && e.d.ToTag == toTag {
		e.d.Acked = true
	}
	sh.mu.Unlock()
}

// Match finds the dialog of an in-dialog request by Call-ID and tags, in
// either direction, and says which party sent it. While the dialog is
// early (no 2xx yet), any To tag from the caller matches (PRACK, UPDATE),
// and so does any From tag from the callee's side (its To tag is the
// caller's: UPDATE, INFO, BYE from a callee that sent a 1xx).
// For methods other than ACK and CANCEL the CSeq must not be lower than
// the sender's last one (RFC 3261 §12.2.2). An equal one passes: it is a
// retransmission whose transaction has ended (after the proxy's
// transaction linger) or not started yet, and the far end decides (most
// answer it again or refuse it). Match records nothing: the caller calls Advance once
// the request has passed every other check, so that a refused request (a
// forged route set) cannot raise the CSeq and lock the real party out.
func (t *Table) Match(callID, fromTag, toTag string, cseq uint32, method sip.RequestMethod) (Dialog, Side, Verdict) {
	sh := t.shardFor(callID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	side := Caller
	e := sh.find(callID, fromTag)
	if e == nil || (e.d.Established && e.d.ToTag != toTag) {
		if e != nil {
			return Dialog{}, Caller, Sibling
		}
		side = Callee
		if e = sh.find(callID, toTag); e == nil {
			return Dialog{}, 0, Unknown
		}
		switch {
		case !e.d.Established:
			// An early dialog (no 2xx yet, no To tag stored): the request
			// comes from a callee that sent a 1xx with its tag (UPDATE,
			// INFO, BYE before the answer). A fork may have several
			// callees, each with its own CSeq space, and which one wins
			// is not known yet: their CSeqs are not checked.
			return e.d, side, Known
		case e.d.ToTag != fromTag:
			// A callee of the fork whose 2xx was not the one tracked.
			return Dialog{}, Callee, Sibling
		}
	}
	if method == sip.ACK || method == sip.CANCEL {
		return e.d, side, Known
	}
	last := e.d.lastCSeq(side)
	if *last != 0 && cseq < *last {
		return e.d, side, OldCSeq
	}
	return e.d, side, Known
}

// Advance records a request of dialog d that passed every check: an ACK
// from the caller marks the 2xx acknowledged (ExpireUnacked); another
// method's cseq becomes the last CSeq side sent, when it is higher than
// the one recorded. A dialog that has ended meanwhile is left alone.
func (t *Table) Advance(d Dialog, side Side, method sip.RequestMethod, cseq uint32) {
	sh := t.shardFor(d.CallID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.find(d.CallID, d.FromTag)
	switch {
	case e == nil, method == sip.CANCEL:
		return
	case method == sip.ACK:
		e.d.Acked = e.d.Acked || (side == Caller && e.d.Established)
		return
	case side == Callee && !e.d.Established:
		return // early: a fork's callees each count their own (see Match)
	}
	if last := e.d.lastCSeq(side); cseq > *last {
		*last = cseq
	}
}

// lastCSeq is where the highest CSeq side sent is kept.
func (d *Dialog) lastCSeq(side Side) *uint32 {
	if side == Callee {
		return &d.CalleeCSeq
	}
	return &d.CallerCSeq
}

func cseqOf(req *sip.Request) uint32 {
	if c := req.CSeq(); c != nil {
		return c.SeqNo
	}
	return 0
}

// newToken returns a random topology-hiding token.
func newToken() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Other returns the party that is not side.
func (l *Legs) Other(side Side) *Party {
	if side == Caller {
		return &l.Callee
	}
	return &l.Caller
}

// Of returns side's party.
func (l *Legs) Of(side Side) *Party {
	if side == Caller {
		return &l.Caller
	}
	return &l.Callee
}
