package server

import (
	"context"
	"time"

	"github.com/bascule/bascule/internal/config"
	"github.com/bascule/bascule/internal/deploy"
	"github.com/bascule/bascule/internal/fleet"
	"github.com/bascule/bascule/internal/guard"
)

var _ deploy.Traffic = (*fleet.Traffic)(nil)

// meterEvery is how often the guard's view of the fleet takes a reading
// of the per-color counters, from which baselines are read.
const meterEvery = time.Second

// startMeter gives the metrics a guard meter when the guard is on, and
// the server the fleet's Traffic (this router's meter, read live, plus
// every `bascule router`'s counters from its heartbeats), whose readings
// it keeps until the server shuts down.
func (s *Server) startMeter(m *metrics) {
	if !s.cfg.Guard.Enabled() {
		return
	}
	// The meter's own past is not read: the Traffic keeps the fleet's.
	m.meter = guard.NewMeter(0, meterEvery)
	s.meter = m.meter
	s.traffic = fleet.NewTraffic(fleet.TrafficOptions{Local: m.meter, Keep: deploy.BaselineSpan(s.cfg.Guard.Window),
		Every: meterEvery, Logger: s.log.With("component", "fleet")})
	ctx, cancel := context.WithCancel(context.Background())
	s.stopMeter = cancel
	go s.traffic.Run(ctx)
}

// guardTraffic is the guard's view of the fleet's counters; nil when the
// guard is off.
func (s *Server) guardTraffic() deploy.Traffic {
	if s.traffic == nil {
		return nil
	}
	return s.traffic
}

func guardConfig(cfg config.Config) guard.Config {
	g := cfg.Guard
	return guard.Config{Window: g.Window, MaxErrorRate: g.MaxErrorRate, MinRequests: g.MinRequests, MaxP99Ratio: g.MaxP99Ratio}
}
