package compiler

import (
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/lang"
)

// Defaults of carrier blocks (documented in docs/language.md and
// docs/carriers.md).
const (
	defaultCarrierPriority = 1
	defaultQualityWindow   = 10 * time.Minute
	defaultMinSamples      = 30 // as qrouting's min_samples_asr
	defaultRegisterExpires = time.Hour
)

// carriers compiles every carrier block (after carrierSources).
func (c *compiler) carriers() {
	c.proxyExit()
	for _, lc := range c.cfg.Carriers {
		gc := &graph.Carrier{ID: graph.ID("carrier." + lc.Name), Name: lc.Name, Pos: pos(lc.Block),
			URI: lc.URI.Value, Priority: defaultCarrierPriority, Weight: 1, Exit: c.g.Proxy.Exit}
		c.carrierURI(lc, gc)
		c.carrierOrder(lc, gc)
		c.carrierPrefixes(lc, gc)
		c.carrierNumber(lc, gc)
		c.carrierExit(lc, gc)
		if t := c.trust[string(gc.ID)]; t != nil {
			gc.Sources = t
		}
		gc.Failover = c.failover(lc.Failover)
		if lc.Probe != nil {
			gc.Probe = c.probe(lc.Probe)
		}
		c.carrierLimits(lc, gc)
		c.carrierQuality(lc, gc)
		c.carrierAuth(lc, gc)
		c.carrier[lc.Name] = gc
		c.g.Carriers = append(c.g.Carriers, gc)
	}
}

func (c *compiler) carrierURI(lc *lang.Carrier, gc *graph.Carrier) {
	if !lc.URI.Set {
		return
	}
	u, err := ParseURI(lc.URI.Value)
	if err != nil {
		c.errorf(lc.URI.Range, "Invalid SIP URI", "%s. Write the carrier's gateway as a SIP URI, such as \"sip:gw1.acme.example:5060\".", lang.UpperFirst(err.Error()))
		return
	}
	gc.Host, gc.Port, gc.Transport = u.Host, u.Port, transportOf(u)
	if gc.Port == 0 {
		gc.Port = 5060
	}
}

func (c *compiler) carrierOrder(lc *lang.Carrier, gc *graph.Carrier) {
	if lc.Priority.Set {
		gc.Priority = lc.Priority.Value
		if gc.Priority < 0 {
			c.errorf(lc.Priority.Range, "Invalid Priority", "priority is 0 or more (lower is tried first), not %d.", gc.Priority)
		}
	}
	if lc.Weight.Set {
		gc.Weight = lc.Weight.Value
		if gc.Weight < 1 {
			c.errorf(lc.Weight.Range, "Invalid Weight", "A carrier's weight is at least 1, not %d.", gc.Weight)
		}
	}
}

// carrierPrefixes merges the inline prefixes (at the carrier's priority)
// with the rows of its prefixes_file (at their own priority, or the
// carrier's).
func (c *compiler) carrierPrefixes(lc *lang.Carrier, gc *graph.Carrier) {
	gc.PrefixesFile = lc.PrefixesFile.Value
	gc.Prefixes = make([]graph.CarrierPrefix, 0, len(lc.Prefixes.Items)+len(lc.PrefixRows))
	inline := make(map[string]bool, len(lc.Prefixes.Items))
	for _, p := range lc.Prefixes.Items {
		if !lang.IsNumberPrefix(p.Value) {
			c.errorf(p.Range, "Invalid Prefix", "%q is not a number prefix. Write digits with an optional leading +, such as \"+1\" or \"+44\".", p.Value)
			continue
		}
		if len(p.Value) > graph.MaxLCRPrefix {
			c.errorf(p.Range, "Prefix Too Long", "Least-cost routing indexes prefixes of up to %d characters; %q has %d.", graph.MaxLCRPrefix, p.Value, len(p.Value))
			continue
		}
		if inline[p.Value] {
			c.errorf(p.Range, "Duplicate Prefix", "%s is listed twice in carrier %q; remove one.", p.Value, lc.Name)
			continue
		}
		inline[p.Value] = true
		gc.Prefixes = append(gc.Prefixes, graph.CarrierPrefix{Prefix: p.Value, Priority: int32(gc.Priority)})
	}
	for _, r := range lc.PrefixRows {
		if inline[r.Prefix] {
			c.errorf(lc.PrefixesFile.Range, "Duplicate Prefix", "%s is both in prefixes and on line %d of %s; keep one.", r.Prefix, r.Line, lc.PrefixesFile.Value)
			continue
		}
		if len(r.Prefix) > graph.MaxLCRPrefix {
			c.errorf(lc.PrefixesFile.Range, "Prefix Too Long", "Line %d of %s: least-cost routing indexes prefixes of up to %d characters; %q has %d.", r.Line, lc.PrefixesFile.Value, graph.MaxLCRPrefix, r.Prefix, len(r.Prefix))
			continue
		}
		prio := r.Priority
		if prio < 0 {
			prio = int32(gc.Priority)
		}
		gc.Prefixes = append(gc.Prefixes, graph.CarrierPrefix{Prefix: r.Prefix, Priority: prio, Line: r.Line})
	}
}

// carrierNumber checks strip and prepend (drouting's strip and pri_prefix).
func (c *compiler) carrierNumber(lc *lang.Carrier, gc *graph.Carrier) {
	gc.Strip, gc.Prepend = lc.Strip.Value, lc.Prepend.Value
	if gc.Strip < 0 {
		c.errorf(lc.Strip.Range, "Invalid Strip", "strip removes that many leading characters of the number, so it is 0 or more, not %d.", gc.Strip)
	}
	if lc.Prepend.Set && gc.Prepend != "" && !lang.IsNumberPrefix(gc.Prepend) && !isDigitsAndSymbols(gc.Prepend) {
		c.errorf(lc.Prepend.Range, "Invalid Prepend", "%q cannot start a telephone number. Write digits, optionally with a leading + or tech prefix characters * and #, such as \"00\" or \"+\".", gc.Prepend)
	}
}

func isDigitsAndSymbols(s string) bool {
	return strings.Trim(s, "0123456789*#+") == ""
}

// proxyExit checks proxy.exit: one of the listen addresses.
func (c *compiler) proxyExit() {
	if p := c.cfg.Proxy; p != nil && p.Exit.Set {
		c.g.Proxy.Exit, _ = c.exitOf(p.Exit)
	}
}

func (c *compiler) carrierExit(lc *lang.Carrier, gc *graph.Carrier) {
	if lc.Exit.Set {
		if ex, ok := c.exitOf(lc.Exit); ok {
			gc.Exit = ex
		}
	}
}

// exitOf parses an exit socket and checks that the proxy listens on it: on
// exactly that address, or on the unspecified address of the same
// transport and port.
func (c *compiler) exitOf(v lang.Value[string]) (graph.Listen, bool) {
	ex, err := parseListen(v.Value)
	if err != nil {
		c.errorf(v.Range, "Invalid Exit Address", "%s. Write transport:IP:port of one of the listen addresses, such as \"udp:203.0.113.5:5060\".", lang.UpperFirst(err.Error()))
		return graph.Listen{}, false
	}
	exHost, port, _ := net.SplitHostPort(ex.Addr)
	if a, err := netip.ParseAddr(exHost); err != nil || a.IsUnspecified() {
		c.errorf(v.Range, "Invalid Exit Address", "The exit must be one IP address that carriers see, not %q.", exHost)
		return graph.Listen{}, false
	}
	for _, l := range c.g.Proxy.Listen {
		lHost, lPort, _ := net.SplitHostPort(l.Addr)
		if l.Transport != ex.Transport || lPort != port {
			continue
		}
		if a, err := netip.ParseAddr(lHost); lHost == exHost || lHost == "" || (err == nil && a.IsUnspecified()) {
			return ex, true
		}
	}
	all := make([]string, len(c.g.Proxy.Listen))
	for i, l := range c.g.Proxy.Listen {
		all[i] = l.Transport + ":" + l.Addr
	}
	c.errorf(v.Range, "Exit Is Not A Listen Address", "%s is not one of the listen addresses (%s). The exit socket must be one the proxy listens on; add it to proxy.listen.", v.Value, strings.Join(all, ", "))
	return graph.Listen{}, false
}

// carrierSources builds every carrier's inbound address group, before
// conditions are compiled, so that `source_in('carrier.NAME')` names it:
// its sources, or the URI host when that is an IP address.
func (c *compiler) carrierSources() {
	for _, lc := range c.cfg.Carriers {
		id := "carrier." + lc.Name
		t := &graph.Trusted{ID: graph.ID(id), Name: id, Pos: pos(lc.Block)}
		for _, s := range lc.Sources.Items {
			p, err := parseCIDR(s.Value)
			if err != nil {
				c.errorf(s.Range, "Invalid CIDR", "%q is not a CIDR or IP address. Write the carrier's signalling network, such as \"198.51.100.0/24\".", s.Value)
				continue
			}
			t.Sources = append(t.Sources, p)
		}
		if !lc.Sources.Set {
			if u, err := ParseURI(lc.URI.Value); err == nil {
				if a, err := netip.ParseAddr(u.Host); err == nil {
					t.Sources = append(t.Sources, netip.PrefixFrom(a, a.BitLen()))
				}
			}
		}
		if len(t.Sources) > 0 {
			c.trust[id] = t
		}
	}
}

func (c *compiler) carrierLimits(lc *lang.Carrier, gc *graph.Carrier) {
	l := lc.Limits
	if l == nil {
		return
	}
	gc.Limits = graph.Limits{Calls: l.Calls.Value, CPS: l.CPS.Value}
	for _, v := range []lang.Value[int]{l.Calls, l.CPS} {
		if v.Value < 0 {
			c.errorf(v.Range, "Invalid Limit", "Limits are 0 (unlimited) or more, not %d.", v.Value)
		}
	}
	if l.Calls.Value > 0 && c.g.Proxy.MaxCallDuration == 0 {
		// The calls limit counts dialogs, and without a maximum duration
		// a dialog whose BYE was lost is never ended.
		c.warnf(l.Calls.Range, "Calls Limit Without Max Call Duration",
			"limits.calls counts the carrier's dialogs, and without proxy.max_call_duration a dialog whose BYE was lost holds one of its %d slots until a restart. Set max_call_duration in the proxy block, such as \"4h\".", l.Calls.Value)
	}
}

func (c *compiler) carrierQuality(lc *lang.Carrier, gc *graph.Carrier) {
	q := lc.Quality
	if q == nil {
		return
	}
	gq := &graph.Quality{MinASR: q.MinASR.Value, WarnASR: q.WarnASR.Value, MinSamples: defaultMinSamples,
		MaxPDD: q.MaxPDD.Value, Window: defaultQualityWindow}
	for _, v := range []lang.Value[float64]{q.MinASR, q.WarnASR} {
		if v.Value < 0 || v.Value > 1 {
			c.errorf(v.Range, "Invalid ASR", "An ASR threshold is a ratio between 0 and 1, such as 0.3 for 30%% of calls answered.")
		}
	}
	if q.WarnASR.Set && q.WarnASR.Value < q.MinASR.Value {
		c.errorf(q.WarnASR.Range, "Invalid ASR", "warn_asr (%g) is the warning level, above the critical min_asr (%g); raise it or remove it.", q.WarnASR.Value, q.MinASR.Value)
	}
	if q.MinSamples.Set {
		gq.MinSamples = q.MinSamples.Value
		if gq.MinSamples < 1 {
			c.errorf(q.MinSamples.Range, "Invalid Min Samples", "min_samples is the number of calls in the window before quality is judged, at least 1, not %d.", gq.MinSamples)
		}
	}
	if q.MaxPDD.Set && q.MaxPDD.Value <= 0 {
		c.errorf(q.MaxPDD.Range, "Invalid Duration", "max_pdd must be above zero, such as \"5s\".")
	}
	if q.Window.Set {
		gq.Window = q.Window.Value
		if q.Window.Value < time.Minute {
			c.errorf(q.Window.Range, "Invalid Duration", "The quality window must be at least 1m to hold enough calls to judge.")
		}
	}
	gc.Quality = gq
}

func (c *compiler) carrierAuth(lc *lang.Carrier, gc *graph.Carrier) {
	a := lc.Auth
	if a == nil {
		return
	}
	gc.Auth = &graph.CarrierAuth{Username: a.Username.Value, Password: a.Password.Value,
		Register: a.Register.Value, RegisterExpires: defaultRegisterExpires}
	if a.Username.Set && a.Username.Value == "" {
		c.errorf(a.Username.Range, "Empty Username", "The carrier username is empty. Set it, or remove the auth block if the carrier authenticates by IP.")
	}
	if a.RegisterExpires.Set {
		gc.Auth.RegisterExpires = a.RegisterExpires.Value
		if a.RegisterExpires.Value < time.Minute {
			c.errorf(a.RegisterExpires.Range, "Invalid Duration", "register_expires must be at least 1m; carriers refuse shorter registrations (423).")
		}
		if !a.Register.Value {
			c.warnf(a.RegisterExpires.Range, "Expires Without Register", "register_expires has no effect unless register = true.")
		}
	}
}

// trustRef resolves an auth trust entry: trusted.NAME, or carrier.NAME for
// the addresses a carrier sends from.
func (c *compiler) trustRef(r lang.Ref) *graph.Trusted {
	name, ok := strings.CutPrefix(r.Path, "carrier.")
	if !ok {
		return resolve(c, r, "trusted", c.trust)
	}
	if t := c.trust[r.Path]; t != nil {
		return t
	}
	declared := make(map[string]*lang.Carrier, len(c.cfg.Carriers))
	for _, lc := range c.cfg.Carriers {
		declared[lc.Name] = lc
	}
	if resolve(c, r, "carrier", declared) != nil {
		c.errorf(r.Range, "Carrier Without Sources", "Carrier %q has no sources and its URI names no IP address, so no request can be recognised as coming from it. Add sources = [\"198.51.100.0/24\"] to the carrier.", name)
	}
	return nil
}
