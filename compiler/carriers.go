package compiler

import (
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/lang"
)

// Defaults of carrier blocks (documented in docs/language.md).
const (
	defaultCarrierPriority = 1
	defaultQualityWindow   = 10 * time.Minute
)

func (c *compiler) carriers() {
	for _, lc := range c.cfg.Carriers {
		gc := &graph.Carrier{ID: graph.ID("carrier." + lc.Name), Name: lc.Name, Pos: pos(lc.Block),
			URI: lc.URI.Value, Priority: defaultCarrierPriority, Weight: 1}
		c.carrierURI(lc, gc)
		for _, p := range lc.Prefixes.Items {
			if !lang.IsNumberPrefix(p.Value) {
				c.errorf(p.Range, "Invalid Prefix", "%q is not a number prefix. Write digits with an optional leading +, such as \"+1\" or \"+44\".", p.Value)
				continue
			}
			gc.Prefixes = append(gc.Prefixes, p.Value)
		}
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
		c.carrierLimits(lc, gc)
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

func (c *compiler) carrierLimits(lc *lang.Carrier, gc *graph.Carrier) {
	if l := lc.Limits; l != nil {
		gc.Limits = graph.Limits{Calls: l.Calls.Value, CPS: l.CPS.Value}
		for _, v := range []lang.Value[int]{l.Calls, l.CPS} {
			if v.Value < 0 {
				c.errorf(v.Range, "Invalid Limit", "Limits are 0 (unlimited) or more, not %d.", v.Value)
			}
		}
	}
	if q := lc.Quality; q != nil {
		gc.Quality = &graph.Quality{MinASR: q.MinASR.Value, Window: defaultQualityWindow}
		if q.MinASR.Value < 0 || q.MinASR.Value > 1 {
			c.errorf(q.MinASR.Range, "Invalid ASR", "min_asr is a ratio between 0 and 1, such as 0.3 for 30%% of calls answered.")
		}
		if q.Window.Set {
			gc.Quality.Window = q.Window.Value
			if q.Window.Value < time.Minute {
				c.errorf(q.Window.Range, "Invalid Duration", "The quality window must be at least 1m to hold enough calls to judge.")
			}
		}
	}
	if a := lc.Auth; a != nil {
		gc.Auth = &graph.CarrierAuth{Username: a.Username.Value, Password: a.Password.Value}
		if a.Username.Set && a.Username.Value == "" {
			c.errorf(a.Username.Range, "Empty Username", "The carrier username is empty. Set it, or remove the auth block if the carrier authenticates by IP.")
		}
	}
}
