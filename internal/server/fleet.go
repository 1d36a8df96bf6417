package server

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/bascule/bascule/internal/deploy"
	"github.com/bascule/bascule/internal/fleet"
	"github.com/bascule/bascule/internal/store"
)

var _ deploy.Router = (*fleet.Hub)(nil)

// openFleet starts the hub that keeps every router on one table: the
// router inside this process, and each `bascule router` that follows
// the routing stream. The pipeline switches through it.
func (s *Server) openFleet(ctx context.Context) (*fleet.Hub, error) {
	host, _ := os.Hostname()
	listen := s.routerLn.Addr().String()
	opts := fleet.HubOptions{Local: s.router, LocalID: localRouterID(host, listen),
		LocalHost: host, LocalListen: listen, Store: s.store, Tables: s.store, App: s.cfg.App,
		DrainTimeout: s.cfg.DrainTimeout, Traffic: s.traffic, Logger: s.log.With("component", "fleet")}
	if _, shared := s.store.(store.Leases); shared {
		opts.Upstream = s.up.send
		if s.traffic != nil {
			// While this instance follows, the leader's guard counts
			// what its router serves from the counts in its heartbeats.
			opts.LocalCounts = s.meter
		}
	}
	hub, err := fleet.NewHub(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("open router fleet: %w", err)
	}
	s.forgetOldSelves(ctx, hub, host)
	// One that was still fresh (a restart within seconds) turns stale
	// within StaleAfter intervals: look once more then.
	s.forgetLater = time.AfterFunc((fleet.StaleAfter+1)*fleet.DefaultInterval, func() {
		s.forgetOldSelves(context.Background(), hub, host)
	})
	return hub, nil
}

// forgetOldSelves removes this host's embedded routers of earlier starts
// on another port (listen changed): stale for good, they would make every
// switch incomplete. Stale ones only, so another instance running on this
// host keeps its entry.
func (s *Server) forgetOldSelves(ctx context.Context, hub *fleet.Hub, host string) {
	f, err := hub.Routers(ctx)
	if err != nil {
		s.log.Error("list routers", "err", err)
		return
	}
	self := localRouterID(host, s.routerLn.Addr().String())
	for _, r := range f.Routers {
		if r.Stale && r.ID != self && strings.HasPrefix(r.ID, "serve@"+host+":") {
			if err := hub.Forget(ctx, r.ID); err != nil {
				s.log.Error("forget an earlier router of this host", "router", r.ID, "err", err)
				continue
			}
			s.log.Info("forgot an earlier router of this host", "router", r.ID)
		}
	}
}

// localRouterID is the registry's name for this instance's router.
func (s *Server) localRouterID() string {
	host, _ := os.Hostname()
	return localRouterID(host, s.routerLn.Addr().String())
}

// follow makes the hub serve and install the table the leader stores,
// until unfollow: what an instance does while it does not lead.
func (s *Server) follow() {
	s.followMu.Lock()
	defer s.followMu.Unlock()
	if s.stopFollow != nil {
		return
	}
	s.stopFollow = background(s.fleet.Follow)
}

// unfollow ends follow and waits for it.
func (s *Server) unfollow() {
	s.followMu.Lock()
	defer s.followMu.Unlock()
	if s.stopFollow != nil {
		s.stopFollow()
		s.stopFollow = nil
	}
}

// localRouterID names the router inside `bascule serve` in the registry:
// stable across restarts, distinct for two instances on one host.
func localRouterID(host, listen string) string {
	_, port, _ := net.SplitHostPort(listen)
	return "serve@" + host + ":" + port
}
