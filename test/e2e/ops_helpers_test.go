package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/admin"
)

// Helpers of the operations tests (ops_*_test.go): a `sipfront serve`
// with its admin API on a free port, ctl and plan run as the real binary,
// boxes that answer probes, and INVITE counts read from the boxes.

// opsPool describes the pool of an operations policy.
type opsPool struct {
	balance string
	probe   string // the probe block's body; "" for no probe block
	// failover is the failover block's body; "" for the default below.
	failover string
	members  []member
}

// opsPolicy renders a one-pool policy listening on udp and tcp of
// 127.0.0.1:proxyPort with its admin API on 127.0.0.1:adminPort.
func opsPolicy(proxyPort, adminPort int, p opsPool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "proxy {\n  listen       = [\"udp:%[1]s\", \"tcp:%[1]s\"]\n  advertise    = %[1]q\n  admin        = %[2]q\n  ring_timeout = \"30s\"\n}\n\n",
		addr(proxyPort), addr(adminPort))
	fmt.Fprintf(&b, "pool \"boxes\" {\n  balance = %q\n", p.balance)
	fo := p.failover
	if fo == "" {
		fo = "on = [408, 500, 502, 503, 504]\nmax_tries = 3\ntimeout = \"5s\""
	}
	fmt.Fprintf(&b, "  failover {\n    %s\n  }\n", strings.ReplaceAll(fo, "\n", "\n    "))
	if p.probe != "" {
		fmt.Fprintf(&b, "  probe {\n    %s\n  }\n", strings.ReplaceAll(p.probe, "\n", "\n    "))
	}
	for _, m := range p.members {
		w := max(m.weight, 1)
		fmt.Fprintf(&b, "  member %q {\n    uri    = \"sip:%s\"\n    weight = %d\n  }\n", m.name, addr(m.port), w)
	}
	b.WriteString("}\n\nroute \"default\" {\n  to = pool.boxes\n}\n")
	return b.String()
}

// opsProxy is a running `sipfront serve` with its admin API.
type opsProxy struct {
	*proxyProc
	url    string // admin API root
	path   string // policy file
	client *admin.Client
}

// startOps writes text (which must set admin to addr(adminPort)) and serves
// it, waiting until both SIP and the admin API answer.
func startOps(t *testing.T, text string, proxyPort, adminPort int) *opsProxy {
	t.Helper()
	path := writePolicy(t, text)
	p := startProxy(t, path, addr(proxyPort))
	o := &opsProxy{proxyProc: p, url: "http://" + addr(adminPort), path: path}
	o.client = admin.NewClient(o.url, os.Getenv(admin.TokenEnv))
	deadline := time.Now().Add(5 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := o.client.Status(ctx)
		cancel()
		var ae *admin.APIError
		if err == nil || errors.As(err, &ae) {
			return o
		}
		if time.Now().After(deadline) {
			t.Fatalf("admin API %s did not answer within 5s: %v\n%s", o.url, err, p.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// memberID is the graph ID of a member of the ops pool.
func memberID(name string) graph.ID { return graph.ID("pool.boxes.member." + name) }

// pools returns the members of the ops pool by name, removed ones included.
func (o *opsProxy) pools(t *testing.T) map[string]admin.MemberView {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ps, err := o.client.Pools(ctx)
	if err != nil {
		t.Fatalf("GET /v1/pools: %v", err)
	}
	out := map[string]admin.MemberView{}
	for _, p := range ps.Pools {
		for _, m := range p.Members {
			out[strings.TrimPrefix(string(m.ID), "pool.boxes.member.")] = m
		}
	}
	for _, m := range ps.Removed {
		out[strings.TrimPrefix(string(m.ID), "pool.boxes.member.")] = m
	}
	return out
}

// waitMember polls /v1/pools every 20 ms until ok holds for the member or
// limit passes; it returns the member and how long it took.
func (o *opsProxy) waitMember(t *testing.T, name string, limit time.Duration, what string, ok func(admin.MemberView) bool) (admin.MemberView, time.Duration) {
	t.Helper()
	start := time.Now()
	for {
		m := o.pools(t)[name]
		if ok(m) {
			return m, time.Since(start)
		}
		if time.Since(start) > limit {
			t.Fatalf("%s: not %s within %v; last seen %+v", name, what, limit, m)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// activeCalls reads the proxy's total of active calls.
func (o *opsProxy) activeCalls(t *testing.T) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := o.client.Status(ctx)
	if err != nil {
		t.Fatalf("GET /v1/status: %v", err)
	}
	return st.ActiveCalls
}

// waitActive polls until the proxy counts n active calls (at most limit).
func (o *opsProxy) waitActive(t *testing.T, n int, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		got := o.activeCalls(t)
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("active calls %d, want %d within %v", got, n, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// runSipfront runs the sipfront binary with args (bounded to 30 s) and returns its
// output and exit code.
func runSipfront(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("sipfront %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errb.String(), code
}

// ctl runs `sipfront ctl --admin URL args...` and fails the test unless it
// exits 0.
func (o *opsProxy) ctl(t *testing.T, args ...string) string {
	t.Helper()
	stdout, stderr, code := runSipfront(t, nil, append([]string{"ctl", "--admin", o.url}, args...)...)
	if code != 0 {
		t.Fatalf("sipfront ctl %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout, stderr)
	}
	return stdout
}

// startProbedBox runs a sipp UAS box that also answers OPTIONS (-aa), so
// that probes find it healthy.
func startProbedBox(t *testing.T, name, scen string, port int) *sippProc {
	t.Helper()
	s := startSipp(t, name, "-sf", scenario(scen), "-i", "127.0.0.1", "-p", strconv.Itoa(port), "-aa")
	waitUDPBound(t, port)
	return s
}

// boxCount reads a box's INVITE count from its live counts file, false
// when sipp has not written a data line yet.
func boxCount(b *sippProc) (int64, bool) {
	files, _ := filepath.Glob(filepath.Join(b.dir, "*_counts.csv"))
	if len(files) == 0 {
		return 0, false
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		return 0, false
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) < 2 {
		return 0, false
	}
	names, values := strings.Split(lines[0], ";"), strings.Split(lines[len(lines)-1], ";")
	best, val := "", int64(0)
	for i, n := range names {
		if i >= len(values) || !strings.HasSuffix(n, "_INVITE_Recv") || (best != "" && n > best) {
			continue
		}
		v, err := strconv.ParseInt(strings.TrimSpace(values[i]), 10, 64)
		if err != nil {
			continue
		}
		best, val = n, v
	}
	return val, best != ""
}

// boxCounts reads every box's INVITE count (0 for a box without a data
// line yet).
func boxCounts(boxes []*sippProc) []int64 {
	out := make([]int64, len(boxes))
	for i, b := range boxes {
		out[i], _ = boxCount(b)
	}
	return out
}

// waitDeltas polls the boxes' counts files (sipp rewrites them every
// second) until the INVITEs received since before add up to total, or 6 s
// pass; it returns the per-box increase.
func waitDeltas(t *testing.T, boxes []*sippProc, before []int64, total int64) []int64 {
	t.Helper()
	deadline := time.Now().Add(6 * time.Second)
	for {
		now := boxCounts(boxes)
		var sum int64
		d := make([]int64, len(boxes))
		for i := range now {
			d[i] = now[i] - before[i]
			sum += d[i]
		}
		if sum >= total { // every call is accounted for: no more will come
			return d
		}
		if time.Now().After(deadline) {
			t.Errorf("boxes received %v INVITEs (sum %d) since %v, want %d in all", d, sum, before, total)
			return d
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// settled polls the boxes' counts files until they add up to total (every
// INVITE sent so far is counted), or 6 s pass, and returns the counts: a
// fresh baseline for waitDeltas.
func settled(t *testing.T, boxes []*sippProc, total int64) []int64 {
	t.Helper()
	return waitDeltas(t, boxes, make([]int64, len(boxes)), total)
}
