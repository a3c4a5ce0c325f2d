package graph

import "fmt"

// Action is the outcome of a decision.
type Action uint8

// Decision outcomes.
const (
	// ActionRelay forwards the request to Member, Carrier or registered
	// contacts.
	ActionRelay Action = iota + 1
	// ActionReply answers with Status and Reason.
	ActionReply
	// ActionDrop discards the request silently.
	ActionDrop
	// ActionChallenge answers 407 (401 for REGISTER) with a digest
	// challenge for Auth.Realm.
	ActionChallenge
	// ActionRegister hands a REGISTER to the registrar.
	ActionRegister
)

var actionNames = [...]string{"", "relay", "reply", "drop", "challenge", "register"}

// String returns the action's name as written in a test's expect block.
func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return fmt.Sprintf("action(%d)", a)
}

// Decision is what the graph decides for one request. It points into the
// graph; it holds no copies.
type Decision struct {
	Action Action
	// Status and Reason are set for ActionReply (and 503 when no target is
	// available).
	Status int
	Reason string
	// Filter is the filter that replied or dropped.
	Filter *Filter
	// Logged lists the log-only filters that matched (rare; allocated only
	// then).
	Logged []*Filter
	// Auth is the auth stage that applied, nil when none did.
	Auth *Auth
	// AuthUser is the user the request proved; AuthTrusted is the trusted
	// group that let it skip the challenge.
	AuthUser    string
	AuthTrusted *Trusted
	// AuthVerdict is the Authenticator's answer when Auth applied to a
	// source it does not trust: the runtime builds the challenge (stale or
	// not), the 403 or the 503 with Retry-After from it.
	AuthVerdict AuthVerdict
	// Alias is the table that rewrote the R-URI user from AliasFrom to
	// Request.RURI.User.
	Alias     *AliasTable
	AliasFrom string
	// Route is the matched route; nil when no route matched.
	Route *Route
	// Member is the pool member chosen for the first try; Owner is the
	// member the route's prefix table named (by OwnerPrefix), which may be
	// unavailable and so differ from Member.
	Member      *Member
	Owner       *Member
	OwnerPrefix string
	// Candidates is the least-cost order of carriers for the call (see
	// Graph.carriers); it lives in the Request's buffer while it holds
	// few, so it is valid as long as the Request. Carrier is the first
	// eligible one, LCRPrefix the longest prefix matched.
	Candidates []Candidate
	LCRPrefix  string
	Carrier    *Carrier
}

// Target returns the ID of the chosen member or carrier, or "registrar",
// or "" when nothing was chosen.
func (d *Decision) Target() ID {
	switch {
	case d.Member != nil:
		return d.Member.ID
	case d.Carrier != nil:
		return d.Carrier.ID
	case d.Route != nil && d.Route.Target == TargetRegistrar:
		return "registrar"
	}
	return ""
}

// Decide runs req through the graph: filters, auth, aliases, routes, target.
// It may rewrite req.RURI.User (DID mapping) and req.AuthUser. trace may be
// nil; when set, every step is recorded for explain.
func (g *Graph) Decide(req *Request, st State, trace *Trace) Decision {
	var d Decision
	ctx := &req.ctx
	*ctx = evalContext{req: req, graph: g, state: st}
	defer func() { *ctx = evalContext{} }() // drop references to graph and state
	if g.runFilters(ctx, &d, trace) {
		return d
	}
	if g.runAuth(ctx, &d, trace) {
		return d
	}
	g.runAliases(ctx, &d, trace)
	g.runRoutes(ctx, &d, trace)
	return d
}

func (g *Graph) runFilters(ctx *evalContext, d *Decision, trace *Trace) bool {
	for _, f := range g.Filters {
		ok, err := f.When.eval(ctx)
		trace.add(f.ID, f.When, ok, err, "")
		if !ok {
			continue
		}
		switch f.Action {
		case FilterReply:
			d.Action, d.Status, d.Reason, d.Filter = ActionReply, f.Status, f.Reason, f
			return true
		case FilterDrop:
			d.Action, d.Filter = ActionDrop, f
			return true
		default:
			d.Logged = append(d.Logged, f)
		}
	}
	return false
}

func (g *Graph) runAuth(ctx *evalContext, d *Decision, trace *Trace) bool {
	for _, a := range g.Auth {
		ok, err := a.When.evalOrTrue(ctx)
		trace.add(a.ID, a.When, ok, err, "")
		if !ok {
			continue
		}
		d.Auth = a
		for _, t := range a.Trust {
			if t.Contains(ctx.req.Source.IP) {
				d.AuthTrusted = t
				if trace != nil { // boxing the arguments would allocate even for a nil trace
					trace.note(a.ID, "source %s is in %s: no challenge", ctx.req.Source.IP, t.ID)
				}
				return false
			}
		}
		v := ctx.state.Authenticate(a, ctx.req)
		d.AuthVerdict = v
		return authOutcome(a, v, d, ctx.req, trace)
	}
	return false
}

// authOutcome turns an Authenticator's verdict into the decision; it
// reports whether the decision is final.
func authOutcome(a *Auth, v AuthVerdict, d *Decision, req *Request, trace *Trace) bool {
	switch v.Outcome {
	case AuthOK:
		d.AuthUser, req.AuthUser = v.User, v.User
		if trace != nil {
			trace.note(a.ID, "authenticated as %q", v.User)
		}
		return false
	case AuthForbidden:
		d.Action, d.Status, d.Reason = ActionReply, 403, "Forbidden"
		trace.note(a.ID, "%s: 403", v.Reason)
	case AuthThrottled:
		d.Action, d.Status, d.Reason = ActionReply, 403, "Forbidden"
		if v.Silent {
			d.Action, d.Status, d.Reason = ActionDrop, 0, ""
		}
		trace.note(a.ID, "%s: throttled", v.Reason)
	case AuthUnavailable:
		d.Action, d.Status, d.Reason = ActionReply, 503, "Service Unavailable"
		trace.note(a.ID, "%s: 503, Retry-After %s", v.Reason, v.RetryAfter)
	case AuthStale:
		d.Action = ActionChallenge
		trace.note(a.ID, "nonce expired: challenge with stale=true for realm %q", a.Realm)
	default:
		d.Action = ActionChallenge
		why := v.Reason
		if why == "" {
			why = "no valid credentials"
		}
		trace.note(a.ID, "%s: challenge for realm %q", why, a.Realm)
	}
	return true
}

func (g *Graph) runAliases(ctx *evalContext, d *Decision, trace *Trace) {
	for _, a := range g.Aliases {
		ok, err := a.When.evalOrTrue(ctx)
		trace.add(a.ID, a.When, ok, err, "")
		if !ok {
			continue
		}
		if to, found := a.Entries[ctx.req.RURI.User]; found {
			d.Alias, d.AliasFrom = a, ctx.req.RURI.User
			ctx.req.RURI.User = to
			if trace != nil {
				trace.note(a.ID, "R-URI user %s -> %s", d.AliasFrom, to)
			}
			return
		}
		if trace != nil {
			trace.note(a.ID, "no entry for %q", ctx.req.RURI.User)
		}
	}
}

func (g *Graph) runRoutes(ctx *evalContext, d *Decision, trace *Trace) {
	for _, r := range g.Routes {
		ok, err := r.When.evalOrTrue(ctx)
		trace.add(r.ID, r.When, ok, err, "")
		if !ok {
			continue
		}
		d.Route = r
		g.target(ctx, r, d, trace)
		return
	}
	d.Action, d.Status, d.Reason = ActionReply, 404, "Not Found"
	trace.note("", "no route matched: 404")
}

func (g *Graph) target(ctx *evalContext, r *Route, d *Decision, trace *Trace) {
	req, st := ctx.req, ctx.state
	d.Action = ActionRelay
	switch r.Target {
	case TargetRegistrar:
		if req.Method == "REGISTER" {
			d.Action = ActionRegister
		}
	case TargetPool:
		if r.Select != nil {
			if name, prefix, ok := r.Select.Lookup(req.RURI.User); ok {
				d.Owner, d.OwnerPrefix = r.Pool.Member(name), prefix
				if trace != nil {
					trace.note(r.Select.ID, "prefix %s owned by %s", prefix, name)
				}
			}
		}
		if d.Owner != nil && st.MemberAvailable(d.Owner) {
			d.Member = d.Owner
		} else {
			if d.Owner != nil && trace != nil {
				trace.note(d.Owner.ID, "owner unavailable: balancing by %s", r.Pool.Balance)
			}
			d.Member = st.Pick(r.Pool, req, nil)
		}
		if d.Member == nil {
			d.Action, d.Status, d.Reason = ActionReply, 503, "Service Unavailable"
			trace.note(r.Pool.ID, "no member available: 503")
			return
		}
		trace.note(d.Member.ID, "chosen")
	case TargetCarriers, TargetCarrier:
		g.carriers(ctx, r, d, trace)
	}
}

// evalOrTrue treats a missing condition as always true.
func (c *Condition) evalOrTrue(ctx *evalContext) (bool, error) {
	if c == nil {
		return true, nil
	}
	return c.eval(ctx)
}

// Trace records the steps of a decision for explain. A nil *Trace records
// nothing; callers on the decision path check for nil before a note with
// arguments, because boxing them into ...any allocates even when note
// returns at once.
type Trace struct {
	Steps []Step
}

// Step is one node visited during a decision.
type Step struct {
	// Node is the visited node; empty for a note on the decision as a whole.
	Node ID
	// Expr is the condition checked, empty for a note.
	Expr string
	// Matched is the condition's result.
	Matched bool
	// Err is an evaluation error, which counts as no match.
	Err string
	// Note explains what the node did.
	Note string
}

func (t *Trace) add(id ID, c *Condition, ok bool, err error, note string) {
	if t == nil {
		return
	}
	s := Step{Node: id, Matched: ok, Note: note}
	if c != nil {
		s.Expr = c.Source
	} else {
		s.Expr = "(always)"
	}
	if err != nil {
		s.Err = err.Error()
	}
	t.Steps = append(t.Steps, s)
}

func (t *Trace) note(id ID, format string, args ...any) {
	if t == nil {
		return
	}
	t.Steps = append(t.Steps, Step{Node: id, Note: fmt.Sprintf(format, args...)})
}
