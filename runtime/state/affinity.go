package state

import (
	"slices"
	"strings"
	"sync"

	"github.com/sipfront/sipfront/compiler/graph"
)

// parties indexes the active dialogs by the user parts of their caller and
// callee, for transfer affinity. One lock for the whole index is fine: it
// changes once per call start and end, and only pools with affinity read it.
type parties struct {
	mu sync.RWMutex
	// m maps a user to its dialogs, oldest first.
	m map[string][]*entry
}

// add indexes e under its caller and callee, unless it has ended already
// (EndCall may run between StartCall's table insert and this add).
func (p *parties) add(e *entry) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e.ended.Load() {
		return
	}
	p.put(e.d.Caller, e)
	if e.d.Callee != e.d.Caller {
		p.put(e.d.Callee, e)
	}
}

func (p *parties) put(user string, e *entry) {
	if user != "" {
		p.m[user] = append(p.m[user], e)
	}
}

// remove drops e from the index; e.ended is already set.
func (p *parties) remove(e *entry) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.drop(e.d.Caller, e)
	p.drop(e.d.Callee, e)
}

func (p *parties) drop(user string, e *entry) {
	list, ok := p.m[user]
	if !ok {
		return
	}
	list = slices.DeleteFunc(list, func(x *entry) bool { return x == e })
	if len(list) == 0 {
		delete(p.m, user)
		return
	}
	p.m[user] = list
}

// affinity returns the member of v that transfer affinity sends req to, or
// nil: the member serving the dialog its Replaces header names; else the
// member of the newest active call of its caller (From user), else of its
// callee (R-URI user, then To user). A member that is unavailable or
// already tried is passed over.
func (s *Store) affinity(v *poolView, req *graph.Request, tried []*graph.Member) *graph.Member {
	if req.Headers != nil {
		if val, ok := req.Headers.Header("Replaces"); ok {
			if i := s.affine(v, s.replaced(val), tried); i >= 0 {
				return v.pool.Members[i]
			}
		}
	}
	for _, user := range [...]string{req.From.User, req.RURI.User, req.To.User} {
		if user == "" {
			continue
		}
		if i := s.partyMember(v, user, tried); i >= 0 {
			return v.pool.Members[i]
		}
	}
	return nil
}

// partyMember returns the index in v of the member serving the newest
// active call of user that may take the request, or -1.
func (s *Store) partyMember(v *poolView, user string, tried []*graph.Member) int {
	s.parties.mu.RLock()
	defer s.parties.mu.RUnlock()
	list := s.parties.m[user]
	for k := len(list) - 1; k >= 0; k-- {
		if i := s.affine(v, list[k].ms.Load(), tried); i >= 0 {
			return i
		}
	}
	return -1
}

// affine returns the index of ms in v when that member may take the call,
// or -1 (also for a member of another pool).
func (s *Store) affine(v *poolView, ms *memberState, tried []*graph.Member) int {
	if ms == nil {
		return -1
	}
	for i, x := range v.members {
		if x == ms {
			if s.candidate(v, i, tried) {
				return i
			}
			return -1
		}
	}
	return -1
}

// replaced returns the member state serving the dialog a Replaces header
// value ("call-id;to-tag=a;from-tag=b", RFC 3891) names, or nil. The tags
// may be either way round from the proxy's point of view, so a dialog
// matches when its From-tag is either; without a match, the oldest dialog
// with that Call-ID serves.
func (s *Store) replaced(val string) *memberState {
	callID, params, _ := strings.Cut(val, ";")
	callID = strings.TrimSpace(callID)
	if callID == "" {
		return nil
	}
	toTag, fromTag := replacesTags(params)
	sh := s.shardFor(callID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	head := sh.m[callID]
	for e := head; e != nil; e = e.next {
		if e.d.FromTag == fromTag || e.d.FromTag == toTag {
			return e.ms.Load()
		}
	}
	if head == nil {
		return nil
	}
	return head.ms.Load()
}

// replacesTags extracts the to-tag and from-tag parameters.
func replacesTags(params string) (toTag, fromTag string) {
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		name, value, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch {
		case strings.EqualFold(name, "to-tag"):
			toTag = value
		case strings.EqualFold(name, "from-tag"):
			fromTag = value
		}
	}
	return toTag, fromTag
}
