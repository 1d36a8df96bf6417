package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"

	"github.com/bascule/bascule/internal/router"
	"github.com/bascule/bascule/internal/store"
)

// route makes next the routing table, in the one order every change of
// the table follows: checked, persisted, then installed. Persisted before
// installed, so that a crash in between restarts on the table asked for
// and the router never serves a table that is not persisted; checked
// first, so that the table persisted is the one the router serves.
// Whoever records what the change means (a deployment live, rolled back)
// does it after route returns: persist, install, publish.
//
// Persisted means in the store first, under the term's fence (ctx): the
// store gives the table its generation, above every earlier one, and
// refuses it if this instance no longer leads, so a deposed leader moves
// no router. Then in the local file, the router's cache for a restart
// while the store is unreachable. The other control-plane instances
// follow the stored table (docs/adr/0015-shared-routing-state.md).
func (s *Service) route(ctx context.Context, next router.Table) error {
	next = tidy(next)
	if err := s.opts.Router.CheckTable(next); err != nil {
		return fmt.Errorf("route: %w", err)
	}
	s.routeMu.Lock()
	defer s.routeMu.Unlock()
	gen, err := s.storeTable(ctx, next)
	if err != nil {
		return fmt.Errorf("route: %w", err)
	}
	next.Generation = gen
	if s.opts.RoutingPath != "" {
		if err := router.SaveTable(s.opts.RoutingPath, next); err != nil {
			return err
		}
	}
	s.opts.Router.Install(next)
	return nil
}

// storeTable writes t as the fleet's table and returns the generation the
// store gave it: above the one the router serves (which a fleet's router
// hub keeps above every generation a router reported) and the stored one.
// The write is not cancelled with ctx, whose fence it keeps: a change of
// the table asked for is recorded whole, or refused because another
// instance leads.
func (s *Service) storeTable(ctx context.Context, t router.Table) (int64, error) {
	t.Generation = 0
	b, err := json.Marshal(t)
	if err != nil {
		return 0, fmt.Errorf("encode routing table: %w", err)
	}
	st, err := s.opts.Store.PutRoutingTable(context.WithoutCancel(ctx), store.RoutingTable{App: s.opts.App,
		Generation: s.opts.Router.Table().Generation + 1, Table: b, UpdatedAt: s.now()})
	if err != nil {
		return 0, err
	}
	return st.Generation, nil
}

// adoptStoredTable makes the router serve the table the store holds, the
// one the last leader routed, under a generation above it: a new leader
// starts from the fleet's table, not from its own, which may be old. A
// store that holds none (its first start, or one that predates the
// shared table) keeps the router's.
func (s *Service) adoptStoredTable(ctx context.Context) error {
	st, err := s.opts.Store.RoutingTable(ctx, s.opts.App)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("adopt the fleet's routing table: %w", err)
	}
	var t router.Table
	if err := json.Unmarshal(st.Table, &t); err != nil {
		return fmt.Errorf("adopt the fleet's routing table: generation %d: %w", st.Generation, err)
	}
	if err := s.route(ctx, t); err != nil {
		return fmt.Errorf("adopt the fleet's routing table of generation %d: %w", st.Generation, err)
	}
	s.log.Info("serving the fleet's routing table", "stored_generation", st.Generation,
		"generation", s.opts.Router.Table().Generation, "live", t.Live)
	return nil
}

// tidy returns a copy of t without empty upstreams, as the router holds it.
func tidy(t router.Table) router.Table {
	ups := maps.Clone(t.Upstreams)
	maps.DeleteFunc(ups, func(_ router.Color, addr string) bool { return addr == "" })
	if ups == nil {
		ups = map[router.Color]string{}
	}
	t.Upstreams = ups
	if t.Split != nil {
		sp := *t.Split
		t.Split = &sp
	}
	return t
}

// setUpstream routes color c to addr ("" removes it, and ends a split
// that sent users there).
func (s *Service) setUpstream(ctx context.Context, c router.Color, addr string) error {
	next := tidy(s.opts.Router.Table())
	next.Upstreams[c] = addr
	if addr == "" && next.Split != nil && next.Split.To == c {
		next.Split = nil
	}
	return s.route(ctx, next)
}

// endSplit sends every user to the live color.
func (s *Service) endSplit(ctx context.Context) error {
	next := tidy(s.opts.Router.Table())
	next.Split = nil
	return s.route(ctx, next)
}
