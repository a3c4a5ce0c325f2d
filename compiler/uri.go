package compiler

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/sipfront/sipfront/compiler/graph"
)

// ParseURI parses a SIP URI (sip: or sips:) such as
// "sip:+15551230001@example.com:5060;transport=tcp". A name-addr form
// ("Alice" <sip:alice@example.com>) is accepted and reduced to its URI.
// URI headers (after ?) are ignored.
func ParseURI(s string) (graph.URI, error) {
	var u graph.URI
	if i := strings.IndexByte(s, '<'); i >= 0 {
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			return u, fmt.Errorf("%q has no closing >", s)
		}
		s = s[i+1 : i+j]
	}
	scheme, rest, ok := strings.Cut(s, ":")
	scheme = strings.ToLower(scheme)
	if !ok || (scheme != "sip" && scheme != "sips") {
		return u, fmt.Errorf("%q is not a SIP URI: it must start with sip: or sips:", s)
	}
	u.Scheme = scheme
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		rest = rest[:i]
	}
	hostport, params, _ := strings.Cut(rest, ";")
	if i := strings.LastIndexByte(hostport, '@'); i >= 0 {
		u.User, hostport = hostport[:i], hostport[i+1:]
		if p := strings.IndexByte(u.User, ':'); p >= 0 {
			u.User = u.User[:p] // drop a password
		}
		if u.User == "" {
			return u, fmt.Errorf("%q has an empty user before @", s)
		}
	}
	host, port, err := splitHostPort(hostport)
	if err != nil {
		return u, fmt.Errorf("%q: %w", s, err)
	}
	u.Host, u.Port = host, port
	if params != "" {
		for _, p := range strings.Split(params, ";") {
			name, val, _ := strings.Cut(p, "=")
			if name == "" {
				return u, fmt.Errorf("%q has an empty parameter", s)
			}
			u.Params = append(u.Params, graph.Param{Name: name, Value: val})
		}
	}
	return u, nil
}

// splitHostPort splits "host", "host:port", "[v6]" or "[v6]:port"; port is
// 0 when absent.
func splitHostPort(hp string) (string, int, error) {
	host, portStr := hp, ""
	if strings.HasPrefix(hp, "[") {
		end := strings.IndexByte(hp, ']')
		if end < 0 {
			return "", 0, fmt.Errorf("unclosed [ in host")
		}
		host, portStr = hp[1:end], strings.TrimPrefix(hp[end+1:], ":")
		if _, err := netip.ParseAddr(host); err != nil {
			return "", 0, fmt.Errorf("%q is not an IPv6 address", host)
		}
	} else if i := strings.LastIndexByte(hp, ':'); i >= 0 {
		host, portStr = hp[:i], hp[i+1:]
		if portStr == "" {
			return "", 0, fmt.Errorf("empty port after :")
		}
	}
	if !validHost(host) {
		return "", 0, fmt.Errorf("%q is not a host name or IP address", host)
	}
	if portStr == "" {
		return host, 0, nil
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 1 || port > 65535 {
		return "", 0, fmt.Errorf("port %q is not a number between 1 and 65535", portStr)
	}
	return host, port, nil
}

func validHost(h string) bool {
	if h == "" {
		return false
	}
	if _, err := netip.ParseAddr(h); err == nil {
		return true
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" && h[len(h)-1] != '.' {
			return false
		}
		for i := 0; i < len(label); i++ {
			ch := label[i]
			if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_') {
				return false
			}
		}
	}
	return true
}

// transportOf returns the transport a URI asks for: its transport
// parameter, tls for sips, else udp.
func transportOf(u graph.URI) string {
	if t, ok := u.Params.Get("transport"); ok {
		return strings.ToLower(t)
	}
	if u.Scheme == "sips" {
		return "tls"
	}
	return "udp"
}
