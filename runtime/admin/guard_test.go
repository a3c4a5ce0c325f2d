package admin

import (
	"github.com/sipfront/sipfront/runtime"
	"github.com/sipfront/sipfront/runtime/probe"
)

// The runtime's server and the prober are what serve wires in.
var (
	_ Proxy       = (*runtime.Server)(nil)
	_ ProbeStatus = (*probe.Prober)(nil)
)
