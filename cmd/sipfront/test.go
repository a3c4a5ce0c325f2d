package main

import (
	"fmt"
	"io"
	"regexp"

	"github.com/spf13/cobra"

	"github.com/sipfront/sipfront/compiler"
	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/compiler/plan"
)

type testOptions struct {
	verbose bool
	asJSON  bool
	run     string
}

func newTestCmd() *cobra.Command {
	var opts testOptions
	cmd := &cobra.Command{
		Use:   "test PATH [-v] [-json] [-run REGEXP]",
		Short: "Run the policy's test blocks against the compiled graph",
		Long: `Compile a policy and run every test block: the test's request goes through
the decision graph (filters, auth, aliases, routes, target) with no network,
and the decision is compared with the expect block. Only the attributes an
expect block sets are compared.

Each failure prints as "FAIL name (file:line)" followed by what was expected
and what was decided; -v also prints "ok name" for each passing test. The
last line is always "N passed, M failed".

With -json, stdout holds one JSON document with every test's result.

Exit codes: 0 all tests passed, 1 a test failed or the policy does not compile.`,
		Example: `  sipfront test examples/asterisk-platform
  sipfront test -v -run 'DID' examples/asterisk-platform`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTests(cmd, args[0], opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.verbose, "verbose", "v", false, "also list the tests that pass")
	cmd.Flags().BoolVar(&opts.asJSON, "json", false, "print results as JSON")
	cmd.Flags().StringVar(&opts.run, "run", "", "run only the tests whose name matches this regular expression")
	return cmd
}

func init() { rootCmd.AddCommand(newTestCmd()) }

// testJSON is one test's result in -json output.
type testJSON struct {
	Name     string       `json:"name"`
	File     string       `json:"file"`
	Line     int          `json:"line"`
	Passed   bool         `json:"passed"`
	Failures []string     `json:"failures"`
	Decided  plan.Outcome `json:"decided"`
}

func runTests(cmd *cobra.Command, path string, opts testOptions) error {
	var filter *regexp.Regexp
	if opts.run != "" {
		re, err := regexp.Compile(opts.run)
		if err != nil {
			return fmt.Errorf("-run: %w", err)
		}
		filter = re
	}
	p, err := loadPolicy(cmd, path)
	if err != nil {
		return err
	}
	var results []compiler.TestResult
	for _, t := range p.Tests {
		if filter == nil || filter.MatchString(t.Name) {
			results = append(results, compiler.RunTest(p.Graph, t))
		}
	}
	if filter != nil && len(results) == 0 {
		// A -run that selects nothing is a mistake, not a success.
		return &exitError{code: 1, msg: fmt.Sprintf("no tests match -run %s", opts.run)}
	}
	failed := 0
	for _, r := range results {
		if !r.Passed() {
			failed++
		}
	}
	if opts.asJSON {
		err = writeTestJSON(cmd.OutOrStdout(), results, failed)
	} else {
		err = writeTestResults(cmd.OutOrStdout(), results, opts.verbose, failed)
	}
	if err != nil {
		return err
	}
	if failed > 0 {
		return exitCode(1)
	}
	return nil
}

func writeTestResults(w io.Writer, results []compiler.TestResult, verbose bool, failed int) error {
	for _, r := range results {
		t := r.Test
		if r.Passed() {
			if verbose {
				fmt.Fprintf(w, "ok   %s\n", t.Name)
			}
			continue
		}
		fmt.Fprintf(w, "FAIL %s (%s:%d)\n", t.Name, t.Pos.File, t.Pos.Line)
		for _, f := range r.Failures {
			fmt.Fprintf(w, "       %s\n", f)
		}
		if r.Decision.Action != 0 {
			fmt.Fprintf(w, "       decision: %s\n", outcomeOf(r).String())
		}
	}
	_, err := fmt.Fprintf(w, "%d passed, %d failed\n", len(results)-failed, failed)
	return err
}

func writeTestJSON(w io.Writer, results []compiler.TestResult, failed int) error {
	doc := struct {
		Tests  []testJSON `json:"tests"`
		Passed int        `json:"passed"`
		Failed int        `json:"failed"`
	}{Tests: []testJSON{}, Passed: len(results) - failed, Failed: failed}
	for _, r := range results {
		failures := r.Failures
		if failures == nil {
			failures = []string{}
		}
		doc.Tests = append(doc.Tests, testJSON{Name: r.Test.Name, File: r.Test.Pos.File, Line: r.Test.Pos.Line,
			Passed: r.Passed(), Failures: failures, Decided: outcomeOf(r)})
	}
	return writeJSON(w, doc)
}

// outcomeOf summarises a test's decision. The rewritten R-URI user is not
// kept in TestResult, so it is left out here.
func outcomeOf(r compiler.TestResult) plan.Outcome {
	o := plan.NewOutcome(r.Decision, &graph.Request{})
	o.RURI = ""
	return o
}
