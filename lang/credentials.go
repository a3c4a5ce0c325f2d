package lang

import (
	"fmt"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Credentials is a credentials block: digest credentials read from a CSV
// file of user,domain,ha1[,ha1_sha256] rows, or from PostgreSQL.
type Credentials struct {
	Block
	File        Value[string]
	CacheTTL    Value[time.Duration]
	NegativeTTL Value[time.Duration]
	// Postgres is nil when the block has no postgres block.
	Postgres *Postgres
	// Path is the CSV file as opened (relative to the working directory).
	Path string
	Rows []CredentialRow
}

// Postgres is the postgres block of credentials: where the proxy looks
// users up.
type Postgres struct {
	Block
	DSN      Value[string]
	Query    Value[string]
	PoolSize Value[int]
}

// CredentialRow is one user,domain,ha1[,ha1_sha256] row; HA1SHA256 is
// empty when the row has three fields.
type CredentialRow struct {
	User, Domain, HA1, HA1SHA256 Field
}

var credentialsSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "file"}, {Name: "cache_ttl"}, {Name: "negative_ttl"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "postgres"}},
}

var postgresSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "dsn", Required: true}, {Name: "query", Required: true}, {Name: "pool_size"}},
}

// credentialColumns are the columns of a credentials file; the last one is
// optional.
var credentialColumns = []string{"user", "domain", "ha1", "ha1_sha256"}

func (l *loader) decodeCredentials(b *hcl.Block) (*Credentials, hcl.Diagnostics) {
	content, diags := b.Body.Content(credentialsSchema)
	c := &Credentials{Block: blockOf(b)}
	attr(content.Attributes, "file", decodeString, &c.File, &diags)
	attr(content.Attributes, "cache_ttl", decodeDuration, &c.CacheTTL, &diags)
	attr(content.Attributes, "negative_ttl", decodeDuration, &c.NegativeTTL, &diags)
	if pb, d := nestedOne(content, "postgres"); pb != nil {
		diags = append(diags, d...)
		c.Postgres, d = decodePostgres(pb)
		diags = append(diags, d...)
	}
	if !c.File.Set {
		return c, diags
	}
	path, rows, d := l.readCSVOptional(c.File, credentialColumns, 3)
	diags = append(diags, d...)
	c.Path = path
	seen := make(map[string]int)
	for _, r := range rows {
		row := CredentialRow{User: r[0], Domain: r[1], HA1: r[2]}
		if len(r) > 3 {
			row.HA1SHA256 = r[3]
		}
		if d := checkCredentialRow(row); d != nil {
			diags = append(diags, d)
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

// checkCredentialRow reports the first bad field of a row, or nil.
func checkCredentialRow(row CredentialRow) *hcl.Diagnostic {
	switch {
	case row.User.Value == "":
		return fieldDiag(row.User, "Invalid Credentials Row", "The user is empty. Each row is user,domain,ha1[,ha1_sha256].")
	case row.Domain.Value == "":
		return fieldDiag(row.Domain, "Invalid Credentials Row", "The domain is empty. Each row is user,domain,ha1[,ha1_sha256].")
	case !isHex(row.HA1.Value, 32):
		return fieldDiag(row.HA1, "Invalid HA1",
			fmt.Sprintf("%q is not an MD5 HA1. Write the 32 hex digits of md5(user:realm:password), never the password itself.", row.HA1.Value))
	case row.HA1SHA256.Value != "" && !isHex(row.HA1SHA256.Value, 64):
		return fieldDiag(row.HA1SHA256, "Invalid HA1",
			fmt.Sprintf("%q is not a SHA-256 HA1. Write the 64 hex digits of sha256(user:realm:password), or leave the column out.", row.HA1SHA256.Value))
	}
	return nil
}

func decodePostgres(b *hcl.Block) (*Postgres, hcl.Diagnostics) {
	content, diags := b.Body.Content(postgresSchema)
	p := &Postgres{Block: blockOf(b)}
	attr(content.Attributes, "dsn", decodeString, &p.DSN, &diags)
	attr(content.Attributes, "query", decodeString, &p.Query, &diags)
	attr(content.Attributes, "pool_size", decodeInt, &p.PoolSize, &diags)
	return p, diags
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
