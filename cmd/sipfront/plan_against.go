package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sipfront/sipfront/compiler"
	"github.com/sipfront/sipfront/compiler/plan"
	"github.com/sipfront/sipfront/lang"
	"github.com/sipfront/sipfront/runtime/admin"
)

// againstTimeout bounds the admin API calls of plan --against.
const againstTimeout = 30 * time.Second

// runPlanAgainst plans NEW against the proxy whose admin API is at url: it
// compiles the running policy from its fetched sources, checks the hash,
// plans OLD -> NEW as runPlan does and appends the runtime drift (overrides)
// and the live calls pinned to members NEW removes.
func runPlanAgainst(cmd *cobra.Command, url, newPath string, opts planOptions) error {
	fail := func(format string, args ...any) error {
		fmt.Fprintf(cmd.ErrOrStderr(), "error: "+format+"\n", args...)
		return exitCode(1)
	}
	newP, err := loadPolicy(cmd, newPath)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), againstTimeout)
	defer cancel()
	token := os.Getenv(admin.TokenEnv)
	src, err := admin.NewClient(url, token).Policy(ctx)
	if err != nil {
		return fail("fetching the running policy: %v", err)
	}
	oldP, root, err := compileSources(cmd, src)
	if err != nil {
		return err
	}
	snap, err := admin.FetchSnapshot(ctx, url, token)
	if err != nil {
		return fail("%v", err)
	}
	if snap.Hash != src.Hash {
		return fail("the running policy changed while it was read (%s, then %s); run the plan again", admin.ShortHash(src.Hash), admin.ShortHash(snap.Hash))
	}
	if opts.live, err = liveRegistered(ctx, url); err != nil {
		return fail("fetching the live registrations: %v", err)
	}
	oldName := fmt.Sprintf("%s (running %s)", url, admin.ShortHash(src.Hash))
	return writePlan(cmd, oldName, oldP, newPath, newP, opts, func(p *plan.Plan) {
		relocate(p, root, src.Root)
		p.Sections = append(p.Sections, snap.Drift(newP.Graph).Sections()...)
	})
}

// compileSources writes the running policy's files into a temporary
// directory, compiles them and checks that they give the proxy's hash. It
// returns the policy and the directory its file names are relative to.
func compileSources(cmd *cobra.Command, src *admin.PolicySources) (*compiler.Policy, string, error) {
	dir, err := os.MkdirTemp("", "sipfront-plan-")
	if err != nil {
		fmt.Fprintln(cmd.ErrOrStderr(), "error:", err)
		return nil, "", exitCode(1)
	}
	defer os.RemoveAll(dir)
	root, err := src.WriteTo(dir)
	if err != nil {
		fmt.Fprintln(cmd.ErrOrStderr(), "error: the running policy's files:", err)
		return nil, "", exitCode(1)
	}
	pol, diags := compiler.Load(root)
	if diags.HasErrors() || pol.Graph == nil {
		if unset := lang.UnsetEnv(diags); len(unset) > 0 {
			fmt.Fprintf(cmd.ErrOrStderr(), "error: the running policy (%s) reads %s with env() and no default, and %s not set here: "+
				"plan --against compiles the running policy locally, so export %s with the proxy's %s and run the plan again:\n",
				admin.ShortHash(src.Hash), envList(unset), plural(len(unset), "it is", "they are"),
				plural(len(unset), "it", "them"), plural(len(unset), "value", "values"))
		} else {
			fmt.Fprintf(cmd.ErrOrStderr(), "error: the running policy (%s) does not compile with this sipfront:\n", admin.ShortHash(src.Hash))
		}
		_ = writeDiagnostics(cmd.ErrOrStderr(), pol.Files, diags)
		return nil, "", exitCode(1)
	}
	if pol.Graph.Hash != src.Hash {
		fmt.Fprintf(cmd.ErrOrStderr(), "error: the running policy's files compile to %s here, but the proxy runs %s; are they the same sipfront version?\n",
			admin.ShortHash(pol.Graph.Hash), admin.ShortHash(src.Hash))
		return nil, "", exitCode(1)
	}
	return pol, root, nil
}

// envList renders variable names for a message: "X", "X and Y",
// "X, Y and Z".
func envList(names []string) string {
	if len(names) == 1 {
		return "the environment variable " + names[0]
	}
	return "the environment variables " + strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// relocate rewrites positions in the temporary copy of the running policy
// to the paths the files have on the proxy's host.
func relocate(p *plan.Plan, tmpRoot, proxyRoot string) {
	fix := func(file string) string {
		rel, ok := strings.CutPrefix(file, tmpRoot+string(filepath.Separator))
		if !ok || proxyRoot == "" {
			return file
		}
		return filepath.ToSlash(filepath.Join(proxyRoot, rel))
	}
	for i := range p.Changes {
		p.Changes[i].Pos.File = fix(p.Changes[i].Pos.File)
	}
	for i := range p.Decisions {
		p.Decisions[i].Probe.Pos.File = fix(p.Decisions[i].Probe.Pos.File)
	}
}
