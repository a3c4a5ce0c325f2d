package admin

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// PolicySources is GET /v1/policy: the files of the running policy as of
// its last successful load, so that `sipfront plan NEW --against URL` can
// compile the very policy the proxy runs.
type PolicySources struct {
	// Hash is the running policy's hash; compiling Files gives it again.
	Hash string `json:"hash"`
	// Path is the policy path serve was given, on the proxy's host.
	Path string `json:"path"`
	// Root is the directory the file names are relative to, on the proxy's
	// host: Path itself for a directory, its directory for one file.
	Root string `json:"root"`
	// Loaded is when this policy was compiled.
	Loaded time.Time `json:"loaded"`
	// Files maps each file's name, relative to Root with forward slashes
	// (the .hcl files and the CSV files they reference, "../" included
	// when a CSV lives above Root), to its content.
	Files map[string]string `json:"files"`
}

func (a *API) policy(w http.ResponseWriter, r *http.Request) {
	if a.opts.Sources == nil {
		writeError(w, http.StatusNotFound, "this proxy does not publish its policy sources")
		return
	}
	hash := a.proxy.Graph().Hash
	src := a.opts.Sources(hash)
	if src == nil || src.Hash != hash {
		writeError(w, http.StatusServiceUnavailable, "the sources of the running policy %s are not available (a reload in progress?); retry", ShortHash(hash))
		return
	}
	writeJSON(w, http.StatusOK, src)
}

// ShortHash shortens a policy hash to the 12 characters that messages and
// plan headers show.
func ShortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// Policy fetches GET /v1/policy.
func (c *Client) Policy(ctx context.Context) (*PolicySources, error) {
	var p PolicySources
	return &p, c.get(ctx, "/v1/policy", &p)
}

// WriteTo writes the files under dir so that compiling the returned path
// gives the same hash as on the proxy: the files keep their names relative
// to the returned root, which is nested deep enough in dir for names
// starting with "../" to stay inside dir. An absolute or otherwise
// escaping name is an error.
func (p *PolicySources) WriteTo(dir string) (root string, err error) {
	if len(p.Files) == 0 {
		return "", fmt.Errorf("the policy sources hold no file")
	}
	names := make([]string, 0, len(p.Files))
	depth := 0
	for name := range p.Files {
		if name == "" || path.IsAbs(name) || filepath.IsAbs(name) || strings.Contains(name, "\\") {
			return "", fmt.Errorf("policy file name %q is not relative", name)
		}
		clean := path.Clean(name)
		if clean != name {
			return "", fmt.Errorf("policy file name %q is not clean", name)
		}
		up := 0
		for strings.HasPrefix(clean, "../") {
			clean = clean[3:]
			up++
		}
		if clean == ".." || strings.Contains("/"+clean+"/", "/../") {
			return "", fmt.Errorf("policy file name %q is not a file below the policy directory", name)
		}
		depth = max(depth, up)
		names = append(names, name)
	}
	sort.Strings(names)
	root = dir
	for i := range depth {
		root = filepath.Join(root, fmt.Sprintf("up%d", i))
	}
	root = filepath.Join(root, "policy")
	for _, name := range names {
		f := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(f, []byte(p.Files[name]), 0o600); err != nil {
			return "", err
		}
	}
	return root, nil
}
