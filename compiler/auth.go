package compiler

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/lang"
)

// Defaults of the credentials and auth blocks (documented in
// docs/language.md and docs/auth.md), in line with the peers' examples:
// Kamailio's default configuration blocks an auth user after failures
// counted in an htable for minutes; OpenSIPS and Kamailio expire nonces
// after 30 s to 5 min.
const (
	defaultCredentialsTTL = time.Hour
	defaultNegativeTTL    = time.Minute
	defaultPoolSize       = 4
	defaultNonceTTL       = 5 * time.Minute
	defaultMaxFailures    = 5
	defaultFailureWindow  = time.Minute
	defaultBlock          = 15 * time.Minute
)

func (c *compiler) credentials() {
	for _, cr := range c.cfg.Credentials {
		gc := &graph.Credentials{ID: graph.ID("credentials." + cr.Name), Name: cr.Name, Pos: pos(cr.Block),
			File: cr.File.Value, CacheTTL: defaultCredentialsTTL, NegativeTTL: defaultNegativeTTL}
		if cr.CacheTTL.Set {
			gc.CacheTTL = cr.CacheTTL.Value
		}
		if cr.NegativeTTL.Set {
			gc.NegativeTTL = cr.NegativeTTL.Value
			if gc.NegativeTTL > gc.CacheTTL {
				c.warnf(cr.NegativeTTL.Range, "Negative Cache Outlives Positive Cache",
					"negative_ttl (%s) is longer than cache_ttl (%s): a user added to the database stays unknown longer than a removed one stays known. Keep negative_ttl short.", fmtDuration(gc.NegativeTTL), fmtDuration(gc.CacheTTL))
			}
		}
		switch {
		case cr.File.Set && cr.Postgres != nil:
			c.errorf(cr.Postgres.DeclRange, "Two Credential Stores",
				"Credentials %q has both a file and a postgres block. A credentials block reads one store; declare a second credentials block for the other.", cr.Name)
		case !cr.File.Set && cr.Postgres == nil:
			c.errorf(cr.NameRange, "No Credential Store",
				"Credentials %q names no store. Add file = \"users.csv\" or a postgres { dsn = ..., query = ... } block.", cr.Name)
		case cr.Postgres != nil:
			gc.Postgres = c.postgres(cr.Postgres)
		default:
			c.fileCredentials(cr, gc)
		}
		c.creds[cr.Name] = gc
		c.g.Credentials = append(c.g.Credentials, gc)
	}
}

func (c *compiler) fileCredentials(cr *lang.Credentials, gc *graph.Credentials) {
	gc.Entries = make(map[string]string, len(cr.Rows))
	for _, r := range cr.Rows {
		key := r.User.Value + "@" + r.Domain.Value
		gc.Entries[key] = strings.ToLower(r.HA1.Value)
		if r.HA1SHA256.Value != "" {
			if gc.EntriesSHA256 == nil {
				gc.EntriesSHA256 = make(map[string]string)
			}
			gc.EntriesSHA256[key] = strings.ToLower(r.HA1SHA256.Value)
		}
	}
}

// placeholder matches the query parameters $1, $2, ...
var placeholder = regexp.MustCompile(`\$([0-9]+)`)

func (c *compiler) postgres(p *lang.Postgres) *graph.Postgres {
	gp := &graph.Postgres{DSN: p.DSN.Value, Query: p.Query.Value, PoolSize: defaultPoolSize}
	if p.DSN.Set {
		if err := checkDSN(p.DSN.Value); err != nil {
			c.errorf(p.DSN.Range, "Invalid DSN",
				"%s. Write a URL such as \"postgres://sipfront@db.example.com:5432/users?sslmode=verify-full\" or key=value pairs such as \"host=db.example.com dbname=users user=sipfront\"; read a password with env().", err)
		}
	}
	if p.Query.Set {
		c.checkQuery(p.Query)
	}
	if p.PoolSize.Set {
		gp.PoolSize = p.PoolSize.Value
		if gp.PoolSize < 1 || gp.PoolSize > 1000 {
			c.errorf(p.PoolSize.Range, "Invalid Pool Size", "pool_size is the most database connections the proxy opens, from 1 to 1000, not %d.", gp.PoolSize)
		}
	}
	return gp
}

// checkQuery wants exactly the parameters $1 (user) and $2 (domain): the
// proxy always binds both, and PostgreSQL refuses a query that does not
// use every bound parameter's type.
func (c *compiler) checkQuery(q lang.Value[string]) {
	seen := map[string]bool{}
	for _, m := range placeholder.FindAllStringSubmatch(q.Value, -1) {
		seen[m[1]] = true
		if m[1] != "1" && m[1] != "2" {
			c.errorf(q.Range, "Invalid Credentials Query", "The query uses $%s, but the proxy binds only $1 (the digest user) and $2 (the domain, the realm).", m[1])
			return
		}
	}
	if !seen["1"] || !seen["2"] {
		c.errorf(q.Range, "Invalid Credentials Query",
			"The query must use $1 (the digest user) and $2 (the domain): the values are bound as parameters, never written into the text. Such as \"SELECT ha1, ha1_sha256 FROM subscriber WHERE username = $1 AND domain = $2\"; a table without domains can test \"$2::text IS NOT NULL\".")
	}
}

// checkDSN checks the form of a PostgreSQL connection string, URL or
// key=value, without touching the network.
func checkDSN(dsn string) error {
	dsn = strings.TrimSpace(dsn)
	if dsn == "" {
		return fmt.Errorf("the DSN is empty")
	}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return fmt.Errorf("the URL cannot be parsed: %v", urlError(err))
		}
		if u.Opaque != "" {
			return fmt.Errorf("the URL has no host part (write postgres://host/db)")
		}
		return nil
	}
	if strings.Contains(dsn, "://") {
		return fmt.Errorf("%q is not a PostgreSQL URL (postgres:// or postgresql://)", dsn[:strings.Index(dsn, "://")+3])
	}
	return checkKeyValueDSN(dsn)
}

// urlError drops url.Error's quoting of the whole URL, which may hold a
// password.
func urlError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// checkKeyValueDSN checks key=value pairs separated by spaces, values
// optionally in single quotes with backslash escapes (libpq's rules).
func checkKeyValueDSN(s string) error {
	for s = strings.TrimLeft(s, " \t\n"); s != ""; s = strings.TrimLeft(s, " \t\n") {
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			word, _, _ := strings.Cut(s, " ")
			return fmt.Errorf("%q is not a key=value pair", word)
		}
		key := strings.TrimSpace(s[:eq])
		if strings.ContainsAny(key, " \t'") {
			return fmt.Errorf("%q is not a key=value pair", key)
		}
		s = strings.TrimLeft(s[eq+1:], " \t")
		if !strings.HasPrefix(s, "'") {
			end := strings.IndexAny(s, " \t\n")
			if end < 0 {
				end = len(s)
			}
			s = s[end:]
			continue
		}
		end := closingQuote(s)
		if end < 0 {
			return fmt.Errorf("the value of %s has no closing quote", key)
		}
		s = s[end+1:]
	}
	return nil
}

// closingQuote returns the index of the quote closing s[0], or -1.
func closingQuote(s string) int {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '\'':
			return i
		}
	}
	return -1
}

var algorithms = []string{"SHA-256", "MD5"}

func (c *compiler) auth() {
	for _, a := range c.cfg.Auth {
		ga := &graph.Auth{ID: graph.ID("auth." + a.Name), Name: a.Name, Pos: pos(a.Block),
			When: c.cond(a.When), Realm: a.Realm.Value, CheckFrom: true, NonceTTL: defaultNonceTTL,
			MaxFailures: defaultMaxFailures, FailureWindow: defaultFailureWindow, Block: defaultBlock,
			BlockDrop: a.BlockDrop.Value}
		for _, r := range a.Trust {
			if t := c.trustRef(r); t != nil { // trusted.NAME or carrier.NAME
				ga.Trust = append(ga.Trust, t)
			}
		}
		if a.Credentials.Set {
			ga.Credentials = resolve(c, a.Credentials, "credentials", c.creds)
		}
		if a.Realm.Set && a.Realm.Value == "" {
			c.errorf(a.Realm.Range, "Empty Realm", "The digest realm is empty. Use the SIP domain, such as \"example.com\".")
		}
		if a.CheckFrom.Set {
			ga.CheckFrom = a.CheckFrom.Value
		}
		c.authLimits(a, ga)
		c.authAlgorithms(a, ga)
		c.g.Auth = append(c.g.Auth, ga)
	}
}

// authLimits compiles the nonce lifetime and the brute-force limits.
func (c *compiler) authLimits(a *lang.Auth, ga *graph.Auth) {
	durationAttr(c, a.NonceTTL, &ga.NonceTTL, time.Second, time.Hour, "nonce_ttl",
		"A nonce lives long enough for a client to answer and reuse it; 30s to 5m is usual")
	durationAttr(c, a.FailureWindow, &ga.FailureWindow, time.Second, 24*time.Hour, "failure_window",
		"Failed answers are counted over this window")
	durationAttr(c, a.BlockFor, &ga.Block, time.Second, 7*24*time.Hour, "block",
		"A source or user over the limit is refused for this long")
	if a.MaxFailures.Set {
		ga.MaxFailures = a.MaxFailures.Value
		if ga.MaxFailures < 0 {
			c.errorf(a.MaxFailures.Range, "Invalid Failure Limit",
				"max_failures is how many failed answers within failure_window block a source or user; 0 turns the throttle off, and it cannot be %d.", ga.MaxFailures)
		}
	}
	if ga.MaxFailures == 0 && (a.FailureWindow.Set || a.BlockFor.Set || a.BlockDrop.Set) {
		c.warnf(a.MaxFailures.Range, "Throttle Turned Off", "max_failures = 0 turns the throttle off, so failure_window, block and block_drop have no effect.")
	}
}

// durationAttr sets dst from v when v is set and within [lo, hi].
func durationAttr(c *compiler, v lang.Value[time.Duration], dst *time.Duration, lo, hi time.Duration, name, why string) {
	if !v.Set {
		return
	}
	*dst = v.Value
	if v.Value < lo || v.Value > hi {
		c.errorf(v.Range, "Invalid Duration", "%s must be from %s to %s, not %s. %s.", name, fmtDuration(lo), fmtDuration(hi), fmtDuration(v.Value), why)
	}
}

// fmtDuration writes a duration as a policy would: "1h", not "1h0m0s".
func fmtDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

func (c *compiler) authAlgorithms(a *lang.Auth, ga *graph.Auth) {
	if !a.Algorithms.Set {
		return
	}
	seen := map[string]bool{}
	for _, it := range a.Algorithms.Items {
		name := canonicalAlgorithm(it.Value)
		switch {
		case name == "":
			c.errorf(it.Range, "Unknown Digest Algorithm", "%q is not a digest algorithm sipfront offers; use %s.%s", it.Value, oneOf(algorithms), suggest(it.Value, algorithms))
		case seen[name]:
			c.errorf(it.Range, "Duplicate Digest Algorithm", "%s is listed twice.", name)
		default:
			seen[name] = true
			ga.Algorithms = append(ga.Algorithms, name)
		}
	}
	if len(a.Algorithms.Items) == 0 {
		c.errorf(a.Algorithms.Range, "No Digest Algorithm", "algorithms is empty, so no client could answer. List \"SHA-256\", \"MD5\" or both, the preferred first.")
	}
}

func canonicalAlgorithm(s string) string {
	for _, a := range algorithms {
		if strings.EqualFold(a, s) {
			return a
		}
	}
	return ""
}

func (c *compiler) aliases() {
	for _, a := range c.cfg.Aliases {
		ga := &graph.AliasTable{ID: graph.ID("aliases." + a.Name), Name: a.Name, Pos: pos(a.Block),
			File: a.File.Value, When: c.cond(a.When), Entries: make(map[string]string, len(a.Rows))}
		for _, r := range a.Rows {
			ga.Entries[r.DID.Value] = r.User.Value
		}
		c.g.Aliases = append(c.g.Aliases, ga)
	}
}
