package edge

import "github.com/sipfront/sipfront/runtime/sanity"

// refusal is why a TCP connection was closed by the edge.
type refusal uint8

const (
	refusedTotal refusal = iota
	refusedPerSource
	closedIdle
	closedIncomplete
	closedFraming
	numRefusals
)

var refusalNames = [numRefusals]string{"total_limit", "per_source_limit", "idle_timeout", "incomplete_timeout", "framing_error"}

// Stats are the edge counters, for metrics.
type Stats struct {
	// Rejected counts the messages the raw check stopped, per rule name.
	Rejected map[string]uint64
	// Answered and Dropped split them by what happened.
	Answered, Dropped uint64
	// FloodDropped and Flood503 count requests from blocked sources.
	FloodDropped, Flood503 uint64
	// FloodBlocks counts sources blocked; FloodEvicted table evictions.
	FloodBlocks, FloodEvicted uint64
	// TCPClosed counts connections refused or closed, per reason.
	TCPClosed map[string]uint64
	// TCPOpen is the number of open inbound connections.
	TCPOpen int64
}

// Stats returns the counters.
func (gd *Guard) Stats() Stats {
	s := Stats{Rejected: map[string]uint64{}, TCPClosed: map[string]uint64{},
		Answered: gd.answered.Load(), Dropped: gd.dropped.Load(),
		FloodDropped: gd.floodDrops.Load(), Flood503: gd.flood503.Load(), TCPOpen: gd.tcpOpen.Load()}
	for _, r := range sanity.Rules() {
		if n := gd.rules[r].Load(); n > 0 {
			s.Rejected[r.String()] = n
		}
	}
	for i := range numRefusals {
		if n := gd.tcpRefused[i].Load(); n > 0 {
			s.TCPClosed[refusalNames[i]] = n
		}
	}
	if t := gd.table.Load(); t != nil {
		fs := t.Stats()
		s.FloodBlocks, s.FloodEvicted = fs.Blocks, fs.Evicted
	}
	return s
}

// Dropped returns how many messages the edge discarded without an answer
// (garbage, unanswerable malformed messages, flood drops).
func (gd *Guard) Dropped() uint64 { return gd.dropped.Load() + gd.floodDrops.Load() }
