package auth

import (
	"testing"

	"github.com/bascule/bascule/internal/store"
)

// TestRouterRoleStandsApart: a router's token may follow the routing
// stream and report heartbeats and nothing else; an application's flag
// key (evaluator) and people below admin may not act as a router.
func TestRouterRoleStandsApart(t *testing.T) {
	roles := []string{store.RoleEvaluator, store.RoleViewer, store.RoleDeployer, store.RoleAdmin, store.RoleRouter}
	want := map[[2]string]bool{
		{store.RoleRouter, store.RoleRouter}: true,
		{store.RoleAdmin, store.RoleRouter}:  true,
	}
	for _, has := range roles {
		for _, needs := range roles {
			if has == store.RoleRouter || needs == store.RoleRouter {
				p := Principal{Name: "x", Role: has}
				if got := p.Can(needs); got != want[[2]string{has, needs}] {
					t.Errorf("Principal{Role: %s}.Can(%s) = %v, want %v", has, needs, got, !got)
				}
			}
		}
	}
	if !ValidRole(store.RoleRouter) {
		t.Error("ValidRole(router) = false, want a valid token role")
	}
	if err := validateRole(store.RoleRouter); err == nil {
		t.Error("validateRole(router) for a person = nil, want refused")
	}
}
