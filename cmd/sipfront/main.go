// Command sipfront checks, tests, plans and serves declarative SIP edge
// policies. Run `sipfront --help` for the verbs.
package main

import (
	"errors"
	"fmt"
	"os"
)

func main() {
	if len(os.Args) > 1 {
		rootCmd.SetArgs(goStyleFlags(rootCmd, os.Args[1:]))
	}
	err := rootCmd.Execute()
	if err == nil {
		return
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(os.Stderr, ee.msg)
		}
		os.Exit(ee.code)
	}
	fmt.Fprintln(os.Stderr, "error:", err)
	os.Exit(1)
}
