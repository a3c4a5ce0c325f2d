package fork

import (
	"context"
	"time"
)

// Event is what a branch reports: a response, or its end.
type Event struct {
	// Branch is the index the branch was started with.
	Branch int
	// Code is the response status; 0 on an end without a response.
	Code int
	// Msg is the response, handed to Upstream untouched; nil for a
	// response the branch made up (408 on Timer C or B, 503 on a transport
	// error).
	Msg any
	// Done says the branch is over: its client transaction ended. A final
	// response and the end may come in one event. A branch that got a 2xx
	// may still report further 2xx (a downstream fork) before Done.
	Done bool
}

// Branch is one downstream client transaction of a fork.
type Branch interface {
	// Start sends the request and returns at once; the branch reports its
	// responses on events as Event{Branch: id}, and ends with an event with
	// Done set.
	Start(id int, events chan<- Event)
	// Cancel asks the branch to end: it sends CANCEL (once a provisional
	// came, as RFC 3261 §9.1 requires) and still reports its final and its
	// end.
	Cancel()
}

// Upstream is the caller's side of the fork.
type Upstream interface {
	// Provisional relays a 1xx other than 100.
	Provisional(msg any)
	// Success relays a 2xx of branch: every 2xx goes up, not only the
	// first (§16.7 step 5), so each dialog a fork creates reaches the
	// caller.
	Success(branch int, msg any)
	// Final sends the fork's final response when no branch answered. It is
	// called at most once, and never after a Success.
	Final(f Final)
}

// Plan is the order in which a fork tries its branches: groups one after
// another, the branches of a group in parallel.
type Plan struct {
	Groups [][]Branch
	// Timeout bounds each group (serial forking's fork_timeout): when it
	// fires the group's branches are cancelled and the next group starts.
	// Zero means no bound (parallel forking relies on each branch's Timer C).
	Timeout time.Duration
}

// Parallel rings every branch at once.
func Parallel(bs []Branch) Plan { return Plan{Groups: [][]Branch{bs}} }

// Serial tries the branches group after group, each for timeout. q holds
// the branches' q values (highest first, as the registrar orders contacts):
// branches of equal q form one group and ring in parallel, as Kamailio's
// t_load_contacts does.
func Serial(bs []Branch, q []int, timeout time.Duration) Plan {
	p := Plan{Timeout: timeout}
	for i := range bs {
		if i == 0 || q[i] != q[i-1] {
			p.Groups = append(p.Groups, nil)
		}
		p.Groups[len(p.Groups)-1] = append(p.Groups[len(p.Groups)-1], bs[i])
	}
	return p
}

// Outcome says how a fork ended.
type Outcome struct {
	// Answered is the index of the first branch that answered 2xx, -1 if
	// none.
	Answered int
	// Final is what went up when no branch answered (Code 0 when the caller
	// cancelled first).
	Final Final
	// Cancelled says the caller cancelled (ctx ended) before an answer.
	Cancelled bool
}

type branchState struct {
	b         Branch
	group     int
	done      bool
	final     bool
	cancelled bool
	timedOut  bool
}

// run is the state of one fork.
type run struct {
	plan     Plan
	up       Upstream
	branches []branchState
	finals   []Event
	events   chan Event
	group    int // the last group started
	pending  int // started branches not done
	out      Outcome
	sent     bool // a final or a 2xx went up
	stopped  bool // no further group may start
}

// Run drives a fork to its end: it starts the plan's groups, relays
// responses to up, cancels what lost, and returns once every started branch
// is over. Cancelling ctx (the caller's CANCEL) cancels every branch.
func Run(ctx context.Context, p Plan, up Upstream) Outcome {
	total := 0
	for _, g := range p.Groups {
		total += len(g)
	}
	r := &run{plan: p, up: up, events: make(chan Event, total+1), group: -1, out: Outcome{Answered: -1}}
	r.branches = make([]branchState, 0, total)
	for gi, g := range p.Groups {
		for _, b := range g {
			r.branches = append(r.branches, branchState{b: b, group: gi})
		}
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	if !r.next(timer) {
		r.finish()
		return r.out
	}
	done := ctx.Done()
	for r.pending > 0 {
		select {
		case ev := <-r.events:
			r.event(ev, timer)
		case <-timer.C:
			r.timeout(timer)
		case <-done:
			done = nil
			r.out.Cancelled = !r.sent
			r.stopped = true
			r.cancelAll()
		}
	}
	r.finish()
	return r.out
}

// next starts the next group; false when there is none left.
func (r *run) next(timer *time.Timer) bool {
	if r.stopped || r.group+1 >= len(r.plan.Groups) {
		return false
	}
	r.group++
	for i := range r.branches {
		if r.branches[i].group == r.group {
			r.pending++
			r.branches[i].b.Start(i, r.events)
		}
	}
	if r.plan.Timeout > 0 {
		timer.Reset(r.plan.Timeout)
	}
	return true
}

func (r *run) event(ev Event, timer *time.Timer) {
	s := &r.branches[ev.Branch]
	switch {
	case ev.Code >= 200 && ev.Code < 300:
		r.up.Success(ev.Branch, ev.Msg)
		if r.out.Answered < 0 {
			r.out.Answered, r.sent, r.stopped = ev.Branch, true, true
			timer.Stop()
			r.cancelAll()
		}
	case ev.Code > 100 && ev.Code < 200:
		if !r.sent {
			r.up.Provisional(ev.Msg)
		}
	case ev.Code >= 300 && !s.final:
		s.final = true
		if s.timedOut {
			// Our own CANCEL after fork_timeout ended it: for the caller
			// this contact did not answer in time.
			ev.Code, ev.Msg = 408, nil
		}
		r.finals = append(r.finals, ev)
		if ev.Code >= 600 && !r.sent && !r.out.Cancelled {
			// A 6xx ends the search (§16.7 step 5): cancel the rest and
			// send it up.
			r.stopped = true
			timer.Stop()
			r.cancelAll()
			r.sendFinal(Final{Code: ev.Code, Msg: ev.Msg})
		}
	}
	if ev.Done && !s.done {
		s.done = true
		r.pending--
		if !s.final && r.out.Answered != ev.Branch {
			s.final = true
			r.finals = append(r.finals, Event{Branch: ev.Branch, Code: 408})
		}
		if r.pending == 0 && !r.sent {
			timer.Stop()
			r.next(timer)
		}
	}
}

// timeout ends the current group after fork_timeout and starts the next.
func (r *run) timeout(timer *time.Timer) {
	for i := range r.branches {
		s := &r.branches[i]
		if s.group == r.group && !s.done && !s.final {
			s.timedOut = true
			r.cancel(s)
		}
	}
	r.next(timer)
}

func (r *run) cancelAll() {
	for i := range r.branches {
		if s := &r.branches[i]; s.group <= r.group && !s.done && !s.final && i != r.out.Answered {
			r.cancel(s)
		}
	}
}

func (r *run) cancel(s *branchState) {
	if !s.cancelled {
		s.cancelled = true
		s.b.Cancel()
	}
}

// finish sends the best final response if nothing went up yet.
func (r *run) finish() {
	if !r.sent && !r.out.Cancelled {
		r.sendFinal(choose(r.finals))
	}
}

func (r *run) sendFinal(f Final) {
	r.sent = true
	r.out.Final = f
	r.up.Final(f)
}
