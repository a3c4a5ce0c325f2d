package lang

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"math/big"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
)

// Value is a decoded attribute: its value, where it was written and whether
// it was written at all (Set is false for an absent attribute, whose Value
// is the zero value and whose Range is the enclosing block's).
type Value[T any] struct {
	Value T
	Range hcl.Range
	Set   bool
}

// List is a decoded list attribute whose items keep their own ranges when
// the list was written as a literal, so that a bad item is pointed at.
type List[T any] struct {
	Items []Value[T]
	Range hcl.Range
	Set   bool
}

// Values returns the plain item values.
func (l List[T]) Values() []T {
	out := make([]T, len(l.Items))
	for i, it := range l.Items {
		out[i] = it.Value
	}
	return out
}

// Ref is a reference to another block written as a static traversal, such as
// pool.asterisk or registrar. Path is the dotted traversal ("pool.asterisk").
type Ref struct {
	Path  string
	Range hcl.Range
	Set   bool
}

// Cond is a CEL condition written as a string.
type Cond struct {
	Source string
	Range  hcl.Range
	Set    bool
	// Exact is true when the source bytes between the quotes are exactly
	// Source (a one-line quoted string without escapes), so that an offset
	// in Source maps to Start plus that offset. Otherwise (heredocs,
	// escapes) diagnostics fall back to Range.
	Exact bool
	// Start is the position of Source's first byte when Exact.
	Start hcl.Pos
}

// evalCtx is the only evaluation context of literal attributes: no
// variables, and env() to read the environment at compile time.
var evalCtx = &hcl.EvalContext{Functions: map[string]function.Function{"env": envFunc}}

// envFunc implements env("NAME") and env("NAME", "default").
var envFunc = function.New(&function.Spec{
	Description: "Reads an environment variable at compile time.",
	Params:      []function.Parameter{{Name: "name", Type: cty.String}},
	VarParam:    &function.Parameter{Name: "default", Type: cty.String},
	Type:        function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		name := args[0].AsString()
		if len(args) > 2 {
			return cty.NilVal, fmt.Errorf("env takes a name and at most one default value")
		}
		if v, ok := os.LookupEnv(name); ok {
			return cty.StringVal(v), nil
		}
		if len(args) == 2 {
			return args[1], nil
		}
		return cty.NilVal, &EnvUnsetError{Name: name}
	},
})

// EnvUnsetError is the error of env("NAME") without a default when NAME is
// not set in the environment of the compiling process.
type EnvUnsetError struct {
	Name string
}

func (e *EnvUnsetError) Error() string {
	return fmt.Sprintf("the environment variable %s is not set; export it before compiling, or give a default as env(%q, \"value\")", e.Name, e.Name)
}

// UnsetEnv returns the names of the environment variables that diags report
// as read by env() without a default and not set, sorted and without
// duplicates.
func UnsetEnv(diags hcl.Diagnostics) []string {
	var names []string
	for _, d := range diags {
		extra, ok := d.Extra.(hclsyntax.FunctionCallDiagExtra)
		if !ok {
			continue
		}
		var unset *EnvUnsetError
		if errors.As(extra.FunctionCallError(), &unset) && !slices.Contains(names, unset.Name) {
			names = append(names, unset.Name)
		}
	}
	slices.Sort(names)
	return names
}

// evalAs evaluates a literal expression and converts it to want.
func evalAs(expr hcl.Expression, want cty.Type, what string) (cty.Value, hcl.Diagnostics) {
	v, diags := expr.Value(evalCtx)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	cv, err := convert.Convert(v, want)
	if err != nil || cv.IsNull() {
		msg := "null is not allowed"
		if err != nil {
			msg = err.Error()
		}
		return cty.NilVal, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Incorrect Value Type",
			Detail:   fmt.Sprintf("This value must be %s: %s.", what, msg),
			Subject:  expr.Range().Ptr(),
		})
	}
	return cv, diags
}

func decodeString(attr *hcl.Attribute) (Value[string], hcl.Diagnostics) {
	return decodeStringExpr(attr.Expr)
}

func decodeStringExpr(expr hcl.Expression) (Value[string], hcl.Diagnostics) {
	v, diags := evalAs(expr, cty.String, "a string")
	if diags.HasErrors() {
		return Value[string]{Range: expr.Range()}, diags
	}
	return Value[string]{Value: v.AsString(), Range: expr.Range(), Set: true}, diags
}

func decodeBool(attr *hcl.Attribute) (Value[bool], hcl.Diagnostics) {
	v, diags := evalAs(attr.Expr, cty.Bool, "true or false")
	if diags.HasErrors() {
		return Value[bool]{Range: attr.Expr.Range()}, diags
	}
	return Value[bool]{Value: v.True(), Range: attr.Expr.Range(), Set: true}, diags
}

func decodeInt(attr *hcl.Attribute) (Value[int], hcl.Diagnostics) {
	return decodeIntExpr(attr.Expr)
}

func decodeIntExpr(expr hcl.Expression) (Value[int], hcl.Diagnostics) {
	v, diags := evalAs(expr, cty.Number, "a whole number")
	if diags.HasErrors() {
		return Value[int]{Range: expr.Range()}, diags
	}
	i, problem := wholeNumber(v)
	if problem != "" {
		return Value[int]{Range: expr.Range()}, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Incorrect Value Type",
			Detail:   "This value " + problem + ".",
			Subject:  expr.Range().Ptr(),
		})
	}
	return Value[int]{Value: i, Range: expr.Range(), Set: true}, diags
}

// wholeNumber converts a number to an int32-range int. problem, when not
// empty, ends "This value ..." or "The value of X ...": the number is not
// whole, or it does not fit.
func wholeNumber(v cty.Value) (i int, problem string) {
	bf := v.AsBigFloat()
	n, acc := bf.Int64()
	if acc != big.Exact {
		return 0, fmt.Sprintf("must be a whole number, but it is %s", bf.Text('g', 10))
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		return 0, fmt.Sprintf("must be a whole number from %d to %d, but it is %s", math.MinInt32, math.MaxInt32, bf.Text('f', 0))
	}
	return int(n), ""
}

func decodeFloat(attr *hcl.Attribute) (Value[float64], hcl.Diagnostics) {
	v, diags := evalAs(attr.Expr, cty.Number, "a number")
	if diags.HasErrors() {
		return Value[float64]{Range: attr.Expr.Range()}, diags
	}
	f, _ := v.AsBigFloat().Float64()
	return Value[float64]{Value: f, Range: attr.Expr.Range(), Set: true}, diags
}

// decodeDuration reads a Go duration string ("5s", "1h30m"); "0" is zero.
func decodeDuration(attr *hcl.Attribute) (Value[time.Duration], hcl.Diagnostics) {
	s, diags := decodeString(attr)
	if diags.HasErrors() {
		return Value[time.Duration]{Range: s.Range}, diags
	}
	d, err := time.ParseDuration(strings.TrimSpace(s.Value))
	if err != nil || d < 0 {
		return Value[time.Duration]{Range: s.Range}, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid Duration",
			Detail:   fmt.Sprintf("%q is not a duration. Write a number with a unit, such as \"500ms\", \"5s\", \"10m\" or \"1h\".", s.Value),
			Subject:  s.Range.Ptr(),
		})
	}
	return Value[time.Duration]{Value: d, Range: s.Range, Set: true}, diags
}

// listItems returns the item expressions of a literal list, or nil when the
// expression is not a literal list (then the whole value is evaluated).
func listItems(expr hcl.Expression) []hcl.Expression {
	if _, ok := expr.(*hclsyntax.TupleConsExpr); !ok {
		return nil
	}
	items, diags := hcl.ExprList(expr)
	if diags.HasErrors() {
		return nil
	}
	return items
}

// decodeList decodes a list attribute item by item with one, keeping item
// ranges for literal lists.
func decodeList[T any](attr *hcl.Attribute, want cty.Type, what string, one func(hcl.Expression) (Value[T], hcl.Diagnostics)) (List[T], hcl.Diagnostics) {
	out := List[T]{Range: attr.Expr.Range()}
	var diags hcl.Diagnostics
	if items := listItems(attr.Expr); items != nil {
		for _, it := range items {
			v, d := one(it)
			diags = append(diags, d...)
			if v.Set {
				out.Items = append(out.Items, v)
			}
		}
		out.Set = !diags.HasErrors()
		return out, diags
	}
	v, d := evalAs(attr.Expr, cty.List(want), what)
	diags = append(diags, d...)
	if d.HasErrors() {
		return out, diags
	}
	for it := v.ElementIterator(); it.Next(); {
		_, ev := it.Element()
		lit := &hclsyntax.LiteralValueExpr{Val: ev, SrcRange: attr.Expr.Range()}
		iv, d := one(lit)
		diags = append(diags, d...)
		out.Items = append(out.Items, iv)
	}
	out.Set = !diags.HasErrors()
	return out, diags
}

func decodeStringList(attr *hcl.Attribute) (List[string], hcl.Diagnostics) {
	return decodeList(attr, cty.String, "a list of strings", decodeStringExpr)
}

func decodeIntList(attr *hcl.Attribute) (List[int], hcl.Diagnostics) {
	return decodeList(attr, cty.Number, "a list of whole numbers", decodeIntExpr)
}

// decodeIntMap reads an object of whole numbers, such as capacity = { pstn = 100 }.
func decodeIntMap(attr *hcl.Attribute) (Value[map[string]int], hcl.Diagnostics) {
	v, diags := evalAs(attr.Expr, cty.Map(cty.Number), "a map of whole numbers, such as { pstn = 100 }")
	out := Value[map[string]int]{Range: attr.Expr.Range()}
	if diags.HasErrors() {
		return out, diags
	}
	values := v.AsValueMap()
	// Keys in sorted order, so that the first bad value reported is the
	// same on every run.
	out.Value = make(map[string]int, len(values))
	for _, k := range slices.Sorted(maps.Keys(values)) {
		i, problem := wholeNumber(values[k])
		if problem != "" {
			return Value[map[string]int]{Range: attr.Expr.Range()}, append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Incorrect Value Type",
				Detail:   fmt.Sprintf("The value of %q %s.", k, problem),
				Subject:  mapValueRange(attr.Expr, k).Ptr(),
			})
		}
		out.Value[k] = i
	}
	out.Set = true
	return out, diags
}

// mapValueRange returns the range of the value written for key in a map
// literal, or the whole expression's when it is not a literal.
func mapValueRange(expr hcl.Expression, key string) hcl.Range {
	pairs, diags := hcl.ExprMap(expr)
	if diags.HasErrors() {
		return expr.Range()
	}
	for _, p := range pairs {
		if k, d := p.Key.Value(evalCtx); !d.HasErrors() && k.Type() == cty.String && k.IsKnown() && !k.IsNull() && k.AsString() == key {
			return p.Value.Range()
		}
	}
	return expr.Range()
}

// decodeRef reads a reference such as pool.asterisk without evaluating it.
func decodeRef(expr hcl.Expression) (Ref, hcl.Diagnostics) {
	tr, diags := hcl.AbsTraversalForExpr(expr)
	if diags.HasErrors() {
		return Ref{Range: expr.Range()}, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid Reference",
			Detail:   "This value must be a reference to another block, written without quotes, such as pool.asterisk, carrier.acme, carriers or registrar.",
			Subject:  expr.Range().Ptr(),
		}}
	}
	return Ref{Path: traversalPath(tr), Range: expr.Range(), Set: true}, nil
}

// decodeRefList reads a list of references, such as [trusted.carriers, trusted.asterisk].
func decodeRefList(attr *hcl.Attribute) ([]Ref, hcl.Diagnostics) {
	items, diags := hcl.ExprList(attr.Expr)
	if diags.HasErrors() {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid Reference List",
			Detail:   "This value must be a list of references written without quotes, such as [trusted.carriers, trusted.asterisk].",
			Subject:  attr.Expr.Range().Ptr(),
		}}
	}
	var refs []Ref
	for _, it := range items {
		r, d := decodeRef(it)
		diags = append(diags, d...)
		if r.Set {
			refs = append(refs, r)
		}
	}
	return refs, diags
}

func traversalPath(tr hcl.Traversal) string {
	var b strings.Builder
	for _, step := range tr {
		switch s := step.(type) {
		case hcl.TraverseRoot:
			b.WriteString(s.Name)
		case hcl.TraverseAttr:
			b.WriteByte('.')
			b.WriteString(s.Name)
		case hcl.TraverseIndex:
			if s.Key.Type() == cty.String {
				b.WriteByte('.')
				b.WriteString(s.Key.AsString())
			} else {
				b.WriteString(fmt.Sprintf("[%s]", s.Key.GoString()))
			}
		}
	}
	return b.String()
}

// decodeCond reads a CEL condition string and works out whether offsets in
// it map one to one onto the file (src is the file's bytes).
func decodeCond(attr *hcl.Attribute, src []byte) (Cond, hcl.Diagnostics) {
	s, diags := decodeString(attr)
	if diags.HasErrors() {
		return Cond{Range: s.Range}, diags
	}
	c := Cond{Source: s.Value, Range: s.Range, Set: true}
	rng := attr.Expr.Range()
	if _, ok := attr.Expr.(*hclsyntax.TemplateExpr); ok && rng.Start.Line == rng.End.Line &&
		rng.End.Byte-1 <= len(src) && rng.Start.Byte+1 <= rng.End.Byte-1 &&
		src[rng.Start.Byte] == '"' && string(src[rng.Start.Byte+1:rng.End.Byte-1]) == s.Value {
		c.Exact = true
		c.Start = hcl.Pos{Line: rng.Start.Line, Column: rng.Start.Column + 1, Byte: rng.Start.Byte + 1}
	}
	if rng.Start.Byte < len(src) && src[rng.Start.Byte] != '"' {
		// A heredoc's expression range starts inside its body; the whole
		// attribute, from its name, is the clearer place to point at.
		c.Range = attr.Range
	}
	return c, diags
}

// decodeStringMap reads an object of strings, such as headers = { Route = "<sip:x>" }.
func decodeStringMap(attr *hcl.Attribute) (Value[map[string]string], hcl.Diagnostics) {
	v, diags := evalAs(attr.Expr, cty.Map(cty.String), "a map of strings, such as { \"Route\" = \"<sip:x>\" }")
	out := Value[map[string]string]{Range: attr.Expr.Range()}
	if diags.HasErrors() {
		return out, diags
	}
	out.Value = make(map[string]string)
	for k, s := range v.AsValueMap() {
		out.Value[k] = s.AsString()
	}
	out.Set = true
	return out, diags
}

// decodeRefOrString reads a reference (pool.asterisk.member.ast2) or the
// same path written as a string, as test blocks allow both.
func decodeRefOrString(attr *hcl.Attribute) (Ref, hcl.Diagnostics) {
	return refOrString(attr.Expr)
}

func refOrString(expr hcl.Expression) (Ref, hcl.Diagnostics) {
	if tr, d := hcl.AbsTraversalForExpr(expr); !d.HasErrors() {
		return Ref{Path: traversalPath(tr), Range: expr.Range(), Set: true}, nil
	}
	s, diags := decodeStringExpr(expr)
	if diags.HasErrors() {
		return Ref{Range: expr.Range()}, diags
	}
	return Ref{Path: s.Value, Range: s.Range, Set: true}, nil
}

func decodeRefOrStringList(attr *hcl.Attribute) ([]Ref, hcl.Diagnostics) {
	items, diags := hcl.ExprList(attr.Expr)
	if diags.HasErrors() {
		return nil, diags
	}
	var refs []Ref
	for _, it := range items {
		r, d := refOrString(it)
		diags = append(diags, d...)
		if r.Set {
			refs = append(refs, r)
		}
	}
	return refs, diags
}
