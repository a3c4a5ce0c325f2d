package main

import (
	"github.com/spf13/cobra"
)

// rootCmd is the sipfront command. Each verb lives in its own file and adds
// itself in an init function, so verbs can be written independently.
var rootCmd = &cobra.Command{
	Use:   "sipfront",
	Short: "A declarative SIP edge proxy for Asterisk pools",
	Long: `sipfront compiles HCL policy files (filters, auth, pools, carriers, routes
with CEL conditions) into an immutable routing decision graph and serves it as
a SIP proxy built on sipgo.

Check and review a policy before it ships:
  sipfront validate examples/asterisk-platform
  sipfront test examples/asterisk-platform
  sipfront plan old/ new/`,
	SilenceUsage:  true,
	SilenceErrors: true,
}

// exitError makes a command exit with a given code. msg, when set, is
// printed to stderr; commands that already printed their output leave it
// empty.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// exitCode returns an error that makes sipfront exit with code.
func exitCode(code int) error { return &exitError{code: code} }
