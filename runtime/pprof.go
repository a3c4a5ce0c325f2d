package runtime

import (
	"context"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"time"
)

// pprofEnv names the environment variable that turns on profiling: when it
// holds an address (127.0.0.1:6060), Run serves net/http/pprof there for as
// long as it runs. Unset (the default), nothing is served. It is meant for
// profiling under load (bench/compare); expose it on loopback only.
const pprofEnv = "SIPFRONT_PPROF"

// startPprof serves the pprof handlers on a private mux at $SIPFRONT_PPROF
// and returns the function that stops it.
func (s *Server) startPprof() func() {
	addr := os.Getenv(pprofEnv)
	if addr == "" {
		return func() {}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		s.log.Warn("pprof not served", "env", pprofEnv, "addr", addr, "error", err)
		return func() {}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	s.log.Warn("pprof served: profiling is on", "env", pprofEnv, "addr", ln.Addr().String())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = hs.Shutdown(ctx)
	}
}
