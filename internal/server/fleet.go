package server

import (
	"context"
	"fmt"
	"net"
	"os"

	"github.com/bascule/bascule/internal/deploy"
	"github.com/bascule/bascule/internal/fleet"
)

var _ deploy.Router = (*fleet.Hub)(nil)

// openFleet starts the hub that keeps every router on one table: the
// router inside this process, and each `bascule router` that follows
// the routing stream. The pipeline switches through it.
func (s *Server) openFleet(ctx context.Context) (*fleet.Hub, error) {
	host, _ := os.Hostname()
	listen := s.routerLn.Addr().String()
	hub, err := fleet.NewHub(ctx, fleet.HubOptions{Local: s.router, LocalID: localRouterID(host, listen),
		LocalHost: host, LocalListen: listen, Store: s.store, DrainTimeout: s.cfg.DrainTimeout,
		Logger: s.log.With("component", "fleet")})
	if err != nil {
		return nil, fmt.Errorf("open router fleet: %w", err)
	}
	return hub, nil
}

// localRouterID names the router inside `bascule serve` in the registry:
// stable across restarts, distinct for two instances on one host.
func localRouterID(host, listen string) string {
	_, port, _ := net.SplitHostPort(listen)
	return "serve@" + host + ":" + port
}
