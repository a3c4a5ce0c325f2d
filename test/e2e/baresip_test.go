package e2e

import (
	le "encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// baresipPhone is a real softphone (Debian's baresip) registered as alice
// through the proxy, with its own configuration directory, a loopback SIP
// address and no audio device (a silent WAV file as source, no player).
type baresipPhone struct {
	name string
	port int
	cmd  *exec.Cmd
	log  *tailBuffer
	done chan struct{}
}

// startBaresip starts a phone that answers by itself when auto is true and
// rings until cancelled otherwise.
func startBaresip(t *testing.T, name, proxyAddr string, auto bool) *baresipPhone {
	t.Helper()
	bin, err := exec.LookPath("baresip")
	if err != nil {
		t.Skip("baresip is not installed (apt-get install baresip)")
	}
	dir := t.TempDir()
	ph := &baresipPhone{name: name, port: freePort(t), log: newTail(256 << 10), done: make(chan struct{})}
	writeSilence(t, filepath.Join(dir, "silence.wav"))
	config := fmt.Sprintf(`poll_method epoll
sip_listen %s
module_path /usr/lib/baresip/modules
module g711.so
module aufile.so
module_app account.so
module_app menu.so
audio_source aufile,%s
`, addr(ph.port), filepath.Join(dir, "silence.wav"))
	answer := "manual"
	if auto {
		answer = "auto"
	}
	account := fmt.Sprintf("<sip:alice@sipfront.test>;auth_pass=none;outbound=\"sip:%s\";regint=600;answermode=%s", proxyAddr, answer)
	writeFile(t, dir, "config", config)
	writeFile(t, dir, "accounts", account+"\n")
	ph.cmd = exec.Command(bin, "-f", dir)
	ph.cmd.Stdout, ph.cmd.Stderr = ph.log, ph.log
	if err := ph.cmd.Start(); err != nil {
		t.Fatalf("start baresip: %v", err)
	}
	go func() { _ = ph.cmd.Wait(); close(ph.done) }()
	t.Cleanup(func() {
		_ = ph.cmd.Process.Kill()
		<-ph.done
		if t.Failed() {
			t.Logf("baresip %s log (tail):\n%s", name, tailLines(ph.log.String(), 30))
		}
	})
	ph.waitFor(t, "200 OK", 10*time.Second)
	return ph
}

// waitFor waits until the phone's log holds text.
func (ph *baresipPhone) waitFor(t *testing.T, text string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !strings.Contains(ph.log.String(), text) {
		if time.Now().After(deadline) {
			t.Fatalf("baresip %s: no %q in its log within %v:\n%s", ph.name, text, limit, tailLines(ph.log.String(), 20))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// count is how many times text appears in the phone's log.
func (ph *baresipPhone) count(text string) int { return strings.Count(ph.log.String(), text) }

// writeSilence writes one second of 8 kHz mono silence as a WAV file.
func writeSilence(t *testing.T, path string) {
	t.Helper()
	const rate, n = 8000, 8000
	var b []byte
	b = append(b, "RIFF"...)
	b = le.LittleEndian.AppendUint32(b, 36+2*n)
	b = append(b, "WAVEfmt "...)
	b = le.LittleEndian.AppendUint32(b, 16)
	b = le.LittleEndian.AppendUint16(b, 1) // PCM
	b = le.LittleEndian.AppendUint16(b, 1) // mono
	b = le.LittleEndian.AppendUint32(b, rate)
	b = le.LittleEndian.AppendUint32(b, 2*rate)
	b = le.LittleEndian.AppendUint16(b, 2)
	b = le.LittleEndian.AppendUint16(b, 16)
	b = append(b, "data"...)
	b = le.LittleEndian.AppendUint32(b, 2*n)
	b = append(b, make([]byte, 2*n)...)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBaresipParallel: three real phones register as alice; a caller rings
// her; all three ring, the one that answers gets the call, the two others
// see the call cancelled.
func TestBaresipParallel(t *testing.T) {
	needSipp(t)
	const calls = 5
	port, adminPort := freePort(t), freePort(t)
	p := startProxy(t, writePolicy(t, registrarPolicy(port, adminPort, 3, "parallel", "")), addr(port))
	ring1 := startBaresip(t, "ring1", p.addr, false)
	ring2 := startBaresip(t, "ring2", p.addr, false)
	answer := startBaresip(t, "answer", p.addr, true)

	r := runCaller(t, p.addr, caller{scenario: "uac.xml", service: "alice", calls: calls, rate: 1, limit: 1, holdMS: 300})
	checkCaller(t, r, calls)
	if got := answer.count("Call established"); got != calls {
		t.Errorf("the answering phone established %d calls, want %d", got, calls)
	}
	for _, ph := range []*baresipPhone{ring1, ring2} {
		if got := ph.count("Incoming call"); got != calls {
			t.Errorf("%s rang %d times, want %d", ph.name, got, calls)
		}
		// baresip reports a call ended by CANCEL (or BYE) as "session
		// closed"; these calls were never established.
		if got := ph.count("session closed"); got != calls {
			t.Errorf("%s saw %d calls cancelled, want %d", ph.name, got, calls)
		}
		if got := ph.count("Call established"); got != 0 {
			t.Errorf("%s established %d calls, want none", ph.name, got)
		}
	}
}
