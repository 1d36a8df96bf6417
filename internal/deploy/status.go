package deploy

import (
	"context"
	"errors"
	"sync"

	"github.com/bascule/bascule/internal/router"
	"github.com/bascule/bascule/internal/runtime"
	"github.com/bascule/bascule/internal/store"
)

// ColorStatus is what one color runs.
type ColorStatus struct {
	Color        string      `json:"color"`
	Live         bool        `json:"live"`
	Version      string      `json:"version,omitempty"`
	DeploymentID int64       `json:"deployment_id,omitempty"`
	State        store.State `json:"state,omitempty"` // of its deployment
	Addr         string      `json:"addr,omitempty"`
	PID          int         `json:"pid,omitempty"`
	Running      bool        `json:"running"`
	Healthy      bool        `json:"healthy"`
	HealthError  string      `json:"health_error,omitempty"`
	InFlight     int64       `json:"in_flight"` // queued requests included
	Queued       int64       `json:"queued"`    // waiting for a slot under concurrency.limit
}

// Status is the state of both colors and the deployment in progress.
type Status struct {
	App        string            `json:"app"`
	Live       string            `json:"live"`
	Colors     []ColorStatus     `json:"colors"`
	Deployment *store.Deployment `json:"deployment,omitempty"` // in progress, if any
	// RollbackBlocked says why switching back would break the other
	// release (the live one is finalized); empty when rollback is safe.
	RollbackBlocked string `json:"rollback_blocked,omitempty"`
	// FinalizeEffect says what finalizing the live release does, or did,
	// to a rollback to the older release on the other color, when
	// RollbackBlocked does not say it already: one sentence, the same in
	// the CLI and the web UI.
	FinalizeEffect string `json:"finalize_effect,omitempty"`
	// Guard is what the guard sees of the release it watches, or how its
	// last watch ended; nil when the guard never watched a go-live.
	Guard *GuardStatus `json:"guard,omitempty"`
	// Progressive is the progressive go-live in progress, if any: the
	// share of users on the new release, step by step.
	Progressive *Progressive `json:"progressive,omitempty"`
}

// Status reports both colors. Running colors are probed once, in parallel.
func (s *Service) Status(ctx context.Context) (Status, error) {
	t := s.opts.Router.Table()
	slots, err := s.opts.Store.Slots(ctx, s.opts.App)
	if err != nil {
		return Status{}, err
	}
	st := Status{App: s.opts.App, Live: string(t.Live)}
	colors := []router.Color{router.Blue, router.Green}
	st.Colors = make([]ColorStatus, len(colors))
	var wg sync.WaitGroup
	for i, c := range colors {
		cs := ColorStatus{Color: string(c), Live: c == t.Live, Version: slots[string(c)].Version,
			DeploymentID: slots[string(c)].DeploymentID, Addr: t.Upstreams[c]}
		if d, err := s.opts.Store.Deployment(ctx, cs.DeploymentID); err == nil && cs.Version != "" {
			cs.State = d.State
		}
		if cs.Addr != "" {
			cs.InFlight = s.opts.Router.InFlight(cs.Addr)
			cs.Queued = s.opts.Router.Queued(cs.Addr)
		}
		inst, ok := s.opts.Driver.Instance(string(c))
		if ok {
			cs.Running, cs.PID = true, inst.PID
			if cs.Addr == "" {
				cs.Addr = inst.Addr
			}
		}
		st.Colors[i] = cs
		if ok {
			wg.Add(1)
			go func() {
				defer wg.Done()
				pctx, cancel := context.WithTimeout(ctx, s.probeTimeout())
				defer cancel()
				if err := runtime.Probe(pctx, inst.Addr, s.opts.Health); err != nil {
					st.Colors[i].HealthError = err.Error()
				} else {
					st.Colors[i].Healthy = true
				}
			}()
		}
	}
	wg.Wait()
	st.RollbackBlocked = s.rollbackBlocked(ctx, t.Live.Other())
	if st.RollbackBlocked == "" {
		st.FinalizeEffect = s.finalizeEffect(ctx, t.Live.Other())
	}
	if g, ok := s.GuardStatus(); ok {
		st.Guard = &g
	}
	st.Progressive = s.progressive()
	if st.Progressive == nil && !s.recovered() {
		// The leader moves the go-live; a follower, or a new leader still
		// taking it over, reads where it stands.
		if st.Progressive, err = s.storedProgress(ctx); err != nil {
			return st, err
		}
	}
	if d, err := s.opts.Store.ActiveDeployment(ctx, s.opts.App); err == nil {
		st.Deployment = &d
	} else if !errors.Is(err, store.ErrNotFound) {
		return st, err
	}
	return st, nil
}
