package netutil

import (
	"net"
	"strconv"
	"testing"
)

func TestFreePort(t *testing.T) {
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	if port <= 0 || port > 65535 {
		t.Fatalf("port %d", port)
	}
	a := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	u, err := net.ListenPacket("udp", a)
	if err != nil {
		t.Fatalf("udp %s not free: %v", a, err)
	}
	defer u.Close()
	l, err := net.Listen("tcp", a)
	if err != nil {
		t.Fatalf("tcp %s not free: %v", a, err)
	}
	l.Close()
}
