package lang

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
)

// Aliases is an aliases block: a DID table (did,user rows) applied when its
// condition holds.
type Aliases struct {
	Block
	File Value[string]
	When Cond
	Path string
	Rows []AliasRow
}

// AliasRow is one did,user row.
type AliasRow struct {
	DID, User Field
}

var aliasesSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "file", Required: true}, {Name: "when"}},
}

func (l *loader) decodeAliases(b *hcl.Block) (*Aliases, hcl.Diagnostics) {
	content, diags := b.Body.Content(aliasesSchema)
	a := &Aliases{Block: blockOf(b)}
	attr(content.Attributes, "file", decodeString, &a.File, &diags)
	condAttr(content.Attributes, "when", l.src, &a.When, &diags)
	if !a.File.Set {
		return a, diags
	}
	path, rows, d := l.readCSV(a.File, []string{"did", "user"})
	diags = append(diags, d...)
	a.Path = path
	seen := make(map[string]int)
	for _, r := range rows {
		row := AliasRow{DID: r[0], User: r[1]}
		if row.DID.Value == "" || row.User.Value == "" {
			diags = append(diags, fieldDiag(r[0], "Invalid Alias Row", "A field is empty. Each row is did,user, such as +15551230001,alice."))
			continue
		}
		if prev, dup := seen[row.DID.Value]; dup {
			diags = append(diags, fieldDiag(row.DID, "Duplicate Alias",
				fmt.Sprintf("%s is already mapped on line %d. A DID maps to one user; remove one of the rows.", row.DID.Value, prev)))
			continue
		}
		seen[row.DID.Value] = row.DID.Range.Start.Line
		a.Rows = append(a.Rows, row)
	}
	return a, diags
}
