package graph

import (
	"fmt"
	"math/bits"
	"reflect"
	"regexp"
	"regexp/syntax"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/decls"
	"github.com/google/cel-go/common/overloads"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
	"github.com/google/cel-go/interpreter"
)

// CEL type names of the request view.
const (
	uriTypeName     = "sipfront.URI"
	sourceTypeName  = "sipfront.Source"
	contextTypeName = "sipfront.Context"
	// contextVar is the hidden variable that the request-scoped functions
	// (header, has_header, registered, source_in, is_local) are rewritten to
	// use. It is reserved: policies must not name it.
	contextVar = "__ctx"
)

var (
	uriType     = types.NewObjectType(uriTypeName)
	sourceType  = types.NewObjectType(sourceTypeName)
	contextType = types.NewOpaqueType(contextTypeName)
	paramsType  = types.NewMapType(types.StringType, types.StringType)
)

// Variables lists every CEL variable with its type and meaning, for docs and
// completion. The order is the documentation order.
var Variables = []struct{ Name, Type, Doc string }{
	{"method", "string", "request method, e.g. 'INVITE'"},
	{"ruri", "URI", "Request-URI (after DID mapping when an alias applied)"},
	{"from", "URI", "From header URI"},
	{"to", "URI", "To header URI"},
	{"source", "Source", "where the request came from: ip, port, transport"},
	{"user_agent", "string", "User-Agent header, '' when absent"},
	{"call_id", "string", "Call-ID header"},
	{"in_dialog", "bool", "true when the To header has a tag"},
	{"auth_user", "string", "digest user proved by this request, '' when none"},
}

// Functions lists the request-scoped functions, for docs.
var Functions = []struct{ Signature, Doc string }{
	{"header(name string) string", "first value of a header, '' when absent"},
	{"has_header(name string) bool", "whether the header is present"},
	{"is_local(host string) bool", "whether host is one of proxy.domains or the advertised address"},
	{"registered(user string) bool", "whether user has at least one live registration"},
	{"source_in(group string) bool", "whether the source IP is in the named trusted group"},
	{"flooding() bool", "whether the source IP is blocked by the flood block (always false without one)"},
}

var (
	envOnce sync.Once
	envVal  *cel.Env
	envErr  error
)

// Env returns the CEL environment conditions are compiled in. It is built
// once per process and shared: compiling policies never rebuilds it.
func Env() (*cel.Env, error) {
	envOnce.Do(func() { envVal, envErr = newEnv() })
	return envVal, envErr
}

func newEnv() (*cel.Env, error) {
	base, err := cel.NewEnv()
	if err != nil {
		return nil, err
	}
	prov := &requestTypes{Provider: base.CELTypeProvider()}
	opts := []cel.EnvOption{
		cel.CustomTypeProvider(prov),
		cel.Variable("method", cel.StringType),
		cel.Variable("ruri", uriType),
		cel.Variable("from", uriType),
		cel.Variable("to", uriType),
		cel.Variable("source", sourceType),
		cel.Variable("user_agent", cel.StringType),
		cel.Variable("call_id", cel.StringType),
		cel.Variable("in_dialog", cel.BoolType),
		cel.Variable("auth_user", cel.StringType),
		cel.Variable(contextVar, contextType),
	}
	opts = append(opts,
		cel.Macros(cel.GlobalMacro("flooding", 0, contextMacro("flooding"))),
		cel.Function("flooding", cel.MemberOverload(contextTypeName+"_flooding",
			[]*cel.Type{contextType}, cel.BoolType, cel.UnaryBinding(flooding)), noTypeGuards))
	for _, fn := range contextFunctions {
		result, impl := fn.binding()
		opts = append(opts,
			cel.Macros(cel.GlobalMacro(fn.name, 1, contextMacro(fn.name))),
			cel.Function(fn.name, cel.MemberOverload(contextTypeName+"_"+fn.name,
				[]*cel.Type{contextType, cel.StringType}, result,
				cel.BinaryBinding(impl)), noTypeGuards))
	}
	return base.Extend(opts...)
}

// noTypeGuards drops cel-go's check of the argument types on each call of
// the context functions: the checker already typed them (the hidden
// context, then a string), and the check was a tenth of a decision.
var noTypeGuards = decls.DisableTypeGuards(true)

// contextMacro rewrites name(x) into __ctx.name(x) so that the function can
// reach the request and runtime state through the activation: cel-go binds
// function implementations once per environment, not per evaluation.
func contextMacro(name string) cel.MacroFactory {
	return func(eh cel.MacroExprFactory, target ast.Expr, args []ast.Expr) (ast.Expr, *cel.Error) {
		return eh.NewMemberCall(name, eh.NewIdent(contextVar), args...), nil
	}
}

// contextFunction is a request-scoped function of one string argument. It
// is written once as Go (str or test, exactly one set) and used twice: bound
// into cel-go, and called directly by the compiled fast path (fastcond.go),
// so both evaluate the same code.
type contextFunction struct {
	name string
	str  func(c *evalContext, arg string) string
	test func(c *evalContext, arg string) bool
}

// binding returns the CEL result type and implementation of f.
func (f contextFunction) binding() (*cel.Type, func(lhs, rhs ref.Val) ref.Val) {
	if f.str != nil {
		return cel.StringType, func(l, r ref.Val) ref.Val {
			return types.String(f.str(l.(*evalContext), string(r.(types.String))))
		}
	}
	return cel.BoolType, func(l, r ref.Val) ref.Val {
		return types.Bool(f.test(l.(*evalContext), string(r.(types.String))))
	}
}

var contextFunctions = []contextFunction{
	{name: "header", str: func(c *evalContext, name string) string {
		v, _ := c.header(name)
		return v
	}},
	{name: "has_header", test: func(c *evalContext, name string) bool {
		_, ok := c.header(name)
		return ok
	}},
	{name: "is_local", test: func(c *evalContext, host string) bool { return c.graph.IsLocal(host) }},
	{name: "registered", test: func(c *evalContext, user string) bool {
		return c.state != nil && c.state.Registered(user)
	}},
	{name: "source_in", test: func(c *evalContext, group string) bool {
		t := c.graph.TrustedByName(group)
		return t != nil && t.Contains(c.req.Source.IP)
	}},
}

// flooding implements flooding(): whether the request's source is
// blocked by the flood block. A State without flood state (tests, plan)
// answers false.
func flooding(ctx ref.Val) ref.Val { return types.Bool(ctx.(*evalContext).flooding()) }

func (c *evalContext) flooding() bool {
	f := floodingOf(c.state)
	return f != nil && c.req.Source.IP.IsValid() && f.Flooding(c.req.Source.IP)
}

// ContextFunctionNames lists the functions rewritten onto the hidden context,
// so the compiler can check their literal arguments (source_in names).
func ContextFunctionNames() []string {
	names := make([]string, len(contextFunctions), len(contextFunctions)+1)
	for i, f := range contextFunctions {
		names[i] = f.name
	}
	return append(names, "flooding")
}

// IsLocal reports whether host is a local domain or the advertised host.
func (g *Graph) IsLocal(host string) bool {
	for _, d := range g.Proxy.Domains {
		if strings.EqualFold(d, host) {
			return true
		}
	}
	return g.advertisedHost != "" && strings.EqualFold(g.advertisedHost, host)
}

// hostOf strips an optional :port from host[:port] or [v6]:port.
func hostOf(hostport string) string {
	if i := strings.LastIndexByte(hostport, ':'); i > 0 && !strings.Contains(hostport[i:], "]") {
		hostport = hostport[:i]
	}
	return strings.Trim(hostport, "[]")
}

// evalContext is the per-evaluation activation: it resolves the variables
// straight from the Request, without building maps.
type evalContext struct {
	req   *Request
	graph *Graph
	state State
}

var _ interpreter.Activation = (*evalContext)(nil)

func (c *evalContext) ResolveName(name string) (any, bool) {
	r := c.req
	switch name {
	case "method":
		return methodVal(r.Method), true
	case "ruri":
		return &r.RURI, true
	case "from":
		return &r.From, true
	case "to":
		return &r.To, true
	case "source":
		return &r.Source, true
	case "user_agent":
		return borrowString(&r.UserAgent), true
	case "call_id":
		return borrowString(&r.CallID), true
	case "in_dialog":
		return types.Bool(r.InDialog), true
	case "auth_user":
		return borrowString(&r.AuthUser), true
	case contextVar:
		return c, true
	}
	return nil, false
}

func (c *evalContext) Parent() interpreter.Activation { return nil }

// knownMethods are boxed once so that reading `method` does not allocate
// for the methods an edge proxy sees all day.
var knownMethods = func() map[string]ref.Val {
	m := make(map[string]ref.Val)
	for _, name := range []string{"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "SUBSCRIBE",
		"NOTIFY", "REFER", "INFO", "MESSAGE", "PRACK", "UPDATE", "PUBLISH"} {
		m[name] = types.String(name)
	}
	return m
}()

func methodVal(m string) ref.Val {
	if v, ok := knownMethods[m]; ok {
		return v
	}
	return types.String(m)
}

func (c *evalContext) header(name string) (string, bool) {
	switch {
	case strings.EqualFold(name, "User-Agent"):
		return c.req.UserAgent, c.req.UserAgent != ""
	case strings.EqualFold(name, "Call-ID"):
		return c.req.CallID, c.req.CallID != ""
	}
	if c.req.Headers == nil {
		return "", false
	}
	return c.req.Headers.Header(name)
}

// evalContext is also the ref.Val of the hidden __ctx variable.
func (c *evalContext) ConvertToNative(reflectType reflect.Type) (any, error) {
	return nil, fmt.Errorf("sipfront context cannot be converted")
}
func (c *evalContext) ConvertToType(t ref.Type) ref.Val {
	return types.NewErr("sipfront context cannot be converted")
}
func (c *evalContext) Equal(other ref.Val) ref.Val { return types.Bool(other == ref.Val(c)) }
func (c *evalContext) Type() ref.Type              { return contextType }
func (c *evalContext) Value() any                  { return c }

// requestTypes extends the base type provider with the URI and Source object
// types. Field access goes through GetFrom closures on the Go structs, so no
// reflection or map is involved per request.
type requestTypes struct {
	types.Provider
}

var requestFields = map[string]map[string]*types.FieldType{
	uriTypeName: {
		"scheme": strField(func(u *URI) *string { return &u.Scheme }),
		"user":   strField(func(u *URI) *string { return &u.User }),
		"host":   strField(func(u *URI) *string { return &u.Host }),
		"port": {Type: types.IntType, IsSet: always,
			GetFrom: func(o any) (any, error) { return types.Int(o.(*URI).Port), nil }},
		"params": {Type: paramsType, IsSet: always,
			GetFrom: func(o any) (any, error) { return paramsVal{o.(*URI).Params}, nil }},
	},
	sourceTypeName: {
		"ip": {Type: types.StringType, IsSet: always,
			GetFrom: func(o any) (any, error) { return types.String(o.(*Source).IP.String()), nil }},
		"port": {Type: types.IntType, IsSet: always,
			GetFrom: func(o any) (any, error) { return types.Int(o.(*Source).Port), nil }},
		"transport": {Type: types.StringType, IsSet: always,
			GetFrom: func(o any) (any, error) { return borrowString(&o.(*Source).Transport), nil }},
	},
}

func strField(get func(*URI) *string) *types.FieldType {
	return &types.FieldType{Type: types.StringType, IsSet: always,
		GetFrom: func(o any) (any, error) { return borrowString(get(o.(*URI))), nil }}
}

func always(any) bool { return true }

func (p *requestTypes) FindStructType(name string) (*types.Type, bool) {
	switch name {
	case uriTypeName:
		return types.NewTypeTypeWithParam(uriType), true
	case sourceTypeName:
		return types.NewTypeTypeWithParam(sourceType), true
	}
	return p.Provider.FindStructType(name)
}

func (p *requestTypes) FindStructFieldNames(name string) ([]string, bool) {
	if fields, ok := requestFields[name]; ok {
		names := make([]string, 0, len(fields))
		for n := range fields {
			names = append(names, n)
		}
		return names, true
	}
	return p.Provider.FindStructFieldNames(name)
}

func (p *requestTypes) FindStructFieldType(name, field string) (*types.FieldType, bool) {
	if fields, ok := requestFields[name]; ok {
		ft, ok := fields[field]
		return ft, ok
	}
	return p.Provider.FindStructFieldType(name, field)
}

// paramsVal is a read-only CEL map<string,string> over URI parameters.
type paramsVal struct{ p Params }

var (
	_ traits.Mapper = paramsVal{}
)

func (v paramsVal) ConvertToNative(reflectType reflect.Type) (any, error) {
	return nil, fmt.Errorf("uri params cannot be converted")
}
func (v paramsVal) ConvertToType(t ref.Type) ref.Val {
	if t == types.MapType {
		return v
	}
	return types.NewErr("uri params cannot be converted to %v", t)
}
func (v paramsVal) Equal(other ref.Val) ref.Val { return types.False }
func (v paramsVal) Type() ref.Type              { return types.MapType }
func (v paramsVal) Value() any                  { return v.p }
func (v paramsVal) Contains(key ref.Val) ref.Val {
	_, ok := v.Find(key)
	return types.Bool(ok)
}
func (v paramsVal) Get(key ref.Val) ref.Val {
	if val, ok := v.Find(key); ok {
		return val
	}
	return types.NewErr("no such uri parameter: %v", key)
}
func (v paramsVal) Find(key ref.Val) (ref.Val, bool) {
	k, ok := key.(types.String)
	if !ok {
		return nil, false
	}
	s, found := v.p.Get(string(k))
	if !found {
		return nil, false
	}
	return types.String(s), true
}
func (v paramsVal) Size() ref.Val { return types.Int(len(v.p)) }
func (v paramsVal) Iterator() traits.Iterator {
	return &paramsIter{p: v.p}
}

type paramsIter struct {
	paramsVal
	p Params
	i int
}

func (it *paramsIter) HasNext() ref.Val { return types.Bool(it.i < len(it.p)) }
func (it *paramsIter) Next() ref.Val {
	if it.i >= len(it.p) {
		return nil
	}
	it.i++
	return types.String(it.p[it.i-1].Name)
}

// Condition is a compiled, type-checked CEL boolean expression.
type Condition struct {
	// Source is the expression text as written.
	Source  string
	program cel.Program
	// fast is the condition compiled to Go closures (fastcond.go), nil
	// when some part of it has a shape the fast path does not know; then
	// program evaluates it.
	fast boolFn
}

// NewCondition wraps a checked AST of type bool into a Condition. The
// compiler calls it once per expression; evaluation never compiles.
func NewCondition(src string, checked *cel.Ast) (*Condition, error) {
	env, err := Env()
	if err != nil {
		return nil, err
	}
	prg, err := env.Program(checked, cel.EvalOptions(cel.OptOptimize), cel.OptimizeRegex(matchesByOverload...))
	if err != nil {
		return nil, fmt.Errorf("condition %q: %w", src, err)
	}
	return &Condition{Source: src, program: prg, fast: fastCond(checked.NativeRep().Expr())}, nil
}

// eval evaluates the condition for one request. An evaluation error (such as
// a missing map key) counts as false and is returned for explain output.
// The fast path never fails: it only takes conditions none of whose parts
// can yield a CEL error, so (result, nil) is what cel-go would return.
func (c *Condition) eval(ctx *evalContext) (bool, error) {
	if c.fast != nil {
		return c.fast(ctx), nil
	}
	return c.evalCEL(ctx)
}

// evalCEL evaluates the condition with cel-go's program.
func (c *Condition) evalCEL(ctx *evalContext) (bool, error) {
	out, _, err := c.program.Eval(ctx)
	if err != nil {
		return false, err
	}
	b, ok := out.(types.Bool)
	if !ok {
		return false, fmt.Errorf("condition %q returned %s, not bool", c.Source, out.Type().TypeName())
	}
	return bool(b), nil
}

// ExprError is a CEL parse or type error inside a condition, located by
// byte offset within the expression text so that the compiler can map it to
// a file, line and column.
type ExprError struct {
	Offset  int
	Message string
}

// CompileCondition parses and type-checks src, which must be a bool
// expression. On failure it returns every error CEL found.
func CompileCondition(src string) (*Condition, []ExprError) {
	env, err := Env()
	if err != nil {
		return nil, []ExprError{{Message: err.Error()}}
	}
	checked, iss := env.Compile(src)
	if iss != nil && iss.Err() != nil {
		var out []ExprError
		for _, e := range iss.Errors() {
			out = append(out, ExprError{Offset: offsetOf(src, e.Location.Line(), e.Location.Column()), Message: e.Message})
		}
		return nil, out
	}
	if !checked.OutputType().IsExactType(types.BoolType) {
		return nil, []ExprError{{Message: fmt.Sprintf("condition must be bool, but it is %s", checked.OutputType())}}
	}
	c, err := NewCondition(src, checked)
	if err != nil {
		return nil, []ExprError{{Message: err.Error()}}
	}
	return c, nil
}

// offsetOf turns CEL's 1-based line and 0-based column (in code points) into
// a byte offset in src.
func offsetOf(src string, line, col int) int {
	off := 0
	for l := 1; l < line && off < len(src); off++ {
		if src[off] == '\n' {
			l++
		}
	}
	for i := range src[off:] {
		if col == 0 {
			return off + i
		}
		col--
	}
	return len(src)
}

// borrowString returns *p as a CEL string value without copying it to the
// heap. Converting a types.String to an interface allocates a copy of the
// string header (16 bytes) per variable read, which made up most of a
// decision's allocations. The value instead points at the Request field:
// it is valid while the Request is not modified, which holds for one
// condition's evaluation (Decide rewrites RURI.User only between
// conditions, and no CEL value outlives Program.Eval: results are bools and
// errors are formatted when created). The Request is always on the heap
// (Decide stores it in its own ctx, so escape analysis moves it there):
// the value never points into a stack.
func borrowString(p *string) any {
	v := stringBox // the type word of an `any` holding a types.String
	(*[2]unsafe.Pointer)(unsafe.Pointer(&v))[1] = unsafe.Pointer(p)
	return v
}

// stringBox is an `any` of dynamic type types.String; borrowString copies
// its type word.
var stringBox any = types.String("")

// matchesByOverload replaces cel-go's constant-regex optimisation of
// matches(), which allocates an argument slice and boxes the input string
// on each call, with matchCall. It is keyed by overload ID because cel-go
// applies those before its own, function-keyed, optimisation.
var matchesByOverload = []*interpreter.RegexOptimization{
	{Function: overloads.Matches, OverloadID: overloads.Matches, RegexIndex: 1, Factory: newMatchCall},
	{Function: overloads.Matches, OverloadID: overloads.MatchesString, RegexIndex: 1, Factory: newMatchCall},
}

func newMatchCall(call interpreter.InterpretableCall, pattern string) (interpreter.InterpretableCall, error) {
	re, err := compileMatcher(pattern)
	if err != nil {
		return nil, err
	}
	return &matchCall{InterpretableCall: call, in: call.Args()[0], re: re}, nil
}

// compileMatcher compiles a constant matches() pattern: a simpleMatcher
// when the pattern is simple enough, else a regexp. It is shared by
// matchCall and the fast path so that both match with the same code.
func compileMatcher(pattern string) (stringMatcher, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, err
	}
	if sm := newSimpleMatcher(pattern); sm != nil {
		return sm, nil
	}
	return re, nil
}

// stringMatcher is a compiled pattern: *regexp.Regexp or *simpleMatcher.
type stringMatcher interface{ MatchString(string) bool }

// matchCall is s.matches(constant pattern) with the pattern compiled once.
type matchCall struct {
	interpreter.InterpretableCall
	in interpreter.InterpretableV2
	re stringMatcher
}

// Exec evaluates the input and matches it, as cel-go's own optimisation
// does, minus the allocations.
func (m *matchCall) Exec(frame *interpreter.ExecutionFrame) ref.Val {
	v := m.in.Exec(frame)
	s, ok := v.(types.String)
	if !ok {
		if types.IsUnknownOrError(v) {
			return v
		}
		return types.NoSuchOverloadErr()
	}
	return types.Bool(m.re.MatchString(string(s)))
}

// Eval implements interpreter.Interpretable.
func (m *matchCall) Eval(act interpreter.Activation) ref.Val {
	return m.Exec(interpreter.AsFrame(act))
}

// simpleMatcher matches the patterns policies write for numbers and
// addresses ('^[+][0-9]+$', '^[0-9]{1,3}[.][0-9]{1,3}'): a sequence of
// single-character items (a literal, a class, a dot, each possibly
// repeated), optionally anchored at either end. It runs the pattern as a
// set of positions in a uint64, one step per input rune, without the
// regexp package's machine set-up, which dominated a decision's time.
// newSimpleMatcher returns nil for any other pattern; regexp handles those.
type simpleMatcher struct {
	items    []matchItem
	anchorLo bool // ^: the match starts at the beginning of the input
	anchorHi bool // $: the match ends at the end of the input
	// skip[i] is the set of positions reachable from position i by
	// skipping optional items (i included).
	skip []uint64
	// ascii[b] is the set of items that match the ASCII byte b; opt and
	// star are the sets of optional and repeating items. With them a step
	// over an ASCII byte is a few shifts and masks instead of a test of
	// each live item's ranges, which was most of a decision's matching.
	ascii     [utf8.RuneSelf]uint64
	opt, star uint64
	// optRun is the length of the longest run of optional items: how far
	// skipping can carry a position.
	optRun int
}

// matchItem is one character of the pattern: ranges are lo-hi pairs as in
// regexp/syntax; opt items may be skipped, star items repeat.
type matchItem struct {
	ranges    []rune
	opt, star bool
}

// maxMatchItems bounds the items so that positions fit in a uint64 (the
// last position, all items consumed, is bit len(items)).
const maxMatchItems = 63

func newSimpleMatcher(pattern string) *simpleMatcher {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	subs := []*syntax.Regexp{re}
	if re.Op == syntax.OpConcat {
		subs = re.Sub
	}
	m := &simpleMatcher{}
	if len(subs) > 0 && subs[0].Op == syntax.OpBeginText {
		m.anchorLo, subs = true, subs[1:]
	}
	if len(subs) > 0 && subs[len(subs)-1].Op == syntax.OpEndText {
		m.anchorHi, subs = true, subs[:len(subs)-1]
	}
	for _, s := range subs {
		if !m.add(s) || len(m.items) > maxMatchItems {
			return nil
		}
	}
	m.skip = make([]uint64, len(m.items)+1)
	for i := len(m.items); i >= 0; i-- {
		m.skip[i] = 1 << i
		if i < len(m.items) && (m.items[i].opt || m.items[i].star) {
			m.skip[i] |= m.skip[i+1]
			m.opt |= 1 << i
		}
	}
	for run := m.opt; run != 0; run &= run >> 1 {
		m.optRun++
	}
	for i := range m.items {
		if m.items[i].star {
			m.star |= 1 << i
		}
		for b := range rune(utf8.RuneSelf) {
			if m.items[i].matches(b) {
				m.ascii[b] |= 1 << i
			}
		}
	}
	return m
}

// add appends the items of one element of the pattern; false when it is
// not a single-character item.
func (m *simpleMatcher) add(s *syntax.Regexp) bool {
	switch s.Op {
	case syntax.OpLiteral:
		if s.Flags&syntax.FoldCase != 0 {
			return false
		}
		for _, r := range s.Rune {
			m.items = append(m.items, matchItem{ranges: []rune{r, r}})
		}
		return true
	case syntax.OpQuest, syntax.OpStar, syntax.OpPlus:
		r, ok := charRanges(s.Sub[0])
		if !ok {
			return false
		}
		if s.Op == syntax.OpPlus {
			m.items = append(m.items, matchItem{ranges: r})
		}
		m.items = append(m.items, matchItem{ranges: r, opt: true, star: s.Op != syntax.OpQuest})
		return true
	case syntax.OpRepeat: // x{min,max}: min items, then max-min optional ones (a star when max is -1)
		r, ok := charRanges(s.Sub[0])
		if !ok || s.Min > maxMatchItems || s.Max > maxMatchItems {
			return false
		}
		for range s.Min {
			m.items = append(m.items, matchItem{ranges: r})
		}
		if s.Max < 0 {
			m.items = append(m.items, matchItem{ranges: r, opt: true, star: true})
		}
		for range s.Max - s.Min {
			m.items = append(m.items, matchItem{ranges: r, opt: true})
		}
		return true
	case syntax.OpEmptyMatch:
		return true
	}
	r, ok := charRanges(s)
	if ok {
		m.items = append(m.items, matchItem{ranges: r})
	}
	return ok
}

// charRanges returns the ranges of a single-character element.
func charRanges(s *syntax.Regexp) ([]rune, bool) {
	switch s.Op {
	case syntax.OpCharClass:
		return s.Rune, true
	case syntax.OpLiteral:
		if len(s.Rune) == 1 && s.Flags&syntax.FoldCase == 0 {
			return []rune{s.Rune[0], s.Rune[0]}, true
		}
	case syntax.OpAnyCharNotNL:
		return []rune{0, '\n' - 1, '\n' + 1, utf8.MaxRune}, true
	case syntax.OpAnyChar:
		return []rune{0, utf8.MaxRune}, true
	}
	return nil, false
}

func (it *matchItem) matches(r rune) bool {
	for i := 0; i+1 < len(it.ranges); i += 2 {
		if it.ranges[i] <= r && r <= it.ranges[i+1] {
			return true
		}
	}
	return false
}

// MatchString reports whether s contains a match (anywhere, unless
// anchored), as regexp.MatchString does.
func (m *simpleMatcher) MatchString(s string) bool {
	final := uint64(1) << len(m.items)
	cur := m.skip[0]
	for i := 0; i < len(s); {
		if cur&final != 0 && !m.anchorHi {
			return true
		}
		var hit uint64 // the live items that match the next character
		if b := s[i]; b < utf8.RuneSelf {
			hit = cur & m.ascii[b]
			i++
		} else {
			r, n := utf8.DecodeRuneInString(s[i:]) // RuneError for a bad byte, as range does
			hit = m.hitRune(cur&^final, r)
			i += n
		}
		// A matched item moves on to the next position, a repeating one
		// also stays; then the optional items after it may be skipped.
		next := m.skipFrom(hit&^m.star<<1 | hit&m.star)
		if !m.anchorLo {
			next |= m.skip[0]
		}
		if next == 0 {
			return false
		}
		cur = next
	}
	return cur&final != 0
}

// hitRune returns the items among live that match r, testing their ranges:
// the general case, for input past ASCII.
func (m *simpleMatcher) hitRune(live uint64, r rune) uint64 {
	var hit uint64
	for set := live; set != 0; set &= set - 1 {
		if i := bits.TrailingZeros64(set); m.items[i].matches(r) {
			hit |= 1 << i
		}
	}
	return hit
}

// skipFrom adds to the positions in set those reached from them by
// skipping optional items: the union of skip[i] for i in set.
func (m *simpleMatcher) skipFrom(set uint64) uint64 {
	for range m.optRun {
		set |= (set & m.opt) << 1
	}
	return set
}
