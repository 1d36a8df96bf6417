package deploy

import (
	"context"
	"fmt"
	"slices"

	"github.com/bascule/bascule/internal/store"
)

// Action is what moves a deployment from one state to another, and what
// the audit log records a person (or the guard, or bascule) did.
type Action string

// Actions.
const (
	ActionDeploy   Action = "deploy"   // the pipeline: every step up to ready, or failed
	ActionGoLive   Action = "go-live"  // production switched to the deployment's color
	ActionRollback Action = "rollback" // production switched back to the release before
	ActionFinalize Action = "finalize" // the contract migrations ran
	ActionPromote  Action = "promote"  // a progressive go-live taken to 100 % at once
	ActionPause    Action = "pause"    // a progressive go-live held at its step
	ActionResume   Action = "resume"   // a paused progressive go-live let go on
)

// Transition is one move the state machine allows: from a state to
// another, by an action.
type Transition struct {
	From, To store.State
	By       Action
	Why      string // when it happens, in words
}

// transitions is the state machine: every move a deployment may make.
// A deployment is created queued; failed, and a finalized release's state,
// are final. Anything not listed is refused (see move). Recording a step
// without changing the state is not a move and is always allowed.
var transitions = [...]Transition{
	{store.StateQueued, store.StateMigrating, ActionDeploy, "the pipeline starts: fetch, gates, migrations"},
	{store.StateMigrating, store.StateStarting, ActionDeploy, "migrated: what ran on the target color is replaced, the candidate starts"},
	{store.StateStarting, store.StateVerifying, ActionDeploy, "the candidate runs: health check, smoke test"},
	{store.StateVerifying, store.StateReady, ActionDeploy, "every check passed: waiting for go-live"},
	{store.StateQueued, store.StateFailed, ActionDeploy, "failed, or interrupted, before it started"},
	{store.StateMigrating, store.StateFailed, ActionDeploy, "a gate or migration refused, or interrupted"},
	{store.StateStarting, store.StateFailed, ActionDeploy, "the candidate did not start, or interrupted"},
	{store.StateVerifying, store.StateFailed, ActionDeploy, "health check or smoke test failed, or interrupted"},
	{store.StateReady, store.StateFailed, ActionDeploy, "abandoned: a newer deployment replaced its color before it went live"},
	{store.StateReady, store.StateLive, ActionGoLive, "go-live: production on its color"},
	{store.StateRolledBack, store.StateLive, ActionGoLive, "go-live again after a rollback"},
	{store.StateLive, store.StateRolledBack, ActionRollback, "rollback: production back on the release before"},
	{store.StateLive, store.StateFinalized, ActionFinalize, "finalize: its contract migrations ran"},
}

// Transitions returns the state machine's table: every move a deployment
// may make. A deployment is created queued; failed and finalized are
// final. The slice is a copy: the table itself cannot be changed.
func Transitions() []Transition { return slices.Clone(transitions[:]) }

// Allowed reports whether the table lets action move a deployment from
// state from to state to.
func Allowed(from, to store.State, by Action) bool {
	for _, t := range transitions {
		if t.From == from && t.To == to && t.By == by {
			return true
		}
	}
	return false
}

// TransitionError is a move the state machine refuses: not in the table,
// or asked of a copy of the deployment that is no longer what is stored.
// Nothing was written.
type TransitionError struct {
	ID       int64
	From, To store.State
	By       Action
	Stored   store.State // the stored state, when it is not From
}

func (e *TransitionError) Error() string {
	if e.Stored != "" {
		return fmt.Sprintf("deployment #%d: %s to %s by %s refused: it is %s now, not %s", e.ID, e.From, e.To, e.By, e.Stored, e.From)
	}
	return fmt.Sprintf("deployment #%d: %s to %s by %s refused: not a transition of the deployment state machine", e.ID, e.From, e.To, e.By)
}

// move is the one way a deployment changes: it checks the move from d's
// state (as d was last read or written) to to against the table, persists
// d, then publishes it to the subscribers. With to equal to d.State it
// records d's steps and error without a move. An illegal move, or a d
// whose stored state is no longer d.State (a stale copy), returns a
// *TransitionError and writes nothing. The write outlives ctx: a pipeline
// interrupted by a stop still records that it failed.
func (s *Service) move(ctx context.Context, d *store.Deployment, by Action, to store.State) error {
	from := d.State
	if from != to && !Allowed(from, to, by) {
		return &TransitionError{ID: d.ID, From: from, To: to, By: by}
	}
	ctx = context.WithoutCancel(ctx)
	cur, err := s.opts.Store.Deployment(ctx, d.ID)
	if err != nil {
		return fmt.Errorf("read deployment #%d: %w", d.ID, err)
	}
	if cur.State != from {
		return &TransitionError{ID: d.ID, From: from, To: to, By: by, Stored: cur.State}
	}
	d.State, d.UpdatedAt = to, s.now()
	if err := s.opts.Store.UpdateDeployment(ctx, d); err != nil {
		d.State = from
		return fmt.Errorf("persist deployment #%d %s → %s: %w", d.ID, from, to, err)
	}
	s.events.publish(*d)
	if from != to && !store.Active(to) && to != store.StateReady && to != store.StateLive {
		s.wakeCollector() // finalized, failed or rolled back: its release may go
	}
	return nil
}

// record is move without a state change: d's steps, error or log tail.
func (s *Service) record(ctx context.Context, d *store.Deployment, by Action) error {
	return s.move(ctx, d, by, d.State)
}

// moveOrLog is move for the callers that have already changed production
// and cannot undo it: a refusal there is a bug, logged loudly.
func (s *Service) moveOrLog(ctx context.Context, d *store.Deployment, by Action, to store.State) {
	if err := s.move(ctx, d, by, to); err != nil {
		s.log.Error("deployment state not recorded", "id", d.ID, "err", err)
	}
}
