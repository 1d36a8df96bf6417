package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/bascule/bascule/internal/atomicfile"
	"github.com/bascule/bascule/internal/store"
)

// resumeProgress carries on, after a restart, the progressive go-live that
// was in progress: the router already serves the persisted split, so the
// cohorts are where they were; the new color is started again if a host
// restart stopped it (or, failing that, everyone returns to the old color),
// and the steps go on from the persisted schedule. The caller holds
// s.switching.
func (s *Service) resumeProgress(ctx context.Context) {
	p, err := s.loadProgress()
	if err != nil {
		s.log.Error("progressive go-live: its saved state is unreadable; everyone goes to the live color", "err", err)
	}
	t := s.opts.Router.Table()
	if p == nil {
		if t.Split != nil {
			// A split whose go-live is unknown: nothing would move it on.
			s.log.Warn("a split without a progressive go-live: everyone to the live color", "split", t.Split)
			if err := s.endSplit(ctx); err != nil {
				s.log.Error("end split", "err", err)
			}
		}
		return
	}
	d, err := s.opts.Store.Deployment(ctx, p.DeploymentID)
	if err != nil || d.State != store.StateLive || t.Live != p.From {
		s.log.Warn("progressive go-live: its deployment is no longer in progress; dropped", "deployment", p.DeploymentID)
		s.removeProgress()
		if err := s.endSplit(ctx); err != nil {
			s.log.Error("end split", "err", err)
		}
		return
	}
	addr, err := s.ensureRunning(ctx, p.To)
	if err != nil {
		s.log.Error("progressive go-live: the new release does not run after the restart; rolling back", "err", err)
		if err := s.rollbackProgressive(ctx, p, "bascule", "the new release could not be started after a restart: "+err.Error()); err != nil {
			s.log.Error("progressive go-live: roll back", "err", err)
		}
		return
	}
	p.Resumed = true
	if err := s.applyStep(ctx, p, addr); err != nil {
		s.log.Error("progressive go-live: resume", "err", err)
		return
	}
	s.setProgressive(p)
	s.runProgress(p.DeploymentID)
	s.log.Info("progressive go-live resumed", "version", p.Version, "percent", p.Percent)
}

// saveProgress persists p atomically (temp file, fsync, rename).
func (s *Service) saveProgress(p *Progressive) error {
	if s.opts.ProgressPath == "" {
		return nil
	}
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("encode progressive go-live: %w", err)
	}
	if err := atomicfile.Write(s.opts.ProgressPath, b); err != nil {
		return fmt.Errorf("save progressive go-live: %w", err)
	}
	return nil
}

func (s *Service) removeProgress() {
	if s.opts.ProgressPath == "" {
		return
	}
	if err := os.Remove(s.opts.ProgressPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.log.Error("remove progressive go-live state", "err", err)
	}
}

// loadProgress reads the persisted progressive go-live; nil when none.
func (s *Service) loadProgress() (*Progressive, error) {
	if s.opts.ProgressPath == "" {
		return nil, nil
	}
	b, err := os.ReadFile(s.opts.ProgressPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read progressive go-live: %w", err)
	}
	var p Progressive
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("parse progressive go-live %s: %w", s.opts.ProgressPath, err)
	}
	if err := CheckSteps(p.Steps); err != nil || p.Step < 0 || p.Step >= len(p.Steps) {
		return nil, fmt.Errorf("parse progressive go-live %s: bad steps %v at %d", s.opts.ProgressPath, p.Steps, p.Step)
	}
	return &p, nil
}
