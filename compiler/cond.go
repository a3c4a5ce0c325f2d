package compiler

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"
	"github.com/hashicorp/hcl/v2"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/lang"
)

// cond compiles a condition, reporting CEL errors at their position inside
// the quoted string. It returns nil for an absent condition or on error.
func (c *compiler) cond(lc lang.Cond) *graph.Condition {
	if !lc.Set {
		return nil
	}
	cond, errs := graph.CompileCondition(lc.Source)
	for _, e := range errs {
		if strings.HasPrefix(e.Message, "condition must be bool") {
			c.errorf(lc.Range, "Condition Is Not Bool",
				"A condition must be true or false, %s. Compare the value, for example method == 'INVITE'.", strings.TrimPrefix(e.Message, "condition must be bool, "))
			continue
		}
		c.errorf(condRange(lc, e.Offset, 1), "Invalid Condition",
			"%s.%s Conditions are CEL expressions; docs/language.md lists the variables and functions.", lang.UpperFirst(e.Message), celSuggestion(e.Message))
	}
	if cond == nil {
		return nil
	}
	c.checkSourceIn(lc)
	return cond
}

// condRange is the range of n bytes at offset off inside the condition,
// exact for a plain one-line quoted string, else the whole attribute.
func condRange(lc lang.Cond, off, n int) hcl.Range {
	if !lc.Exact || off < 0 || off > len(lc.Source) {
		return lc.Range
	}
	n = min(max(n, 1), max(len(lc.Source)-off, 1))
	start := advance(lc.Start, lc.Source[:off])
	end := advance(start, lc.Source[off:min(off+n, len(lc.Source))])
	if end.Byte == start.Byte { // an error at the very end: point at the quote
		end.Byte++
		end.Column++
	}
	return hcl.Range{Filename: lc.Range.Filename, Start: start, End: end}
}

// advance moves p over s, which holds no newline (Exact strings are one
// line). Columns count characters, as HCL's do.
func advance(p hcl.Pos, s string) hcl.Pos {
	return hcl.Pos{Line: p.Line, Column: p.Column + utf8.RuneCountInString(s), Byte: p.Byte + len(s)}
}

// checkSourceIn reports source_in('x') calls whose literal argument names
// no trusted block.
func (c *compiler) checkSourceIn(lc lang.Cond) {
	env, err := graph.Env()
	if err != nil {
		return
	}
	parsed, iss := env.Parse(lc.Source)
	if iss != nil && iss.Err() != nil {
		return
	}
	a := parsed.NativeRep()
	ast.PreOrderVisit(a.Expr(), ast.NewExprVisitor(func(e ast.Expr) {
		if e.Kind() != ast.CallKind || e.AsCall().FunctionName() != "source_in" {
			return
		}
		args := e.AsCall().Args()
		if len(args) != 1 || args[0].Kind() != ast.LiteralKind {
			return
		}
		name, ok := args[0].AsLiteral().(types.String)
		if !ok || c.trust[string(name)] != nil {
			return
		}
		rng := lc.Range
		if or, found := a.SourceInfo().GetOffsetRange(args[0].ID()); found {
			start := byteOffset(lc.Source, int(or.Start))
			rng = condRange(lc, start, byteOffset(lc.Source, int(or.Stop))-start)
		}
		c.errorf(rng, "Unknown Trusted Group",
			"source_in(%q) names no trusted block; declared are %s.%s Declare trusted %q { sources = [...] } or fix the name.",
			string(name), oneOf(names(c.trust)), suggest(string(name), names(c.trust)), string(name))
	}))
}

// byteOffset turns a code point offset (as CEL counts) into a byte offset.
func byteOffset(s string, runes int) int {
	for i := range s {
		if runes == 0 {
			return i
		}
		runes--
	}
	return len(s)
}

var (
	undeclaredRE = regexp.MustCompile(`undeclared reference to '([^']+)'`)
	fieldRE      = regexp.MustCompile(`undefined field '([^']+)'`)
	// uriFields and sourceFields are the fields of the URI and Source
	// types (graph.Variables documents them).
	uriFields    = []string{"scheme", "user", "host", "port", "params"}
	sourceFields = []string{"ip", "port", "transport"}
)

// celSuggestion adds a "did you mean" to CEL's unknown-name errors.
func celSuggestion(msg string) string {
	if m := undeclaredRE.FindStringSubmatch(msg); m != nil {
		var known []string
		for _, v := range graph.Variables {
			known = append(known, v.Name)
		}
		known = append(known, graph.ContextFunctionNames()...)
		return suggest(m[1], known)
	}
	if m := fieldRE.FindStringSubmatch(msg); m != nil {
		return suggest(m[1], append(uriFields, sourceFields...))
	}
	return ""
}
