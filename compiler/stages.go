package compiler

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/lang"
)

// Defaults of the proxy and registrar blocks (documented in docs/language.md).
const (
	defaultListen          = "udp:0.0.0.0:5060"
	defaultAdmin           = "127.0.0.1:8080"
	defaultRingTimeout     = 3 * time.Minute
	defaultMaxInflight     = 2000            // runtime.DefaultMaxInflight
	defaultInDialogTimeout = 5 * time.Second // runtime.DefaultInDialogTimeout
	defaultMaxContacts     = 5
	defaultMaxExpires      = time.Hour
	defaultMinExpires      = time.Minute
	defaultForkTimeout     = 20 * time.Second
)

func (c *compiler) proxy() {
	p := c.cfg.Proxy
	if p == nil {
		p = &lang.Proxy{}
	}
	gp := graph.Proxy{Advertise: p.Advertise.Value, Admin: defaultAdmin, RingTimeout: defaultRingTimeout,
		MaxInflight: defaultMaxInflight}
	listen := p.Listen.Items
	if !p.Listen.Set {
		listen = []lang.Value[string]{{Value: defaultListen, Range: p.DeclRange}}
	}
	for _, l := range listen {
		if ln, err := parseListen(l.Value); err != nil {
			c.errorf(l.Range, "Invalid Listen Address", "%s. Write transport:host:port, such as \"udp:0.0.0.0:5060\" or \"tcp:[::]:5060\".", err)
		} else {
			gp.Listen = append(gp.Listen, ln)
		}
	}
	if p.Advertise.Set {
		if _, _, err := splitHostPort(p.Advertise.Value); err != nil {
			c.errorf(p.Advertise.Range, "Invalid Advertised Address", "%s. Write the host (and optional :port) clients and carriers reach, such as \"sip.example.com\".", lang.UpperFirst(err.Error()))
		}
	}
	for _, d := range p.Domains.Items {
		if !validHost(d.Value) {
			c.errorf(d.Range, "Invalid Domain", "%q is not a domain name. Write a local domain such as \"example.com\".", d.Value)
			continue
		}
		gp.Domains = append(gp.Domains, d.Value)
	}
	if p.Admin.Set {
		gp.Admin = p.Admin.Value
		if _, _, err := net.SplitHostPort(p.Admin.Value); p.Admin.Value != "" && err != nil {
			c.errorf(p.Admin.Range, "Invalid Admin Address", "%s. Write host:port such as \"127.0.0.1:8080\", or \"\" to disable the admin API.", err)
		}
	}
	if p.RingTimeout.Set {
		gp.RingTimeout = p.RingTimeout.Value
		if gp.RingTimeout < time.Second {
			c.errorf(p.RingTimeout.Range, "Invalid Duration", "ring_timeout (Timer C) must be at least 1s; RFC 3261 asks for more than 3m.")
		}
	}
	gp.MaxCallDuration = p.MaxCallDuration.Value
	if p.MaxInflight.Set {
		gp.MaxInflight = p.MaxInflight.Value
		if gp.MaxInflight < 1 {
			c.errorf(p.MaxInflight.Range, "Invalid Admission Limit", "max_inflight bounds the INVITEs waiting for a member's first answer, so it is at least 1, not %d. Set it to about calls per second × the answer time you accept.", gp.MaxInflight)
		}
	}
	c.inDialog(p, &gp)
	c.g.Proxy = gp
}

// inDialog compiles the attributes that govern in-dialog traffic.
func (c *compiler) inDialog(p *lang.Proxy, gp *graph.Proxy) {
	gp.DialogValidation = !p.DialogValidation.Set || p.DialogValidation.Value
	gp.TopologyHiding = p.TopologyHiding.Value
	gp.InDialogTimeout = defaultInDialogTimeout
	if p.InDialogTimeout.Set {
		gp.InDialogTimeout = p.InDialogTimeout.Value
		if gp.InDialogTimeout < 500*time.Millisecond || gp.InDialogTimeout > 32*time.Second {
			c.errorf(p.InDialogTimeout.Range, "Invalid Duration", "in_dialog_timeout bounds the wait for a party's answer to an in-dialog request; it is between 500ms and 32s (Timer F), not %s.", gp.InDialogTimeout)
		}
	}
}

// parseListen parses "transport:host:port" (the transport defaults to udp).
func parseListen(s string) (graph.Listen, error) {
	transport, addr := "udp", s
	if t, rest, ok := strings.Cut(s, ":"); ok && !strings.HasPrefix(s, "[") {
		if _, err := strconv.Atoi(rest); err != nil { // "udp:0.0.0.0:5060", not "0.0.0.0:5060"
			transport, addr = strings.ToLower(t), rest
		}
	}
	if transport != "udp" && transport != "tcp" {
		return graph.Listen{}, fmt.Errorf("transport %q is not supported (udp or tcp)", transport)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return graph.Listen{}, fmt.Errorf("%q is not host:port", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return graph.Listen{}, fmt.Errorf("port %q is not a number between 1 and 65535", port)
	}
	if _, err := netip.ParseAddr(host); err != nil && host != "" {
		return graph.Listen{}, fmt.Errorf("%q is not an IP address to listen on", host)
	}
	return graph.Listen{Transport: transport, Addr: addr}, nil
}

func (c *compiler) trusted() {
	for _, t := range c.cfg.Trusted {
		gt := &graph.Trusted{ID: graph.ID("trusted." + t.Name), Name: t.Name, Pos: pos(t.Block)}
		for _, s := range t.Sources.Items {
			p, err := parseCIDR(s.Value)
			if err != nil {
				c.errorf(s.Range, "Invalid CIDR", "%q is not a CIDR or IP address. Write a network such as \"198.51.100.0/24\" or one address such as \"10.0.0.11\".", s.Value)
				continue
			}
			gt.Sources = append(gt.Sources, p)
		}
		if len(t.Sources.Items) == 0 && t.Sources.Set {
			c.errorf(t.Sources.Range, "Empty Trusted Group", "Trusted group %q lists no sources. Add at least one CIDR or remove the block.", t.Name)
		}
		c.trust[t.Name] = gt
		c.g.Trusted = append(c.g.Trusted, gt)
	}
}

// parseCIDR accepts a prefix or a single address (as /32 or /128).
func parseCIDR(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		if p != p.Masked() {
			return netip.Prefix{}, fmt.Errorf("%s has host bits set", s)
		}
		return p, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func (c *compiler) filters() {
	for _, f := range c.cfg.Filters {
		gf := &graph.Filter{ID: graph.ID("filter." + f.Name), Name: f.Name, Pos: pos(f.Block),
			When: c.cond(f.When), Reason: f.Reason.Value, Log: f.Log.Value}
		switch {
		case f.Reply.Set && f.Drop.Value:
			c.errorf(f.Drop.Range, "Conflicting Filter Actions",
				"Filter %q both replies %d and drops. A filter does one thing: remove reply to drop silently, or remove drop to answer.", f.Name, f.Reply.Value)
		case f.Reply.Set:
			gf.Action, gf.Status = graph.FilterReply, f.Reply.Value
			if f.Reply.Value < 300 || f.Reply.Value > 699 {
				c.errorf(f.Reply.Range, "Invalid Status Code",
					"A filter replies with a final status between 300 and 699, not %d. Use 403 to refuse or 405 for a method.", f.Reply.Value)
			}
			if gf.Reason == "" {
				gf.Reason = reasonPhrase(gf.Status)
			}
		case f.Drop.Value:
			gf.Action = graph.FilterDrop
		case !f.Log.Set:
			c.warnf(f.NameRange, "Filter Does Nothing",
				"Filter %q neither replies, drops nor logs. Add reply = <code>, drop = true or log = \"...\".", f.Name)
		}
		if f.Reason.Set && !f.Reply.Set {
			c.warnf(f.Reason.Range, "Reason Without Reply", "reason is only sent with reply; add reply = <code> or remove reason.")
		}
		c.filterID[gf.ID] = true
		c.g.Filters = append(c.g.Filters, gf)
	}
}

func (c *compiler) registrar() {
	r := c.cfg.Registrar
	if r == nil {
		return
	}
	gr := &graph.Registrar{ID: "registrar", Pos: pos(r.Block), MaxContacts: defaultMaxContacts, MaxExpires: defaultMaxExpires, MinExpires: defaultMinExpires}
	if r.MaxContacts.Set {
		gr.MaxContacts = r.MaxContacts.Value
		if gr.MaxContacts < 1 {
			c.errorf(r.MaxContacts.Range, "Invalid Max Contacts", "max_contacts must be at least 1, not %d.", gr.MaxContacts)
		}
	}
	if r.MaxExpires.Set {
		gr.MaxExpires = r.MaxExpires.Value
		if gr.MaxExpires < time.Minute {
			c.errorf(r.MaxExpires.Range, "Invalid Duration", "max_expires must be at least 1m so that clients can refresh in time.")
		}
	}
	if r.MinExpires.Set {
		gr.MinExpires = r.MinExpires.Value
		switch {
		case gr.MinExpires < time.Second || gr.MinExpires%time.Second != 0:
			c.errorf(r.MinExpires.Range, "Invalid Duration", "min_expires is sent in whole seconds (Min-Expires); use at least \"1s\".")
		case gr.MinExpires > gr.MaxExpires:
			c.errorf(r.MinExpires.Range, "Invalid Duration", "min_expires (%s) is longer than max_expires (%s): no registration could be accepted.", gr.MinExpires, gr.MaxExpires)
		}
	} else if gr.MinExpires > gr.MaxExpires {
		gr.MinExpires = gr.MaxExpires
	}
	c.g.Registrar = gr
}

// resolve looks a reference up among the blocks of one kind ("trusted",
// "credentials", ...), reporting a wrong kind or an unknown name.
func resolve[V any](c *compiler, r lang.Ref, kind string, byName map[string]*V) *V {
	name, ok := strings.CutPrefix(r.Path, kind+".")
	if !ok || strings.Contains(name, ".") {
		c.errorf(r.Range, "Invalid Reference", "%s must reference a %s block, written as %s.NAME without quotes.", r.Path, kind, kind)
		return nil
	}
	v := byName[name]
	if v == nil {
		c.errorf(r.Range, "Reference To Undeclared Block", "There is no %s block named %q; declared are %s.%s",
			kind, name, oneOf(names(byName)), suggest(name, names(byName)))
	}
	return v
}

var reasons = map[int]string{
	400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
	405: "Method Not Allowed", 407: "Proxy Authentication Required", 408: "Request Timeout",
	480: "Temporarily Unavailable", 486: "Busy Here", 488: "Not Acceptable Here",
	500: "Server Internal Error", 503: "Service Unavailable", 603: "Decline",
}

// reasonPhrase is the standard phrase of a status, or a generic one.
func reasonPhrase(status int) string {
	if r, ok := reasons[status]; ok {
		return r
	}
	return "Rejected"
}
