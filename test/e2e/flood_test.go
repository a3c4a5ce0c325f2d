package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sipfront/sipfront/runtime/admin"
)

// TestFloodControl floods the proxy from one source (thousands of requests
// a second, bounded in count) while sipp places calls from another: the
// flood is cut to max_requests within the window and the calls all
// succeed. Then requests from 20000 source addresses (127.1.0.0/16) fill
// the flood table: it holds at most max_sources and the proxy's memory
// stays bounded.
func TestFloodControl(t *testing.T) {
	boxes, members := threeBoxes(t, "uas.xml")
	_ = boxes
	port, adminPort := freePort(t), freePort(t)
	const maxRequests, maxSources = 200, 1024
	extra := fmt.Sprintf("flood {\n  window       = \"2s\"\n  max_requests = %d\n  block        = \"30s\"\n  action       = \"drop\"\n  max_sources  = %d\n}\n\n", maxRequests, maxSources)
	policy := policyText(port, pool{balance: "round-robin", members: members}, extra)
	policy = strings.Replace(policy, "ring_timeout = \"30s\"", fmt.Sprintf("ring_timeout = \"30s\"\n  admin = %q", addr(adminPort)), 1)
	p := startProxy(t, writePolicy(t, policy), addr(port))
	api := admin.NewClient("http://"+addr(adminPort), "")

	// Calls from 127.0.0.2: 60 calls at 20 a second, 3 requests each.
	const calls = 60
	sipp := startSipp(t, "caller", p.addr, "-sf", scenario("uac.xml"), "-i", "127.0.0.2", "-p", strconv.Itoa(freePort(t)),
		"-s", "alice", "-m", strconv.Itoa(calls), "-r", "20", "-l", "100", "-d", "100", "-recv_timeout", "20000",
		"-timeout", "60s", "-timeout_error")

	// The flood from 127.0.0.3: OPTIONS to the proxy, which it answers
	// itself, 12000 of them at about 4000 a second.
	answered, sent := flood(t, p.addr, "127.0.0.3", 12000, 4000)
	t.Logf("flood: %d sent, %d answered", sent, answered)
	if answered == 0 || answered > maxRequests+maxRequests/4 {
		t.Errorf("%d of %d flood requests answered, want at most about %d (max_requests per window, then blocked)", answered, sent, maxRequests)
	}

	r := sipp.result(t, 90*time.Second)
	stats := lastCSV(t, sipp.dir, "_.csv")
	if ok, failed := stats["SuccessfulCall(C)"], stats["FailedCall(C)"]; ok != calls || failed != 0 {
		t.Errorf("calls from the other source: %d ok, %d failed (exit %d), want %d ok", ok, failed, r.exitCode, calls)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var blocked admin.Flood
	if data, err := api.Do(ctx, "GET", admin.FloodPath(true), nil); err != nil || jsonUnmarshal(data, &blocked) != nil {
		t.Fatalf("GET /v1/flood: %v", err)
	}
	if len(blocked.Entries) != 1 || blocked.Entries[0].IP != "127.0.0.3" {
		t.Errorf("blocked sources %+v, want only 127.0.0.3", blocked.Entries)
	}

	// Address cycling: one request from each of 20000 sources. Each is
	// counted by flood control (before any other check) and then answered
	// 400 by the edge (Max-Forwards 300), so no sipgo transaction or pool
	// entry is created: what could grow is the flood table alone.
	rss0 := rssKB(t, p.cmd.Process.Pid)
	for i := range 20000 {
		src := fmt.Sprintf("127.1.%d.%d", i/250, 1+i%250)
		c, err := net.ListenPacket("udp", src+":0")
		if err != nil {
			t.Fatalf("bind %s: %v", src, err)
		}
		msg := strings.Replace(string(optionsMsg(p.addr, i)), "Max-Forwards: 70", "Max-Forwards: 300", 1)
		_, _ = c.WriteTo([]byte(msg), udpAddr(t, p.addr))
		c.Close()
	}
	cycled := time.Now()
	if code, err := options(p.addr, "udp", 20*time.Second); code != 200 {
		t.Fatalf("the proxy no longer answers OPTIONS after the cycling: %d %v\n%s", code, err, tailLines(p.log.String(), 20))
	}
	t.Logf("answered OPTIONS %s after the cycling", time.Since(cycled).Round(time.Millisecond))
	rss1 := rssKB(t, p.cmd.Process.Pid)
	var all admin.Flood
	if data, err := api.Do(ctx, "GET", admin.FloodPath(false), nil); err != nil || jsonUnmarshal(data, &all) != nil {
		t.Fatalf("GET /v1/flood: %v", err)
	}
	t.Logf("after 20000 sources: %d entries (capacity %d), RSS %d -> %d KiB", len(all.Entries), all.Capacity, rss0, rss1)
	if len(all.Entries) > all.Capacity || all.Capacity != maxSources {
		t.Errorf("%d entries in a table of %d, want at most %d", len(all.Entries), all.Capacity, maxSources)
	}
	// The table is allocated at start: 20000 sources cost (almost) nothing.
	if rss1-rss0 > 8<<10 {
		t.Errorf("RSS grew by %d KiB for 20000 sources", rss1-rss0)
	}
	var cleared admin.FloodCleared
	if data, err := api.Do(ctx, "POST", admin.FloodClearPath("127.0.0.3"), nil); err != nil || jsonUnmarshal(data, &cleared) != nil || cleared.Cleared != 1 {
		t.Errorf("flood clear 127.0.0.3: %s %v", data, err)
	}
}

// flood sends n OPTIONS to the proxy from src at about rate a second and
// returns how many were answered and sent.
func flood(t *testing.T, proxy, src string, n, rate int) (answered int64, sent int) {
	t.Helper()
	c, err := net.ListenPacket("udp", src+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var got atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 65535)
		for {
			_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
			m, _, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			if strings.HasPrefix(string(buf[:m]), "SIP/2.0 200") {
				got.Add(1)
			}
		}
	}()
	dst := udpAddr(t, proxy)
	start := time.Now()
	for i := range n {
		if _, err := c.WriteTo(optionsMsg(proxy, i), dst); err == nil {
			sent++
		}
		if i%100 == 99 { // pace: i requests should take i/rate seconds
			if ahead := time.Duration(i) * time.Second / time.Duration(rate); time.Since(start) < ahead {
				time.Sleep(ahead - time.Since(start))
			}
		}
	}
	<-done
	return got.Load(), sent
}

func optionsMsg(proxy string, i int) []byte {
	id := fmt.Sprintf("fl%d-%d", time.Now().UnixNano(), i)
	return crlf("OPTIONS sip:"+proxy+" SIP/2.0", "Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-"+id+";rport",
		"Max-Forwards: 70", "From: <sip:flood@sipfront.test>;tag="+id, "To: <sip:"+proxy+">",
		"Call-ID: "+id+"@e2e", "CSeq: 1 OPTIONS", "Content-Length: 0", "")
}

func udpAddr(t *testing.T, a string) *net.UDPAddr {
	t.Helper()
	ua, err := net.ResolveUDPAddr("udp", a)
	if err != nil {
		t.Fatal(err)
	}
	return ua
}

// rssKB reads the resident set size of a process.
func rssKB(t *testing.T, pid int) int {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
