package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/pgtest"
	"github.com/bascule/bascule/internal/router"
	"github.com/bascule/bascule/internal/store"
	"github.com/bascule/bascule/internal/store/postgres"
	"github.com/bascule/bascule/internal/store/sqlite"
)

var pg pgtest.Shared

func TestMain(m *testing.M) { os.Exit(pg.Run(m)) }

// sharedStore is what the hubs of several control-plane instances share.
type sharedStore interface {
	store.Routers
	store.RoutingTables
}

// startInstanceHub is one control-plane instance's hub on the shared
// store st, with its embedded router serving local (blue live) until the
// hub starts. follow runs Follow, as an instance that does not lead.
func startInstanceHub(t *testing.T, st sharedStore, id string, local router.Table, poll time.Duration, follow bool) (*Hub, *router.Router) {
	t.Helper()
	r := router.New(router.Options{})
	r.Install(local)
	hub, err := NewHub(context.Background(), HubOptions{Local: r, LocalID: id, LocalHost: "cp-" + id, Store: st,
		Tables: st, App: "shop", PollInterval: poll, Interval: 100 * time.Millisecond, DrainTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hub.Close)
	if follow {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); hub.Follow(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
	}
	return hub, r
}

// storeAndInstall switches the leader's hub to to as deploy's route does:
// the table stored first (the store gives its generation), then installed.
func storeAndInstall(t *testing.T, leader *Hub, st store.RoutingTables, to router.Color) int64 {
	t.Helper()
	next := clone(leader.Table())
	next.Live, next.Split = to, nil
	body, err := json.Marshal(next)
	if err != nil {
		t.Fatal(err)
	}
	got, err := st.PutRoutingTable(context.Background(), store.RoutingTable{App: "shop",
		Generation: leader.Table().Generation + 1, Table: body, UpdatedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	next.Generation = got.Generation
	leader.Install(next)
	return got.Generation
}

func colors(blue, green *app) router.Table {
	return router.Table{Live: router.Blue, Upstreams: map[router.Color]string{router.Blue: blue.addr(), router.Green: green.addr()}}
}

// TestFollowingHubServesTheLeadersTable: a router that follows the
// routing stream of an instance that does not lead, and that instance's
// embedded router, serve each table the leader stores, under the
// leader's generation.
func TestFollowingHubServesTheLeadersTable(t *testing.T) {
	blue, green := startApp(t, router.Blue), startApp(t, router.Green)
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "bascule.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	leader, _ := startInstanceHub(t, st, "a", colors(blue, green), 0, false)
	follower, embedded := startInstanceHub(t, st, "b", colors(blue, green), 20*time.Millisecond, true)
	rm := startRemote(t, "r1", serveHub(t, follower).URL, 100*time.Millisecond, filepath.Join(t.TempDir(), "routing.json"))

	for _, to := range []router.Color{router.Green, router.Blue, router.Green} {
		gen := storeAndInstall(t, leader, st, to)
		waitFor(t, 5*time.Second, "the follower's hub to serve the stored table", func() bool {
			return follower.Table().Generation == gen
		})
		if got := follower.Table(); got.Live != to {
			t.Fatalf("follower's hub serves %s at generation %d, want %s", got.Live, gen, to)
		}
		if got := embedded.Table(); got.Live != to || got.Generation != gen {
			t.Errorf("follower's embedded router serves %s gen %d, want %s gen %d", got.Live, got.Generation, to, gen)
		}
		waitFor(t, 5*time.Second, "the router following the follower to install it", func() bool {
			return rm.r.Table().Generation == gen
		})
		if got := get(t, rm.addr); got != string(to) {
			t.Errorf("router following the follower answers from %s, want %s", got, to)
		}
	}
}

// TestFollowingHubIsToldByTheStore: on PostgreSQL a follower installs the
// leader's table when the store notifies the write, long before its poll.
func TestFollowingHubIsToldByTheStore(t *testing.T) {
	blue, green := startApp(t, router.Blue), startApp(t, router.Green)
	st, err := postgres.Open(context.Background(), pg.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	leader, _ := startInstanceHub(t, st, "a", colors(blue, green), 0, false)
	_, embedded := startInstanceHub(t, st, "b", colors(blue, green), time.Hour, true)
	// The first write may come before the follower listens; the first
	// poll, at once, reads it.
	waitFor(t, 5*time.Second, "the follower to read the table at start", func() bool { return embedded.Table().Generation == leader.Table().Generation })
	for _, to := range []router.Color{router.Green, router.Blue} {
		start := time.Now()
		gen := storeAndInstall(t, leader, st, to)
		waitFor(t, 5*time.Second, "the follower's embedded router to install the new table", func() bool {
			return embedded.Table().Generation == gen
		})
		t.Logf("switch to %s reached the follower's router in %s", to, time.Since(start).Round(time.Microsecond))
	}
}

// TestHubStartsFromTheStoredTable: an instance starting with an old table
// of its own serves the stored one, under the stored generation: it does
// not make up a generation the leader did not write.
func TestHubStartsFromTheStoredTable(t *testing.T) {
	blue, green := startApp(t, router.Blue), startApp(t, router.Green)
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "bascule.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	stored := colors(blue, green)
	stored.Live = router.Green
	body, _ := json.Marshal(stored)
	if _, err := st.PutRoutingTable(context.Background(), store.RoutingTable{App: "shop", Generation: 7, Table: body, UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	old := colors(blue, green)
	old.Generation = 3
	hub, r := startInstanceHub(t, st, "b", old, 0, false)
	if got := hub.Table(); got.Live != router.Green || got.Generation != 7 {
		t.Errorf("hub serves %s gen %d, want the stored green gen 7", got.Live, got.Generation)
	}
	if got := r.Table(); got.Live != router.Green || got.Generation != 7 {
		t.Errorf("embedded router serves %s gen %d, want the stored green gen 7", got.Live, got.Generation)
	}
}

// TestAgentRefusesAnOlderTable: a router never goes back to an older
// generation, whoever sends it: not installed, not persisted, not
// acknowledged; a newer one after it is installed.
func TestAgentRefusesAnOlderTable(t *testing.T) {
	blue, green := startApp(t, router.Blue), startApp(t, router.Green)
	path := filepath.Join(t.TempDir(), "routing.json")
	r := router.New(router.Options{})
	cur := colors(blue, green)
	cur.Live, cur.Generation = router.Green, 5
	r.Install(cur)
	a := NewAgent(AgentOptions{ID: "r1", Router: r, Path: path})
	old := colors(blue, green)
	old.Generation = 4
	err := a.Apply(Update{Table: old})
	var oe *OlderTableError
	if !errors.As(err, &oe) || oe.Generation != 4 || oe.Installed != 5 {
		t.Fatalf("Apply(generation 4) on generation 5 = %v, want an *OlderTableError", err)
	}
	if got := r.Table(); got.Live != router.Green || got.Generation != 5 {
		t.Errorf("router serves %s gen %d after the refusal, want green gen 5", got.Live, got.Generation)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the refused table was persisted (stat %s = %v)", path, err)
	}
	if st := a.State(); st.Installed != 5 {
		t.Errorf("heartbeat says installed %d, want 5", st.Installed)
	}
	next := colors(blue, green)
	next.Generation = 6
	if err := a.Apply(Update{Table: next}); err != nil {
		t.Fatalf("Apply(generation 6) = %v", err)
	}
	if got := r.Table(); got.Live != router.Blue || got.Generation != 6 {
		t.Errorf("router serves %s gen %d, want blue gen 6", got.Live, got.Generation)
	}
}

// TestSwitchWaitsForTheFollowersRouter: the router inside an instance
// that does not lead acknowledges to the leader's hub (Upstream), so a
// switch returns only once it serves the new table, however late the
// instance reads it from the store (here: a slow poll, no notification).
func TestSwitchWaitsForTheFollowersRouter(t *testing.T) {
	blue, green := startApp(t, router.Blue), startApp(t, router.Green)
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "bascule.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	leader, _ := startInstanceHub(t, st, "a", colors(blue, green), 0, false)
	url := serveHub(t, leader).URL
	toLeader := func(context.Context) func(context.Context, Heartbeat) error {
		return func(ctx context.Context, hb Heartbeat) error {
			return PostHeartbeat(ctx, http.DefaultClient, url, "t", hb)
		}
	}
	r := router.New(router.Options{})
	r.Install(colors(blue, green))
	follower, err := NewHub(context.Background(), HubOptions{Local: r, LocalID: "b", LocalHost: "cp-b", Store: st,
		Tables: st, App: "shop", PollInterval: 400 * time.Millisecond, Upstream: toLeader,
		Interval: 100 * time.Millisecond, DrainTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(follower.Close)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); follower.Follow(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	for _, to := range []router.Color{router.Green, router.Blue, router.Green} {
		gen := leader.Table().Generation
		waitFor(t, 5*time.Second, "the follower's router to acknowledge the current table to the leader", func() bool {
			return (&controlPlane{hub: leader}).confirmedBy("b", gen)
		})
		cur := leader.Table()
		storeAndInstall(t, leader, st, to)
		dctx, dcancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := leader.DrainRequests(dctx, cur.Upstreams[cur.Live])
		dcancel()
		if err != nil {
			t.Fatalf("switch to %s = %v, want complete", to, err)
		}
		if got := r.Table(); got.Live != to || got.Generation != leader.Table().Generation {
			t.Fatalf("when the switch to %s returned, the follower's router served %s gen %d, want %s gen %d",
				to, got.Live, got.Generation, to, leader.Table().Generation)
		}
	}
}
