package server_test

import (
	"context"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/config"
	"github.com/bascule/bascule/internal/store"
)

// routerTokens returns the router tokens the instances made themselves,
// by name.
func routerTokens(t *testing.T, s *testServer) map[string]store.Token {
	t.Helper()
	list, err := s.admin.Tokens(context.Background())
	if err != nil {
		t.Fatalf("Tokens = %v", err)
	}
	out := map[string]store.Token{}
	for _, tok := range list {
		if strings.HasPrefix(tok.Name, "router.serve@") {
			out[tok.Name] = tok
		}
	}
	return out
}

// TestInstancesMakeThemselvesARouterToken: each instance sharing the
// store has a token of the router role for its embedded router's
// acknowledgements to the leader, one per instance, revoked when it stops
// cleanly; a lone SQLite instance has none.
func TestInstancesMakeThemselvesARouterToken(t *testing.T) {
	dbURL := pg.NewDatabase(t)
	usePG := func(c *config.Config) {
		c.Store = config.Store{Driver: config.DriverPostgres, URL: dbURL}
		c.ControlLeaseTTL = 2 * time.Second
	}
	a := startServerWith(t, usePG)
	b := startServerWith(t, usePG)
	host, _ := os.Hostname()
	name := func(s *testServer) string {
		_, port, _ := net.SplitHostPort(s.srv.RouterAddr())
		return "router.serve@" + host + "-" + port
	}
	got := routerTokens(t, a)
	if len(got) != 2 || got[name(a)].Role != store.RoleRouter || got[name(b)].Role != store.RoleRouter {
		t.Fatalf("router tokens = %+v, want %s and %s, of the router role", got, name(a), name(b))
	}
	b.stop(t)
	if got := routerTokens(t, a); len(got) != 1 || got[name(a)].ID == 0 {
		t.Errorf("router tokens after b stopped = %+v, want a's only", got)
	}

	alone := startServerWith(t, nil)
	if got := routerTokens(t, alone); len(got) != 0 {
		t.Errorf("router tokens of a lone SQLite instance = %+v, want none", got)
	}
}
