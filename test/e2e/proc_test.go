package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sipfront/sipfront/internal/netutil"
)

// tailBuffer keeps the last max bytes written to it; sipp redraws its
// screen forever on a non-terminal stdout, so output is bounded.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func newTail(max int) *tailBuffer { return &tailBuffer{max: max} }

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// freePort returns a port of 127.0.0.1 free for both UDP and TCP at the
// time of the call (the proxy listens on both with one port).
func freePort(t testing.TB) int {
	t.Helper()
	port, err := netutil.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// addr returns 127.0.0.1:port.
func addr(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// proxyProc is a running `sipfront serve`.
type proxyProc struct {
	cmd  *exec.Cmd
	log  *tailBuffer
	addr string
	done chan struct{}
	err  error
}

// startProxy runs `sipfront serve policy [args]`, waits until it answers
// OPTIONS on udp addr, and stops it (SIGTERM, then SIGKILL) at cleanup.
func startProxy(t testing.TB, policy, proxyAddr string, args ...string) *proxyProc {
	t.Helper()
	p := &proxyProc{log: newTail(1 << 20), addr: proxyAddr, done: make(chan struct{})}
	if !hasFlag(args, "--state-dir") {
		// Each proxy keeps its registrations in its own directory: never
		// the host's default, never another test's.
		args = append(args, "--state-dir", t.TempDir())
	}
	p.cmd = exec.Command(binary, append([]string{"serve", policy}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start sipfront serve: %v", err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			t.Logf("sipfront serve log (tail):\n%s", tailLines(p.log.String(), 60))
		}
	})
	p.waitReady(t)
	return p
}

// hasFlag reports whether args hold flag (as "--flag value" or "--flag=value").
func hasFlag(args []string, flag string) bool {
	for _, a := range args {
		if a == flag || strings.HasPrefix(a, flag+"=") {
			return true
		}
	}
	return false
}

// waitReady polls with OPTIONS until the proxy answers, the process exits
// or 15 s pass.
func (p *proxyProc) waitReady(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			t.Fatalf("sipfront serve exited before it was ready: %v\n%s", p.err, p.log.String())
		default:
		}
		if code, err := options(p.addr, "udp", 300*time.Millisecond); err == nil && code == 200 {
			return
		}
	}
	t.Fatalf("sipfront serve did not answer OPTIONS on %s within 15s\n%s", p.addr, p.log.String())
}

// signal sends sig to the proxy.
func (p *proxyProc) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v to sipfront: %v", sig, err)
	}
}

// stop ends the proxy gracefully, or kills it after 10 s. SIGTERM must
// drain and exit 0: a proxy that exits non-zero by itself (on SIGTERM, or
// earlier) fails the test; one the harness had to kill has been reported
// already.
func (p *proxyProc) stop(t testing.TB) {
	t.Helper()
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			t.Errorf("sipfront serve ignored SIGTERM for 10s; killing it")
			_ = p.cmd.Process.Kill()
			<-p.done
			return
		}
	}
	if p.err != nil {
		t.Errorf("sipfront serve did not exit cleanly: %v (%s); want a drain and exit 0", p.err, p.cmd.ProcessState)
	}
}

// sippProc is one running sipp.
type sippProc struct {
	name string
	cmd  *exec.Cmd
	dir  string
	out  *tailBuffer
	done chan struct{}
	err  error
}

// startSipp runs sipp with args in its own directory (for its trace files)
// and kills it at cleanup if it is still running.
func startSipp(t *testing.T, name string, args ...string) *sippProc {
	t.Helper()
	needSipp(t)
	s := &sippProc{name: name, dir: t.TempDir(), out: newTail(64 << 10), done: make(chan struct{})}
	base := []string{"-nostdin", "-trace_err", "-trace_stat", "-trace_counts", "-fd", "1"}
	s.cmd = exec.Command("sipp", append(base, args...)...)
	s.cmd.Dir = s.dir
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start sipp %s: %v", name, err)
	}
	go func() { s.err = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		s.kill()
		if t.Failed() {
			s.logErrors(t)
		}
	})
	return s
}

// startBox runs a sipp UAS scenario on 127.0.0.1:port.
func startBox(t *testing.T, name, scen string, port int) *sippProc {
	t.Helper()
	s := startSipp(t, name, "-sf", scenario(scen), "-i", "127.0.0.1", "-p", strconv.Itoa(port))
	waitUDPBound(t, port)
	return s
}

// waitUDPBound waits until something listens on udp port (sipp takes a
// moment to start).
func waitUDPBound(t *testing.T, port int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.ListenPacket("udp", addr(port))
		if err != nil {
			return // bound by the box
		}
		c.Close()
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("nothing bound udp %s within 5s", addr(port))
}

// caller describes a sipp UAC run.
type caller struct {
	scenario string
	service  string // R-URI user
	calls    int
	rate     int
	limit    int // concurrent calls
	holdMS   int // -d, the length of <pause/>
	extra    []string
}

// uacResult is what a sipp caller run reports.
type uacResult struct {
	exitCode             int
	created, ok, failed  int64
	output, errorsLogged string
}

// runCaller runs a sipp UAC to completion (bounded by -timeout and a hard
// kill) and returns its result.
func runCaller(t *testing.T, proxyAddr string, c caller) uacResult {
	t.Helper()
	s := startCaller(t, proxyAddr, c)
	return s.result(t, time.Duration(c.calls/max(c.rate, 1))*time.Second+90*time.Second)
}

// startCaller starts a sipp UAC without waiting for it.
func startCaller(t *testing.T, proxyAddr string, c caller) *sippProc {
	t.Helper()
	if c.limit == 0 {
		c.limit = 200
	}
	args := []string{proxyAddr, "-sf", scenario(c.scenario), "-i", "127.0.0.1", "-p", strconv.Itoa(freePort(t)),
		"-s", c.service, "-m", strconv.Itoa(c.calls), "-r", strconv.Itoa(c.rate), "-l", strconv.Itoa(c.limit),
		"-d", strconv.Itoa(c.holdMS), "-recv_timeout", "20000",
		// A global bound: sipp quits by itself even if calls hang.
		"-timeout", strconv.Itoa(c.calls/max(c.rate, 1)+60) + "s", "-timeout_error"}
	return startSipp(t, "caller", append(args, c.extra...)...)
}

// result waits for a caller to exit (killing it after limit) and reads its
// final statistics.
func (s *sippProc) result(t *testing.T, limit time.Duration) uacResult {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(limit):
		t.Errorf("sipp %s still running after %v; killing it", s.name, limit)
		s.kill()
	}
	r := uacResult{exitCode: s.cmd.ProcessState.ExitCode(), output: s.out.String(), errorsLogged: s.errorLog()}
	stats := lastCSV(t, s.dir, "_.csv")
	r.created, r.ok, r.failed = stats["TotalCallCreated"], stats["SuccessfulCall(C)"], stats["FailedCall(C)"]
	return r
}

// stop asks sipp to finish gracefully (SIGUSR1: no new calls, final trace
// lines written), kills it after 5 s, and returns its counts file.
func (s *sippProc) stop(t *testing.T) map[string]int64 {
	t.Helper()
	select {
	case <-s.done:
	default:
		_ = s.cmd.Process.Signal(syscall.SIGUSR1)
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			// A box still holding calls (one that never answers) does not
			// finish by itself; its counts file is at most 1 s old.
			s.kill()
		}
	}
	return lastCSV(t, s.dir, "_counts.csv")
}

// invites returns how many initial INVITEs a box received (retransmissions
// are counted apart by sipp).
func invites(counts map[string]int64) int64 { return column(counts, "_INVITE_Recv") }

// column returns the first counts column whose name ends with suffix.
func column(counts map[string]int64, suffix string) int64 {
	best := ""
	for k := range counts {
		// Columns are "<index>_<message>_<what>"; the lowest index is the
		// first occurrence in the scenario.
		if strings.HasSuffix(k, suffix) && (best == "" || k < best) {
			best = k
		}
	}
	return counts[best]
}

func (s *sippProc) kill() {
	select {
	case <-s.done:
	default:
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// errorLog returns sipp's error trace file (-trace_err), if any.
func (s *sippProc) errorLog() string {
	files, _ := filepath.Glob(filepath.Join(s.dir, "*_errors.log"))
	var b strings.Builder
	for _, f := range files {
		data, _ := os.ReadFile(f)
		b.Write(data)
	}
	return b.String()
}

func (s *sippProc) logErrors(t *testing.T) {
	if e := s.errorLog(); e != "" {
		t.Logf("sipp %s errors (tail):\n%s", s.name, tailLines(e, 40))
	}
}

// lastCSV reads the last line of the sipp trace file ending in suffix
// (";"-separated, header on the first line) as column -> integer value;
// non-numeric columns are left out.
func lastCSV(t *testing.T, dir, suffix string) map[string]int64 {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*"+suffix))
	if len(files) == 0 {
		t.Errorf("no sipp trace file *%s in %s", suffix, dir)
		return nil
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Errorf("read %s: %v", files[0], err)
		return nil
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) < 2 {
		t.Errorf("sipp trace file %s has no data line", files[0])
		return nil
	}
	names := strings.Split(lines[0], ";")
	values := strings.Split(lines[len(lines)-1], ";")
	out := map[string]int64{}
	for i, n := range names {
		if i >= len(values) {
			break
		}
		if v, err := strconv.ParseInt(strings.TrimSpace(values[i]), 10, 64); err == nil {
			out[n] = v
		}
	}
	return out
}

// tailLines returns the last n lines of s.
func tailLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// writeFile writes data to dir/name and returns the path.
func writeFile(t *testing.T, dir, name, data string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
	return path
}

// checkCaller fails the test unless every call of a sipp caller succeeded.
func checkCaller(t *testing.T, r uacResult, want int) {
	t.Helper()
	if r.exitCode != 0 || r.failed != 0 || r.ok != int64(want) {
		t.Errorf("caller: exit %d, %d created, %d successful, %d failed; want exit 0 and %d successful",
			r.exitCode, r.created, r.ok, r.failed, want)
		if r.errorsLogged != "" {
			t.Logf("caller errors (tail):\n%s", tailLines(r.errorsLogged, 40))
		}
	}
}

var errNoResponse = errors.New("no response")

// bytesOf is a small helper for building raw messages with CRLF ends.
func crlf(lines ...string) []byte {
	var b bytes.Buffer
	for _, l := range lines {
		b.WriteString(l)
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

var _ = fmt.Sprintf
