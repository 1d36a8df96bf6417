package config

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
)

// hostPort is a parsed "host:port" address.
type hostPort struct {
	host string
	port int
}

// addr parses a host:port value, reporting what is wrong with it. Port 0
// ("pick a free port") is allowed only where bascule listens.
func (v *validator) addr(path, s string, zeroPort bool) (hostPort, bool) {
	host, portText, err := net.SplitHostPort(s)
	if err != nil {
		hint := ""
		if _, err := strconv.Atoi(s); err == nil {
			hint = fmt.Sprintf(" (did you mean \"127.0.0.1:%s\"?)", s)
		}
		v.errorf(path, "want host:port such as \"127.0.0.1:8080\", got %q%s", s, hint)
		return hostPort{}, false
	}
	port, err := strconv.Atoi(portText)
	lowest := 1
	if zeroPort {
		lowest = 0
	}
	switch {
	case err != nil:
		v.errorf(path, "port %q in %q is not a number", portText, s)
		return hostPort{}, false
	case port < lowest || port > 65535:
		v.errorf(path, "port %d in %q is out of range %d-65535", port, s, lowest)
		return hostPort{}, false
	case host != "" && !validHostName(host):
		v.errorf(path, "host %q in %q is not a host name or IP address", host, s)
		return hostPort{}, false
	}
	return hostPort{host: host, port: port}, true
}

// sameAddr reports whether two addresses could collide: the same port on
// hosts that are not two distinct IP addresses. "localhost:8080" and
// "127.0.0.1:8080" collide; so do ":8080" and anything on port 8080.
func sameAddr(a, b hostPort) bool {
	if a.port == 0 || a.port != b.port {
		return false
	}
	ipA, ipB := net.ParseIP(a.host), net.ParseIP(b.host)
	if ipA != nil && ipB != nil && !ipA.IsUnspecified() && !ipB.IsUnspecified() {
		return ipA.Equal(ipB)
	}
	return true
}

// validHost accepts a host name, optionally with a port, as it appears in
// a Host header: "preview.shop.example" or "preview.localhost:8080".
func validHost(s string) bool {
	host := s
	if h, port, err := net.SplitHostPort(s); err == nil {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return false
		}
		host = h
	}
	return validHostName(host)
}

// validHostName accepts DNS-style names and IP addresses.
func validHostName(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	if h == "" || len(h) > 253 || strings.HasPrefix(h, ".") || strings.HasPrefix(h, "-") {
		return false
	}
	for _, r := range h {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(".-_", r)) {
			return false
		}
	}
	return true
}

// isToken reports whether s is an RFC 9110 token, the grammar of header
// names and (RFC 6265) cookie names.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", r)) {
			return false
		}
	}
	return true
}

// isEnvName accepts POSIX-style environment variable names.
func isEnvName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// unspecifiedHost reports whether a listens on every address ("",
// "0.0.0.0", "::"), which is no address to give another host.
func unspecifiedHost(a hostPort) bool {
	ip := net.ParseIP(a.host)
	return a.host == "" || (ip != nil && ip.IsUnspecified())
}
