package deploy_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bascule/bascule/feature"
	"github.com/bascule/bascule/internal/artifact"
	"github.com/bascule/bascule/internal/deploy"
	"github.com/bascule/bascule/internal/pgtest"
	"github.com/bascule/bascule/internal/router"
	"github.com/bascule/bascule/internal/runtime"
	"github.com/bascule/bascule/internal/runtime/static"
	"github.com/bascule/bascule/internal/store"
	"github.com/bascule/bascule/internal/store/postgres"
)

var pg pgtest.Shared

func TestMain(m *testing.M) { os.Exit(pg.Run(m)) }

// instanceOn is one bascule instance's deploy service on the shared store,
// in standby until it leads, with the static driver in front of two real
// backends and a smoke test that waits for the test's go-ahead.
func instanceOn(t *testing.T, db deploy.Store, arts *artifact.Store, blue, green *app, smoke []string) *deploy.Service {
	t.Helper()
	svc, _ := instanceWithRouter(t, db, arts, blue, green, smoke)
	return svc
}

// instanceWithRouter is instanceOn, with the router the service drives.
func instanceWithRouter(t *testing.T, db deploy.Store, arts *artifact.Store, blue, green *app, smoke []string) (*deploy.Service, *router.Router) {
	t.Helper()
	dir := t.TempDir()
	rt := router.New(router.Options{Bucket: feature.Bucket})
	svc := deploy.New(deploy.Options{App: "shop", Store: db, Artifacts: arts, Router: rt,
		Driver:       static.New(map[string]string{"blue": blue.addr(), "green": green.addr()}),
		Health:       runtime.HealthCheck{Path: "/healthz", Interval: 20 * time.Millisecond, Timeout: time.Second},
		SmokeCommand: smoke, SmokeTimeout: 30 * time.Second,
		RoutingPath: filepath.Join(dir, "routing.json"), ProgressPath: filepath.Join(dir, "golive.json"), Standby: true})
	t.Cleanup(svc.Close)
	return svc, rt
}

func addReleaseTo(t *testing.T, db store.Releases, arts *artifact.Store, version string) {
	t.Helper()
	addAgedRelease(t, db, arts, version, 0)
}

// lease takes the control lease for holder, waiting for the current one
// to expire, and returns the context its term's writes carry.
func lease(t *testing.T, db *postgres.DB, holder string, ttl time.Duration) context.Context {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		l, taken, err := db.AcquireLease(context.Background(), store.LeaseControl, holder, "http://"+holder, ttl)
		if err != nil {
			t.Fatal(err)
		}
		if taken {
			return store.WithFence(context.Background(), store.Fence{Lease: store.LeaseControl, Token: l.Token})
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never got the lease from %s", holder, l.Holder)
		}
		time.Sleep(max(l.Remaining, time.Millisecond))
	}
}

// openPG opens a database of its own on the shared PostgreSQL server,
// closed when the test ends.
func openPG(t *testing.T) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), pg.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestStandbyRefusesActionsUntilItLeads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openPG(t)
	arts := &artifact.Store{Dir: t.TempDir()}
	svc := instanceOn(t, db, arts, newApp(t, router.Blue), newApp(t, router.Green), nil)
	addReleaseTo(t, db, arts, "v1")
	if _, err := svc.Deploy(ctx, "v1", "test", "alice"); !errors.Is(err, deploy.ErrNotLeader) {
		t.Fatalf("Deploy on a follower = %v, want ErrNotLeader", err)
	}
	if _, err := svc.GoLive(ctx, "alice", ""); !errors.Is(err, deploy.ErrNotLeader) {
		t.Fatalf("GoLive on a follower = %v, want ErrNotLeader", err)
	}
	if list, _ := db.ListDeployments(ctx, "shop", 10); len(list) != 0 {
		t.Fatalf("a follower's refused deploy left %d deployments", len(list))
	}
	if err := svc.Lead(lease(t, db, "a", time.Minute)); err != nil {
		t.Fatal(err)
	}
	d, err := svc.Deploy(ctx, "v1", "test", "alice")
	if err != nil {
		t.Fatalf("Deploy once leading = %v", err)
	}
	if d, err = svc.Wait(ctx, d.ID); err != nil || d.State != store.StateReady {
		t.Fatalf("deployment = %s %q, %v; want ready", d.State, d.Error, err)
	}
	svc.StepDown()
	if _, err := svc.GoLive(ctx, "alice", ""); !errors.Is(err, deploy.ErrNotLeader) {
		t.Fatalf("GoLive after StepDown = %v, want ErrNotLeader", err)
	}
}

// TestDeposedLeaderCannotFinishItsDeployment: the leader is deposed while
// its pipeline runs the smoke test and does not notice (a long pause). When
// the smoke test ends, the pipeline's writes are refused by the store: the
// deployment does not become ready behind the new leader's back. The new
// leader's recovery fails it cleanly, and the old one can start nothing.
func TestDeposedLeaderCannotFinishItsDeployment(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openPG(t)
	arts := &artifact.Store{Dir: t.TempDir()}
	blue, green := newApp(t, router.Blue), newApp(t, router.Green)
	gate := t.TempDir()
	started, goAhead := filepath.Join(gate, "started"), filepath.Join(gate, "go")
	smoke := []string{"sh", "-c", `touch "$0"; while [ ! -e "$1" ]; do sleep 0.02; done; echo smoke passed`, started, goAhead}
	a := instanceOn(t, db, arts, blue, green, smoke)
	b := instanceOn(t, db, arts, blue, green, nil)
	addReleaseTo(t, db, arts, "v1")
	addReleaseTo(t, db, arts, "v2")

	if err := a.Lead(lease(t, db, "a", 300*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	d, err := a.Deploy(ctx, "v1", "test", "alice")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the smoke test to start", func() bool { _, err := os.Stat(started); return err == nil })

	// b takes over once a's lease, which nobody renews, has expired.
	bctx := lease(t, db, "b", time.Minute)
	if err := os.WriteFile(goAhead, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a's pipeline to end", func() bool { return !a.Running(d.ID) })
	got, err := db.Deployment(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if last := got.Steps[len(got.Steps)-1]; got.State != store.StateVerifying || last.Name != deploy.StepSmoke || last.State != store.StepRunning {
		t.Fatalf("after the deposed leader's smoke test: %s, last step %s %s; want verifying with smoke running (its writes refused)",
			got.State, last.Name, last.State)
	}

	if err := b.Lead(bctx); err != nil {
		t.Fatal(err)
	}
	got, _ = db.Deployment(ctx, d.ID)
	if got.State != store.StateFailed || !strings.Contains(got.Error, `interrupted`) || !strings.Contains(got.Error, `"smoke"`) {
		t.Errorf("after the new leader's recovery: %s %q; want failed, interrupted during smoke", got.State, got.Error)
	}
	if _, err := a.Deploy(ctx, "v2", "late", "alice"); !errors.Is(err, store.ErrFenced) {
		t.Errorf("the deposed leader's Deploy = %v, want it refused as fenced", err)
	}
	if list, _ := db.ListDeployments(ctx, "shop", 10); len(list) != 1 {
		t.Errorf("%d deployments, want only the first: the deposed leader's was refused", len(list))
	}
}

// twoInstancesV1LiveV2Ready starts two instances on one PostgreSQL store,
// a leading with a lease of 300 ms it does not renew, b standing by; a
// has deployed v1 and v2 and sent v1 live.
func twoInstancesV1LiveV2Ready(t *testing.T) (db *postgres.DB, a *deploy.Service, ar *router.Router, b *deploy.Service, br *router.Router) {
	t.Helper()
	ctx := context.Background()
	db = openPG(t)
	arts := &artifact.Store{Dir: t.TempDir()}
	blue, green := newApp(t, router.Blue), newApp(t, router.Green)
	a, ar = instanceWithRouter(t, db, arts, blue, green, nil)
	b, br = instanceWithRouter(t, db, arts, blue, green, nil)
	addReleaseTo(t, db, arts, "v1")
	addReleaseTo(t, db, arts, "v2")
	if err := a.Lead(lease(t, db, "a", 300*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"v1", "v2"} {
		d, err := a.Deploy(ctx, v, "test", "alice")
		if err != nil {
			t.Fatal(err)
		}
		if d, err = a.Wait(ctx, d.ID); err != nil || d.State != store.StateReady {
			t.Fatalf("deployment of %s = %s %q, %v; want ready", v, d.State, d.Error, err)
		}
		if v == "v1" {
			if _, err := a.GoLive(ctx, "alice", ""); err != nil {
				t.Fatalf("GoLive = %v", err)
			}
		}
	}
	return db, a, ar, b, br
}

// TestNewLeaderStartsFromTheFleetsTable: the routing table is the
// fleet's, in the store. A new leader serves the last leader's table (not
// the one its own router had) under a generation above it, and a deposed
// leader's switch is refused: neither the store nor its own router moves.
func TestNewLeaderStartsFromTheFleetsTable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, a, ar, b, br := twoInstancesV1LiveV2Ready(t)
	switched := ar.Table()
	stored, err := db.RoutingTable(ctx, "shop")
	if err != nil || stored.Generation != switched.Generation {
		t.Fatalf("stored table after go-live = %+v, %v; want generation %d, the one a's router serves", stored, err, switched.Generation)
	}

	// b takes over once a's lease has expired; a has not noticed.
	bctx := lease(t, db, "b", time.Minute)
	if _, err := a.GoLive(ctx, "alice", ""); !errors.Is(err, store.ErrFenced) {
		t.Errorf("the deposed leader's GoLive = %v, want it refused as fenced", err)
	}
	if got, _ := db.RoutingTable(ctx, "shop"); got.Generation != stored.Generation || string(got.Table) != string(stored.Table) {
		t.Errorf("stored table after the deposed leader's go-live = %d %s, want %d %s unchanged",
			got.Generation, got.Table, stored.Generation, stored.Table)
	}
	if got := ar.Table(); got.Live != switched.Live || got.Generation != switched.Generation {
		t.Errorf("the deposed leader's router after its refused go-live = %s gen %d, want %s gen %d",
			got.Live, got.Generation, switched.Live, switched.Generation)
	}

	if err := b.Lead(bctx); err != nil {
		t.Fatal(err)
	}
	got := br.Table()
	if got.Live != switched.Live || got.Upstreams[switched.Live] != switched.Upstreams[switched.Live] {
		t.Errorf("new leader's router serves %s (%v), want the fleet's table: %s (%v)", got.Live, got.Upstreams, switched.Live, switched.Upstreams)
	}
	if got.Generation <= stored.Generation {
		t.Errorf("new leader's generation %d, want above the stored %d", got.Generation, stored.Generation)
	}
	if now, _ := db.RoutingTable(ctx, "shop"); now.Generation != got.Generation {
		t.Errorf("stored generation %d, want the new leader's %d", now.Generation, got.Generation)
	}
}

// gatedStore holds the first read of the stored routing table, the first
// thing a new leader's recovery does, until the test lets it through.
type gatedStore struct {
	*postgres.DB
	entered, gate chan struct{}
	once          sync.Once
}

func (g *gatedStore) RoutingTable(ctx context.Context, app string) (store.RoutingTable, error) {
	g.once.Do(func() {
		close(g.entered)
		<-g.gate
	})
	return g.DB.RoutingTable(ctx, app)
}

// TestActionsWaitForTheNewLeadersRecovery: a deployment asked of a new
// leader while its recovery runs waits for the recovery, instead of being
// failed by it as a deployment the previous leader left half done.
func TestActionsWaitForTheNewLeadersRecovery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openPG(t)
	arts := &artifact.Store{Dir: t.TempDir()}
	addReleaseTo(t, db, arts, "v1")
	g := &gatedStore{DB: db, entered: make(chan struct{}), gate: make(chan struct{})}
	var open sync.Once
	letThrough := func() { open.Do(func() { close(g.gate) }) }
	svc := instanceOn(t, g, arts, newApp(t, router.Blue), newApp(t, router.Green), nil)
	t.Cleanup(letThrough) // runs before svc.Close, which waits for the recovery

	led := make(chan error, 1)
	go func() { led <- svc.Lead(lease(t, db, "a", time.Minute)) }()
	<-g.entered
	type result struct {
		d   store.Deployment
		err error
	}
	deployed := make(chan result, 1)
	go func() {
		d, err := svc.Deploy(ctx, "v1", "test", "alice")
		deployed <- result{d, err}
	}()
	select {
	case r := <-deployed:
		t.Fatalf("Deploy during the new leader's recovery returned at once (%v, %v); want it to wait for the recovery", r.d.State, r.err)
	case <-time.After(200 * time.Millisecond): // a Deploy that does not wait creates its deployment within this
	}
	letThrough()
	if err := <-led; err != nil {
		t.Fatalf("Lead = %v", err)
	}
	r := <-deployed
	if r.err != nil {
		t.Fatalf("Deploy = %v", r.err)
	}
	d, err := svc.Wait(ctx, r.d.ID)
	if err != nil || d.State != store.StateReady {
		t.Fatalf("deployment asked during the recovery = %s %q, %v; want ready (not failed as interrupted)", d.State, d.Error, err)
	}
}

// TestNewLeaderCarriesOnTheProgressiveGoLive: a progressive go-live is
// the fleet's, not its leader's. A follower reports it as the leader runs
// it; when the leader is lost, the next one serves the same users the same
// release (the split, its salt included, unchanged) and carries the
// go-live on from its step, while the deposed leader can no longer move it.
func TestNewLeaderCarriesOnTheProgressiveGoLive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, a, ar, b, br := twoInstancesV1LiveV2Ready(t)
	// Steps an hour apart: nothing moves unless someone moves it.
	if _, err := a.GoLiveProgressive(ctx, "alice", "canary", []int{10, 50, 100}, time.Hour); err != nil {
		t.Fatalf("GoLiveProgressive = %v", err)
	}
	split := ar.Table().Split
	if split == nil || split.To != router.Green {
		t.Fatalf("a's router after a progressive go-live to 10%%: split %+v, want one to green", split)
	}

	// b follows: it reports the go-live a runs.
	st, err := b.Status(ctx)
	if err != nil || st.Progressive == nil || st.Progressive.Percent != 10 || st.Progressive.Version != "v2" {
		t.Fatalf("a follower's status = %+v, %v; want the leader's go-live of v2 at 10%%", st.Progressive, err)
	}

	// a's lease expires unnoticed; b takes over.
	bctx := lease(t, db, "b", time.Minute)
	if _, err := a.Promote(ctx, "alice", "too late"); !errors.Is(err, store.ErrFenced) {
		t.Errorf("the deposed leader's Promote = %v, want it refused as fenced", err)
	}
	if err := b.Lead(bctx); err != nil {
		t.Fatal(err)
	}
	gl, err := b.GoLiveState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := gl.Progressive
	if p == nil || p.Percent != 10 || p.Step != 0 || !p.Resumed || p.Version != "v2" {
		t.Fatalf("the new leader's go-live = %+v, want v2's carried on at 10%% (step 1 of 3)", p)
	}
	if got := br.Table().Split; got == nil || *got != *split {
		t.Errorf("the new leader's router splits %+v, want the same users on green as before: %+v", got, *split)
	}
	if _, err := b.Promote(ctx, "alice", "looks good"); err != nil {
		t.Fatalf("the new leader's Promote = %v", err)
	}
	if got := br.Table(); got.Live != router.Green || got.Split != nil {
		t.Errorf("the new leader's router after Promote: live %s, split %+v; want green, no split", got.Live, got.Split)
	}
	if _, err := db.Progressive(ctx, "shop"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the stored go-live after it completed = %v, want none (ErrNotFound)", err)
	}
}
