package compiler

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/lang"
)

// Defaults of pool blocks (documented in docs/language.md).
var (
	defaultFailoverOn = []int{408, 500, 502, 503, 504}
)

const (
	defaultMaxTries        = 3
	defaultFailoverTimeout = 3 * time.Second
	defaultProbeInterval   = 5 * time.Second
	defaultProbeTimeout    = time.Second
	defaultProbeThreshold  = 3
	defaultProbeRecover    = 2
)

func (c *compiler) pools() {
	for _, p := range c.cfg.Pools {
		gp := &graph.Pool{ID: graph.ID("pool." + p.Name), Name: p.Name, Pos: pos(p.Block),
			Balance: graph.BalanceRoundRobin, Resource: p.Resource.Value, Affinity: p.Affinity.Value}
		c.balance(p, gp)
		gp.Failover = c.failover(p.Failover)
		if p.Probe != nil {
			gp.Probe = c.probe(p.Probe)
		}
		for _, m := range p.Members {
			gp.Members = append(gp.Members, c.member(gp, m))
		}
		if len(p.Members) == 0 {
			c.errorf(p.NameRange, "Pool Without Members", "Pool %q has no member, so every request routed to it would fail. Add member \"name\" { uri = \"sip:10.0.0.11:5060\" } blocks.", p.Name)
		}
		c.checkResource(p, gp)
		c.pool[p.Name] = gp
		c.g.Pools = append(c.g.Pools, gp)
	}
}

// balance checks the strategy and the affinity.
func (c *compiler) balance(p *lang.Pool, gp *graph.Pool) {
	if p.Balance.Set {
		gp.Balance = graph.Balance(p.Balance.Value)
		if !slices.Contains(graph.Balances, gp.Balance) {
			all := make([]string, len(graph.Balances))
			for i, b := range graph.Balances {
				all[i] = string(b)
			}
			c.errorf(p.Balance.Range, "Invalid Balance", "%q is not a balancing strategy; use one of %s.%s",
				p.Balance.Value, oneOf(all), suggest(p.Balance.Value, all))
		}
	}
	if p.Affinity.Set && p.Affinity.Value != "" && p.Affinity.Value != "party" {
		c.errorf(p.Affinity.Range, "Invalid Affinity", "%q is not an affinity. The only affinity is \"party\" (send a call to the box already serving its caller or callee); remove the attribute for none.%s",
			p.Affinity.Value, suggest(p.Affinity.Value, []string{"party"}))
	}
	if p.Affinity.Value == "party" && gp.Balance == graph.BalanceHash {
		c.errorf(p.Affinity.Range, "Affinity Contradicts Balance", "balance \"hash\" always sends a Call-ID to the same member, which overrides affinity \"party\". Remove affinity or use another balance.")
	}
}

// checkResource enforces that resource and balance "resource" go together,
// and that every member has a capacity for the resource.
func (c *compiler) checkResource(p *lang.Pool, gp *graph.Pool) {
	if gp.Balance != graph.BalanceResource {
		if p.Resource.Set {
			c.errorf(p.Resource.Range, "Resource Without Resource Balance",
				"resource only applies to balance = \"resource\", but pool %q balances by %q. Remove resource or set balance = \"resource\".", p.Name, gp.Balance)
		}
		return
	}
	if !p.Resource.Set || p.Resource.Value == "" {
		c.errorf(p.Balance.Range, "Missing Resource",
			"balance = \"resource\" picks the member with the most free capacity of a resource, but pool %q names none. Add resource = \"pstn\" and capacity = { pstn = N } to every member.", p.Name)
		return
	}
	for _, m := range p.Members {
		if m.Capacity.Value[p.Resource.Value] <= 0 {
			rng := m.NameRange
			if m.Capacity.Set {
				rng = m.Capacity.Range
			}
			c.errorf(rng, "Missing Capacity",
				"Member %q has no capacity for resource %q, which pool %q balances by. Add capacity = { %s = N } with N above 0.", m.Name, p.Resource.Value, p.Name, p.Resource.Value)
		}
	}
}

func (c *compiler) failover(f *lang.Failover) graph.Failover {
	gf := graph.Failover{On: slices.Clone(defaultFailoverOn), MaxTries: defaultMaxTries, Timeout: defaultFailoverTimeout}
	if f == nil {
		return gf
	}
	if f.On.Set {
		gf.On = nil
		for _, code := range f.On.Items {
			if code.Value < 400 || code.Value > 699 {
				c.errorf(code.Range, "Invalid Failover Code",
					"%d is not a failure status. Failover reacts to final failures between 400 and 699, such as 408, 500 or 503.", code.Value)
				continue
			}
			gf.On = append(gf.On, code.Value)
		}
	}
	if f.MaxTries.Set {
		gf.MaxTries = f.MaxTries.Value
		if gf.MaxTries < 1 {
			c.errorf(f.MaxTries.Range, "Invalid Max Tries", "max_tries counts the members tried for one call, so it is at least 1, not %d.", gf.MaxTries)
		}
	}
	if f.Timeout.Set {
		gf.Timeout = f.Timeout.Value
		if gf.Timeout <= 0 {
			c.errorf(f.Timeout.Range, "Invalid Duration", "The failover timeout must be above zero, such as \"3s\".")
		}
	}
	return gf
}

func (c *compiler) probe(p *lang.Probe) *graph.Probe {
	gp := &graph.Probe{Interval: defaultProbeInterval, Timeout: defaultProbeTimeout,
		DownAfter: defaultProbeThreshold, UpAfter: defaultProbeRecover, Accept: []int{2}}
	if p.Interval.Set {
		gp.Interval = p.Interval.Value
	}
	if p.Timeout.Set {
		gp.Timeout = p.Timeout.Value
	}
	if gp.Interval <= 0 || gp.Timeout <= 0 || gp.Timeout > gp.Interval {
		rng := p.DeclRange
		if p.Timeout.Set {
			rng = p.Timeout.Range
		} else if p.Interval.Set {
			rng = p.Interval.Range
		}
		c.errorf(rng, "Invalid Probe Timing", "The probe interval (%s) and timeout (%s) must be above zero, and the timeout at most the interval.", gp.Interval, gp.Timeout)
	}
	for _, n := range []struct {
		v   lang.Value[int]
		dst *int
	}{{p.Threshold, &gp.DownAfter}, {p.Recover, &gp.UpAfter}} {
		if !n.v.Set {
			continue
		}
		*n.dst = n.v.Value
		if n.v.Value < 1 {
			c.errorf(n.v.Range, "Invalid Probe Count", "threshold and recover count consecutive probes, so they are at least 1, not %d.", n.v.Value)
		}
	}
	if p.Accept.Set {
		gp.Accept = c.probeAccept(p.Accept)
	}
	return gp
}

// probeAccept parses "2xx" classes (stored as 2) and "404" codes.
func (c *compiler) probeAccept(list lang.List[string]) []int {
	var out []int
	for _, it := range list.Items {
		s := strings.ToLower(strings.TrimSpace(it.Value))
		var code int
		if len(s) == 3 && s[1:] == "xx" && s[0] >= '1' && s[0] <= '6' {
			code = int(s[0] - '0')
		} else if n, err := strconv.Atoi(s); err == nil && n >= 100 && n <= 699 {
			code = n
		} else {
			c.errorf(it.Range, "Invalid Probe Accept", "%q is neither a status class such as \"2xx\" nor a status code such as \"404\".", it.Value)
			continue
		}
		if code == 408 || code == 4 {
			c.warnf(it.Range, "Probe Accepts 408", "Accepting %q counts a timed-out probe (408) as healthy, which hides dead hosts. Accept specific codes such as \"404\" instead.", it.Value)
		}
		out = append(out, code)
	}
	return out
}

func (c *compiler) member(gp *graph.Pool, m *lang.Member) *graph.Member {
	gm := &graph.Member{ID: graph.ID("pool." + gp.Name + ".member." + m.Name), Name: m.Name, Pos: pos(m.Block),
		URI: m.URI.Value, Weight: 1, Capacity: m.Capacity.Value}
	if m.URI.Set {
		u, err := ParseURI(m.URI.Value)
		switch {
		case err != nil:
			c.errorf(m.URI.Range, "Invalid SIP URI", "%s. Write the member's address as a SIP URI, such as \"sip:10.0.0.11:5060\".", lang.UpperFirst(err.Error()))
		case transportOf(u) != "udp" && transportOf(u) != "tcp" && transportOf(u) != "tls":
			c.errorf(m.URI.Range, "Invalid SIP URI", "Transport %q is not supported; use udp, tcp or tls.", transportOf(u))
		default:
			gm.Host, gm.Port, gm.Transport = u.Host, u.Port, transportOf(u)
			if gm.Port == 0 {
				gm.Port = 5060
			}
		}
	}
	if m.Weight.Set {
		gm.Weight = m.Weight.Value
		if gm.Weight < 1 {
			c.errorf(m.Weight.Range, "Invalid Weight", "A member's weight is at least 1, not %d. To stop sending calls to a member, drain it through the admin API.", gm.Weight)
		}
	}
	for res, n := range m.Capacity.Value {
		if n < 0 {
			c.errorf(m.Capacity.Range, "Invalid Capacity", "The capacity for %q is %d; capacities are 0 or more.", res, n)
		}
	}
	return gm
}

func (c *compiler) prefixes() {
	for _, p := range c.cfg.Prefixes {
		rows := make([]graph.PrefixRow, len(p.Rows))
		for i, r := range p.Rows {
			rows[i] = graph.PrefixRow{Prefix: r.Prefix.Value, Value: r.Member.Value, Line: r.Prefix.Range.Start.Line}
		}
		t := graph.NewPrefixTable(graph.ID("prefixes."+p.Name), p.Name, pos(p.Block), p.File.Value, rows)
		c.prefix[p.Name] = t
		c.prefixL[p.Name] = p
		c.g.Prefixes = append(c.g.Prefixes, t)
	}
}
