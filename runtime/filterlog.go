package runtime

import (
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/intake"
)

// filterLogEvery is the least time between two log lines of one filter: a
// scanner flood that matches a logging filter thousands of times a second
// writes one line a second, and the next line says how many were held back.
const filterLogEvery = time.Second

// logLimiter rate-limits the log lines of one filter. It is lock-free and
// allocation-free: a suppressed match costs one clock read and one atomic
// add.
type logLimiter struct {
	// next is the earliest time (Unix ns) the next line may be written.
	next atomic.Int64
	// suppressed counts matches not logged since the last line.
	suppressed atomic.Uint64
}

// allow reports whether a line may be written at now; when it may, it
// returns the number of matches suppressed since the previous line.
func (l *logLimiter) allow(now int64) (suppressed uint64, ok bool) {
	next := l.next.Load()
	if now < next || !l.next.CompareAndSwap(next, now+int64(filterLogEvery)) {
		l.suppressed.Add(1)
		return 0, false
	}
	return l.suppressed.Swap(0), true
}

// filterLimiters maps filter IDs to their limiters. It is immutable once
// published: a reload builds a new one that keeps the limiters of filters
// it still has, so a flood does not get a fresh line on every reload.
type filterLimiters map[graph.ID]*logLimiter

// attachFilterLogs publishes the limiters for the filters of g that log.
func (s *Server) attachFilterLogs(g *graph.Graph) {
	old := s.filterLogs.Load()
	nx := filterLimiters{}
	for _, f := range g.Filters {
		if f.Log == "" {
			continue
		}
		if old != nil && (*old)[f.ID] != nil {
			nx[f.ID] = (*old)[f.ID]
			continue
		}
		nx[f.ID] = new(logLimiter)
	}
	s.filterLogs.Store(&nx)
}

// logFilters writes the log message of every filter that matched and has
// one: the log-only filters, and the filter that replied or dropped.
func (s *Server) logFilters(g *graph.Graph, req *sip.Request, v *intake.View, d *graph.Decision) {
	for _, f := range d.Logged {
		s.logFilter(g, req, v, f)
	}
	if d.Filter != nil && d.Filter.Log != "" {
		s.logFilter(g, req, v, d.Filter)
	}
}

// logFilter writes f's log line unless f logged less than filterLogEvery
// ago; the suppressed count goes on the next line written.
func (s *Server) logFilter(g *graph.Graph, req *sip.Request, v *intake.View, f *graph.Filter) {
	lim := s.filterLogs.Load()
	l := (*lim)[f.ID]
	if l == nil {
		// A filter of an older graph, removed by a reload while its request
		// ran: it shares one limiter rather than going unlimited.
		l = &s.orphanFilterLog
	}
	n, ok := l.allow(time.Now().UnixNano())
	if !ok {
		return
	}
	s.log.Warn(f.Log, "filter", f.ID, "action", filterAction(f), "method", string(req.Method),
		"source", req.Source(), "call_id", v.R.CallID, "graph", g.Hash, "suppressed", n)
}

// filterAction names what a filter did, for its log line.
func filterAction(f *graph.Filter) string {
	switch f.Action {
	case graph.FilterReply:
		return "reply"
	case graph.FilterDrop:
		return "drop"
	}
	return "log"
}
