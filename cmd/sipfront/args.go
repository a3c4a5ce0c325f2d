package main

import (
	"os"
	"strings"
)

// longFlags lists, per verb, the long flags that may also be written with
// a single dash as in Go and Terraform tools (`sipfront fmt -check`).
// pflag would read "-check" as the shorthands -c -h -e -c -k, so the
// arguments are rewritten before cobra parses them.
var longFlags = map[string][]string{
	"validate": {"json"},
	"fmt":      {"check", "diff", "recursive"},
	"test":     {"json", "run"},
	"plan":     {"json", "requests", "no-color"},
	"explain":  {"json", "method", "ruri", "from", "to", "source", "user-agent", "call-id", "header", "auth-user", "registered", "down", "in-dialog"},
	"graph":    {"format"},
}

func init() {
	if len(os.Args) > 1 {
		if args := goStyleFlags(os.Args[1:]); args != nil {
			rootCmd.SetArgs(args)
		}
	}
}

// goStyleFlags rewrites "-name" and "-name=value" into "--name..." for the
// long flags of the verb in args[0]. It returns nil when the verb is not one
// it knows, leaving cobra to read os.Args itself. A flag value that looks
// like one of the verb's flags (--user-agent -json) must be written with
// "=" (--user-agent=-json), which is never rewritten.
func goStyleFlags(args []string) []string {
	if len(args) == 0 {
		return nil
	}
	names, ok := longFlags[args[0]]
	if !ok {
		return nil
	}
	known := make(map[string]bool, len(names))
	for _, n := range names {
		known[n] = true
	}
	out := append([]string(nil), args...)
	for i := 1; i < len(out); i++ {
		a := out[i]
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") || strings.HasPrefix(a, "--") {
			continue
		}
		if name, _, _ := strings.Cut(a[1:], "="); known[name] {
			out[i] = "-" + a
		}
	}
	return out
}
