package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/bascule/bascule/internal/store"
)

// resumeProgress carries on, after a restart, the progressive go-live that
// was in progress: the router already serves the persisted split, so the
// cohorts are where they were; the new color is started again if a host
// restart stopped it (or, failing that, everyone returns to the old color),
// and the steps go on from the persisted schedule. The caller holds
// s.switching.
func (s *Service) resumeProgress(ctx context.Context) {
	p, err := s.loadProgress(ctx)
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
		s.removeProgress(ctx)
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

// saveProgress records p as the fleet's go-live in progress, in the store
// under the term's fence (ctx): a deposed leader's step is refused.
func (s *Service) saveProgress(ctx context.Context, p *Progressive) error {
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode progressive go-live: %w", err)
	}
	// Not cancelled with ctx, whose fence it keeps: the step asked for is
	// recorded whole, or refused because another instance leads.
	err = s.opts.Store.PutProgressive(context.WithoutCancel(ctx), store.Progressive{App: s.opts.App, State: b, UpdatedAt: s.now()})
	if err != nil {
		return fmt.Errorf("save progressive go-live: %w", err)
	}
	return nil
}

// removeProgress records that no go-live is in progress. A failure is
// logged: the next leader's recovery drops a go-live whose deployment is
// over (resumeProgress).
func (s *Service) removeProgress(ctx context.Context) {
	if err := s.opts.Store.DeleteProgressive(context.WithoutCancel(ctx), s.opts.App); err != nil {
		s.log.Error("remove progressive go-live state", "err", err)
	}
}

// loadProgress reads the fleet's go-live in progress; nil when none. A
// go-live an older bascule saved in its data directory (Options.
// ProgressPath) is carried over to the store once.
func (s *Service) loadProgress(ctx context.Context) (*Progressive, error) {
	p, err := s.storedProgress(ctx)
	if p != nil || err != nil {
		return p, err
	}
	return s.adoptProgressFile(ctx)
}

// storedProgress reads the go-live in progress from the store; nil when
// none.
func (s *Service) storedProgress(ctx context.Context) (*Progressive, error) {
	st, err := s.opts.Store.Progressive(ctx, s.opts.App)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return parseProgress(st.State, "the store")
}

// adoptProgressFile moves the go-live an older bascule saved in its data
// directory into the store.
func (s *Service) adoptProgressFile(ctx context.Context) (*Progressive, error) {
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
	p, err := parseProgress(b, s.opts.ProgressPath)
	if err != nil {
		return nil, err
	}
	if err := s.saveProgress(ctx, p); err != nil {
		return nil, err
	}
	if err := os.Remove(s.opts.ProgressPath); err != nil {
		s.log.Warn("progressive go-live: carried over to the store, but its old file stays", "path", s.opts.ProgressPath, "err", err)
	}
	return p, nil
}

func parseProgress(b []byte, from string) (*Progressive, error) {
	var p Progressive
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("parse progressive go-live in %s: %w", from, err)
	}
	if err := CheckSteps(p.Steps); err != nil || p.Step < 0 || p.Step >= len(p.Steps) {
		return nil, fmt.Errorf("parse progressive go-live in %s: bad steps %v at %d", from, p.Steps, p.Step)
	}
	return &p, nil
}
