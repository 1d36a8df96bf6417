package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/fleet"
	"github.com/bascule/bascule/internal/leader"
	"github.com/bascule/bascule/internal/store"
)

// upstream acknowledges, for the router inside this instance, to the
// instance that leads: while this one follows, its embedded router's
// heartbeats go to the leader's hub over HTTP, as a `bascule router`'s do,
// so that a go-live that returns complete has waited for this router too
// (docs/adr/0015-shared-routing-state.md). It authenticates with an API
// token of the router role that the instance creates for itself at start
// (stored hashed, as every token; the secret lives in memory only) and
// revokes at a clean stop; a crashed instance's token is replaced at its
// next start under the same name.
type upstream struct {
	log    *slog.Logger
	client *http.Client

	mu      sync.Mutex
	elector *leader.Elector // nil until the elector exists, and for a store of its own
	secret  string
	tokenID int64
}

// send returns how to send a heartbeat to the leader now, or nil when this
// instance's own hub is the one to tell: it leads, nobody does, or the
// link is not set up yet.
func (u *upstream) send(ctx context.Context) func(context.Context, fleet.Heartbeat) error {
	u.mu.Lock()
	e, secret := u.elector, u.secret
	u.mu.Unlock()
	if e == nil || secret == "" {
		return nil
	}
	if _, leading := e.Leading(); leading {
		return nil
	}
	l, err := e.Current(ctx)
	if err != nil || l.Remaining <= 0 || l.Holder == e.Holder() {
		return nil
	}
	return func(ctx context.Context, hb fleet.Heartbeat) error {
		if err := fleet.PostHeartbeat(ctx, u.client, l.URL, secret, hb); err != nil {
			return fmt.Errorf("acknowledge to the leader %s: %w", l.Holder, err)
		}
		return nil
	}
}

// start creates the instance's router token, replacing one an earlier
// run under the same name left, and begins sending through e.
func (u *upstream) start(ctx context.Context, e *leader.Elector, tokens *auth.Tokens, routerID string) error {
	name := routerTokenName(routerID)
	list, err := tokens.Store.ListTokens(ctx)
	if err != nil {
		return fmt.Errorf("list tokens: %w", err)
	}
	for _, t := range list {
		if t.Name == name {
			if _, err := tokens.Revoke(ctx, t.ID); err != nil {
				return fmt.Errorf("revoke the router token of an earlier run: %w", err)
			}
		}
	}
	tok, secret, err := tokens.Issue(ctx, name, store.RoleRouter, 0)
	if err != nil {
		return fmt.Errorf("create this instance's router token: %w", err)
	}
	u.mu.Lock()
	u.elector, u.secret, u.tokenID = e, secret, tok.ID
	u.mu.Unlock()
	u.log.Info("router token created, for the embedded router to acknowledge to the leader", "token", name)
	return nil
}

// close revokes the instance's router token.
func (u *upstream) close(ctx context.Context, tokens *auth.Tokens) {
	u.mu.Lock()
	id := u.tokenID
	u.elector, u.secret, u.tokenID = nil, "", 0
	u.mu.Unlock()
	if id == 0 {
		return
	}
	if _, err := tokens.Revoke(ctx, id); err != nil {
		u.log.Error("revoke this instance's router token", "err", err)
	}
}

// routerTokenName names the token of the router routerID
// ("serve@host:port") as token names allow: "router.serve@host-port".
func routerTokenName(routerID string) string {
	name := []byte("router." + routerID)
	for i, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._@-", c) >= 0
		if !ok {
			name[i] = '-'
		}
	}
	if len(name) > 64 {
		name = name[len(name)-64:]
		name[0] = 'r'
	}
	return string(name)
}
