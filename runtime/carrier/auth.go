package carrier

import (
	"strings"
	"sync"

	"github.com/emiago/sipgo/sip"

	"github.com/sipfront/sipfront/runtime/digest"
)

// Authorize answers a carrier's digest challenge (a 401 or 407 to the
// forwarded INVITE fwd) once per call: it returns the INVITE to send
// instead, a new transaction (new Via branch, CSeq + 1) carrying the
// Authorization or Proxy-Authorization header made from the carrier's
// credentials; nil when res is no challenge, the carrier has no auth
// block, the call answered one already, or the challenge cannot be
// answered (then the call fails over, and the caller gets 503 when no
// carrier is left: see Withholds).
//
// The carrier leg's CSeq is now one above the caller's: the store keeps
// the shift for the dialog, and in-dialog requests from the caller to the
// carrier are renumbered (CSeqShift).
func (it *Iterator) Authorize(fwd *sip.Request, res *sip.Response) *sip.Request {
	c := it.cur
	if c == nil || c.Auth == nil || it.authSent || !isChallenge(res.StatusCode) {
		return nil
	}
	it.authSent = true
	h := res.GetHeader(digest.ChallengeHeader(res.StatusCode))
	if h == nil {
		return nil
	}
	ch, err := digest.ParseChallenge(h.Value())
	if err != nil {
		return nil
	}
	cseq := fwd.CSeq()
	value, err := digest.Authorization(ch, digest.Answer{Username: c.Auth.Username, Password: c.Auth.Password,
		Method: string(fwd.Method), URI: fwd.Recipient.String(), CNonce: digest.NewCNonce(), NC: 1})
	if err != nil || cseq == nil {
		return nil
	}
	out := sip.NewRequest(fwd.Method, fwd.Recipient)
	out.SipVersion = fwd.SipVersion
	for _, hd := range fwd.Headers() {
		switch hd := hd.(type) {
		case *sip.ViaHeader:
			if hd == fwd.Via() {
				out.AppendHeader(newBranch(hd))
				continue
			}
		case *sip.CSeqHeader:
			out.AppendHeader(&sip.CSeqHeader{SeqNo: hd.SeqNo + 1, MethodName: hd.MethodName})
			continue
		}
		out.AppendHeader(hd)
	}
	out.AppendHeader(sip.NewHeader(digest.AuthorizationHeader(res.StatusCode), value))
	out.SetBody(fwd.Body())
	out.SetTransport(fwd.Transport())
	out.SetSource(fwd.Source())
	out.SetDestination(fwd.Destination())
	out.Laddr = fwd.Laddr
	if from := fwd.From(); from != nil {
		tag, _ := from.Params.Get("tag")
		it.store.shifts.set(fwd.CallID().Value(), tag, 1)
	}
	return out
}

// newBranch returns a copy of the proxy's Via with a fresh branch: the
// part before the last dot (the loop-detection hash) is kept.
func newBranch(v *sip.ViaHeader) *sip.ViaHeader {
	nv := v.Clone()
	b, _ := nv.Params.Get("branch")
	keep := b
	if i := strings.LastIndexByte(b, '.'); i >= 0 {
		keep = b[:i]
	}
	nv.Params.Add("branch", keep+"."+sip.GenerateTagN(16))
	return nv
}

// shifts holds the CSeq shift of the dialogs whose carrier leg answered a
// challenge, by Call-ID and caller's From tag. Only those dialogs have an
// entry, so the map stays as small as the authenticated calls in progress.
type shifts struct{ m sync.Map }

func shiftKey(callID, fromTag string) string { return callID + "\x00" + fromTag }

func (s *shifts) set(callID, fromTag string, n uint32) { s.m.Store(shiftKey(callID, fromTag), n) }

// CSeqShift is how much higher the carrier leg's CSeq is than the
// caller's in the dialog callID/fromTag (the caller's From tag): 0 unless
// the carrier challenged the INVITE.
func (s *Store) CSeqShift(callID, fromTag string) uint32 {
	if v, ok := s.shifts.m.Load(shiftKey(callID, fromTag)); ok {
		return v.(uint32)
	}
	return 0
}

// forget drops the shift and hidden Contact of an ended dialog.
func (s *Store) forget(callID, fromTag string) {
	key := shiftKey(callID, fromTag)
	s.shifts.m.Delete(key)
	s.contacts.m.Delete(key)
}

// forgetShift drops the shift of a call that failed over to another
// carrier: that carrier's leg starts at the caller's CSeq.
func (s *Store) forgetShift(callID, fromTag string) { s.shifts.m.Delete(shiftKey(callID, fromTag)) }
