package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"time"
)

// options sends an OPTIONS addressed to the proxy itself (no user part, so
// the proxy answers rather than relays) and returns the final status.
func options(proxyAddr, network string, wait time.Duration) (int, error) {
	branch := fmt.Sprintf("z9hG4bK-opt-%d", rand.Int64())
	msg := crlf(
		"OPTIONS sip:"+proxyAddr+" SIP/2.0",
		"Via: SIP/2.0/"+strings.ToUpper(network)+" 127.0.0.1:9;branch="+branch+";rport",
		"Max-Forwards: 70",
		"From: <sip:probe@sipfront.test>;tag="+branch[8:],
		"To: <sip:"+proxyAddr+">",
		"Call-ID: "+branch+"@e2e",
		"CSeq: 1 OPTIONS",
		"Content-Length: 0",
		"",
	)
	return exchange(network, "", proxyAddr, msg, wait)
}

// exchange sends one raw message from local (""= any port of 127.0.0.1)
// to remote and returns the status of the first final response, or
// errNoResponse when none came within wait.
func exchange(network, local, remote string, msg []byte, wait time.Duration) (int, error) {
	if network == "tcp" {
		return exchangeTCP(remote, msg, wait)
	}
	return exchangeUDP(local, remote, msg, wait)
}

func exchangeUDP(local, remote string, msg []byte, wait time.Duration) (int, error) {
	if local == "" {
		local = "127.0.0.1:0"
	}
	conn, err := net.ListenPacket("udp", local)
	if err != nil {
		return 0, fmt.Errorf("listen %s: %w", local, err)
	}
	defer conn.Close()
	raddr, err := net.ResolveUDPAddr("udp", remote)
	if err != nil {
		return 0, fmt.Errorf("resolve %s: %w", remote, err)
	}
	if _, err := conn.WriteTo(msg, raddr); err != nil {
		return 0, fmt.Errorf("send to %s: %w", remote, err)
	}
	deadline := time.Now().Add(wait)
	buf := make([]byte, 65535)
	for {
		_ = conn.SetReadDeadline(deadline)
		n, _, err := conn.ReadFrom(buf)
		if err != nil {
			return 0, errNoResponse
		}
		if code := statusOf(buf[:n]); code >= 200 {
			return code, nil
		}
	}
}

func exchangeTCP(remote string, msg []byte, wait time.Duration) (int, error) {
	conn, err := net.DialTimeout("tcp", remote, wait)
	if err != nil {
		return 0, fmt.Errorf("dial %s: %w", remote, err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(wait))
	if _, err := conn.Write(msg); err != nil {
		return 0, fmt.Errorf("send to %s: %w", remote, err)
	}
	r := bufio.NewReader(conn)
	for {
		code, err := readStreamResponse(r)
		if err != nil {
			return 0, errNoResponse
		}
		if code >= 200 {
			return code, nil
		}
	}
}

// readStreamResponse reads one message from a stream and returns its status
// (0 for a request).
func readStreamResponse(r *bufio.Reader) (int, error) {
	var head bytes.Buffer
	length := 0
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return 0, err
		}
		if head.Len() == 0 && strings.TrimSpace(line) == "" {
			continue // keep-alive CRLF
		}
		head.WriteString(line)
		if line == "\r\n" {
			break
		}
		name, value, ok := strings.Cut(line, ":")
		if n := strings.ToLower(strings.TrimSpace(name)); ok && (n == "content-length" || n == "l") {
			length, _ = strconv.Atoi(strings.TrimSpace(value))
		}
	}
	if _, err := io.CopyN(io.Discard, r, int64(length)); err != nil {
		return 0, err
	}
	return statusOf(head.Bytes()), nil
}

// statusOf returns the status code of a response, or 0 for anything else.
func statusOf(msg []byte) int {
	line, _, _ := bytes.Cut(msg, []byte("\r\n"))
	f := strings.Fields(string(line))
	if len(f) < 2 || !strings.HasPrefix(f[0], "SIP/") {
		return 0
	}
	code, _ := strconv.Atoi(f[1])
	return code
}
