package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/deploy"
	"github.com/bascule/bascule/internal/router"
	"github.com/bascule/bascule/internal/runtime"
	"github.com/bascule/bascule/internal/store"
)

var allActions = []deploy.Action{deploy.ActionDeploy, deploy.ActionGoLive, deploy.ActionRollback, deploy.ActionFinalize,
	deploy.ActionPromote, deploy.ActionPause, deploy.ActionResume}

// TestTransitionTable: the table allows exactly the moves of the design,
// written out here once more, and nothing else; failed and finalized are
// final.
func TestTransitionTable(t *testing.T) {
	want := map[string]bool{
		"queued→migrating by deploy":   true,
		"migrating→starting by deploy": true,
		"starting→verifying by deploy": true,
		"verifying→ready by deploy":    true,
		"queued→failed by deploy":      true,
		"migrating→failed by deploy":   true,
		"starting→failed by deploy":    true,
		"verifying→failed by deploy":   true,
		"ready→failed by deploy":       true, // abandoned
		"ready→live by go-live":        true,
		"rolled_back→live by go-live":  true,
		"live→rolled_back by rollback": true,
		"live→finalized by finalize":   true,
	}
	for _, from := range store.States() {
		for _, to := range store.States() {
			for _, by := range allActions {
				key := fmt.Sprintf("%s→%s by %s", from, to, by)
				if got := deploy.Allowed(from, to, by); got != want[key] {
					t.Errorf("Allowed(%s) = %t, want %t", key, got, want[key])
				}
			}
		}
	}
	for _, tr := range deploy.Transitions() {
		if tr.From == store.StateFailed || tr.From == store.StateFinalized {
			t.Errorf("%s → %s: %s is final", tr.From, tr.To, tr.From)
		}
		if tr.Why == "" {
			t.Errorf("%s → %s has no reason", tr.From, tr.To)
		}
	}
}

// TestPipelineTransitions: a deployment goes queued, migrating, starting,
// verifying, ready, each move recorded by the store as it was made; the
// first release then serves on the live color.
func TestPipelineTransitions(t *testing.T) {
	m := newMachine(t, nil, "shop", false)
	d := m.deploy()
	want := []string{"→queued", "queued→migrating", "migrating→starting", "starting→verifying", "verifying→ready"}
	if got := m.trail(d.ID); !slices.Equal(got, want) || d.State != store.StateReady {
		t.Fatalf("deployment = %s, trail %v; want ready, %v", d.State, got, want)
	}
	if v, code := m.get(); v != d.Version || code != 200 {
		t.Errorf("GET through the router = %d %q, want %s", code, v, d.Version)
	}
}

// TestSwitchTransitions: go-live, the next deployment finalizing the one
// before, rollback, go-live again and finalize, each a move of the
// table, production following each.
func TestSwitchTransitions(t *testing.T) {
	ctx := context.Background()
	m := newMachine(t, nil, "shop", false)
	v1 := m.deploy()
	if _, err := m.svc.GoLive(ctx, "alice", "first"); err != nil {
		t.Fatal(err)
	}
	v2 := m.deploy()
	if _, err := m.svc.GoLive(ctx, "alice", "ship"); err != nil {
		t.Fatal(err)
	}
	m.wantServing(v2.Version)
	if _, err := m.svc.Rollback(ctx, "bob", "broken", false); err != nil {
		t.Fatal(err)
	}
	m.wantServing(v1.Version)
	if _, err := m.svc.GoLive(ctx, "alice", "fixed"); err != nil {
		t.Fatal(err)
	}
	m.wantServing(v2.Version)
	if _, err := m.svc.Finalize(ctx, "alice", "good"); err != nil {
		t.Fatal(err)
	}
	pipeline := []string{"→queued", "queued→migrating", "migrating→starting", "starting→verifying", "verifying→ready"}
	for _, tc := range []struct {
		d    store.Deployment
		want []string
	}{
		{v1, append(slices.Clone(pipeline), "ready→live", "live→finalized")},
		{v2, append(slices.Clone(pipeline), "ready→live", "live→rolled_back", "rolled_back→live", "live→finalized")},
	} {
		if got := m.trail(tc.d.ID); !slices.Equal(got, tc.want) {
			t.Errorf("%s's trail = %v, want %v", tc.d.Version, got, tc.want)
		}
	}
	if len(m.rt.takeViolations()) != 0 {
		t.Errorf("a table was installed before it was persisted")
	}
}

// TestAutoGoLiveTransition: with auto_go_live the pipeline moves its
// deployment on from ready to live itself.
func TestAutoGoLiveTransition(t *testing.T) {
	m := newMachine(t, nil, "shop", true)
	m.deploy()
	d := m.deploy()
	want := []string{"→queued", "queued→migrating", "migrating→starting", "starting→verifying", "verifying→ready", "ready→live"}
	if got := m.trail(d.ID); !slices.Equal(got, want) || d.State != store.StateLive {
		t.Fatalf("deployment = %s, trail %v; want live, %v", d.State, got, want)
	}
	m.wantServing(d.Version)
}

// TestFailureTransitions: each active state, and ready, has its way to
// failed; production keeps serving the live release throughout.
func TestFailureTransitions(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		run     func(m *machine) store.Deployment
		trail   []string
		wantErr string
	}{
		{"queued, interrupted", func(m *machine) store.Deployment {
			// bascule stopped right after it recorded the deployment.
			d := store.Deployment{App: m.app, Version: m.release(), Color: "green", State: store.StateQueued, RequestedBy: "alice",
				CreatedAt: time.Now().UTC(), UpdatedAt: time.Now().UTC(), Steps: []store.Step{}}
			if err := m.db.CreateDeployment(ctx, &d); err != nil {
				t.Fatal(err)
			}
			if err := m.restart(); err != nil {
				t.Fatal(err)
			}
			return m.deployment(d.ID)
		}, []string{"→queued", "queued→failed"}, `interrupted: bascule stopped during step "queued"`},
		{"migrating, the artifact is gone", func(m *machine) store.Deployment {
			rel := store.Release{Version: "gone", Digest: "sha256:" + strings.Repeat("0", 64), Format: "tar.gz", Filename: "gone.tar.gz",
				CreatedBy: "ci", CreatedAt: time.Now().UTC()}
			if err := m.db.CreateRelease(ctx, rel); err != nil {
				t.Fatal(err)
			}
			d, err := m.svc.Deploy(ctx, "gone", "", "alice")
			if err != nil {
				t.Fatal(err)
			}
			d, _ = m.svc.Wait(ctx, d.ID)
			return d
		}, []string{"→queued", "queued→migrating", "migrating→failed"}, "fetch gone"},
		{"starting, the driver cannot start it", func(m *machine) store.Deployment {
			m.drv.failStart = true
			return m.deploy()
		}, []string{"→queued", "queued→migrating", "migrating→starting", "starting→failed"}, "no such file or directory"},
		{"verifying, it dies before it is healthy", func(m *machine) store.Deployment {
			m.drv.crashOnStart = true
			return m.deploy()
		}, []string{"→queued", "queued→migrating", "migrating→starting", "starting→verifying", "verifying→failed"}, "health check of green"},
		{"ready, abandoned for a newer deployment", func(m *machine) store.Deployment {
			ready := m.deploy()
			m.deploy()
			return m.deployment(ready.ID)
		}, []string{"→queued", "queued→migrating", "migrating→starting", "starting→verifying", "verifying→ready", "ready→failed"},
			"superseded by deployment #"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMachine(t, nil, "shop", false)
			live := m.deploy()
			if _, err := m.svc.GoLive(ctx, "alice", ""); err != nil {
				t.Fatal(err)
			}
			d := tc.run(m)
			if got := m.trail(d.ID); d.State != store.StateFailed || !slices.Equal(got, tc.trail) || !strings.Contains(d.Error, tc.wantErr) {
				t.Errorf("deployment = %s %q, trail %v; want failed with %q, %v", d.State, d.Error, got, tc.wantErr, tc.trail)
			}
			m.wantServing(live.Version)
			if st, _ := m.svc.Status(ctx); st.Deployment != nil {
				t.Errorf("a deployment still active: %+v", st.Deployment)
			}
		})
	}
}

// TestRefusals: what cannot move is refused with a conflict, and nothing
// changes: no state, no routing.
func TestRefusals(t *testing.T) {
	ctx := context.Background()
	m := newMachine(t, nil, "shop", false)
	if _, err := m.svc.GoLive(ctx, "alice", ""); !isConflict(err) {
		t.Errorf("GoLive with nothing deployed = %v, want a conflict", err)
	}
	if _, err := m.svc.Rollback(ctx, "alice", "", false); !isConflict(err) {
		t.Errorf("Rollback with nothing deployed = %v, want a conflict", err)
	}
	if _, err := m.svc.Finalize(ctx, "alice", ""); !isConflict(err) {
		t.Errorf("Finalize with nothing live = %v, want a conflict", err)
	}
	v1 := m.deploy()
	if _, err := m.svc.Finalize(ctx, "alice", ""); !isConflict(err) || !strings.Contains(err.Error(), "is ready; only the live release can be finalized") {
		t.Errorf("Finalize of a ready release = %v, want a conflict", err)
	}
	if _, err := m.svc.GoLive(ctx, "alice", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := m.svc.Rollback(ctx, "alice", "", false); !isConflict(err) {
		t.Errorf("Rollback with nothing on the other color = %v, want a conflict", err)
	}
	if _, err := m.svc.Finalize(ctx, "alice", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := m.svc.Finalize(ctx, "alice", ""); !isConflict(err) || !strings.Contains(err.Error(), "already finalized") {
		t.Errorf("Finalize twice = %v, want a conflict", err)
	}

	// A second deployment while one is active names the one in the way.
	held := store.Deployment{App: m.app, Version: m.release(), Color: "green", State: store.StateMigrating, RequestedBy: "carol",
		CreatedAt: time.Now().UTC(), UpdatedAt: time.Now().UTC(), Steps: []store.Step{}}
	if err := m.db.CreateDeployment(ctx, &held); err != nil {
		t.Fatal(err)
	}
	_, err := m.svc.Deploy(ctx, m.release(), "", "alice")
	var ce *deploy.ConflictError
	if !errors.As(err, &ce) || ce.Holder == nil || ce.Holder.ID != held.ID {
		t.Errorf("Deploy while #%d is active = %v, want a conflict naming it", held.ID, err)
	}
	if err := m.restart(); err != nil { // fails the held one
		t.Fatal(err)
	}

	// The state machine, not only the buttons: a failed deployment whose
	// release runs on the idle color cannot go live. Production stays.
	failed := store.Deployment{App: m.app, Version: m.release(), Color: "green", State: store.StateQueued, RequestedBy: "carol",
		CreatedAt: time.Now().UTC(), UpdatedAt: time.Now().UTC(), Steps: []store.Step{}}
	if err := m.db.CreateDeployment(ctx, &failed); err != nil {
		t.Fatal(err)
	}
	failed.State = store.StateFailed
	if err := m.db.UpdateDeployment(ctx, &failed); err != nil {
		t.Fatal(err)
	}
	if _, err := m.drv.Start(ctx, "green", runtime.Spec{Version: failed.Version}); err != nil {
		t.Fatal(err)
	}
	if err := m.db.PutSlot(ctx, m.app, store.Slot{Color: "green", Version: failed.Version, DeploymentID: failed.ID}); err != nil {
		t.Fatal(err)
	}
	before := m.rt.Table()
	if _, err := m.svc.GoLive(ctx, "alice", ""); !isConflict(err) || !strings.Contains(err.Error(), "is failed: it cannot go live") {
		t.Errorf("GoLive of a failed deployment = %v, want a conflict", err)
	}
	if after := m.rt.Table(); after.Live != before.Live || after.Live != router.Blue {
		t.Errorf("table after the refused go-live = %+v, want %+v", after, before)
	}
	if d := m.deployment(failed.ID); d.State != store.StateFailed {
		t.Errorf("the failed deployment is %s after the refusal", d.State)
	}
	m.wantServing(v1.Version)
}

// wantServing checks that production (the live color) answers with version.
func (m *machine) wantServing(version string) {
	m.t.Helper()
	if v, code := m.get(); v != version || code != 200 {
		m.t.Errorf("production answers %d %q, want %s", code, v, version)
	}
}

// TestOneLiveAtATime: one release is live at a time, and a switch goes the
// way its name says. With the first release ready on the live color and a
// newer one ready on the other, go-live ships the newer one (it used to
// confirm the first, and the next go-live left both live); a rollback to a
// newer release that never went live, or a go-live back to an older one,
// is refused.
func TestOneLiveAtATime(t *testing.T) {
	ctx := context.Background()
	m := newMachine(t, nil, "shop", false)
	v1 := m.deploy()
	v2 := m.deploy()
	if _, err := m.svc.Rollback(ctx, "bob", "", false); !isConflict(err) {
		t.Fatalf("rollback to %s, newer and never live = %v, want a conflict", v2.Version, err)
	}
	if _, err := m.svc.GoLive(ctx, "alice", "ship"); err != nil {
		t.Fatal(err)
	}
	m.wantServing(v2.Version)
	if _, err := m.svc.GoLive(ctx, "alice", "again"); !isConflict(err) {
		t.Fatalf("go-live to %s, older than the live release = %v, want a conflict", v1.Version, err)
	}
	m.wantServing(v2.Version)
	if got := m.deployment(v1.ID).State; got != store.StateReady {
		t.Errorf("%s is %s, want still ready (it never served as the release)", v1.Version, got)
	}
	if got := m.deployment(v2.ID).State; got != store.StateLive {
		t.Errorf("%s is %s, want live", v2.Version, got)
	}
	if _, err := m.svc.Rollback(ctx, "bob", "broken", false); err != nil {
		t.Fatal(err)
	}
	m.wantServing(v1.Version)
	if got := m.deployment(v2.ID).State; got != store.StateRolledBack {
		t.Errorf("%s is %s after the rollback, want rolled_back", v2.Version, got)
	}
}

// TestGoLiveAfterRollbackShipsTheRolledBackRelease: v1 (the first
// deployment, never confirmed live) serves again after v2 is rolled back.
// Going live ships v2 again rather than confirming v1, and a second go-live
// cannot leave both live (the property test found this sequence: the
// first go-live marked v1 live, the second sent v2 live beside it).
func TestGoLiveAfterRollbackShipsTheRolledBackRelease(t *testing.T) {
	ctx := context.Background()
	m := newMachine(t, nil, "shop", false)
	v1 := m.deploy()
	v2 := m.deploy()
	if _, err := m.svc.GoLive(ctx, "alice", "ship"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.svc.Rollback(ctx, "bob", "broken", false); err != nil {
		t.Fatal(err)
	}
	m.wantServing(v1.Version)
	if _, err := m.svc.GoLive(ctx, "alice", "fixed after all"); err != nil {
		t.Fatal(err)
	}
	m.wantServing(v2.Version)
	_, err := m.svc.GoLive(ctx, "alice", "again")
	if err != nil && !isConflict(err) {
		t.Fatal(err)
	}
	live := 0
	for _, id := range []int64{v1.ID, v2.ID} {
		if m.deployment(id).State == store.StateLive {
			live++
		}
	}
	if live > 1 || m.deployment(v2.ID).State != store.StateLive {
		t.Errorf("after go-live, rollback, go-live, go-live: %s is %s and %s is %s; want %s alone live",
			v1.Version, m.deployment(v1.ID).State, v2.Version, m.deployment(v2.ID).State, v2.Version)
	}
}
