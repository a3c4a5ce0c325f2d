package auth

import (
	"context"
	"errors"
	"strings"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/digest"
)

// Credential is what a store keeps for one user and domain: the hex HA1 of
// each algorithm ("" when the store has none for SHA-256).
type Credential struct {
	MD5    string
	SHA256 string
}

// ha1 returns the HA1 for alg.
func (c Credential) ha1(alg digest.Algorithm) string {
	if alg == digest.SHA256 {
		return c.SHA256
	}
	return c.MD5
}

// ErrUnavailable is returned by a store that cannot answer for a user now
// (the database is down and the user is not cached).
var ErrUnavailable = errors.New("credential store unavailable")

// Store looks credentials up by digest user and domain (the realm).
type Store interface {
	// Lookup returns the user's credential; found is false for an unknown
	// user. An error means the store cannot tell (ErrUnavailable).
	Lookup(ctx context.Context, user, domain string) (c Credential, found bool, err error)
}

// userDomain is a store key; a struct, not "user@domain", so that a lookup
// builds no string.
type userDomain struct{ user, domain string }

// FileStore serves the credentials of a CSV file, compiled into the graph.
type FileStore struct {
	m map[userDomain]Credential
}

// NewFileStore indexes c's entries.
func NewFileStore(c *graph.Credentials) *FileStore {
	fs := &FileStore{m: make(map[userDomain]Credential, len(c.Entries))}
	for key, ha1 := range c.Entries {
		i := strings.LastIndexByte(key, '@')
		if i < 0 {
			continue
		}
		fs.m[userDomain{key[:i], key[i+1:]}] = Credential{MD5: ha1, SHA256: c.EntriesSHA256[key]}
	}
	return fs
}

// Lookup implements Store.
func (fs *FileStore) Lookup(_ context.Context, user, domain string) (Credential, bool, error) {
	c, ok := fs.m[userDomain{user, domain}]
	return c, ok, nil
}
