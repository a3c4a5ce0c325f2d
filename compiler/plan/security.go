package plan

import "github.com/sipfront/sipfront/compiler/graph"

// LimitsID and FloodID are the IDs plan and graph output give the limits
// and flood blocks, which are not decision nodes.
const (
	LimitsID graph.ID = "limits"
	FloodID  graph.ID = "flood"
)

// securityNodes returns the views of the limits block (when the policy
// declares one: otherwise every plan would list the defaults) and of the
// flood block.
func securityNodes(g *graph.Graph) []*Node {
	var nodes []*Node
	if l := g.Security.Limits; l.Pos.File != "" {
		nodes = append(nodes, &Node{ID: LimitsID, Kind: "limits", Pos: l.Pos, Attrs: Attrs{
			{Name: "max_message_udp", Value: l.MaxMessageUDP},
			{Name: "max_message_tcp", Value: l.MaxMessageTCP},
			{Name: "max_body", Value: l.MaxBody},
			{Name: "max_headers", Value: l.MaxHeaders},
			{Name: "max_header_line", Value: l.MaxHeaderLine},
			{Name: "max_request_uri", Value: l.MaxRequestURI},
			{Name: "max_via", Value: l.MaxVia},
			{Name: "tcp_max_connections", Value: l.TCPMaxConnections},
			{Name: "tcp_max_per_source", Value: l.TCPMaxPerSource},
			{Name: "tcp_idle_timeout", Value: l.TCPIdleTimeout},
			{Name: "tcp_message_timeout", Value: l.TCPMessageTimeout},
		}})
	}
	if f := g.Security.Flood; f != nil {
		exempt := make([]Ref, len(f.Exempt))
		for i, t := range f.Exempt {
			exempt[i] = Ref(t.ID)
		}
		action := [...]string{graph.FloodDrop: "drop", graph.FloodReply503: "503", graph.FloodFilter: "filter"}[f.Action]
		nodes = append(nodes, &Node{ID: FloodID, Kind: "flood", Pos: f.Pos, Attrs: Attrs{
			{Name: "window", Value: f.Window},
			{Name: "max_requests", Value: f.MaxRequests},
			{Name: "block", Value: f.Block},
			{Name: "action", Value: action},
			{Name: "exempt", Value: exempt},
			{Name: "max_sources", Value: f.MaxSources},
		}})
	}
	return nodes
}
