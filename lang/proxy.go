package lang

import (
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Proxy is the proxy block: listeners, the advertised address, local
// domains, the admin address, transaction timers, the admission limit and
// the handling of in-dialog traffic.
type Proxy struct {
	Block
	Listen          List[string]
	Advertise       Value[string]
	Domains         List[string]
	Admin           Value[string]
	RingTimeout     Value[time.Duration]
	MaxCallDuration Value[time.Duration]
	MaxInflight     Value[int]
	// Exit is the socket ("udp:IP:PORT", one of Listen) that traffic to
	// carriers leaves from.
	Exit Value[string]
	// ServerHeader is the Server header of the proxy's answers; unset
	// writes none.
	ServerHeader Value[string]
	// DialogValidation, InDialogTimeout and TopologyHiding govern
	// in-dialog traffic (docs/serving.md).
	DialogValidation Value[bool]
	InDialogTimeout  Value[time.Duration]
	TopologyHiding   Value[bool]
}

var proxySchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "listen"}, {Name: "advertise"}, {Name: "domains"}, {Name: "admin"},
		{Name: "ring_timeout"}, {Name: "max_call_duration"}, {Name: "max_inflight"}, {Name: "exit"},
		{Name: "server_header"}, {Name: "dialog_validation"}, {Name: "in_dialog_timeout"}, {Name: "topology_hiding"},
	},
}

func (l *loader) decodeProxy(b *hcl.Block) hcl.Diagnostics {
	var prev *hcl.Range
	if l.cfg.Proxy != nil {
		prev = &l.cfg.Proxy.DeclRange
	}
	if d := singleton(b, prev); d != nil {
		return d
	}
	content, diags := b.Body.Content(proxySchema)
	p := &Proxy{Block: blockOf(b)}
	a := content.Attributes
	attr(a, "listen", decodeStringList, &p.Listen, &diags)
	attr(a, "advertise", decodeString, &p.Advertise, &diags)
	attr(a, "domains", decodeStringList, &p.Domains, &diags)
	attr(a, "admin", decodeString, &p.Admin, &diags)
	attr(a, "ring_timeout", decodeDuration, &p.RingTimeout, &diags)
	attr(a, "max_call_duration", decodeDuration, &p.MaxCallDuration, &diags)
	attr(a, "max_inflight", decodeInt, &p.MaxInflight, &diags)
	attr(a, "exit", decodeString, &p.Exit, &diags)
	attr(a, "server_header", decodeString, &p.ServerHeader, &diags)
	attr(a, "dialog_validation", decodeBool, &p.DialogValidation, &diags)
	attr(a, "in_dialog_timeout", decodeDuration, &p.InDialogTimeout, &diags)
	attr(a, "topology_hiding", decodeBool, &p.TopologyHiding, &diags)
	l.cfg.Proxy = p
	return diags
}
