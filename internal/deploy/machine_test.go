package deploy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bascule/bascule/feature"
	"github.com/bascule/bascule/internal/artifact"
	"github.com/bascule/bascule/internal/deploy"
	"github.com/bascule/bascule/internal/router"
	"github.com/bascule/bascule/internal/runtime"
	"github.com/bascule/bascule/internal/store"
	"github.com/bascule/bascule/internal/store/sqlite"
)

// fakeDriver stands for what the process driver does: Start runs a release
// in a color slot as a real HTTP app (an httptest server that answers its
// health check with 200 and every other request with its version), Stop
// ends it, and Exited is closed when it dies. It is a fake only because a
// release's command cannot run here without building one; what the deploy
// package sees of it is the process driver's behaviour. A test makes the
// next start fail (failStart) or die at once (crashOnStart), or kills a
// running app (crash), or all of them (reboot).
type fakeDriver struct {
	mu           sync.Mutex
	apps         map[string]*fakeApp
	failStart    bool
	crashOnStart bool
	pid          int
}

type fakeApp struct {
	inst   runtime.Instance
	srv    *httptest.Server
	exited chan struct{}
}

var _ deploy.Driver = (*fakeDriver)(nil)

func newFakeDriver(t *testing.T) *fakeDriver {
	d := &fakeDriver{apps: map[string]*fakeApp{}}
	t.Cleanup(d.reboot)
	return d
}

func (d *fakeDriver) Start(_ context.Context, color string, spec runtime.Spec) (runtime.Instance, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if a := d.apps[color]; a != nil && !a.dead() {
		return runtime.Instance{}, fmt.Errorf("start %s: %w", color, runtime.ErrBusy)
	}
	if d.failStart {
		d.failStart = false
		return runtime.Instance{}, errors.New("fork/exec ./app: no such file or directory")
	}
	version := spec.Version
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, version)
	}))
	d.pid++
	a := &fakeApp{srv: srv, exited: make(chan struct{}),
		inst: runtime.Instance{Color: color, Version: version, Addr: strings.TrimPrefix(srv.URL, "http://"), PID: d.pid, Started: time.Now()}}
	if d.crashOnStart {
		d.crashOnStart = false
		a.die()
	}
	d.apps[color] = a
	return a.inst, nil
}

func (d *fakeDriver) Stop(_ context.Context, color string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if a := d.apps[color]; a != nil {
		a.die()
		delete(d.apps, color)
	}
	return nil
}

func (d *fakeDriver) Instance(color string) (runtime.Instance, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if a := d.apps[color]; a != nil && !a.dead() {
		return a.inst, true
	}
	return runtime.Instance{}, false
}

func (d *fakeDriver) Exited(color string) <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	if a := d.apps[color]; a != nil {
		return a.exited
	}
	return nil
}

func (d *fakeDriver) Logs(color string, _ int) []string {
	if inst, ok := d.Instance(color); ok {
		return []string{"listening on " + inst.Addr}
	}
	return nil
}

// crash kills what runs on color, as a process that dies would.
func (d *fakeDriver) crash(color string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if a := d.apps[color]; a != nil {
		a.die()
	}
}

// reboot kills every app, as a host restart would.
func (d *fakeDriver) reboot() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for c, a := range d.apps {
		a.die()
		delete(d.apps, c)
	}
}

func (a *fakeApp) die() {
	if !a.dead() {
		close(a.exited)
		a.srv.Close()
	}
}

func (a *fakeApp) dead() bool {
	select {
	case <-a.exited:
		return true
	default:
		return false
	}
}

// diskRouter is the real router, with one check added: every table it is
// asked to install must already be the one on disk (persisted first).
type diskRouter struct {
	*router.Router
	path string

	mu         sync.Mutex
	violations []string
}

func (r *diskRouter) Install(t router.Table) {
	onDisk, err := router.LoadTable(r.path)
	if err != nil || !sameTable(onDisk, t) {
		r.mu.Lock()
		r.violations = append(r.violations, fmt.Sprintf("installed %+v while the disk held %+v (%v)", t, onDisk, err))
		r.mu.Unlock()
	}
	r.Router.Install(t)
}

func (r *diskRouter) takeViolations() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	v := r.violations
	r.violations = nil
	return v
}

func sameTable(a, b router.Table) bool {
	clean := func(m map[router.Color]string) map[router.Color]string {
		out := map[router.Color]string{}
		for c, addr := range m {
			if addr != "" {
				out[c] = addr
			}
		}
		return out
	}
	if a.Live != b.Live || !maps.Equal(clean(a.Upstreams), clean(b.Upstreams)) || (a.Split == nil) != (b.Split == nil) {
		return false
	}
	return a.Split == nil || *a.Split == *b.Split
}

// machine is a deploy service over real parts but the driver: a SQLite
// store, the real router (checked by diskRouter) and its table on disk,
// the artifact store, and fakeDriver.
type machine struct {
	t       *testing.T
	app     string
	db      *sqlite.DB
	arts    *artifact.Store
	drv     *fakeDriver
	rt      *diskRouter
	svc     *deploy.Service
	dir     string // routing table and progressive go-live state
	auto    bool   // AutoGoLive
	blob    artifact.Blob
	version int
}

// newMachine starts a machine for app over db (nil: a new one in a
// temporary directory).
func newMachine(t *testing.T, db *sqlite.DB, app string, auto bool) *machine {
	t.Helper()
	if db == nil {
		db = openDB(t)
	}
	m := &machine{t: t, app: app, db: db, arts: &artifact.Store{Dir: t.TempDir()}, drv: newFakeDriver(t), dir: t.TempDir(), auto: auto}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "release.txt"), []byte("app\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := artifact.PackDir(&buf, dir); err != nil {
		t.Fatal(err)
	}
	blob, err := m.arts.Put(context.Background(), &buf, "")
	if err != nil {
		t.Fatal(err)
	}
	m.blob = blob
	if err := m.open(); err != nil {
		t.Fatal(err)
	}
	return m
}

func openDB(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "bascule.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// open does what bascule serve does at a start: the router serves the
// table on disk, then a new service recovers.
func (m *machine) open() error {
	path := filepath.Join(m.dir, "routing.json")
	table, err := router.LoadTable(path)
	if err != nil {
		return err
	}
	m.rt = &diskRouter{Router: router.New(router.Options{Bucket: feature.Bucket}), path: path}
	m.rt.Router.Install(table)
	m.svc = deploy.New(deploy.Options{App: m.app, Store: m.db, Artifacts: m.arts, Driver: m.drv, Router: m.rt,
		RoutingPath: path, ProgressPath: filepath.Join(m.dir, "golive.json"), AutoGoLive: m.auto,
		Health:       runtime.HealthCheck{Path: "/healthz", Interval: 5 * time.Millisecond, Timeout: time.Second},
		StartTimeout: 5 * time.Second, DrainTimeout: 5 * time.Second})
	m.t.Cleanup(m.svc.Close)
	return m.svc.Recover(context.Background())
}

// restart stops the service (a pipeline in progress is interrupted) and
// starts a new one over the same store, apps and table on disk.
func (m *machine) restart() error {
	m.svc.Close()
	return m.open()
}

// release registers a new version and returns it.
func (m *machine) release() string {
	m.t.Helper()
	m.version++
	v := fmt.Sprintf("%s-v%d", m.app, m.version)
	rel := store.Release{Version: v, Digest: m.blob.Digest, Size: m.blob.Size, Format: "tar.gz",
		Filename: v + ".tar.gz", CreatedBy: "ci", CreatedAt: time.Now().UTC()}
	if err := m.db.CreateRelease(context.Background(), rel); err != nil {
		m.t.Fatal(err)
	}
	return v
}

// deploy deploys a new release and waits for its pipeline to end.
func (m *machine) deploy() store.Deployment {
	m.t.Helper()
	ctx := context.Background()
	d, err := m.svc.Deploy(ctx, m.release(), "test", "alice")
	if err != nil {
		m.t.Fatalf("Deploy = %v", err)
	}
	if d, err = m.svc.Wait(ctx, d.ID); err != nil {
		m.t.Fatalf("Wait = %v", err)
	}
	return d
}

func (m *machine) deployment(id int64) store.Deployment {
	m.t.Helper()
	d, err := m.db.Deployment(context.Background(), id)
	if err != nil {
		m.t.Fatal(err)
	}
	return d
}

// trail returns the state changes the store recorded for deployment id,
// in order, as "from→to" ("→queued" for its creation).
func (m *machine) trail(id int64) []string {
	m.t.Helper()
	var out []string
	for _, ev := range m.events() {
		if ev.ID == id {
			out = append(out, string(ev.From)+"→"+string(ev.To))
		}
	}
	return out
}

// events returns the state changes of the app's deployments that the
// store recorded (in the same transaction as each change), oldest first.
func (m *machine) events() []store.DeploymentEvent {
	m.t.Helper()
	evs, err := m.db.PendingEvents(context.Background(), 100_000)
	if err != nil {
		m.t.Fatal(err)
	}
	var out []store.DeploymentEvent
	for _, e := range evs {
		if e.Source != store.EventDeployment {
			continue
		}
		var p store.DeploymentEvent
		if err := json.Unmarshal(e.Payload, &p); err != nil {
			m.t.Fatal(err)
		}
		if p.App == m.app {
			out = append(out, p)
		}
	}
	return out
}

// get sends one request through the router and returns the version that
// answered.
func (m *machine) get() (string, int) {
	rec := httptest.NewRecorder()
	m.rt.ServeHTTP(rec, httptest.NewRequest("GET", "http://shop.example/", nil))
	return rec.Body.String(), rec.Code
}
