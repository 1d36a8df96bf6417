package deploy

import (
	"fmt"
	"maps"

	"github.com/bascule/bascule/internal/router"
)

// route makes next the routing table, in the one order every change of
// the table follows: checked, persisted, then installed. Persisted before
// installed, so that a crash in between restarts on the table asked for
// and the router never serves a table that is not on disk; checked first,
// so that the table on disk is the one the router serves. Whoever records
// what the change means (a deployment live, rolled back) does it after
// route returns: persist, install, publish.
func (s *Service) route(next router.Table) error {
	next = tidy(next)
	if err := s.opts.Router.CheckTable(next); err != nil {
		return fmt.Errorf("route: %w", err)
	}
	if s.opts.RoutingPath != "" {
		if err := router.SaveTable(s.opts.RoutingPath, next); err != nil {
			return err
		}
	}
	s.opts.Router.Install(next)
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
func (s *Service) setUpstream(c router.Color, addr string) error {
	next := tidy(s.opts.Router.Table())
	next.Upstreams[c] = addr
	if addr == "" && next.Split != nil && next.Split.To == c {
		next.Split = nil
	}
	return s.route(next)
}

// endSplit sends every user to the live color.
func (s *Service) endSplit() error {
	next := tidy(s.opts.Router.Table())
	next.Split = nil
	return s.route(next)
}
