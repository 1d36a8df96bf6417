package server

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bascule/bascule/internal/auth"
)

// keyCacheTTL is how long an API key that authenticated is trusted without
// asking the store again, and so how long a revoked or expired key keeps
// evaluating flags.
const keyCacheTTL = 10 * time.Second

// keyCacheMax bounds the cache; past it, it starts afresh. Only keys that
// authenticated are kept, so random keys cannot fill it.
const keyCacheMax = 4096

// keyCache remembers the API keys that authenticated, for keyCacheTTL, so
// that an OFREP request, which an application may send for every flag it
// evaluates, does not cost a database read: that read was most of the
// server's time per evaluation.
type keyCache struct {
	tokens *auth.Tokens
	now    func() time.Time
	keys   sync.Map // auth.HashSecret(key) → cachedKey
	size   atomic.Int64
}

type cachedKey struct {
	p     auth.Principal
	until time.Time
}

func newKeyCache(tokens *auth.Tokens) *keyCache {
	return &keyCache{tokens: tokens, now: time.Now}
}

// Authenticate is auth.Tokens.Authenticate, cached.
func (c *keyCache) Authenticate(ctx context.Context, key string) (auth.Principal, error) {
	h := auth.HashSecret(key)
	now := c.now()
	if v, ok := c.keys.Load(h); ok && now.Before(v.(cachedKey).until) {
		return v.(cachedKey).p, nil
	}
	p, err := c.tokens.Authenticate(ctx, key)
	if err != nil {
		c.keys.Delete(h)
		return p, err
	}
	if c.size.Add(1) > keyCacheMax {
		c.keys.Clear()
		c.size.Store(1)
	}
	c.keys.Store(h, cachedKey{p: p, until: now.Add(keyCacheTTL)})
	return p, nil
}
