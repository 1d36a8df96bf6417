package auth

import (
	"net/http"
	"testing"
)

func TestProxiesClientIP(t *testing.T) {
	p, err := ParseProxies([]string{"10.0.0.0/8", "fd00::1"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"direct client, no header", "203.0.113.5:4000", nil, "203.0.113.5"},
		{"direct client lies in the header", "203.0.113.5:4000", []string{"10.1.1.1"}, "203.0.113.5"},
		{"behind the proxy", "10.0.0.2:5000", []string{"198.51.100.7"}, "198.51.100.7"},
		{"client's own entry is ignored", "10.0.0.2:5000", []string{"1.2.3.4, 198.51.100.7"}, "198.51.100.7"},
		{"two trusted hops", "10.0.0.2:5000", []string{"198.51.100.7", "10.9.9.9"}, "198.51.100.7"},
		{"ipv6 proxy, mapped client", "[fd00::1]:443", []string{"::ffff:198.51.100.8"}, "198.51.100.8"},
		{"only proxies in the header", "10.0.0.2:5000", []string{"10.3.3.3"}, "10.3.3.3"},
		{"garbage from the proxy", "10.0.0.2:5000", []string{"unknown"}, "10.0.0.2"},
		{"proxy without header", "10.0.0.2:5000", nil, "10.0.0.2"},
	}
	for _, tc := range cases {
		r := &http.Request{RemoteAddr: tc.remote, Header: http.Header{}}
		for _, v := range tc.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := p.ClientIP(r); got != tc.want {
			t.Errorf("%s: ClientIP(%s, XFF %q) = %q, want %q", tc.name, tc.remote, tc.xff, got, tc.want)
		}
	}
	if got := Proxies(nil).ClientIP(&http.Request{RemoteAddr: "10.0.0.2:1", Header: http.Header{"X-Forwarded-For": {"1.1.1.1"}}}); got != "10.0.0.2" {
		t.Errorf("with no trusted proxy, ClientIP = %q, want the peer", got)
	}
	for _, bad := range []string{"10.0.0.0/33", "example.com", ""} {
		if _, err := ParseProxies([]string{bad}); err == nil {
			t.Errorf("ParseProxies(%q) accepted it", bad)
		}
	}
}
