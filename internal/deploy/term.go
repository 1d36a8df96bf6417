package deploy

import (
	"context"
	"errors"

	"github.com/bascule/bascule/internal/store"
)

// ErrNotLeader is returned by the actions of a Service that does not lead
// the control plane: another bascule instance sharing the store does. The
// API answers 503; a follower's control plane forwards actions to the
// leader before they get here.
var ErrNotLeader = errors.New("this bascule instance does not lead the control plane (another instance does); ask the leader")

// term is one spell of leadership. The pipelines, guard watches and
// progressive go-lives started in it run under ctx, which carries the
// term's fence (store.WithFence) when several instances share the store,
// and end when it is cancelled.
type term struct {
	ctx    context.Context
	cancel context.CancelFunc
}

// Lead makes the Service lead: from now on it runs deployments and
// switches, under ctx, which carries the term's fencing token and ends
// with the term (package leader provides it). It first reconciles as after
// a start (Recover): a deployment the previous leader left half done is
// failed cleanly, a guard watch or a progressive go-live goes on. Lead
// after Lead without StepDown in between is an error.
func (s *Service) Lead(ctx context.Context) error {
	s.termMu.Lock()
	if s.term != nil {
		s.termMu.Unlock()
		return errors.New("lead: already leading")
	}
	tctx, cancel := context.WithCancel(ctx)
	s.term = &term{ctx: tctx, cancel: cancel}
	s.termMu.Unlock()
	return s.Recover(tctx)
}

// StepDown ends the term: running pipelines are cancelled and waited for
// (their last writes are refused by the store if another instance leads
// already: the next leader's Recover fails them), the guard stops
// watching, a progressive go-live stops moving. Actions are refused with
// ErrNotLeader until the next Lead.
func (s *Service) StepDown() {
	s.termMu.Lock()
	t := s.term
	s.term = nil
	s.termMu.Unlock()
	if t != nil {
		t.cancel()
	}
	s.wg.Wait()
	// What the term kept in memory is the next leader's to reload.
	s.progMu.Lock()
	s.prog = nil
	s.progMu.Unlock()
	s.guardMu.Lock()
	s.watch = nil // its step stays running in the store, for the next leader to resume
	s.guardMu.Unlock()
}

// Leading reports whether the Service runs deployments now.
func (s *Service) Leading() bool {
	s.termMu.Lock()
	defer s.termMu.Unlock()
	return s.term != nil
}

// termCtx is the context of the current term, or a cancelled one when the
// Service does not lead.
func (s *Service) termCtx() context.Context {
	s.termMu.Lock()
	defer s.termMu.Unlock()
	if s.term == nil {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		return ctx
	}
	return s.term.ctx
}

// spawn runs fn in a goroutine of the current term, under its context, and
// reports false, running nothing, when the Service does not lead.
func (s *Service) spawn(fn func(ctx context.Context)) bool {
	s.termMu.Lock()
	defer s.termMu.Unlock()
	if s.term == nil {
		return false
	}
	ctx := s.term.ctx
	// Under termMu: StepDown's Wait cannot start between the check and
	// the Add.
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		fn(ctx)
	}()
	return true
}

// acting returns ctx for an action a person asked for, carrying the term's
// fence, so that the action's writes are refused if another instance took
// over meanwhile; ErrNotLeader when the Service does not lead.
func (s *Service) acting(ctx context.Context) (context.Context, error) {
	s.termMu.Lock()
	defer s.termMu.Unlock()
	if s.term == nil {
		return ctx, ErrNotLeader
	}
	if f, ok := store.FenceFrom(s.term.ctx); ok {
		ctx = store.WithFence(ctx, f)
	}
	return ctx, nil
}
