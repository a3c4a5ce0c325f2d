package graph

import (
	"strings"

	"github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/operators"
	"github.com/google/cel-go/common/types"
)

// The fast path: at compile time, a condition whose checked AST is built
// only from the shapes below becomes a tree of Go closures that read the
// Request directly. A decision then skips cel-go's interpreter (an
// execution frame per Eval, attribute resolution through field getters,
// values boxed as ref.Val), which was most of its time once the
// allocations were gone.
//
// The shapes: the request's string, int and bool variables and fields
// (method, ruri.user, source.port, in_dialog, ...); string, int and bool
// literals; ==, != and the orderings between two operands of the same
// type; x in [literal list]; 'name' in ruri.params; contains, startsWith,
// endsWith; matches with a literal pattern (compiled once, as matchCall
// does); the context functions (header, has_header, is_local, registered,
// source_in, flooding); !, &&, || and ?: over those.
//
// Every one of these is total: none can produce a CEL error (all request
// fields are always set; no map key is read that may be absent; no
// arithmetic, no conversion). So CEL's commutative error rules for && and
// || never come into play, and Go's short-circuit evaluation gives the same
// value as cel-go's. Anything else — a parameter read (ruri.params.x fails
// when x is absent), has(), size(), conversions, macros over lists — keeps
// the whole condition on cel-go, so that no error message or error
// propagation has to be reproduced. TestFastPathAgreesWithCEL checks the
// two against each other.

type (
	// boolFn, strFn and intFn are compiled expressions of CEL type bool,
	// string and int.
	boolFn func(*evalContext) bool
	strFn  func(*evalContext) string
	intFn  func(*evalContext) int64
)

// fastCond compiles a checked condition to a boolFn, or returns nil when
// some node has a shape the fast path does not handle.
func fastCond(e ast.Expr) boolFn {
	f, _ := fastBool(e)
	return f
}

func fastBool(e ast.Expr) (boolFn, bool) {
	switch e.Kind() {
	case ast.LiteralKind:
		if b, ok := e.AsLiteral().(types.Bool); ok {
			v := bool(b)
			return func(*evalContext) bool { return v }, true
		}
	case ast.IdentKind:
		if e.AsIdent() == "in_dialog" {
			return func(c *evalContext) bool { return c.req.InDialog }, true
		}
	case ast.CallKind:
		return fastCall(e.AsCall())
	}
	return nil, false
}

// fastCall compiles a call of bool type.
func fastCall(call ast.CallExpr) (boolFn, bool) {
	args := call.Args()
	fn := call.FunctionName()
	if call.IsMemberFunction() {
		return fastMember(fn, call.Target(), args)
	}
	switch {
	case fn == operators.LogicalNot && len(args) == 1:
		return fastBools(args, func(x []boolFn) boolFn {
			x0 := x[0]
			return func(c *evalContext) bool { return !x0(c) }
		})
	case fn == operators.LogicalAnd && len(args) == 2:
		return fastBools(args, func(x []boolFn) boolFn {
			l, r := x[0], x[1]
			return func(c *evalContext) bool { return l(c) && r(c) }
		})
	case fn == operators.LogicalOr && len(args) == 2:
		return fastBools(args, func(x []boolFn) boolFn {
			l, r := x[0], x[1]
			return func(c *evalContext) bool { return l(c) || r(c) }
		})
	case fn == operators.Conditional && len(args) == 3:
		return fastBools(args, func(x []boolFn) boolFn {
			p, t, f := x[0], x[1], x[2]
			return func(c *evalContext) bool {
				if p(c) {
					return t(c)
				}
				return f(c)
			}
		})
	case fn == operators.In && len(args) == 2:
		return fastIn(args[0], args[1])
	case fn == "matches" && len(args) == 2: // the global form, matches(s, re)
		return fastMatches(args[0], args[1])
	case len(args) == 2:
		return fastCompare(fn, args[0], args[1])
	}
	return nil, false
}

// fastBools compiles every one of args as a bool and combines them with
// build; it fails when any of them is not on the fast path.
func fastBools(args []ast.Expr, build func([]boolFn) boolFn) (boolFn, bool) {
	fs := make([]boolFn, len(args))
	for i, a := range args {
		f, ok := fastBool(a)
		if !ok {
			return nil, false
		}
		fs[i] = f
	}
	return build(fs), true
}

// fastMember compiles target.fn(args): the string methods and the context
// functions (which the contextMacro rewrote onto the hidden __ctx).
func fastMember(fn string, target ast.Expr, args []ast.Expr) (boolFn, bool) {
	if isContext(target) {
		if fn == "flooding" && len(args) == 0 {
			return (*evalContext).flooding, true
		}
		f := contextFunctionNamed(fn)
		if f == nil || f.test == nil || len(args) != 1 {
			return nil, false
		}
		arg, ok := fastStr(args[0])
		if !ok {
			return nil, false
		}
		test := f.test
		if k, ok := strLiteral(args[0]); ok {
			return func(c *evalContext) bool { return test(c, k) }, true
		}
		return func(c *evalContext) bool { return test(c, arg(c)) }, true
	}
	if len(args) != 1 {
		return nil, false
	}
	if fn == "matches" {
		return fastMatches(target, args[0])
	}
	var op func(s, x string) bool
	switch fn {
	case "contains":
		op = strings.Contains
	case "startsWith":
		op = strings.HasPrefix
	case "endsWith":
		op = strings.HasSuffix
	default:
		return nil, false
	}
	s, ok := fastStr(target)
	if !ok {
		return nil, false
	}
	if k, ok := strLiteral(args[0]); ok {
		return func(c *evalContext) bool { return op(s(c), k) }, true
	}
	x, ok := fastStr(args[0])
	if !ok {
		return nil, false
	}
	return func(c *evalContext) bool { return op(s(c), x(c)) }, true
}

// fastMatches compiles s.matches(pattern) for a literal pattern; a
// computed pattern stays on cel-go, which compiles it per call.
func fastMatches(target, pattern ast.Expr) (boolFn, bool) {
	s, ok := fastStr(target)
	if !ok {
		return nil, false
	}
	p, ok := strLiteral(pattern)
	if !ok {
		return nil, false
	}
	re, err := compileMatcher(p)
	if err != nil { // cel-go reports it when it builds the program
		return nil, false
	}
	return func(c *evalContext) bool { return re.MatchString(s(c)) }, true
}

// fastIn compiles x in [literals] and name in X.params.
func fastIn(x, in ast.Expr) (boolFn, bool) {
	if in.Kind() == ast.SelectKind {
		sel := in.AsSelect()
		uri, ok := uriVars[identName(sel.Operand())]
		if !ok || sel.IsTestOnly() || sel.FieldName() != "params" {
			return nil, false
		}
		name, ok := fastStr(x)
		if !ok {
			return nil, false
		}
		return func(c *evalContext) bool {
			_, found := uri(c.req).Params.Get(name(c))
			return found
		}, true
	}
	if in.Kind() != ast.ListKind || len(in.AsList().OptionalIndices()) > 0 {
		return nil, false
	}
	elems := in.AsList().Elements()
	if s, ok := fastStr(x); ok {
		list := make([]string, len(elems))
		for i, e := range elems {
			if list[i], ok = strLiteral(e); !ok {
				return nil, false
			}
		}
		return func(c *evalContext) bool { return containsValue(list, s(c)) }, true
	}
	if n, ok := fastInt(x); ok {
		list := make([]int64, len(elems))
		for i, e := range elems {
			if list[i], ok = intLiteral(e); !ok {
				return nil, false
			}
		}
		return func(c *evalContext) bool { return containsValue(list, n(c)) }, true
	}
	return nil, false
}

func containsValue[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// fastCompare compiles a comparison between two operands of one type
// (string, int or bool); CEL's heterogeneous comparisons (int with double,
// ...) stay on cel-go.
func fastCompare(op string, a, b ast.Expr) (boolFn, bool) {
	want, known := comparisons[op]
	if !known {
		return nil, false
	}
	if l, ok := fastStr(a); ok {
		if k, ok := strLiteral(b); ok && (op == operators.Equals || op == operators.NotEquals) {
			eq := op == operators.Equals
			return func(c *evalContext) bool { return (l(c) == k) == eq }, true
		}
		if r, ok := fastStr(b); ok {
			return func(c *evalContext) bool { return want[strings.Compare(l(c), r(c))+1] }, true
		}
		return nil, false
	}
	if l, ok := fastInt(a); ok {
		if r, ok := fastInt(b); ok {
			return func(c *evalContext) bool { return want[compareInt(l(c), r(c))+1] }, true
		}
		return nil, false
	}
	if op != operators.Equals && op != operators.NotEquals { // bools are not ordered in our subset
		return nil, false
	}
	eq := op == operators.Equals
	return fastBools([]ast.Expr{a, b}, func(x []boolFn) boolFn {
		l, r := x[0], x[1]
		return func(c *evalContext) bool { return (l(c) == r(c)) == eq }
	})
}

// comparisons gives, per operator, its result for a comparison of -1, 0
// and +1 (indexed by the comparison plus one).
var comparisons = map[string][3]bool{
	operators.Equals:        {false, true, false},
	operators.NotEquals:     {true, false, true},
	operators.Less:          {true, false, false},
	operators.LessEquals:    {true, true, false},
	operators.Greater:       {false, false, true},
	operators.GreaterEquals: {false, true, true},
}

func compareInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// fastStr compiles an expression of type string.
func fastStr(e ast.Expr) (strFn, bool) {
	switch e.Kind() {
	case ast.LiteralKind:
		if k, ok := strLiteral(e); ok {
			return func(*evalContext) string { return k }, true
		}
	case ast.IdentKind:
		if get, ok := stringVars[e.AsIdent()]; ok {
			return stringOf(get), true
		}
	case ast.SelectKind:
		sel := e.AsSelect()
		if sel.IsTestOnly() {
			return nil, false
		}
		path := identName(sel.Operand()) + "." + sel.FieldName()
		if path == "source.ip" {
			return func(c *evalContext) string { return c.req.Source.IP.String() }, true
		}
		if get, ok := stringFields[path]; ok {
			return stringOf(get), true
		}
	case ast.CallKind:
		call := e.AsCall()
		if !call.IsMemberFunction() || !isContext(call.Target()) || len(call.Args()) != 1 {
			return nil, false
		}
		f := contextFunctionNamed(call.FunctionName())
		if f == nil || f.str == nil {
			return nil, false
		}
		arg, ok := fastStr(call.Args()[0])
		if !ok {
			return nil, false
		}
		str := f.str
		return func(c *evalContext) string { return str(c, arg(c)) }, true
	}
	return nil, false
}

// fastInt compiles an expression of type int: a literal or a port.
func fastInt(e ast.Expr) (intFn, bool) {
	if k, ok := intLiteral(e); ok {
		return func(*evalContext) int64 { return k }, true
	}
	if e.Kind() != ast.SelectKind || e.AsSelect().IsTestOnly() {
		return nil, false
	}
	sel := e.AsSelect()
	get, ok := portFields[identName(sel.Operand())+"."+sel.FieldName()]
	if !ok {
		return nil, false
	}
	return func(c *evalContext) int64 { return int64(get(c.req)) }, true
}

// stringOf adapts a Request getter to the fast path's signature.
func stringOf(get func(*Request) string) strFn {
	return func(c *evalContext) string { return get(c.req) }
}

// The variables and fields the fast path reads, as plain getters of the
// Request: typed code the compiler checks, so a field renamed or retyped
// in Request breaks the build here rather than reading the wrong bytes.
var (
	stringVars = map[string]func(*Request) string{
		"method":     func(r *Request) string { return r.Method },
		"user_agent": func(r *Request) string { return r.UserAgent },
		"call_id":    func(r *Request) string { return r.CallID },
		"auth_user":  func(r *Request) string { return r.AuthUser },
	}
	uriVars = map[string]func(*Request) *URI{
		"ruri": func(r *Request) *URI { return &r.RURI },
		"from": func(r *Request) *URI { return &r.From },
		"to":   func(r *Request) *URI { return &r.To },
	}
	stringFields, portFields = fieldGetters()
)

func fieldGetters() (strs map[string]func(*Request) string, ports map[string]func(*Request) int) {
	strs = map[string]func(*Request) string{
		"source.transport": func(r *Request) string { return r.Source.Transport },
	}
	ports = map[string]func(*Request) int{
		"source.port": func(r *Request) int { return r.Source.Port },
	}
	for name, uri := range uriVars {
		strs[name+".scheme"] = func(r *Request) string { return uri(r).Scheme }
		strs[name+".user"] = func(r *Request) string { return uri(r).User }
		strs[name+".host"] = func(r *Request) string { return uri(r).Host }
		ports[name+".port"] = func(r *Request) int { return uri(r).Port }
	}
	return strs, ports
}

func strLiteral(e ast.Expr) (string, bool) {
	if e.Kind() != ast.LiteralKind {
		return "", false
	}
	s, ok := e.AsLiteral().(types.String)
	return string(s), ok
}

func intLiteral(e ast.Expr) (int64, bool) {
	if e.Kind() != ast.LiteralKind {
		return 0, false
	}
	n, ok := e.AsLiteral().(types.Int)
	return int64(n), ok
}

func identName(e ast.Expr) string {
	if e.Kind() != ast.IdentKind {
		return ""
	}
	return e.AsIdent()
}

func isContext(e ast.Expr) bool { return identName(e) == contextVar }

func contextFunctionNamed(name string) *contextFunction {
	for i := range contextFunctions {
		if contextFunctions[i].name == name {
			return &contextFunctions[i]
		}
	}
	return nil
}
