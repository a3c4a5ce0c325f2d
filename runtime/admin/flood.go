package admin

import (
	"net/http"
	"net/netip"
	"slices"
	"time"

	"github.com/sipfront/sipfront/runtime/flood"
)

// FloodEntry is one source in the flood table.
type FloodEntry struct {
	IP string `json:"ip"`
	// Rate is the requests counted in the current sliding window.
	Rate         int        `json:"rate"`
	BlockedUntil *time.Time `json:"blocked_until,omitempty"`
	Dropped      uint64     `json:"dropped"`
	LastSeen     time.Time  `json:"last_seen"`
}

// Flood is GET /v1/flood: the flood table (blocked sources only with
// ?blocked=1).
type Flood struct {
	// Enabled is false when the policy has no flood block.
	Enabled  bool         `json:"enabled"`
	Capacity int          `json:"capacity"`
	Entries  []FloodEntry `json:"entries"`
}

// FloodCleared is POST /v1/flood/clear: how many entries were forgotten.
type FloodCleared struct {
	Cleared int `json:"cleared"`
}

func (a *API) floodTable() *flood.Table {
	if a.opts.Flood == nil {
		return nil
	}
	return a.opts.Flood()
}

func (a *API) flood(w http.ResponseWriter, r *http.Request) {
	t := a.floodTable()
	out := Flood{Entries: []FloodEntry{}}
	if t == nil {
		writeJSON(w, http.StatusOK, out)
		return
	}
	out.Enabled, out.Capacity = true, t.Capacity()
	for _, e := range t.List(time.Now(), r.URL.Query().Get("blocked") != "") {
		fe := FloodEntry{IP: e.IP.String(), Rate: e.Rate, Dropped: e.Dropped, LastSeen: e.LastSeen}
		if !e.BlockedUntil.IsZero() {
			until := e.BlockedUntil
			fe.BlockedUntil = &until
		}
		out.Entries = append(out.Entries, fe)
	}
	slices.SortFunc(out.Entries, func(x, y FloodEntry) int { return y.Rate - x.Rate })
	writeJSON(w, http.StatusOK, out)
}

// floodClear forgets one source (?ip=) or every source.
func (a *API) floodClear(w http.ResponseWriter, r *http.Request) {
	t := a.floodTable()
	if t == nil {
		writeError(w, http.StatusNotFound, "the policy has no flood block")
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	ip := r.URL.Query().Get("ip")
	if ip == "" {
		n := t.ClearAll()
		a.log.Info("ctl: flood table cleared", "blocked", n)
		writeJSON(w, http.StatusOK, FloodCleared{Cleared: n})
		return
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		writeError(w, http.StatusBadRequest, "ip %q is not an IP address", ip)
		return
	}
	n := 0
	if t.Clear(addr) {
		n = 1
	}
	a.log.Info("ctl: flood entry cleared", "ip", addr.String(), "found", n == 1)
	writeJSON(w, http.StatusOK, FloodCleared{Cleared: n})
}

// FloodPath is the flood table path, blocked sources only when asked.
func FloodPath(blockedOnly bool) string {
	if blockedOnly {
		return "/v1/flood?blocked=1"
	}
	return "/v1/flood"
}

// FloodClearPath clears ip, or every source when ip is "".
func FloodClearPath(ip string) string {
	if ip == "" {
		return "/v1/flood/clear"
	}
	return "/v1/flood/clear?ip=" + ip
}
