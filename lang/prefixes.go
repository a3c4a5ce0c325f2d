package lang

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
)

// Prefixes is a prefixes block: a longest-prefix table of prefix,member
// rows that a route uses to pick the member owning a number.
type Prefixes struct {
	Block
	File Value[string]
	Path string
	Rows []PrefixRow
}

// PrefixRow is one prefix,member row.
type PrefixRow struct {
	Prefix, Member Field
}

var prefixesSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "file", Required: true}},
}

func (l *loader) decodePrefixes(b *hcl.Block) (*Prefixes, hcl.Diagnostics) {
	content, diags := b.Body.Content(prefixesSchema)
	p := &Prefixes{Block: blockOf(b)}
	attr(content.Attributes, "file", decodeString, &p.File, &diags)
	if !p.File.Set {
		return p, diags
	}
	path, rows, d := l.readCSV(p.File, []string{"prefix", "member"})
	diags = append(diags, d...)
	p.Path = path
	seen := make(map[string]int, len(rows))
	p.Rows = make([]PrefixRow, 0, len(rows))
	for _, r := range rows {
		row := PrefixRow{Prefix: r[0], Member: r[1]}
		if !IsNumberPrefix(row.Prefix.Value) {
			diags = append(diags, fieldDiag(row.Prefix, "Invalid Prefix",
				fmt.Sprintf("%q is not a number prefix. Write digits with an optional leading +, such as +1555123.", row.Prefix.Value)))
			continue
		}
		if !validName(row.Member.Value) {
			diags = append(diags, fieldDiag(row.Member, "Invalid Member Name",
				fmt.Sprintf("%q is not a member name. Write the name of a member block of the pool, such as ast2.", row.Member.Value)))
			continue
		}
		if prev, dup := seen[row.Prefix.Value]; dup {
			diags = append(diags, fieldDiag(row.Prefix, "Duplicate Prefix",
				fmt.Sprintf("%s is already in this table on line %d. Keep one owner per prefix.", row.Prefix.Value, prev)))
			continue
		}
		seen[row.Prefix.Value] = row.Prefix.Range.Start.Line
		p.Rows = append(p.Rows, row)
	}
	return p, diags
}

// IsNumberPrefix reports whether s is digits with an optional leading +
// (and at least one character).
func IsNumberPrefix(s string) bool {
	if len(s) > 0 && s[0] == '+' {
		s = s[1:]
		if s == "" {
			return true // "+" alone: every E.164 number
		}
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
