package server

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/bascule/bascule/internal/leader"
	"github.com/bascule/bascule/internal/store"
)

// startLeading runs the parts of the control plane that one instance
// alone may run: deployments, switches, the guard, the webhook worker. As
// the only instance (SQLite) it leads at once and for good; sharing a
// PostgreSQL store it campaigns for the lease, and leads only while it
// holds it.
func (s *Server) startLeading(ctx context.Context) {
	if s.elector == nil {
		if err := s.deploy.Recover(ctx); err != nil {
			s.log.Error("recover after start", "err", err)
		}
		s.runNotifier()
		return
	}
	s.follow()
	s.stopElector = background(func(ctx context.Context) { s.elector.Run(ctx, s.lead) })
	// The first requests find a leader: this one, or the one the store
	// names (the wait is bounded by the first attempt's own timeout).
	select {
	case <-s.elector.Settled():
	case <-ctx.Done():
	}
}

// lead is one term of leadership: ctx carries the term's fence and ends
// with it. The deployment state is read again from the store, as after a
// restart (a deployment the previous leader left half done fails
// cleanly); everything started in the term stops before lead returns.
//
// While it leads, the instance stops following the stored routing table:
// it writes it. Lead publishes the stored table, under a generation above
// it, before anything else (docs/adr/0015-shared-routing-state.md).
func (s *Server) lead(ctx context.Context) {
	s.unfollow()
	defer s.follow()
	if err := s.deploy.Lead(ctx); err != nil {
		s.log.Error("recover on becoming leader", "err", err)
	}
	s.notify.Run(ctx)
	s.deploy.StepDown()
}

// newElector returns the elector for a store that several instances share,
// nil for one that only this instance uses.
func (s *Server) newElector() *leader.Elector {
	leases, shared := s.store.(store.Leases)
	if !shared {
		return nil
	}
	return leader.New(leader.Options{Leases: leases, TTL: s.cfg.ControlLeaseTTL, URL: s.advertiseURL(),
		Logger: s.log.With("component", "leader")})
}

// advertiseURL is where the other instances forward changes to when this
// one leads.
func (s *Server) advertiseURL() string {
	if u := s.cfg.ControlAdvertiseURL; u != "" {
		return strings.TrimSuffix(u, "/")
	}
	scheme := "http://"
	if s.cfg.ControlTLS.Enabled() {
		scheme = "https://"
	}
	return scheme + s.controlLn.Addr().String()
}

// LeaderStatus is the answer of GET /api/v1/leader: which instance leads
// the control plane, seen from the one that answers.
type LeaderStatus struct {
	Instance string `json:"instance"` // the instance that answers
	Leading  bool   `json:"leading"`  // whether it leads
	// Shared is false for a store only this instance uses (SQLite): it
	// then always leads, and Leader is empty.
	Shared bool `json:"shared"`
	// Leader is the lease as the store has it; nil when nobody ever led,
	// or for an unshared store.
	Leader *store.Lease `json:"leader,omitempty"`
	// LeaseTTLSeconds is how long a leader that stops renewing keeps the
	// lease.
	LeaseTTLSeconds float64 `json:"lease_ttl_seconds,omitempty"`
}

func (s *Server) leaderStatus(ctx context.Context) (LeaderStatus, error) {
	if s.elector == nil {
		return LeaderStatus{Instance: "local", Leading: true}, nil
	}
	_, leading := s.elector.Leading()
	st := LeaderStatus{Instance: s.elector.Holder(), Leading: leading, Shared: true,
		LeaseTTLSeconds: s.elector.TTL().Seconds()}
	l, err := s.elector.Current(ctx)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return st, err
	default:
		st.Leader = &l
	}
	return st, nil
}

// leaderHandler serves GET /api/v1/leader.
func (s *Server) leaderHandler(writeError func(http.ResponseWriter, *http.Request, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st, err := s.leaderStatus(r.Context())
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, st)
	})
}
