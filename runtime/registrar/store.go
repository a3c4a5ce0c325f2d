package registrar

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Store persists bindings so that they survive a restart. The registrar
// keeps every binding in memory and writes through to the store; the store
// is read only at start. Another backend (a database several proxies share)
// implements the same interface.
type Store interface {
	// Load returns every stored binding, expired ones included.
	Load() ([]Binding, error)
	// Put replaces the stored bindings of user; an empty list deletes them.
	Put(user string, bs []Binding) error
	// Close releases the store.
	Close() error
}

// DefaultStateDir is where serve keeps its state when --state-dir is not
// given and the directory is writable.
const DefaultStateDir = "/var/lib/sipfront"

// StateDir resolves the state directory: dir if given, else
// DefaultStateDir when it can be created and written, else the user cache
// directory (~/.cache/sipfront), so that a non-root `serve` still keeps its
// registrations.
func StateDir(dir string) (string, error) {
	if dir != "" {
		return dir, os.MkdirAll(dir, 0o750)
	}
	if writable(DefaultStateDir) {
		return DefaultStateDir, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("state directory: %s is not writable and there is no user cache directory: %w", DefaultStateDir, err)
	}
	dir = filepath.Join(cache, "sipfront")
	return dir, os.MkdirAll(dir, 0o750)
}

func writable(dir string) bool {
	if os.MkdirAll(dir, 0o750) != nil {
		return false
	}
	f, err := os.CreateTemp(dir, ".probe")
	if err != nil {
		return false
	}
	f.Close()
	os.Remove(f.Name())
	return true
}

var bucket = []byte("bindings")

// BoltStore is the default Store: one bbolt file (registrations.db) in the
// state directory, one key per user holding its bindings as JSON. Writes go
// through bbolt's Batch, so concurrent REGISTERs share one fsync.
type BoltStore struct {
	db *bolt.DB
}

// OpenBolt opens (or creates) the store file registrations.db in dir.
func OpenBolt(dir string) (*BoltStore, error) {
	path := filepath.Join(dir, "registrations.db")
	// The timeout turns a second proxy on the same state directory into an
	// error instead of a hang on the file lock.
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("registrations store %s: %w", path, err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucket)
		return err
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("registrations store %s: %w", path, err)
	}
	return &BoltStore{db: db}, nil
}

// Load implements Store.
func (s *BoltStore) Load() ([]Binding, error) {
	var out []Binding
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucket).ForEach(func(k, v []byte) error {
			var bs []Binding
			if err := json.Unmarshal(v, &bs); err != nil {
				return fmt.Errorf("bindings of %q: %w", k, err)
			}
			out = append(out, bs...)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("load registrations: %w", err)
	}
	return out, nil
}

// Put implements Store.
func (s *BoltStore) Put(user string, bs []Binding) error {
	var v []byte
	if len(bs) > 0 {
		var err error
		if v, err = json.Marshal(bs); err != nil {
			return fmt.Errorf("encode bindings of %q: %w", user, err)
		}
	}
	err := s.db.Batch(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		if v == nil {
			return b.Delete([]byte(user))
		}
		return b.Put([]byte(user), v)
	})
	if err != nil {
		return fmt.Errorf("store bindings of %q: %w", user, err)
	}
	return nil
}

// Close implements Store.
func (s *BoltStore) Close() error { return s.db.Close() }

// MemStore is a Store that keeps nothing across restarts (tests, and
// `serve` without persistence).
type MemStore struct{}

// Load implements Store.
func (MemStore) Load() ([]Binding, error) { return nil, nil }

// Put implements Store.
func (MemStore) Put(string, []Binding) error { return nil }

// Close implements Store.
func (MemStore) Close() error { return nil }
