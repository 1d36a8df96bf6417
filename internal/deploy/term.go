package deploy

import (
	"context"
	"errors"
	"sync"

	"github.com/bascule/bascule/internal/store"
)

// ErrNotLeader is returned by the actions of a Service that does not lead
// the control plane: another bascule instance sharing the store does. The
// API answers 503; a follower's control plane forwards actions to the
// leader before they get here.
var ErrNotLeader = errors.New("this bascule instance does not lead the control plane (another instance does); ask the leader")

// term is one spell of leadership. The pipelines, guard watches and
// progressive go-lives started in it run under contexts that carry the
// term's fence (store.WithFence) when several instances share the store,
// and end when the term does.
type term struct {
	fence  store.Fence
	fenced bool
	done   chan struct{} // closed when the term ends
	end    sync.Once
	// ready is closed once the term's recovery (Lead's Recover) is over:
	// actions wait for it, so that the recovery's "fail what the last
	// leader left half done" never fails a deployment asked of this term.
	ready chan struct{}
	// collecting is set once the term's artifact collector runs (under
	// the Service's termMu).
	collecting bool
}

func newTerm(f store.Fence, fenced bool) *term {
	return &term{fence: f, fenced: fenced, done: make(chan struct{}), ready: make(chan struct{})}
}

// stop ends the term: the work started in it sees its context cancelled.
func (t *term) stop() { t.end.Do(func() { close(t.done) }) }

// values returns ctx carrying the term's fence, if it has one.
func (t *term) values(ctx context.Context) context.Context {
	if t.fenced {
		return store.WithFence(ctx, t.fence)
	}
	return ctx
}

// Lead makes the Service lead: from now on it runs deployments and
// switches, with the fencing token ctx carries (package leader provides
// it), until ctx ends or StepDown is called. It first reconciles as after
// a start (Recover): a deployment the previous leader left half done is
// failed cleanly, a guard watch or a progressive go-live goes on. Lead
// after Lead without StepDown in between is an error.
func (s *Service) Lead(ctx context.Context) error {
	f, fenced := store.FenceFrom(ctx)
	t := newTerm(f, fenced)
	s.termMu.Lock()
	if s.term != nil {
		s.termMu.Unlock()
		return errors.New("lead: already leading")
	}
	s.term = t
	s.termMu.Unlock()
	go func() {
		select {
		case <-ctx.Done():
			t.stop()
		case <-t.done:
		}
	}()
	defer close(t.ready)
	return s.Recover(ctx)
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
		t.stop()
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

// recovered reports whether the Service leads and its term's recovery is
// over: what it keeps in memory is then the fleet's.
func (s *Service) recovered() bool {
	s.termMu.Lock()
	t := s.term
	s.termMu.Unlock()
	if t == nil {
		return false
	}
	select {
	case <-t.ready:
		return true
	default:
		return false
	}
}

// spawn runs fn in a goroutine of the current term, under a context that
// carries the term's fence and ends with the term or when the returned
// cancel is called. It reports false, running nothing, when the Service
// does not lead. StepDown waits for fn to return.
func (s *Service) spawn(fn func(ctx context.Context)) (cancel context.CancelFunc, ok bool) {
	s.termMu.Lock()
	defer s.termMu.Unlock()
	t := s.term
	if t == nil {
		return nil, false
	}
	ctx, cancel := context.WithCancel(t.values(context.Background()))
	// Under termMu: StepDown's Wait cannot start between the check and
	// the Add.
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer cancel()
		go func() {
			select {
			case <-t.done:
				cancel()
			case <-ctx.Done():
			}
		}()
		fn(ctx)
	}()
	return cancel, true
}

// acting returns ctx for an action a person asked for, carrying the term's
// fence, so that the action's writes are refused if another instance took
// over meanwhile; ErrNotLeader when the Service does not lead.
func (s *Service) acting(ctx context.Context) (context.Context, error) {
	s.termMu.Lock()
	t := s.term
	s.termMu.Unlock()
	if t == nil {
		return ctx, ErrNotLeader
	}
	select {
	case <-t.ready:
	case <-t.done:
		return ctx, ErrNotLeader
	case <-ctx.Done():
		return ctx, ctx.Err()
	}
	return t.values(ctx), nil
}
