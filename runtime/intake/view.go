package intake

import (
	"net/netip"

	"github.com/emiago/sipgo/sip"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/sipmsg"
)

// View is the graph's view of one request; it is filled from the parsed
// message without copying strings.
type View struct {
	// R is what graph.Decide reads.
	R   graph.Request
	hdr sipHeaders
}

// sipHeaders adapts a sip.Request to graph.HeaderReader.
type sipHeaders struct{ req *sip.Request }

// Header implements graph.HeaderReader.
func (h *sipHeaders) Header(name string) (string, bool) {
	v := sipmsg.Header(h.req, name)
	if v == nil {
		return "", false
	}
	return v.Value(), true
}

// NewView builds the graph view of req.
func NewView(req *sip.Request) *View {
	v := &View{hdr: sipHeaders{req}}
	r := &v.R
	r.Method = string(req.Method)
	r.RURI = graphURI(&req.Recipient)
	if f := req.From(); f != nil {
		r.From = graphURI(&f.Address)
	}
	if t := req.To(); t != nil {
		r.To = graphURI(&t.Address)
		r.InDialog = t.Params.Has("tag")
	}
	if ap, err := netip.ParseAddrPort(req.Source()); err == nil {
		r.Source = graph.Source{IP: ap.Addr().Unmap(), Port: int(ap.Port()), Transport: sipmsg.LowerTransport(req.Transport())}
	}
	if ua := sipmsg.Header(req, "User-Agent"); ua != nil {
		r.UserAgent = ua.Value()
	}
	r.CallID = sipmsg.CallID(req)
	r.Headers = &v.hdr
	return v
}

func graphURI(u *sip.Uri) graph.URI {
	g := graph.URI{Scheme: u.Scheme, User: u.User, Host: u.Host, Port: u.Port}
	if len(u.UriParams) > 0 {
		g.Params = make(graph.Params, len(u.UriParams))
		for i, kv := range u.UriParams {
			g.Params[i] = graph.Param{Name: kv.K, Value: kv.V}
		}
	}
	return g
}
