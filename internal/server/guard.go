package server

import (
	"context"
	"time"

	"github.com/bascule/bascule/internal/config"
	"github.com/bascule/bascule/internal/deploy"
	"github.com/bascule/bascule/internal/guard"
)

// meterEvery is how often the guard's meter takes a reading of the
// per-color counters, from which baselines are read.
const meterEvery = time.Second

// startMeter gives the metrics a guard meter when the guard is on, and
// keeps its readings until the server shuts down.
func (s *Server) startMeter(m *metrics) {
	if !s.cfg.Guard.Enabled() {
		return
	}
	m.meter = guard.NewMeter(deploy.BaselineSpan(s.cfg.Guard.Window), meterEvery)
	ctx, cancel := context.WithCancel(context.Background())
	s.stopMeter = cancel
	go m.meter.Run(ctx, meterEvery)
}

// traffic is the guard's view of the router's counters; nil when the
// guard is off.
func traffic(m *metrics) deploy.Traffic {
	if m.meter == nil {
		return nil
	}
	return m.meter
}

func guardConfig(cfg config.Config) guard.Config {
	g := cfg.Guard
	return guard.Config{Window: g.Window, MaxErrorRate: g.MaxErrorRate, MinRequests: g.MinRequests, MaxP99Ratio: g.MaxP99Ratio}
}
