// Package compiler turns a policy (parsed and checked by package lang) into
// a sealed, immutable *graph.Graph, checking every cross-reference, CEL
// condition and value on the way, and runs the policy's test blocks against
// the graph.
package compiler

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/hashicorp/hcl/v2"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/lang"
)

// Policy is a loaded and compiled policy.
type Policy struct {
	// Path is the file or directory loaded.
	Path string
	// Graph is sealed; it is nil when the diagnostics hold errors.
	Graph *graph.Graph
	// Tests are the test blocks in file order.
	Tests []*Test
	// Files holds every file read (CSV included), for rendering diagnostics
	// with hcl.NewDiagnosticTextWriter.
	Files map[string]*hcl.File
}

// Load reads a policy: a directory (every *.hcl and *.test.hcl file, lexical
// order) or one file, and compiles it. With errors in diags, Policy is
// partial (Files is always set for rendering diagnostics, Graph is nil).
func Load(path string) (*Policy, hcl.Diagnostics) {
	cfg, diags := lang.Load(path)
	p := &Policy{Path: path, Files: cfg.Files}
	if diags.HasErrors() && len(cfg.Sources) == 0 {
		return p, diags
	}
	g, tests, more := Compile(cfg)
	diags = append(diags, more...)
	p.Tests = tests
	if !diags.HasErrors() {
		p.Graph = g
	}
	return p, diags
}

// Compile builds the graph of a decoded policy and its tests. It reports
// every problem it finds in one pass; with errors in diags the graph is
// incomplete and must not be used (it is still sealed when possible, so
// that callers can inspect it).
func Compile(cfg *lang.Config) (*graph.Graph, []*Test, hcl.Diagnostics) {
	c := newCompiler(cfg)
	c.g.Hash = hashSources(cfg.Sources)
	c.proxy()
	c.trusted()        // before conditions: source_in names are checked against it
	c.carrierSources() // likewise: source_in('carrier.NAME')
	c.security()
	c.filters()
	c.credentials()
	c.auth()
	c.aliases()
	c.registrar()
	c.pools()
	c.prefixes()
	c.carriers()
	c.routes()
	if err := c.g.Seal(); err != nil && !c.diags.HasErrors() {
		c.diags = append(c.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Internal Compiler Error",
			Detail:   "The graph could not be sealed: " + err.Error() + ". Please report this with the policy.",
		})
	}
	tests := c.tests()
	return c.g, tests, c.diags
}

// compiler holds the state of one compilation: the graph being filled and
// name indexes used to resolve references.
type compiler struct {
	cfg      *lang.Config
	g        *graph.Graph
	diags    hcl.Diagnostics
	trust    map[string]*graph.Trusted
	creds    map[string]*graph.Credentials
	pool     map[string]*graph.Pool
	prefix   map[string]*graph.PrefixTable
	prefixL  map[string]*lang.Prefixes
	carrier  map[string]*graph.Carrier
	filterID map[graph.ID]bool
}

func newCompiler(cfg *lang.Config) *compiler {
	return &compiler{
		cfg:      cfg,
		g:        &graph.Graph{},
		trust:    make(map[string]*graph.Trusted),
		creds:    make(map[string]*graph.Credentials),
		pool:     make(map[string]*graph.Pool),
		prefix:   make(map[string]*graph.PrefixTable),
		prefixL:  make(map[string]*lang.Prefixes),
		carrier:  make(map[string]*graph.Carrier),
		filterID: make(map[graph.ID]bool),
	}
}

// hashSources is the hex SHA-256 over every source's name and bytes, in
// the (lexical) order lang sorted them.
func hashSources(srcs []lang.Source) string {
	h := sha256.New()
	for _, s := range srcs {
		h.Write([]byte(s.Name))
		h.Write([]byte{0})
		h.Write(s.Bytes)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// pos turns a declaration range into a graph position.
func pos(b lang.Block) graph.Pos {
	return graph.Pos{File: b.DeclRange.Filename, Line: b.DeclRange.Start.Line}
}
