package admin

import (
	"net/http"
	"slices"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/compiler/plan"
	"github.com/sipfront/sipfront/runtime/state"
)

func (a *API) status(w http.ResponseWriter, r *http.Request) {
	g, st := a.proxy.Graph(), a.proxy.State()
	s := Status{
		Hash:          g.Hash,
		Started:       a.opts.Started.UTC(),
		UptimeSeconds: time.Since(a.opts.Started).Seconds(),
		Pools:         g.Count(graph.KindPool),
		Overrides:     len(st.Overrides()),
		Filters:       g.Count(graph.KindFilter),
		Routes:        g.Count(graph.KindRoute),
		Carriers:      g.Count(graph.KindCarrier),
	}
	for _, m := range st.Members() {
		s.ActiveCalls += m.ActiveCalls
		if m.Removed {
			continue
		}
		s.Members++
		if m.Up {
			s.MembersUp++
		} else {
			s.MembersDown++
		}
		if m.Mode != state.ModeEnabled {
			s.MembersOut++
		}
	}
	writeJSON(w, http.StatusOK, s)
}

func (a *API) pools(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, a.poolsView())
}

// poolsView joins the policy's declarations with the store's observations.
func (a *API) poolsView() Pools {
	g, st := a.proxy.Graph(), a.proxy.State()
	byID := make(map[graph.ID]state.MemberStatus)
	out := Pools{Hash: g.Hash, Pools: []PoolView{}, Removed: []MemberView{}}
	for _, ms := range st.Members() {
		if ms.Removed {
			out.Removed = append(out.Removed, a.memberView(nil, ms))
			continue
		}
		byID[ms.ID] = ms
	}
	for _, p := range g.Pools {
		pv := PoolView{ID: p.ID, Name: p.Name, Balance: string(p.Balance), Resource: p.Resource,
			Probe: probeView(p.Probe), Members: []MemberView{}}
		for _, m := range p.Members {
			ms, ok := byID[m.ID]
			if !ok {
				// Attached after this read began: show it as declared.
				ms = state.MemberStatus{ID: m.ID, Pool: p.ID, Up: true, Mode: state.ModeEnabled, Weight: m.Weight}
			}
			pv.Members = append(pv.Members, a.memberView(m, ms))
		}
		out.Pools = append(out.Pools, pv)
	}
	return out
}

// memberView builds one member's view; m is nil for a removed member.
func (a *API) memberView(m *graph.Member, ms state.MemberStatus) MemberView {
	st := a.proxy.State()
	v := MemberView{MemberStatus: ms, Drained: st.Drained(ms.ID)}
	if m != nil {
		v.URI = m.URI
		v.Declared = Declared{Weight: m.Weight, Capacity: m.Capacity}
		if a.opts.Probes != nil && m.Pool != nil && m.Pool.Probe != nil {
			if r, ok := a.opts.Probes.Last(m.ID); ok {
				v.Probe = &r
			}
		}
	}
	if o, ok := st.Override(ms.ID); ok {
		v.Override = &o
	}
	return v
}

func probeView(p *graph.Probe) *ProbeView {
	if p == nil {
		return nil
	}
	return &ProbeView{Interval: plan.FormatDuration(p.Interval), Timeout: plan.FormatDuration(p.Timeout),
		DownAfter: p.DownAfter, UpAfter: p.UpAfter, Accept: p.Accept}
}

func (a *API) calls(w http.ResponseWriter, r *http.Request) {
	id := graph.ID(r.URL.Query().Get("member"))
	if id != "" && !a.knownMember(id) {
		a.unknownMember(w, id)
		return
	}
	calls := a.proxy.State().Dialogs(id)
	if calls == nil {
		calls = []state.Dialog{}
	}
	writeJSON(w, http.StatusOK, Calls{Calls: calls})
}

// knownMember reports whether id is a member of the running graph or a
// removed member that still holds calls.
func (a *API) knownMember(id graph.ID) bool {
	if _, ok := a.proxy.Graph().Node(id).(*graph.Member); ok {
		return true
	}
	return a.proxy.State().ActiveCalls(id) > 0
}

func (a *API) overrides(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, Overrides{Overrides: a.overrideViews()})
}

func (a *API) overrideViews() []OverrideView {
	g := a.proxy.Graph()
	out := []OverrideView{}
	for id, o := range a.proxy.State().Overrides() {
		_, declared := g.Node(id).(*graph.Member)
		out = append(out, OverrideView{Member: id, Override: o, Declared: declared})
	}
	slices.SortFunc(out, func(x, y OverrideView) int {
		switch {
		case x.Member < y.Member:
			return -1
		case x.Member > y.Member:
			return 1
		}
		return 0
	})
	return out
}
