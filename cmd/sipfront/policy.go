package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/sipfront/sipfront/compiler"
)

// loadPolicy loads and compiles the policy at path (a directory or one
// file). Every diagnostic, warnings included, is printed to the command's
// stderr in the shared format. On errors it returns the partial policy and
// exitCode(1); the caller returns that error from RunE unchanged.
func loadPolicy(cmd *cobra.Command, path string) (*compiler.Policy, error) {
	p, diags := compiler.Load(path)
	if len(diags) > 0 {
		if err := writeDiagnostics(cmd.ErrOrStderr(), p.Files, diags); err != nil {
			return p, fmt.Errorf("writing diagnostics: %w", err)
		}
	}
	if diags.HasErrors() || p.Graph == nil {
		return p, exitCode(1)
	}
	return p, nil
}

// colorOutput reports whether cmd's stdout is a terminal that wants colour
// (https://no-color.org is honoured).
func colorOutput(cmd *cobra.Command) bool {
	f, ok := cmd.OutOrStdout().(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
