package admin

import (
	"encoding/json"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/probe"
	"github.com/sipfront/sipfront/runtime/state"
)

// The JSON documents of the admin API. The server writes them and Client
// reads them, so both sides share these types.

// Error is the body of every 4xx and 5xx answer.
type Error struct {
	Error string `json:"error"`
}

// Status is GET /v1/status.
type Status struct {
	// Hash identifies the running policy; it is also its graph version.
	Hash          string    `json:"hash"`
	Started       time.Time `json:"started"`
	UptimeSeconds float64   `json:"uptime_seconds"`
	Pools         int       `json:"pools"`
	Members       int       `json:"members"`
	MembersUp     int       `json:"members_up"`
	MembersDown   int       `json:"members_down"`
	// MembersOut counts enabled-but-not-serving members: disabled or
	// draining by override.
	MembersOut  int `json:"members_out"`
	ActiveCalls int `json:"active_calls"`
	Overrides   int `json:"overrides"`
	Filters     int `json:"filters"`
	Routes      int `json:"routes"`
	Carriers    int `json:"carriers"`
}

// Pools is GET /v1/pools.
type Pools struct {
	Hash  string     `json:"hash"`
	Pools []PoolView `json:"pools"`
	// Removed lists members the running policy no longer declares that still
	// hold calls.
	Removed []MemberView `json:"removed"`
}

// PoolView is one pool with its members.
type PoolView struct {
	ID       graph.ID     `json:"id"`
	Name     string       `json:"name"`
	Balance  string       `json:"balance"`
	Resource string       `json:"resource,omitempty"`
	Probe    *ProbeView   `json:"probe"`
	Members  []MemberView `json:"members"`
}

// ProbeView is a pool's probe settings.
type ProbeView struct {
	Interval  string `json:"interval"`
	Timeout   string `json:"timeout"`
	DownAfter int    `json:"down_after"`
	UpAfter   int    `json:"up_after"`
	Accept    []int  `json:"accept"`
}

// MemberView is a member's declared and observed state: the store's
// MemberStatus (id, pool, observed health, mode, effective weight, active
// calls, free capacity) plus what the policy declares, the override and
// the latest probe.
type MemberView struct {
	state.MemberStatus
	URI string `json:"uri,omitempty"`
	// Declared is what the policy says; empty for a removed member.
	Declared Declared `json:"declared"`
	// Drained is true when a draining member has no call left.
	Drained bool `json:"drained,omitempty"`
	// Override is the runtime override, nil when none.
	Override *state.Override `json:"override,omitempty"`
	// Probe is the latest probe, nil when the pool is not probed.
	Probe *probe.Result `json:"probe,omitempty"`
}

// Declared is a member as the policy declares it.
type Declared struct {
	Weight   int            `json:"weight"`
	Capacity map[string]int `json:"capacity,omitempty"`
}

// Calls is GET /v1/calls.
type Calls struct {
	Calls []state.Dialog `json:"calls"`
}

// Overrides is GET /v1/overrides.
type Overrides struct {
	Overrides []OverrideView `json:"overrides"`
}

// OverrideView is one member's override.
type OverrideView struct {
	Member graph.ID `json:"member"`
	state.Override
	// Declared is false when the running policy no longer declares the
	// member: the override waits for it to come back.
	Declared bool `json:"declared"`
}

// Graph is GET /v1/graph: the running graph's canonical node views (the
// same nodes as `sipfront plan` compares), attributes kept as raw JSON.
type Graph struct {
	Hash  string      `json:"hash"`
	Nodes []GraphNode `json:"nodes"`
}

// GraphNode is one node of Graph.
type GraphNode struct {
	ID    graph.ID        `json:"id"`
	Kind  string          `json:"kind"`
	Name  string          `json:"name,omitempty"`
	Attrs json.RawMessage `json:"attrs,omitempty"`
	Rows  json.RawMessage `json:"rows,omitempty"`
}

// Reloaded is the answer to a good POST /v1/reload.
type Reloaded struct {
	Hash     string `json:"hash"`
	Previous string `json:"previous"`
	Changed  bool   `json:"changed"`
}

// WeightRequest is the body of PUT /v1/members/{id}/weight.
type WeightRequest struct {
	Weight *int `json:"weight"`
}

// CapacityRequest is the body of PUT /v1/members/{id}/capacity.
type CapacityRequest struct {
	Resource string `json:"resource"`
	Capacity *int   `json:"capacity"`
}
