package deploy_test

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/artifact"
	"github.com/bascule/bascule/internal/deploy"
	"github.com/bascule/bascule/internal/migrate"
	"github.com/bascule/bascule/internal/router"
	"github.com/bascule/bascule/internal/runtime"
	"github.com/bascule/bascule/internal/runtime/static"
	"github.com/bascule/bascule/internal/store"
	"github.com/bascule/bascule/internal/store/sqlite"
)

// A deployment to a color of two instances routes to both, persists both,
// and a go-live drains both.
func TestDeployColorOfTwoInstances(t *testing.T) {
	ctx := context.Background()
	b1, b2 := newApp(t, router.Blue), newApp(t, router.Blue)
	g1, g2 := newApp(t, router.Green), newApp(t, router.Green)
	for _, a := range []*app{b1, b2} {
		a.failEvery.Store(1 << 40) // counts each request in n, fails none
	}
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "bascule.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s := &guardStack{t: t, db: db, arts: &artifact.Store{Dir: t.TempDir()}, dataDir: t.TempDir()}
	s.router = router.New(router.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := router.NewServer("", s.router)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	s.front = "http://" + ln.Addr().String() + "/"
	drv := static.NewInstances(map[string][]string{"blue": {b1.addr(), b2.addr()}, "green": {g1.addr(), g2.addr()}})
	routing := filepath.Join(s.dataDir, "routing.json")
	s.svc = deploy.New(deploy.Options{App: "shop", Store: db, Artifacts: s.arts, Driver: drv, Router: s.router,
		Health:      runtime.HealthCheck{Path: "/healthz", Interval: 20 * time.Millisecond, Timeout: time.Second},
		RoutingPath: routing, DrainTimeout: 5 * time.Second, Migrations: emptyMigrations{}})
	t.Cleanup(s.svc.Close)

	s.deploy("v1")
	if _, err := s.svc.GoLive(ctx, "alice", "first"); err != nil {
		t.Fatal(err)
	}
	blue := router.JoinAddrs([]string{b1.addr(), b2.addr()})
	if got := s.router.Table().Upstreams[router.Blue]; got != blue {
		t.Fatalf("blue's upstream = %q, want both instances %q", got, blue)
	}
	for range 40 {
		if st := s.get(); st != 200 {
			t.Fatalf("GET through the router = %d", st)
		}
	}
	if b1.n.Load() == 0 || b2.n.Load() == 0 {
		t.Errorf("requests to blue: %d at one instance, %d at the other; want both used", b1.n.Load(), b2.n.Load())
	}
	saved, err := router.LoadTable(routing)
	if err != nil || saved.Upstreams[router.Blue] != blue {
		t.Errorf("persisted table = %+v, %v; want blue's two instances", saved, err)
	}

	if d := s.deploy("v2"); d.State != store.StateReady {
		t.Fatalf("deploy v2 = %s (%s), want ready", d.State, d.Error)
	}
	if _, err := s.svc.GoLive(ctx, "alice", "v2"); err != nil {
		t.Fatal(err)
	}
	if got, want := s.router.Table().Upstreams[router.Green], router.JoinAddrs([]string{g1.addr(), g2.addr()}); got != want {
		t.Errorf("green's upstream = %q, want %q", got, want)
	}
	if n := s.router.InFlight(blue); n != 0 {
		t.Errorf("InFlight(blue) after go-live = %d, want 0 (drained)", n)
	}
}

// emptyMigrations is a database whose releases have no migrations: the
// pipeline still runs its migrate step, and checks the live color's health
// after it.
type emptyMigrations struct{}

func (emptyMigrations) Check(context.Context, migrate.Plan, func(string)) (string, error) {
	return "no migrations", nil
}
func (emptyMigrations) Expand(context.Context, string, string, func(string)) (string, error) {
	return "no migrations", nil
}
func (emptyMigrations) Contract(context.Context, string, string, func(string)) (string, error) {
	return "no migrations", nil
}

// get sends one request through the router's front and returns its status.
func (s *guardStack) get() int {
	s.t.Helper()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(s.front)
	if err != nil {
		s.t.Fatalf("GET %s: %v", s.front, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
