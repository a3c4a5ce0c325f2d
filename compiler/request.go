package compiler

import (
	"fmt"
	"sort"
	"strings"

	"github.com/sipfront/sipfront/compiler/graph"
)

// DefaultSource is the source of a request that names none (TEST-NET-1).
const DefaultSource = "192.0.2.1:5060"

// RequestFields is a request as written in a test block's request{} or one
// line of a plan --requests JSONL file.
type RequestFields struct {
	Method    string `json:"method"`
	RURI      string `json:"ruri"`
	From      string `json:"from,omitempty"` // URI; defaults to sip:caller@<ruri host>
	To        string `json:"to,omitempty"`   // defaults to the ruri
	UserAgent string `json:"user_agent,omitempty"`
	// Source is "ip:port" or "tcp:ip:port"; default 192.0.2.1:5060.
	Source   string            `json:"source,omitempty"`
	CallID   string            `json:"call_id,omitempty"`
	InDialog bool              `json:"in_dialog,omitempty"`
	Headers  map[string]string `json:"headers,omitempty"`
	// AuthUser means the request carries valid credentials of this user.
	AuthUser string `json:"auth_user,omitempty"`
	// Registered lists the users registered at that moment (registered()).
	Registered []string `json:"registered,omitempty"`
	// Down lists member and carrier IDs unavailable at that moment.
	Down []string `json:"down,omitempty"`
	// AtLimit lists carrier IDs at their calls or cps limit.
	AtLimit []string `json:"at_limit,omitempty"`
}

// Request turns fields into a graph.Request plus the StaticState to decide
// it with. It fails on an unparsable URI or source.
func (f RequestFields) Request() (*graph.Request, graph.StaticState, error) {
	st := graph.StaticState{Users: make(map[string]bool, len(f.Registered)), Down: make(map[graph.ID]bool, len(f.Down))}
	if f.Method == "" {
		return nil, st, fmt.Errorf("the request has no method")
	}
	ruri, err := ParseURI(f.RURI)
	if err != nil {
		return nil, st, fmt.Errorf("ruri: %w", err)
	}
	req := &graph.Request{Method: strings.ToUpper(f.Method), RURI: ruri, UserAgent: f.UserAgent,
		CallID: f.CallID, InDialog: f.InDialog, AuthUser: f.AuthUser}
	from := f.From
	if from == "" {
		from = "sip:caller@" + ruri.Host
	}
	if req.From, err = ParseURI(from); err != nil {
		return nil, st, fmt.Errorf("from: %w", err)
	}
	req.To = ruri
	if f.To != "" {
		if req.To, err = ParseURI(f.To); err != nil {
			return nil, st, fmt.Errorf("to: %w", err)
		}
	}
	src := f.Source
	if src == "" {
		src = DefaultSource
	}
	if req.Source, err = graph.ParseSource(src); err != nil {
		return nil, st, fmt.Errorf("source %q: %w", src, err)
	}
	req.Headers = headerList(f.Headers)
	fillDedicated(req)
	for _, u := range f.Registered {
		if err := registered(&st, u); err != nil {
			return nil, st, err
		}
	}
	for _, id := range f.AtLimit {
		if st.AtLimit == nil {
			st.AtLimit = make(map[graph.ID]bool, len(f.AtLimit))
		}
		st.AtLimit[graph.ID(id)] = true
	}
	for _, id := range f.Down {
		st.Down[graph.ID(id)] = true
	}
	return req, st, nil
}

// fillDedicated copies User-Agent and Call-ID, in any case, from the extra
// headers into the request's own fields when those are empty: the graph
// answers header("User-Agent") and header("Call-ID") from the fields only,
// so a request written with --header 'User-Agent: x' must still be seen
// as having one. The first name in sorted order wins.
func fillDedicated(req *graph.Request) {
	list, _ := req.Headers.(graph.HeaderList)
	for _, h := range list {
		switch {
		case strings.EqualFold(h.Name, "User-Agent") && req.UserAgent == "":
			req.UserAgent = h.Value
		case strings.EqualFold(h.Name, "Call-ID") && req.CallID == "":
			req.CallID = h.Value
		}
	}
}

// headerList orders headers by name so that decisions are deterministic.
func headerList(h map[string]string) graph.HeaderReader {
	if len(h) == 0 {
		return nil
	}
	list := make(graph.HeaderList, 0, len(h))
	for k, v := range h {
		list = append(list, graph.Param{Name: k, Value: v})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	return list
}
