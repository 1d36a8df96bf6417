package deploy

import (
	"context"
	"fmt"
	"strings"

	"github.com/bascule/bascule/internal/migrate"
	"github.com/bascule/bascule/internal/runtime"
	"github.com/bascule/bascule/internal/store"
)

// gates runs every migration gate of the deployment before anything of it
// touches production: the candidate's lint, and the rehearsal on a shadow
// copy of the schema of the live release's contract step (when this
// deployment finalizes it) followed by the candidate's expand step.
func (p *pipeline) gates(ctx context.Context, version, dir string, live *store.Deployment, finalize bool) error {
	s := p.s
	if s.opts.Migrations == nil {
		return nil
	}
	if err := p.begin(ctx, StepGates, store.StateMigrating); err != nil {
		return err
	}
	plan := migrate.Plan{Candidate: migrate.Release{Version: version, Dir: dir}, Finalize: finalize}
	if live != nil {
		rel, err := s.opts.Store.Release(ctx, live.Version)
		if err != nil {
			return fmt.Errorf("gates: read the live release %s: %w", live.Version, err)
		}
		liveDir, err := s.unpack(ctx, rel)
		if err != nil {
			return fmt.Errorf("gates: unpack the live release %s: %w", live.Version, err)
		}
		plan.Live = migrate.Release{Version: live.Version, Dir: liveDir}
	}
	var lines []string
	summary, err := s.opts.Migrations.Check(ctx, plan, func(line string) { lines = append(lines, line) })
	if err != nil {
		err = fmt.Errorf("gates: %w", err)
		// The step keeps what the gates said before refusing (lint
		// warnings, risks the shadow saw), under the reason.
		p.closeStep(store.StepFailed, strings.Join(append([]string{err.Error()}, lines...), "\n"))
		return err
	}
	return p.done(ctx, strings.Join(append([]string{summary}, lines...), "\n"))
}

// migrate runs the expand phase, then checks that the live release still
// answers its health check against the expanded schema: if it does not, the
// deployment fails before any traffic moves.
func (p *pipeline) migrate(ctx context.Context, version, dir string) error {
	s := p.s
	if err := p.begin(ctx, StepMigrate, store.StateMigrating); err != nil {
		return err
	}
	if s.opts.Migrations == nil {
		return p.endStep(ctx, store.StepSkipped, "no database configured")
	}
	var lines []string
	summary, err := s.opts.Migrations.Expand(ctx, version, dir, func(line string) {
		lines = append(lines, line)
	})
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := s.checkLive(ctx); err != nil {
		return err
	}
	return p.done(ctx, strings.Join(append([]string{summary}, lines...), "\n"))
}

func (s *Service) checkLive(ctx context.Context) error {
	t := s.opts.Router.Table()
	addr := t.Upstreams[t.Live]
	if addr == "" {
		return nil
	}
	pctx, cancel := context.WithTimeout(ctx, s.probeTimeout())
	defer cancel()
	// Every instance: they share the schema the migrations just changed.
	addrs := s.probeAddrs(t.Live, addr)
	for _, a := range addrs {
		if err := runtime.Probe(pctx, a, s.opts.Health); err != nil {
			if len(addrs) > 1 {
				err = fmt.Errorf("instance %s: %w", a, err)
			}
			return fmt.Errorf("the live release on %s fails its health check after the expand migrations "+
				"(they are applied; its schema changes must be backward compatible): %w", t.Live, err)
		}
	}
	return nil
}
