package admin

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/auth"
)

// AuthTables is the digest-auth service as the admin API sees it:
// *auth.Service satisfies it.
type AuthTables interface {
	Throttles() map[graph.ID]*auth.Throttle
}

// ThrottleTable is GET /v1/auth/throttle: per auth stage, the sources and
// users with recent failed answers, blocked ones first.
type ThrottleTable struct {
	Stages []ThrottleStage `json:"stages"`
}

// ThrottleStage is one auth stage's throttle table.
type ThrottleStage struct {
	Auth        graph.ID     `json:"auth"`
	MaxFailures int          `json:"max_failures"`
	Window      string       `json:"failure_window"`
	Block       string       `json:"block"`
	Entries     []auth.Entry `json:"entries"`
}

// Unblocked is the answer of DELETE /v1/auth/throttle/{key}.
type Unblocked struct {
	Key string `json:"key"`
	// Stages lists the auth stages that knew the key.
	Stages []graph.ID `json:"stages"`
}

// ThrottlePath is the path that clears key (a source address or a user).
func ThrottlePath(key string) string { return "/v1/auth/throttle/" + url.PathEscape(key) }

func (a *API) authRoutes() {
	a.mux.Handle("/v1/auth/throttle", endpoint{"GET": a.throttle})
	a.mux.Handle("/v1/auth/throttle/{key}", endpoint{"DELETE": a.unblock})
}

func (a *API) throttle(w http.ResponseWriter, r *http.Request) {
	out := ThrottleTable{Stages: []ThrottleStage{}}
	if a.opts.Auth == nil {
		writeJSON(w, http.StatusOK, out)
		return
	}
	now := time.Now()
	for id, t := range a.opts.Auth.Throttles() {
		set := t.Settings()
		entries := t.List(now)
		if entries == nil {
			entries = []auth.Entry{}
		}
		out.Stages = append(out.Stages, ThrottleStage{Auth: id, MaxFailures: set.MaxFailures,
			Window: set.Window.String(), Block: set.Block.String(), Entries: entries})
	}
	sort.Slice(out.Stages, func(i, j int) bool { return out.Stages[i].Auth < out.Stages[j].Auth })
	writeJSON(w, http.StatusOK, out)
}

func (a *API) unblock(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	if a.opts.Auth == nil {
		writeError(w, http.StatusNotFound, "this proxy serves no auth stage")
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	out := Unblocked{Key: key, Stages: []graph.ID{}}
	for id, t := range a.opts.Auth.Throttles() {
		if t.Clear(key) {
			out.Stages = append(out.Stages, id)
		}
	}
	if len(out.Stages) == 0 {
		writeError(w, http.StatusNotFound, "%q is not in any throttle table (a source address or a digest user)", key)
		return
	}
	sort.Slice(out.Stages, func(i, j int) bool { return out.Stages[i] < out.Stages[j] })
	a.log.Info("admin: throttle entry cleared", "key", key, "stages", out.Stages)
	writeJSON(w, http.StatusOK, out)
}

// Throttle returns the throttle tables of the running proxy.
func (c *Client) Throttle(ctx context.Context) (*ThrottleTable, error) {
	var out ThrottleTable
	return &out, c.get(ctx, "/v1/auth/throttle", &out)
}

// Unblock clears a source address or user from every throttle table.
func (c *Client) Unblock(ctx context.Context, key string) (*Unblocked, error) {
	var out Unblocked
	return &out, c.call(ctx, "DELETE", ThrottlePath(key), nil, &out)
}
