package lang

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Config is a decoded policy: every block of every file, in file order.
type Config struct {
	// Path is the file or directory the policy was loaded from.
	Path        string
	Proxy       *Proxy
	Filters     []*Filter
	Trusted     []*Trusted
	Credentials []*Credentials
	Auth        []*Auth
	Aliases     []*Aliases
	Registrar   *Registrar
	Pools       []*Pool
	Prefixes    []*Prefixes
	Carriers    []*Carrier
	Routes      []*Route
	Tests       []*Test
	// Flood and Limits are nil when the policy has no such block.
	Flood  *Flood
	Limits *EdgeLimits
	// Files holds every parsed file, CSV files included, keyed by the name
	// used in diagnostic ranges, for hcl.NewDiagnosticTextWriter.
	Files map[string]*hcl.File
	// Sources lists every policy and CSV file read, sorted by name, for the
	// policy hash. Names are relative to the policy directory.
	Sources []Source
}

// Source is one file that went into a policy.
type Source struct {
	Name  string
	Bytes []byte
}

// loader carries what block decoders need besides the block: the file bytes
// for condition ranges and the config the CSV files are registered in.
type loader struct {
	cfg  *Config
	root string // directory that Source names are relative to
	src  []byte // bytes of the file being decoded
	dir  string // directory of the file being decoded
	seen map[string]map[string]hcl.Range
}

var fileSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "proxy"},
		{Type: "filter", LabelNames: []string{"name"}},
		{Type: "trusted", LabelNames: []string{"name"}},
		{Type: "credentials", LabelNames: []string{"name"}},
		{Type: "auth", LabelNames: []string{"name"}},
		{Type: "aliases", LabelNames: []string{"name"}},
		{Type: "registrar"},
		{Type: "pool", LabelNames: []string{"name"}},
		{Type: "prefixes", LabelNames: []string{"name"}},
		{Type: "carrier", LabelNames: []string{"name"}},
		{Type: "route", LabelNames: []string{"name"}},
		{Type: "test", LabelNames: []string{"name"}},
		{Type: "flood"},
		{Type: "limits"},
	},
}

// Load reads a policy from a directory (every *.hcl file, *.test.hcl
// included, in lexical order) or from one file. It always returns a Config
// with Files set; with errors in diags the other fields may be partial.
func Load(path string) (*Config, hcl.Diagnostics) {
	cfg := &Config{Path: path, Files: make(map[string]*hcl.File)}
	files, root, err := policyFiles(path)
	if err != nil {
		return cfg, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot Read Policy",
			Detail:   fmt.Sprintf("%s. Give a policy directory or an .hcl file.", err),
		}}
	}
	l := &loader{cfg: cfg, root: root, seen: make(map[string]map[string]hcl.Range)}
	parser := hclparse.NewParser()
	var diags hcl.Diagnostics
	for _, name := range files {
		f, d := parser.ParseHCLFile(name)
		diags = append(diags, d...)
		if f == nil {
			continue
		}
		cfg.Files[name] = f
		l.addSource(name, f.Bytes)
		if d.HasErrors() {
			continue // the body of a file with syntax errors is unreliable
		}
		l.src, l.dir = f.Bytes, filepath.Dir(name)
		diags = append(diags, l.decodeFile(f)...)
	}
	sort.Slice(cfg.Sources, func(i, j int) bool { return cfg.Sources[i].Name < cfg.Sources[j].Name })
	return cfg, diags
}

// policyFiles lists the .hcl files of path and the directory file names are
// made relative to.
func policyFiles(path string) ([]string, string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, "", err
	}
	if !st.IsDir() {
		return []string{path}, filepath.Dir(path), nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, "", err
	}
	var files []string
	for _, e := range entries { // ReadDir sorts by name
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".hcl") {
			files = append(files, filepath.Join(path, e.Name()))
		}
	}
	if len(files) == 0 {
		return nil, "", fmt.Errorf("%s holds no .hcl files", path)
	}
	return files, path, nil
}

func (l *loader) addSource(name string, b []byte) {
	rel, err := filepath.Rel(l.root, name)
	if err != nil {
		rel = name
	}
	l.cfg.Sources = append(l.cfg.Sources, Source{Name: filepath.ToSlash(rel), Bytes: b})
}

func (l *loader) decodeFile(f *hcl.File) hcl.Diagnostics {
	content, diags := f.Body.Content(fileSchema)
	for _, b := range content.Blocks {
		diags = append(diags, l.decodeBlock(b)...)
	}
	return diags
}

func (l *loader) decodeBlock(b *hcl.Block) hcl.Diagnostics {
	diags, dup := l.checkName(b)
	var d hcl.Diagnostics
	c := l.cfg
	if dup {
		// Decode a duplicate for its own diagnostics, but keep it out of
		// the config so that every name stays unique.
		c = &Config{Files: l.cfg.Files}
	}
	switch b.Type {
	case "proxy":
		d = l.decodeProxy(b)
	case "filter":
		var v *Filter
		v, d = decodeFilter(b, l.src)
		c.Filters = append(c.Filters, v)
	case "trusted":
		var v *Trusted
		v, d = decodeTrusted(b)
		c.Trusted = append(c.Trusted, v)
	case "credentials":
		var v *Credentials
		v, d = l.decodeCredentials(b)
		c.Credentials = append(c.Credentials, v)
	case "auth":
		var v *Auth
		v, d = decodeAuth(b, l.src)
		c.Auth = append(c.Auth, v)
	case "aliases":
		var v *Aliases
		v, d = l.decodeAliases(b)
		c.Aliases = append(c.Aliases, v)
	case "registrar":
		d = l.decodeRegistrar(b)
	case "pool":
		var v *Pool
		v, d = decodePool(b)
		c.Pools = append(c.Pools, v)
	case "prefixes":
		var v *Prefixes
		v, d = l.decodePrefixes(b)
		c.Prefixes = append(c.Prefixes, v)
	case "carrier":
		var v *Carrier
		v, d = l.decodeCarrier(b)
		c.Carriers = append(c.Carriers, v)
	case "route":
		var v *Route
		v, d = decodeRoute(b, l.src)
		c.Routes = append(c.Routes, v)
	case "test":
		var v *Test
		v, d = decodeTest(b)
		c.Tests = append(c.Tests, v)
	case "flood":
		d = l.decodeFlood(b)
	case "limits":
		d = l.decodeLimits(b)
	}
	return append(diags, d...)
}

// checkName rejects a second block of the same type and name, and names
// that cannot be referenced.
func (l *loader) checkName(b *hcl.Block) (diags hcl.Diagnostics, dup bool) {
	if len(b.Labels) == 0 {
		return nil, false
	}
	name, rng := b.Labels[0], b.LabelRanges[0]
	if b.Type != "test" && !hclsyntax.ValidIdentifier(name) {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid Block Name",
			Detail:   fmt.Sprintf("%q cannot be used in references. A name starts with a letter and holds letters, digits, underscores and dashes.", name),
			Subject:  rng.Ptr(),
		})
	}
	seen := l.seen[b.Type]
	if seen == nil {
		seen = make(map[string]hcl.Range)
		l.seen[b.Type] = seen
	}
	if prev, found := seen[name]; found {
		return append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Duplicate %s Name", UpperFirst(b.Type)),
			Detail:   fmt.Sprintf("A %s named %q was already declared at %s. Names are unique per block type; rename or remove one of them.", b.Type, name, prev.String()),
			Subject:  rng.Ptr(),
		}), true
	}
	seen[name] = b.DefRange
	return diags, false
}

// singleton reports a second proxy, registrar, flood or limits block.
func singleton(b *hcl.Block, prev *hcl.Range) hcl.Diagnostics {
	if prev == nil {
		return nil
	}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  fmt.Sprintf("Duplicate %s Block", UpperFirst(b.Type)),
		Detail:   fmt.Sprintf("A policy has at most one %s block and one was already declared at %s. Merge the two.", b.Type, prev.String()),
		Subject:  b.DefRange.Ptr(),
	}}
}

// nested returns the blocks of type typ in content, reporting any beyond
// the first when only one is allowed.
func nestedOne(content *hcl.BodyContent, typ string) (*hcl.Block, hcl.Diagnostics) {
	var first *hcl.Block
	var diags hcl.Diagnostics
	for _, b := range content.Blocks {
		if b.Type != typ {
			continue
		}
		if first != nil {
			diags = append(diags, singleton(b, &first.DefRange)...)
			continue
		}
		first = b
	}
	return first, diags
}

// UpperFirst returns s with its first byte upper-cased, for diagnostic
// summaries ("Duplicate Pool Name") and for error messages that start a
// sentence. The inputs are ASCII block types and Go error messages.
func UpperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// Block is what every decoded block has: its name and source ranges.
type Block struct {
	// Name is the block label ("" for proxy and registrar).
	Name string
	// DeclRange covers the block header; NameRange the label.
	DeclRange hcl.Range
	NameRange hcl.Range
}

func blockOf(b *hcl.Block) Block {
	bl := Block{DeclRange: b.DefRange, NameRange: b.DefRange}
	if len(b.Labels) > 0 {
		bl.Name, bl.NameRange = b.Labels[0], b.LabelRanges[0]
	}
	return bl
}

func validName(s string) bool { return hclsyntax.ValidIdentifier(s) }
