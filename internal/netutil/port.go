// Package netutil holds small network helpers shared by the demo and the
// tests.
package netutil

import (
	"errors"
	"fmt"
	"net"
	"strconv"
)

// FreePort returns a port of 127.0.0.1 free for both UDP and TCP at the
// time of the call: a proxy listens on both with one port. Another process
// may still take the port before the caller binds it.
func FreePort() (int, error) {
	for range 50 {
		u, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("free port: %w", err)
		}
		port := u.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		u.Close()
		if err == nil {
			l.Close()
			return port, nil
		}
	}
	return 0, errors.New("free port: no port free for both udp and tcp after 50 tries")
}
