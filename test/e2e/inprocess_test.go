package e2e

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/sipfront/sipfront/compiler"
	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime"
	"github.com/sipfront/sipfront/runtime/state"
)

// inProcess is the runtime run inside the test, for tests that must look
// at its dialog table and call counters.
type inProcess struct {
	srv   *runtime.Server
	state *state.Store
	graph *graph.Graph
	addr  string
	log   *tailBuffer
}

// startInProcess compiles the policy at path, starts the runtime on it and
// stops it at cleanup. proxyAddr is the policy's UDP listener.
func startInProcess(t *testing.T, path, proxyAddr string) *inProcess {
	t.Helper()
	p := &inProcess{state: state.New(), addr: proxyAddr, log: newTail(1 << 20)}
	load := func() (*graph.Graph, error) {
		pol, diags := compiler.Load(path)
		if diags.HasErrors() {
			return nil, diags
		}
		return pol.Graph, nil
	}
	srv, err := runtime.New(runtime.Config{
		Load:   load,
		Logger: slog.New(slog.NewTextHandler(p.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		State:  p.state,
		Grace:  2 * time.Second,
	})
	if err != nil {
		t.Fatalf("runtime.New: %v", err)
	}
	p.srv, p.graph = srv, srv.Graph()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("runtime did not stop within 10s of its context ending")
		}
		if t.Failed() {
			t.Logf("runtime log (tail):\n%s", tailLines(p.log.String(), 60))
		}
	})
	select {
	case <-srv.Ready():
	case err := <-done:
		t.Fatalf("runtime stopped before it was ready: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("runtime not ready within 10s")
	}
	return p
}

// memberIDs returns the IDs of the members of the pool "boxes" in order.
func (p *inProcess) memberIDs() []graph.ID {
	var out []graph.ID
	for _, pl := range p.graph.Pools {
		for _, m := range pl.Members {
			out = append(out, m.ID)
		}
	}
	return out
}

// activeCalls returns the active call count of every member, in order.
func (p *inProcess) activeCalls() []int {
	ids := p.memberIDs()
	out := make([]int, len(ids))
	for i, id := range ids {
		out[i] = p.state.ActiveCalls(id)
	}
	return out
}
