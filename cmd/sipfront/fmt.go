package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/spf13/cobra"
)

type fmtOptions struct {
	check     bool
	diff      bool
	recursive bool
}

func newFmtCmd() *cobra.Command {
	var opts fmtOptions
	cmd := &cobra.Command{
		Use:   "fmt [-check] [-diff] [-recursive] PATH...",
		Short: "Rewrite policy files in canonical format",
		Long: `Rewrite every .hcl file under the given paths (files or directories) in the
canonical HCL layout: indentation, aligned equals signs, spacing.

Files with syntax errors are never rewritten: their diagnostics are printed
and fmt exits 1. Formatting is idempotent, so running fmt twice changes
nothing the second time.

With -check nothing is written: fmt lists the files that are not formatted
and exits 1 if there are any, which is what CI should run. With -diff the
changes are shown as a unified diff (and, without -check, also written).

Exit codes: 0 formatted (or nothing to do), 1 syntax errors or, with -check,
files that need formatting.`,
		Example: `  sipfront fmt examples/asterisk-platform
  sipfront fmt -check -diff policies/`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runFmt(cmd.OutOrStdout(), cmd.ErrOrStderr(), args, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.check, "check", false, "write nothing; list unformatted files and exit 1 if any")
	cmd.Flags().BoolVar(&opts.diff, "diff", false, "show the changes as a unified diff")
	cmd.Flags().BoolVar(&opts.recursive, "recursive", false, "also format .hcl files in subdirectories")
	return cmd
}

func init() { rootCmd.AddCommand(newFmtCmd()) }

func runFmt(stdout, stderr io.Writer, paths []string, opts fmtOptions) error {
	files, err := hclFiles(paths, opts.recursive)
	if err != nil {
		fmt.Fprintln(stderr, "error:", err)
		return exitCode(1)
	}
	failed, changed := false, 0
	for _, name := range files {
		did, err := fmtFile(stdout, stderr, name, opts)
		if err != nil {
			fmt.Fprintln(stderr, "error:", err)
			failed = true
			continue
		}
		if did {
			changed++
		}
	}
	if failed || (opts.check && changed > 0) {
		return exitCode(1)
	}
	return nil
}

// errSyntax marks a file that was not formatted because it does not parse;
// its diagnostics have been printed already.
var errSyntax = fmt.Errorf("syntax errors")

// fmtFile formats one file and reports whether it was (or, with -check,
// would be) changed. The file name is listed on stdout when it changes.
func fmtFile(stdout, stderr io.Writer, name string, opts fmtOptions) (bool, error) {
	src, err := os.ReadFile(name)
	if err != nil {
		return false, fmt.Errorf("reading policy file: %w", err)
	}
	out, diags := formatHCL(src, name)
	if diags.HasErrors() {
		f := &hcl.File{Bytes: src}
		if err := writeDiagnostics(stderr, map[string]*hcl.File{name: f}, diags); err != nil {
			return false, fmt.Errorf("%s: not formatted: %w; writing its diagnostics: %w", name, errSyntax, err)
		}
		return false, fmt.Errorf("%s: not formatted: %w", name, errSyntax)
	}
	if bytes.Equal(src, out) {
		return false, nil
	}
	fmt.Fprintln(stdout, name)
	if opts.diff {
		fmt.Fprint(stdout, unifiedDiff(name, name+" (formatted)", string(src), string(out)))
	}
	if opts.check {
		return true, nil
	}
	if err := writeFileKeepMode(name, out); err != nil {
		return false, err
	}
	return true, nil
}

// formatHCL returns the canonical form of src. It refuses input that does
// not parse: hclwrite would otherwise "format" a broken file into a
// differently broken one.
func formatHCL(src []byte, name string) ([]byte, hcl.Diagnostics) {
	if _, diags := hclsyntax.ParseConfig(src, name, hcl.InitialPos); diags.HasErrors() {
		return nil, diags
	}
	out := hclwrite.Format(src)
	// One trailing newline, as every other formatter in the toolchain.
	out = append(bytes.TrimRight(out, "\n"), '\n')
	if len(bytes.TrimSpace(out)) == 0 {
		out = nil
	}
	return out, nil
}

// writeFileKeepMode replaces name with data, keeping its permissions. It
// writes a temporary file beside it and renames it over name, so that a
// crash or a full disk leaves the old file or the new one, never half of
// one. A symbolic link is followed: its target is replaced, the link kept.
func writeFileKeepMode(name string, data []byte) (err error) {
	if real, err := filepath.EvalSymlinks(name); err == nil {
		name = real
	}
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(name); err == nil {
		mode = fi.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".fmt-*")
	if err != nil {
		return fmt.Errorf("writing formatted file: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			err = fmt.Errorf("writing formatted file %s: %w", name, err)
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}

// hclFiles expands paths into .hcl files in lexical order; a file named
// explicitly is taken whatever its extension.
func hclFiles(paths []string, recursive bool) ([]string, error) {
	var files []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", p, err)
		}
		if !fi.IsDir() {
			files = append(files, p)
			continue
		}
		found, err := hclFilesIn(p, recursive)
		if err != nil {
			return nil, err
		}
		files = append(files, found...)
	}
	return files, nil
}

func hclFilesIn(dir string, recursive bool) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != dir && (!recursive || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(d.Name(), ".hcl") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", dir, err)
	}
	sort.Strings(files)
	return files, nil
}
