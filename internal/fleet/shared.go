package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/bascule/bascule/internal/router"
	"github.com/bascule/bascule/internal/store"
)

// DefaultPollInterval is how often a following hub reads the stored
// table when the store does not tell it of changes.
const DefaultPollInterval = 2 * time.Second

// stored returns the table HubOptions.Tables holds, with its generation;
// found is false when there is none (or no Tables).
func (h *Hub) stored(ctx context.Context) (t router.Table, found bool, err error) {
	if h.opts.Tables == nil {
		return t, false, nil
	}
	st, err := h.opts.Tables.RoutingTable(ctx, h.opts.App)
	if errors.Is(err, store.ErrNotFound) {
		return t, false, nil
	}
	if err != nil {
		return t, false, err
	}
	if err := json.Unmarshal(st.Table, &t); err != nil {
		return t, false, fmt.Errorf("read the fleet's routing table of generation %d: %w", st.Generation, err)
	}
	t.Generation = st.Generation
	return clone(t), true, nil
}

// Follow serves the stored table, as the leader writes it, until ctx
// ends: each one newer than the hub's is published on its routing stream
// under the stored generation and installed in the local router. An
// instance that does not lead runs it, so that the routers following its
// stream, its own among them, serve what the leader routed. It reads the
// table when the store says it changed (PostgreSQL's LISTEN/NOTIFY), and
// every PollInterval all the same: a notification lost while the
// listening connection was down costs one interval, not a switch.
func (h *Hub) Follow(ctx context.Context) {
	if h.opts.Tables == nil {
		return
	}
	poll := h.opts.PollInterval
	if poll <= 0 {
		poll = DefaultPollInterval
	}
	changed := make(chan struct{}, 1)
	if w, ok := h.opts.Tables.(store.RoutingWatcher); ok {
		done := make(chan struct{})
		defer func() { <-done }()
		go func() {
			defer close(done)
			h.watch(ctx, w, poll, changed)
		}()
	}
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		h.refresh(ctx)
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-tick.C:
		}
	}
}

// watch relays the store's notifications of this app's table to changed,
// listening again (after a poll interval) when the listening breaks.
func (h *Hub) watch(ctx context.Context, w store.RoutingWatcher, retry time.Duration, changed chan<- struct{}) {
	poke := func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	failing := false
	ready := func() {
		if failing {
			h.log.Info("routing table changes pushed by the store again")
			failing = false
		}
		poke() // read once listening: a write committed before it is not told
	}
	for ctx.Err() == nil {
		err := w.WatchRoutingTable(ctx, ready, func(app string) {
			if app == h.opts.App {
				poke()
			}
		})
		if ctx.Err() != nil {
			return
		}
		if !failing {
			h.log.Warn("routing table changes not pushed by the store; reading it every poll interval meanwhile", "err", err)
			failing = true
		}
		select {
		case <-ctx.Done():
		case <-time.After(retry):
		}
	}
}

// refresh publishes the stored table if it is newer than the hub's.
func (h *Hub) refresh(ctx context.Context) {
	t, found, err := h.stored(ctx)
	if err != nil {
		if ctx.Err() == nil {
			h.log.Error("read the fleet's routing table", "err", err)
		}
		return
	}
	if !found || t.Generation <= h.Table().Generation {
		return
	}
	h.publishAt(t, t.Generation)
	h.log.Info("following the fleet's routing table", "generation", t.Generation, "live", t.Live)
}

// PostHeartbeat sends hb to the control plane at url with token (an API
// token with the router role), as a Follower does: how an instance that
// does not lead acknowledges, for its own router, to the one that does.
func PostHeartbeat(ctx context.Context, client *http.Client, url, token string, hb Heartbeat) error {
	f := &Follower{URLs: []string{url}, Token: token, Client: client}
	return f.heartbeat(ctx, hb)
}
