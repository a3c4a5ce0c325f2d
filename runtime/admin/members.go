package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/state"
)

// memberActions lists the member sub-resources with their method, for the
// 404 and 405 messages.
var memberActions = map[string]string{
	"enable": http.MethodPost, "disable": http.MethodPost, "drain": http.MethodPost,
	"weight": http.MethodPut, "capacity": http.MethodPut, "override": http.MethodDelete,
}

// member routes /v1/members/{id}/{action}. Every check runs before the
// store is touched, so a bad request changes nothing.
func (a *API) member(w http.ResponseWriter, r *http.Request) {
	id, action := graph.ID(r.PathValue("id")), r.PathValue("action")
	method, ok := memberActions[action]
	if !ok {
		writeError(w, http.StatusNotFound, "no member action %q; want one of %s", action, actionList())
		return
	}
	if r.Method != method {
		methodNotAllowed(w, r, method)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if action == "override" {
		a.clear(w, id)
		return
	}
	m, err := a.lookupMember(id)
	if err != nil {
		writeError(w, http.StatusNotFound, "%s", err)
		return
	}
	var change func(state.Override) state.Override
	switch action {
	case "enable":
		a.enable(w, m)
		return
	case "disable":
		change = setMode(state.ModeDisabled)
	case "drain":
		change = setMode(state.ModeDraining)
	case "weight":
		change, err = weightChange(r)
	case "capacity":
		change, err = capacityChange(r, m)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "%s", err)
		return
	}
	a.apply(w, m, action, change)
}

func actionList() string {
	names := make([]string, 0, len(memberActions))
	for n, m := range memberActions {
		names = append(names, m+" "+n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// lookupMember finds id in the running graph, with a message that says
// what id is when it is not a member.
func (a *API) lookupMember(id graph.ID) (*graph.Member, error) {
	switch n := a.proxy.Graph().Node(id).(type) {
	case *graph.Member:
		return n, nil
	case nil:
		return nil, fmt.Errorf("unknown member %q (members are named like pool.NAME.member.NAME; see GET /v1/pools)", id)
	default:
		return nil, fmt.Errorf("%q is a %s, not a pool member", id, kindOf(n))
	}
}

func kindOf(n any) string {
	s := fmt.Sprintf("%T", n)
	return strings.ToLower(strings.TrimPrefix(s, "*graph."))
}

func (a *API) unknownMember(w http.ResponseWriter, id graph.ID) {
	_, err := a.lookupMember(id)
	if err == nil {
		err = fmt.Errorf("unknown member %q", id)
	}
	writeError(w, http.StatusNotFound, "%s", err)
}

func setMode(mode state.Mode) func(state.Override) state.Override {
	return func(o state.Override) state.Override { o.Mode = mode; return o }
}

// enable puts a member back in service. An override that only held a mode
// is removed altogether, so that enabling is not reported as drift.
func (a *API) enable(w http.ResponseWriter, m *graph.Member) {
	st := a.proxy.State()
	if o, ok := st.Override(m.ID); !ok || (o.Weight == nil && len(o.Capacity) == 0) {
		st.ClearOverride(m.ID)
		a.log.Info("admin: member enabled", "member", m.ID)
		a.writeMember(w, m.ID)
		return
	}
	a.apply(w, m, "enable", setMode(state.ModeEnabled))
}

func (a *API) apply(w http.ResponseWriter, m *graph.Member, action string, change func(state.Override) state.Override) {
	if err := a.proxy.State().UpdateOverride(m.ID, change); err != nil {
		writeError(w, http.StatusBadRequest, "%s", err)
		return
	}
	o, _ := a.proxy.State().Override(m.ID)
	a.log.Info("admin: member override set", "member", m.ID, "action", action, "override", overrideText(o))
	a.writeMember(w, m.ID)
}

// clear removes an override; it accepts members the running policy no
// longer declares, whose overrides plan --against lists as drift.
func (a *API) clear(w http.ResponseWriter, id graph.ID) {
	st := a.proxy.State()
	if _, err := a.lookupMember(id); err != nil {
		if _, has := st.Override(id); !has {
			writeError(w, http.StatusNotFound, "%s", err)
			return
		}
	}
	st.ClearOverride(id)
	a.log.Info("admin: member override cleared", "member", id)
	a.writeMember(w, id)
}

// writeMember answers with the member's view after a change.
func (a *API) writeMember(w http.ResponseWriter, id graph.ID) {
	m, _ := a.proxy.Graph().Node(id).(*graph.Member)
	for _, ms := range a.proxy.State().Members() {
		if ms.ID == id {
			writeJSON(w, http.StatusOK, a.memberView(m, ms))
			return
		}
	}
	// A removed member without calls: only its (now cleared) override existed.
	writeJSON(w, http.StatusOK, MemberView{MemberStatus: state.MemberStatus{ID: id, Mode: state.ModeEnabled, Removed: true}})
}

func weightChange(r *http.Request) (func(state.Override) state.Override, error) {
	var req WeightRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if req.Weight == nil {
		return nil, errors.New(`body must set "weight", e.g. {"weight": 5}`)
	}
	if *req.Weight < 1 {
		// The compiler requires weight >= 1 too: a weight is a share of
		// the calls, and taking a member out of service is a mode.
		return nil, fmt.Errorf("weight %d: must be 1 or more, as in the policy; to stop new calls to the member, "+
			"disable it (at once) or drain it (its calls end first)", *req.Weight)
	}
	w := *req.Weight
	return func(o state.Override) state.Override { o.Weight = &w; return o }, nil
}

// capacityChange accepts only resources the member or its pool knows, so
// a typo does not create a capacity nothing reads.
func capacityChange(r *http.Request, m *graph.Member) (func(state.Override) state.Override, error) {
	var req CapacityRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if req.Resource == "" || req.Capacity == nil {
		return nil, errors.New(`body must set "resource" and "capacity", e.g. {"resource": "pstn", "capacity": 30}`)
	}
	if *req.Capacity < 0 {
		return nil, fmt.Errorf("capacity %d: must be 0 or more", *req.Capacity)
	}
	known := resources(m)
	if !slices.Contains(known, req.Resource) {
		return nil, fmt.Errorf("member %s has no resource %q (known: %s)", m.ID, req.Resource, strings.Join(known, ", "))
	}
	res, c := req.Resource, *req.Capacity
	return func(o state.Override) state.Override {
		caps := make(map[string]int, len(o.Capacity)+1)
		for k, v := range o.Capacity {
			caps[k] = v
		}
		caps[res] = c
		o.Capacity = caps
		return o
	}, nil
}

// resources lists the capacity resources of a member: those it declares
// and the one its pool balances on.
func resources(m *graph.Member) []string {
	var out []string
	for r := range m.Capacity {
		out = append(out, r)
	}
	if m.Pool != nil && m.Pool.Resource != "" && !slices.Contains(out, m.Pool.Resource) {
		out = append(out, m.Pool.Resource)
	}
	sort.Strings(out)
	return out
}

// decode reads a strict JSON body: unknown fields and trailing data are
// errors, so that {"wieght": 5} is refused rather than ignored.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("empty body: a JSON object is required")
		}
		return fmt.Errorf("bad JSON body: %w", err)
	}
	if dec.More() {
		return errors.New("bad JSON body: trailing data after the object")
	}
	return nil
}

// overrideText renders an override for logs and drift lines.
func overrideText(o state.Override) string {
	var parts []string
	if o.Mode != "" && o.Mode != state.ModeEnabled {
		parts = append(parts, "mode="+string(o.Mode))
	}
	if o.Weight != nil {
		parts = append(parts, fmt.Sprintf("weight=%d", *o.Weight))
	}
	for _, k := range slices.Sorted(maps.Keys(o.Capacity)) {
		parts = append(parts, fmt.Sprintf("capacity.%s=%d", k, o.Capacity[k]))
	}
	if len(parts) == 0 {
		return "mode=enabled"
	}
	return strings.Join(parts, " ")
}
