// Package examples carries the example policies inside the sipfront binary,
// so that `sipfront demo` runs the quickstart on a machine that has nothing
// but the binary.
package examples

import "embed"

// Quickstart holds examples/quickstart (quickstart.hcl and its tests) under
// the directory "quickstart".
//
//go:embed quickstart/*.hcl
var Quickstart embed.FS
