package main

import (
	"fmt"
	"strings"
)

// unifiedDiff returns a unified diff (three lines of context) from a to b,
// labelled with aName and bName, or "" when they are equal. Policy files are small, so
// a quadratic LCS is fast enough and keeps the code obvious.
func unifiedDiff(aName, bName, a, b string) string {
	if a == b {
		return ""
	}
	ops := diffLines(splitLines(a), splitLines(b))
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", aName, bName)
	for _, h := range hunks(ops, 3) {
		out.WriteString(h)
	}
	return out.String()
}

func splitLines(s string) []string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// lineOp is one line of an edit script: ' ' keep, '-' delete, '+' insert,
// with the 1-based line numbers in a and b it stands at.
type lineOp struct {
	kind   byte
	text   string
	ai, bi int
}

func diffLines(a, b []string) []lineOp {
	// lcs[i][j] is the LCS length of a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var ops []lineOp
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			ops = append(ops, lineOp{' ', a[i], i + 1, j + 1})
			i, j = i+1, j+1
		case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
			ops = append(ops, lineOp{'-', a[i], i + 1, j + 1})
			i++
		default:
			ops = append(ops, lineOp{'+', b[j], i + 1, j + 1})
			j++
		}
	}
	return ops
}

// hunks groups the edit script into @@ hunks with ctx lines of context.
func hunks(ops []lineOp, ctx int) []string {
	var out []string
	for start := 0; start < len(ops); {
		first := nextChange(ops, start)
		if first < 0 {
			break
		}
		lo, hi := max(first-ctx, 0), first
		// Extend while the next change is within 2*ctx unchanged lines.
		for {
			hi = lastOfRun(ops, hi)
			next := nextChange(ops, hi+1)
			if next < 0 || next-hi > 2*ctx {
				break
			}
			hi = next
		}
		hi = min(hi+ctx, len(ops)-1)
		out = append(out, renderHunk(ops[lo:hi+1]))
		start = hi + 1
	}
	return out
}

func nextChange(ops []lineOp, from int) int {
	for i := from; i < len(ops); i++ {
		if ops[i].kind != ' ' {
			return i
		}
	}
	return -1
}

func lastOfRun(ops []lineOp, i int) int {
	for i+1 < len(ops) && ops[i+1].kind != ' ' {
		i++
	}
	return i
}

func renderHunk(ops []lineOp) string {
	var body strings.Builder
	na, nb := 0, 0
	for _, op := range ops {
		body.WriteByte(op.kind)
		body.WriteString(op.text)
		if !strings.HasSuffix(op.text, "\n") {
			body.WriteString("\n\\ No newline at end of file\n")
		}
		if op.kind != '+' {
			na++
		}
		if op.kind != '-' {
			nb++
		}
	}
	return fmt.Sprintf("@@ -%d,%d +%d,%d @@\n%s", ops[0].ai, na, ops[0].bi, nb, body.String())
}
