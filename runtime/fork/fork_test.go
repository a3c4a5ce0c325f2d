package fork

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// step is one response of a scripted branch, after a delay.
type step struct {
	after time.Duration
	code  int
}

// script is a Branch that plays its steps and, when cancelled before its
// final response, answers 487 as a UAS does. With no final in its steps it
// rings until cancelled.
type script struct {
	name      string
	steps     []step
	cancel    chan struct{}
	once      sync.Once
	mu        sync.Mutex
	started   bool
	cancelled bool
	// crossed makes the branch's responses cross our CANCEL on the wire:
	// the UAS answered before the CANCEL reached it.
	crossed bool
}

func branch(name string, steps ...step) *script {
	return &script{name: name, steps: steps, cancel: make(chan struct{})}
}

func (s *script) Start(id int, ev chan<- Event) {
	s.mu.Lock()
	s.started = true
	s.mu.Unlock()
	go func() {
		cancel := s.cancel
		if s.crossed {
			cancel = nil
		}
		for _, st := range s.steps {
			select {
			case <-time.After(st.after):
			case <-cancel:
				ev <- Event{Branch: id, Code: 487, Msg: s.name + ":487", Done: true}
				return
			}
			ev <- Event{Branch: id, Code: st.code, Msg: fmt.Sprintf("%s:%d", s.name, st.code), Done: st.code >= 300}
			if st.code >= 200 && st.code < 300 {
				ev <- Event{Branch: id, Done: true}
				return
			}
			if st.code >= 300 {
				return
			}
		}
		<-s.cancel
		ev <- Event{Branch: id, Code: 487, Msg: s.name + ":487", Done: true}
	}()
}

func crossed(s *script) *script { s.crossed = true; return s }

func (s *script) Cancel() {
	s.mu.Lock()
	s.cancelled = true
	s.mu.Unlock()
	s.once.Do(func() { close(s.cancel) })
}

func (s *script) state() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.cancelled:
		return "cancelled"
	case s.started:
		return "started"
	}
	return "idle"
}

// recorder is the caller's side: it writes down what went up, in order.
type recorder struct {
	mu  sync.Mutex
	log []string
}

func (r *recorder) add(s string) { r.mu.Lock(); r.log = append(r.log, s); r.mu.Unlock() }

func (r *recorder) Provisional(m any)    { r.add(fmt.Sprint(m)) }
func (r *recorder) Success(_ int, m any) { r.add(fmt.Sprint(m)) }
func (r *recorder) Final(f Final) {
	s := fmt.Sprintf("final %d", f.Code)
	if f.Msg != nil {
		s += fmt.Sprintf(" (%v)", f.Msg)
	}
	if len(f.Challenges) > 0 {
		s += fmt.Sprintf(" challenges %v", f.Challenges)
	}
	r.add(s)
}

const ms = time.Millisecond

func TestParallel(t *testing.T) {
	cases := []struct {
		name     string
		branches []*script
		// up is what the caller gets, in order; states the branches' fate.
		up, states string
	}{
		{"first 2xx wins, others cancelled",
			[]*script{branch("a", step{10 * ms, 180}), branch("b", step{20 * ms, 180}, step{60 * ms, 200}), branch("c", step{30 * ms, 180})},
			"a:180 b:180 c:180 b:200", "cancelled started cancelled"},
		{"6xx cancels the rest and goes up",
			[]*script{branch("a", step{10 * ms, 180}), branch("b", step{50 * ms, 603})},
			"a:180 final 603 (b:603)", "cancelled started"},
		{"lowest class wins", []*script{branch("a", step{10 * ms, 486}), branch("b", step{20 * ms, 302}), branch("c", step{5 * ms, 503})},
			"final 302 (b:302)", "started started started"},
		{"4xx the caller can act on is preferred", []*script{branch("a", step{10 * ms, 486}), branch("b", step{20 * ms, 484})},
			"final 484 (b:484)", "started started"},
		{"401 and 407 aggregated", []*script{branch("a", step{10 * ms, 401}), branch("b", step{20 * ms, 407}), branch("c", step{5 * ms, 486})},
			"final 401 (a:401) challenges [a:401 b:407]", "started started started"},
		{"503 goes up as 500", []*script{branch("a", step{10 * ms, 503}), branch("b", step{20 * ms, 503})},
			"final 500", "started started"},
		{"several 2xx all reach the caller", []*script{branch("a", step{10 * ms, 200}), crossed(branch("b", step{20 * ms, 200}))},
			"a:200 b:200", "any any"},
		{"no branch is 480", nil, "final 480", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bs := make([]Branch, len(tc.branches))
			for i, b := range tc.branches {
				bs[i] = b
			}
			rec := &recorder{}
			out := Run(context.Background(), Parallel(bs), rec)
			got := strings.Join(rec.log, " ")
			if tc.name == "several 2xx all reach the caller" {
				// b's 2xx crossed the CANCEL sent when a answered: it still goes up.
				if got != "a:200 b:200" {
					t.Fatalf("up: %q", got)
				}
				return
			}
			if got != tc.up {
				t.Fatalf("up: %q\nwant %q", got, tc.up)
			}
			if st := states(tc.branches); st != tc.states {
				t.Fatalf("branches: %q, want %q", st, tc.states)
			}
			if strings.Contains(tc.up, "final") == (out.Answered >= 0) {
				t.Fatalf("outcome %+v disagrees with %q", out, got)
			}
		})
	}
}

func states(bs []*script) string {
	var s []string
	for _, b := range bs {
		s = append(s, b.state())
	}
	return strings.Join(s, " ")
}

func TestSerial(t *testing.T) {
	// a (q=1.0) rings past the fork timeout, b and c (q=0.5) ring together
	// next, c answers; d (q=0.1) is never tried.
	a := branch("a", step{5 * ms, 180})
	b := branch("b", step{5 * ms, 180})
	c := branch("c", step{5 * ms, 180}, step{30 * ms, 200})
	d := branch("d", step{5 * ms, 200})
	rec := &recorder{}
	start := time.Now()
	out := Run(context.Background(), Serial([]Branch{a, b, c, d}, []int{1000, 500, 500, 100}, 150*ms), rec)
	if got := strings.Join(rec.log, " "); got != "a:180 b:180 c:180 c:200" && got != "a:180 c:180 b:180 c:200" {
		t.Fatalf("up: %q", got)
	}
	if st := states([]*script{a, b, c, d}); st != "cancelled cancelled started idle" {
		t.Fatalf("branches: %q", st)
	}
	if out.Answered != 2 {
		t.Fatalf("answered by %d, want 2 (c)", out.Answered)
	}
	if e := time.Since(start); e < 150*ms {
		t.Fatalf("the second group started after %v, before the fork timeout", e)
	}
}

func TestSerialMovesOnAfterFailure(t *testing.T) {
	// A busy first contact does not wait for the timeout; the last contact
	// timing out makes the caller's answer 408, not our own CANCEL's 487.
	a := branch("a", step{5 * ms, 486})
	b := branch("b", step{5 * ms, 180})
	rec := &recorder{}
	Run(context.Background(), Serial([]Branch{a, b}, []int{1000, 500}, 100*ms), rec)
	if got := strings.Join(rec.log, " "); got != "b:180 final 486 (a:486)" {
		t.Fatalf("up: %q", got)
	}
	a = branch("a", step{5 * ms, 180})
	rec = &recorder{}
	Run(context.Background(), Serial([]Branch{a}, []int{1000}, 50*ms), rec)
	if got := strings.Join(rec.log, " "); got != "a:180 final 408" {
		t.Fatalf("up: %q", got)
	}
}

func TestSerial6xxStops(t *testing.T) {
	a := branch("a", step{5 * ms, 600})
	b := branch("b", step{5 * ms, 200})
	rec := &recorder{}
	Run(context.Background(), Serial([]Branch{a, b}, []int{1000, 500}, time.Second), rec)
	if got := strings.Join(rec.log, " "); got != "final 600 (a:600)" || b.state() != "idle" {
		t.Fatalf("up: %q, b %s", got, b.state())
	}
}

func TestCallerCancel(t *testing.T) {
	a := branch("a", step{5 * ms, 180})
	b := branch("b", step{5 * ms, 180})
	c := branch("c")
	rec := &recorder{}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*ms, cancel)
	out := Run(ctx, Serial([]Branch{a, b, c}, []int{1000, 1000, 500}, time.Second), rec)
	if !out.Cancelled || out.Answered >= 0 {
		t.Fatalf("outcome %+v", out)
	}
	if st := states([]*script{a, b, c}); st != "cancelled cancelled idle" {
		t.Fatalf("branches: %q (the next group must not start after the caller's CANCEL)", st)
	}
	for _, l := range rec.log {
		if strings.HasPrefix(l, "final") {
			t.Fatalf("a final went up after the caller's CANCEL: %v", rec.log)
		}
	}
}

func TestChoose(t *testing.T) {
	ev := func(code int, msg any) Event { return Event{Code: code, Msg: msg} }
	for _, tc := range []struct {
		in   []Event
		want string
	}{
		{[]Event{ev(486, "x"), ev(603, "y"), ev(302, "z")}, "603 y"},
		{[]Event{ev(408, nil), ev(486, "x")}, "486 x"},
		{[]Event{ev(408, nil), ev(408, "x")}, "408 x"},
		{[]Event{ev(500, "a"), ev(404, "b")}, "404 b"},
		{[]Event{ev(503, "a")}, "500 <nil>"},
		{[]Event{ev(407, "a"), ev(486, "b")}, "407 a [a]"},
		{nil, "480 <nil>"},
	} {
		f := choose(tc.in)
		got := fmt.Sprintf("%d %v", f.Code, f.Msg)
		if f.Challenges != nil {
			got += fmt.Sprintf(" %v", f.Challenges)
		}
		if got != tc.want {
			t.Errorf("choose(%v) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
