package runtime

import (
	"strings"
	"testing"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/registrar"
)

// registrarGraph is a graph whose routes send REGISTER and calls to
// registered users to the registrar.
func registrarGraph(t *testing.T) *graph.Graph {
	return testGraph(t, freePort(t), nil, func(g *graph.Graph) {
		g.Pools = nil
		g.Proxy.Domains = []string{"sipfront.test"}
		g.Registrar = &graph.Registrar{ID: "registrar", MaxContacts: 1, MaxExpires: time.Hour, MinExpires: 30 * time.Second}
		g.Routes = []*graph.Route{{ID: "route.reg", Name: "reg", Target: graph.TargetRegistrar, Fork: graph.ForkParallel}}
	})
}

// TestRegistrarServedOnlyWithOne: a Server without a registrar refuses a
// policy with one, by name; with one it serves it and hands the graph's
// limits to the registrar (on New and on every reload).
func TestRegistrarServedOnlyWithOne(t *testing.T) {
	g := registrarGraph(t)
	load := func() (*graph.Graph, error) { return g, nil }
	if _, err := New(Config{Load: load, Logger: quiet}); err == nil || !strings.Contains(err.Error(), "registrar") {
		t.Fatalf("New without a registrar: %v, want the registrar refused", err)
	}
	reg, err := registrar.New(registrar.MemStore{}, registrar.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{Load: load, Logger: quiet, Registrar: reg}); err != nil {
		t.Fatalf("New with a registrar: %v", err)
	}
	req := &registrar.Request{User: "alice", Domain: "sipfront.test", CallID: "c", CSeq: 1, Expires: 10,
		Contacts: []registrar.Contact{{URI: "sip:alice@10.0.0.1", Expires: registrar.NoExpires, Q: registrar.QUnset}}}
	if res := reg.Register(req); res.Status != 423 || res.MinExpires != 30 {
		t.Fatalf("the graph's min_expires is not in force: %d %d", res.Status, res.MinExpires)
	}
	req.Domain = "elsewhere.test"
	if res := reg.Register(req); res.Status != 404 {
		t.Fatalf("a foreign domain: %d, want 404", res.Status)
	}
}
