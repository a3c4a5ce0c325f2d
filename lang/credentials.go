package lang

import (
	"fmt"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Credentials is a credentials block: digest credentials read from a CSV
// file of user,domain,ha1 rows.
type Credentials struct {
	Block
	File     Value[string]
	CacheTTL Value[time.Duration]
	// Path is the CSV file as opened (relative to the working directory).
	Path string
	Rows []CredentialRow
}

// CredentialRow is one user,domain,ha1 row.
type CredentialRow struct {
	User, Domain, HA1 Field
}

var credentialsSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "file", Required: true}, {Name: "cache_ttl"}},
}

func (l *loader) decodeCredentials(b *hcl.Block) (*Credentials, hcl.Diagnostics) {
	content, diags := b.Body.Content(credentialsSchema)
	c := &Credentials{Block: blockOf(b)}
	attr(content.Attributes, "file", decodeString, &c.File, &diags)
	attr(content.Attributes, "cache_ttl", decodeDuration, &c.CacheTTL, &diags)
	if !c.File.Set {
		return c, diags
	}
	path, rows, d := l.readCSV(c.File, []string{"user", "domain", "ha1"})
	diags = append(diags, d...)
	c.Path = path
	seen := make(map[string]int)
	for _, r := range rows {
		row := CredentialRow{User: r[0], Domain: r[1], HA1: r[2]}
		switch {
		case row.User.Value == "":
			diags = append(diags, fieldDiag(row.User, "Invalid Credentials Row", "The user is empty. Each row is user,domain,ha1."))
			continue
		case row.Domain.Value == "":
			diags = append(diags, fieldDiag(row.Domain, "Invalid Credentials Row", "The domain is empty. Each row is user,domain,ha1."))
			continue
		case !isHex(row.HA1.Value, 32):
			diags = append(diags, fieldDiag(row.HA1, "Invalid HA1",
				fmt.Sprintf("%q is not an MD5 HA1. Write the 32 hex digits of md5(user:realm:password), never the password itself.", row.HA1.Value)))
			continue
		}
		key := row.User.Value + "@" + row.Domain.Value
		if prev, dup := seen[key]; dup {
			diags = append(diags, fieldDiag(row.User, "Duplicate Credentials Row",
				fmt.Sprintf("%s already has credentials on line %d. Keep one row per user and domain.", key, prev)))
			continue
		}
		seen[key] = row.User.Range.Start.Line
		c.Rows = append(c.Rows, row)
	}
	return c, diags
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
