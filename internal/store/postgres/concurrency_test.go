package postgres_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/bascule/bascule/internal/store"
	"github.com/bascule/bascule/internal/store/postgres"
)

// TestConcurrentOpenMigratesOnce starts four instances on one empty
// database at once, as a rolling restart of a fleet would.
func TestConcurrentOpenMigratesOnce(t *testing.T) {
	t.Parallel()
	url := pg.NewDatabase(t)
	const instances = 4
	start := make(chan struct{})
	errs := make([]error, instances)
	var wg sync.WaitGroup
	for i := range instances {
		wg.Go(func() {
			<-start
			db, err := postgres.Open(context.Background(), url)
			if err == nil {
				db.Close()
			}
			errs[i] = err
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("instance %d: Open = %v, want nil", i, err)
		}
	}
	var applied, files int
	conn := connect(t, url)
	if err := conn.QueryRow(context.Background(), `SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&applied, &files); err != nil {
		t.Fatal(err)
	}
	if applied != files || files < 2 {
		t.Errorf("schema_migrations holds %d rows for %d files, want each file recorded once", applied, files)
	}
}

// TestConcurrentDeploysOneWins clicks "deploy" on two bascule instances
// (two pools) at the same moment, many times: each time exactly one
// deployment starts and the other click gets ErrConflict.
func TestConcurrentDeploysOneWins(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pg.NewDatabase(t)
	instances := []*postgres.DB{open(t, url), open(t, url)}
	if err := instances[0].CreateRelease(ctx, store.Release{Version: "v1", Digest: "sha256:v1"}); err != nil {
		t.Fatal(err)
	}
	for round := range 20 {
		winner := raceDeploy(t, instances, round)
		if winner == nil {
			return
		}
		winner.State = store.StateFailed // releases the app for the next round
		if err := instances[0].UpdateDeployment(ctx, winner); err != nil {
			t.Fatalf("round %d: UpdateDeployment = %v", round, err)
		}
	}
}

// raceDeploy creates one deployment of app "shop" from each instance at
// once and returns the one that was created, or nil after reporting an
// error.
func raceDeploy(t *testing.T, instances []*postgres.DB, round int) *store.Deployment {
	t.Helper()
	start := make(chan struct{})
	deps := make([]*store.Deployment, len(instances))
	errs := make([]error, len(instances))
	var wg sync.WaitGroup
	for i, db := range instances {
		deps[i] = &store.Deployment{App: "shop", Version: "v1", Color: "green", State: store.StateQueued, RequestedBy: "alice"}
		wg.Go(func() {
			<-start
			errs[i] = db.CreateDeployment(context.Background(), deps[i])
		})
	}
	close(start)
	wg.Wait()
	var winner *store.Deployment
	for i, err := range errs {
		switch {
		case err == nil && winner == nil:
			winner = deps[i]
		case err == nil:
			t.Errorf("round %d: two active deployments created (#%d and #%d), want exactly one", round, winner.ID, deps[i].ID)
			return nil
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("round %d: losing CreateDeployment = %v, want ErrConflict", round, err)
			return nil
		}
	}
	if winner == nil {
		t.Errorf("round %d: no deployment created, want exactly one: %v", round, errs)
	}
	return winner
}
