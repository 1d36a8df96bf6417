package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/bascule/bascule/internal/config"
)

// TestTrustedProxyNamesTheClient: behind a reverse proxy listed in
// control_trusted_proxies, login limits count the client the proxy names
// in X-Forwarded-For, so an attacker behind the same proxy cannot lock the
// operators out; a client that is not a trusted proxy cannot pick its own
// address with the header.
func TestTrustedProxyNamesTheClient(t *testing.T) {
	form := func(password string) *strings.Reader {
		return strings.NewReader(url.Values{"name": {"admin"}, "password": {password}}.Encode())
	}
	login := func(t *testing.T, s *testServer, from, password string) int {
		t.Helper()
		return s.browser(t).do(t, "POST", "/login", form(password),
			"Content-Type", "application/x-www-form-urlencoded", "X-Forwarded-For", from).status
	}
	t.Run("trusted", func(t *testing.T) {
		s := startServerWith(t, func(c *config.Config) { c.ControlTrustedProxies = []string{"127.0.0.0/8"} })
		for range 20 {
			login(t, s, "198.51.100.66", "wrong")
		}
		if st := login(t, s, "198.51.100.66", "wrong"); st != http.StatusTooManyRequests {
			t.Errorf("the attacker's 21st try = %d, want 429", st)
		}
		if st := login(t, s, "198.51.100.7", "correct horse battery staple"); st != http.StatusOK {
			t.Errorf("admin behind the same proxy, from another address = %d, want 200: an attacker locked the operators out", st)
		}
	})
	t.Run("not trusted", func(t *testing.T) {
		s := startServer(t)
		for i := range 20 {
			login(t, s, "198.51.100."+string(rune('0'+i%10)), "wrong") // the header is the client's word: ignored
		}
		if st := login(t, s, "198.51.100.99", "wrong"); st != http.StatusTooManyRequests {
			t.Errorf("a client rotating X-Forwarded-For got try #21 = %d, want 429: it chose its own address", st)
		}
	})
}
