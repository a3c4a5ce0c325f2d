package main

import (
	"strings"

	"github.com/spf13/cobra"
)

// goStyleFlags lets every long flag be written with a single dash, as in Go
// and Terraform tools (`sipfront fmt -check`, `sipfront serve -watch p`).
// pflag would read "-check" as the shorthands -c -h -e -c -k, so main
// rewrites the arguments before cobra parses them.
//
// It finds the command args name under root and rewrites "-name" and
// "-name=value" into "--name..." for every flag longer than one character
// that the command has, its own or inherited from its parents. Finding the
// command again after a rewrite lets a flag written before a subcommand
// (`ctl -admin URL pools`) be read right. Everything after "--" is left
// alone, and so is the value of a flag that takes one (`--user-agent -json`).
// args itself is not changed.
func goStyleFlags(root *cobra.Command, args []string) []string {
	out := append([]string(nil), args...)
	var prev *cobra.Command
	for range 4 { // the depth of the command tree bounds the rounds
		cmd, _, _ := root.Find(out)
		if cmd == nil || cmd == prev {
			break
		}
		prev = cmd
		rewriteLongFlags(cmd, out)
	}
	return out
}

// rewriteLongFlags rewrites, in place, the single-dash long flags of cmd.
func rewriteLongFlags(cmd *cobra.Command, args []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return
		}
		var name string
		var hasValue bool
		switch {
		case strings.HasPrefix(a, "--"):
			name, _, hasValue = strings.Cut(a[2:], "=")
		case strings.HasPrefix(a, "-") && len(a) > 2:
			name, _, hasValue = strings.Cut(a[1:], "=")
			if known, _ := longFlag(cmd, name); len(name) < 2 || !known {
				continue
			}
			args[i] = "-" + a
		case strings.HasPrefix(a, "-") && len(a) == 2:
			if known, takesValue := shortFlag(cmd, a[1:]); known && takesValue {
				i++ // its value
			}
			continue
		default:
			continue
		}
		if known, takesValue := longFlag(cmd, name); known && takesValue && !hasValue {
			i++ // "--name value": the value is never a flag
		}
	}
}

// longFlag reports whether cmd has the flag name, its own or inherited,
// and whether the flag needs a value (it is not a boolean).
func longFlag(cmd *cobra.Command, name string) (known, takesValue bool) {
	f := cmd.Flags().Lookup(name)
	if f == nil {
		f = cmd.InheritedFlags().Lookup(name)
	}
	if f == nil {
		return false, false
	}
	return true, f.NoOptDefVal == ""
}

// shortFlag is longFlag for a one-letter shorthand.
func shortFlag(cmd *cobra.Command, short string) (known, takesValue bool) {
	f := cmd.Flags().ShorthandLookup(short)
	if f == nil {
		f = cmd.InheritedFlags().ShorthandLookup(short)
	}
	if f == nil {
		return false, false
	}
	return true, f.NoOptDefVal == ""
}
