package deploy

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/store"
	"github.com/bascule/bascule/internal/store/sqlite"
)

// moveFixture is a Service over a real SQLite store, for move alone.
func moveFixture(t *testing.T) (*Service, *sqlite.DB) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "bascule.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	rel := store.Release{Version: "v1", Digest: "sha256:" + strings.Repeat("0", 64), Format: "tar.gz", Filename: "v1.tar.gz",
		CreatedBy: "ci", CreatedAt: time.Now().UTC()}
	if err := db.CreateRelease(context.Background(), rel); err != nil {
		t.Fatal(err)
	}
	s := New(Options{Store: db})
	t.Cleanup(s.Close)
	return s, db
}

// create records a deployment of app in state, as the store holds it.
func create(t *testing.T, db *sqlite.DB, app string, state store.State) store.Deployment {
	t.Helper()
	now := time.Now().UTC()
	d := store.Deployment{App: app, Version: "v1", Color: "green", State: state, RequestedBy: "alice", CreatedAt: now, UpdatedAt: now,
		Steps: []store.Step{}}
	if err := db.CreateDeployment(context.Background(), &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestMoveEveryTransition: every move of the table is persisted, then
// published: a subscriber that hears of it reads it back from the store.
func TestMoveEveryTransition(t *testing.T) {
	s, db := moveFixture(t)
	ctx := context.Background()
	for i, tr := range Transitions() {
		d := create(t, db, fmt.Sprintf("app%d", i), tr.From)
		ch, stop := s.Subscribe(d.ID)
		d.Error = "why " + tr.Why
		if err := s.move(ctx, &d, tr.By, tr.To); err != nil {
			t.Errorf("move %s → %s by %s = %v", tr.From, tr.To, tr.By, err)
			stop()
			continue
		}
		select {
		case got := <-ch:
			stored, err := db.Deployment(ctx, d.ID)
			if got.State != tr.To || err != nil || stored.State != tr.To || stored.Error != d.Error {
				t.Errorf("%s → %s: published %s, stored %s %q (%v)", tr.From, tr.To, got.State, stored.State, stored.Error, err)
			}
		default:
			t.Errorf("%s → %s: nothing published", tr.From, tr.To)
		}
		stop()
	}
}

// TestMoveRefusals: every move the table does not list is refused with a
// *TransitionError, and neither written nor published; so is a move of a
// copy that is no longer what the store holds. Recording steps without a
// move is allowed in every state.
func TestMoveRefusals(t *testing.T) {
	s, db := moveFixture(t)
	ctx := context.Background()
	actions := []Action{ActionDeploy, ActionGoLive, ActionRollback, ActionFinalize, ActionPromote, ActionPause, ActionResume}
	n := 0
	for _, from := range store.States() {
		d := create(t, db, "refusals-"+string(from), from)
		ch, stop := s.Subscribe(d.ID)
		for _, to := range store.States() {
			for _, by := range actions {
				if to == from || Allowed(from, to, by) {
					continue
				}
				n++
				cp := d
				cp.Error = "must not be written"
				err := s.move(ctx, &cp, by, to)
				var te *TransitionError
				if !errors.As(err, &te) || te.From != from || te.To != to || cp.State != from {
					t.Errorf("move %s → %s by %s = %v, state %s; want a TransitionError, state unchanged", from, to, by, err, cp.State)
				}
			}
		}
		if stored, _ := db.Deployment(ctx, d.ID); stored.State != from || stored.Error != "" {
			t.Errorf("%s after refused moves: stored %s %q", from, stored.State, stored.Error)
		}
		select {
		case got := <-ch:
			t.Errorf("%s: a refused move was published: %+v", from, got)
		default:
		}
		d.Steps = append(d.Steps, store.Step{Name: "note", State: store.StepDone, StartedAt: time.Now().UTC()})
		if err := s.record(ctx, &d, ActionDeploy); err != nil {
			t.Errorf("record in %s = %v", from, err)
		}
		stop()
	}
	if want := len(store.States())*(len(store.States())-1)*len(actions) - len(Transitions()); n != want {
		t.Errorf("%d refusals checked, want %d", n, want)
	}

	// A stale copy: the store moved on (live) while the copy says ready.
	d := create(t, db, "stale", store.StateReady)
	stale := d
	if err := s.move(ctx, &d, ActionGoLive, store.StateLive); err != nil {
		t.Fatal(err)
	}
	err := s.move(ctx, &stale, ActionDeploy, store.StateFailed)
	var te *TransitionError
	if !errors.As(err, &te) || te.Stored != store.StateLive {
		t.Errorf("move of a stale copy = %v, want a TransitionError naming live", err)
	}
	if err := s.record(ctx, &stale, ActionDeploy); err == nil {
		t.Errorf("record of a stale copy = nil, want an error: it would write ready over live")
	}
	if stored, _ := db.Deployment(ctx, d.ID); stored.State != store.StateLive {
		t.Errorf("after the stale moves the store holds %s, want live", stored.State)
	}
}
