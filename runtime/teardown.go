package runtime

import (
	"context"
	"sync"

	"github.com/emiago/sipgo/sip"

	"github.com/sipfront/sipfront/runtime/dialog"
	"github.com/sipfront/sipfront/runtime/forward"
	"github.com/sipfront/sipfront/runtime/sipmsg"
)

// byes builds the BYEs that end a confirmed dialog the proxy itself tears
// down (max_call_duration): one to each party that left a Contact, each as
// that party's peer would send it (its route set, the other party's tags,
// the next CSeq). Build them before the dialog's end is accounted: a
// carrier leg's CSeq shift goes with it.
func (s *Server) byes(d dialog.Dialog) []*sip.Request {
	if d.Legs == nil {
		return nil
	}
	var out []*sip.Request
	for _, to := range []dialog.Side{dialog.Callee, dialog.Caller} {
		if bye := s.bye(d, to); bye != nil {
			out = append(out, bye)
		}
	}
	return out
}

// sendByes sends the BYEs of d in parallel and waits for their answers,
// bounded by in_dialog_timeout.
func (s *Server) sendByes(d dialog.Dialog, byes []*sip.Request) {
	timeout := inDialogTimeout(s.Graph())
	var wg sync.WaitGroup
	for _, bye := range byes {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			res, err := s.relay.Client.Do(ctx, bye, forward.NoBuild)
			if err != nil {
				s.log.Info("BYE for max_call_duration not answered", "call_id", d.CallID, "to", bye.Destination(), "error", err)
				return
			}
			s.log.Debug("BYE for max_call_duration answered", "call_id", d.CallID, "to", bye.Destination(), "status", res.StatusCode)
		})
	}
	wg.Wait()
}

// bye builds the BYE the proxy sends to party to of d, nil when the party
// left no Contact to send it to.
func (s *Server) bye(d dialog.Dialog, to dialog.Side) *sip.Request {
	l := d.Legs
	p := l.Of(to)
	if p.Contact == nil || l.From == nil || l.To == nil {
		return nil
	}
	tp := sipmsg.UpperTransport(p.Transport)
	req := sip.NewRequest(sip.BYE, *p.Contact.Clone())
	req.AppendHeader(s.self.NewVia(tp, 0))
	for i := range p.Routes {
		req.AppendHeader(&sip.RouteHeader{Address: p.Routes[i]})
	}
	callerURI := &sip.FromHeader{DisplayName: l.From.DisplayName, Address: l.From.Address, Params: l.From.Params.Clone()}
	calleeParams := l.To.Params.Clone()
	calleeParams.Add("tag", d.ToTag)
	seq := d.CalleeCSeq + 1 // on behalf of the callee, toward the caller
	if to == dialog.Callee {
		seq = d.CallerCSeq + 1
		req.AppendHeader(callerURI)
		req.AppendHeader(&sip.ToHeader{DisplayName: l.To.DisplayName, Address: l.To.Address, Params: calleeParams})
	} else {
		req.AppendHeader(&sip.FromHeader{DisplayName: l.To.DisplayName, Address: l.To.Address, Params: calleeParams})
		req.AppendHeader(&sip.ToHeader{DisplayName: callerURI.DisplayName, Address: callerURI.Address, Params: callerURI.Params})
	}
	cid := sip.CallIDHeader(d.CallID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: seq, MethodName: sip.BYE})
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	req.SetBody(nil)
	req.SetTransport(tp)
	dest := p.Addr
	if len(p.Routes) > 0 {
		dest, _ = sipmsg.URITarget(&p.Routes[0])
	}
	req.SetDestination(dest)
	if a := s.self.UDPLocal(); tp == "UDP" && a != nil {
		req.Laddr = *a
	}
	if to == dialog.Callee {
		s.byeToCarrier(d, req)
	}
	return req
}
