package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/singleflight"

	"github.com/sipfront/sipfront/compiler/graph"
)

// StoreStats counts what a database store did; the metrics package reads
// them at scrape time.
type StoreStats struct {
	// Lookups counts every lookup; Hits those answered by the cache
	// (NegativeHits: unknown users remembered); Misses the others.
	Lookups, Hits, NegativeHits, Misses atomic.Uint64
	// Queries counts queries sent to the database (single-flight makes
	// concurrent misses for one user one query); DBErrors the failed ones;
	// Stale the lookups answered from an expired entry while the database
	// was down.
	Queries, DBErrors, Stale atomic.Uint64
}

// Defaults of a database store.
const (
	// queryTimeout bounds one credentials query; a slower database counts
	// as down.
	queryTimeout = 2 * time.Second
	// downBackoff is how long after a failed query misses are answered
	// unavailable without asking the database again, so that a dead
	// database is not hammered by every REGISTER; then the next miss tries.
	downBackoff = time.Second
	// cacheCapacity bounds the cached users of one store.
	cacheCapacity = 1 << 20
)

// PGStore serves credentials from PostgreSQL through a cache: found users
// are remembered for CacheTTL, unknown ones for NegativeTTL, concurrent
// misses for one user cost one query, and while the database is down the
// users still in the cache (even expired) keep working.
type PGStore struct {
	pool  *pgxpool.Pool
	query string
	// ttl and negTTL are the cache TTLs in ns; a reload changes them while
	// lookups run.
	ttl    atomic.Int64
	negTTL atomic.Int64
	cache  *cache
	flight singleflight.Group
	// downUntil is the Unix ns until which misses skip the database.
	downUntil atomic.Int64
	// Stats is read by metrics.
	Stats StoreStats
	now   func() time.Time
}

// OpenPostgres builds the store of c. The pool connects lazily: Open does
// not touch the network; Ping does.
func OpenPostgres(c *graph.Credentials) (*PGStore, error) {
	pc := c.Postgres
	cfg, err := pgxpool.ParseConfig(pc.DSN)
	if err != nil {
		return nil, fmt.Errorf("credentials %q: dsn: %w", c.Name, err)
	}
	if pc.PoolSize > 0 {
		cfg.MaxConns = int32(pc.PoolSize)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 || cfg.ConnConfig.ConnectTimeout > queryTimeout {
		cfg.ConnConfig.ConnectTimeout = queryTimeout
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("credentials %q: %w", c.Name, err)
	}
	st := &PGStore{pool: pool, query: pc.Query, cache: newCache(cacheCapacity), now: time.Now}
	st.Configure(c)
	return st, nil
}

// Ping checks that the database answers the credentials query, for the
// start-up log of serve.
func (s *PGStore) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return err
	}
	_, _, err := s.queryDB(ctx, "", "")
	return err
}

// Close closes the pool.
func (s *PGStore) Close() { s.pool.Close() }

// Configure applies a reloaded policy's cache TTLs; a changed DSN, query or
// pool size needs a new store.
func (s *PGStore) Configure(c *graph.Credentials) {
	s.ttl.Store(int64(c.CacheTTL))
	s.negTTL.Store(int64(c.NegativeTTL))
}

// Lookup implements Store.
func (s *PGStore) Lookup(ctx context.Context, user, domain string) (Credential, bool, error) {
	s.Stats.Lookups.Add(1)
	key := userDomain{user, domain}
	now := s.now().UnixNano()
	e, cached := s.cache.get(key)
	if cached && e.expires > now {
		s.Stats.Hits.Add(1)
		if !e.found {
			s.Stats.NegativeHits.Add(1)
		}
		return e.cred, e.found, nil
	}
	s.Stats.Misses.Add(1)
	if now < s.downUntil.Load() {
		return s.degraded(e, cached)
	}
	v, err, _ := s.flight.Do(user+"\x00"+domain, func() (any, error) {
		// Another flight may have filled the cache between our miss and
		// this call: look again before asking the database.
		if e, ok := s.cache.get(key); ok && e.expires > s.now().UnixNano() {
			return e, nil
		}
		qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), queryTimeout)
		defer cancel()
		cred, found, err := s.queryDB(qctx, user, domain)
		if err != nil {
			return nil, err
		}
		ttl := s.ttl.Load()
		if !found {
			ttl = s.negTTL.Load()
		}
		ne := cacheEntry{cred: cred, found: found, expires: s.now().UnixNano() + ttl}
		s.cache.put(key, ne, now)
		return ne, nil
	})
	if err != nil {
		s.Stats.DBErrors.Add(1)
		s.downUntil.Store(s.now().Add(downBackoff).UnixNano())
		return s.degraded(e, cached)
	}
	ne := v.(cacheEntry)
	return ne.cred, ne.found, nil
}

// degraded answers while the database is down: from an expired cache entry
// when there is one, otherwise unavailable.
func (s *PGStore) degraded(e cacheEntry, cached bool) (Credential, bool, error) {
	if cached {
		s.Stats.Stale.Add(1)
		return e.cred, e.found, nil
	}
	return Credential{}, false, ErrUnavailable
}

// queryDB runs the query with $1 = user and $2 = domain and reads the
// columns ha1 and (optional) ha1_sha256 of the first row.
func (s *PGStore) queryDB(ctx context.Context, user, domain string) (Credential, bool, error) {
	s.Stats.Queries.Add(1)
	rows, err := s.pool.Query(ctx, s.query, user, domain)
	if err != nil {
		return Credential{}, false, err
	}
	defer rows.Close()
	md5Col, shaCol := -1, -1
	for i, fd := range rows.FieldDescriptions() {
		switch fd.Name {
		case "ha1":
			md5Col = i
		case "ha1_sha256":
			shaCol = i
		}
	}
	if md5Col < 0 {
		return Credential{}, false, errors.New("the credentials query returns no column named ha1")
	}
	if !rows.Next() {
		return Credential{}, false, rows.Err()
	}
	vals, err := rows.Values()
	if err != nil {
		return Credential{}, false, err
	}
	var c Credential
	// Hex digits are hashed as text: an upper-case HA1 must be lowered.
	md5, _ := vals[md5Col].(string)
	c.MD5 = strings.ToLower(md5)
	if shaCol >= 0 {
		sha, _ := vals[shaCol].(string)
		c.SHA256 = strings.ToLower(sha)
	}
	return c, c.MD5 != "" || c.SHA256 != "", rows.Err()
}

// CacheLen returns how many users are cached.
func (s *PGStore) CacheLen() int { return s.cache.len() }
