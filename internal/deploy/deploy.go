// Package deploy is the deployment pipeline: an explicit state machine,
// persisted at every step, that puts a release on the idle color, verifies
// it, and switches the router to it when asked (or by itself when
// configured). It also owns go-live, rollback and the status of both colors.
package deploy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/bascule/bascule/internal/artifact"
	"github.com/bascule/bascule/internal/guard"
	"github.com/bascule/bascule/internal/migrate"
	"github.com/bascule/bascule/internal/router"
	"github.com/bascule/bascule/internal/runtime"
	"github.com/bascule/bascule/internal/store"
)

// Driver runs releases in color slots. The process and static drivers
// provide it.
type Driver interface {
	Start(ctx context.Context, color string, spec runtime.Spec) (runtime.Instance, error)
	Stop(ctx context.Context, color string) error
	Instance(color string) (runtime.Instance, bool)
	Exited(color string) <-chan struct{}
	Logs(color string, n int) []string
}

// Routes is the routing table the pipeline reads and replaces. The
// pipeline changes it only through Service.route: checked, persisted, then
// installed.
type Routes interface {
	Table() router.Table
	CheckTable(t router.Table) error
	Install(t router.Table)
}

// Drainer waits for the requests in flight to an upstream to end: all of
// them before its process is stopped (Drain), or all but the upgraded
// connections after a switch that keeps it running (DrainRequests).
type Drainer interface {
	Drain(ctx context.Context, addr string) error
	DrainRequests(ctx context.Context, addr string) error
}

// Load is what Status shows of an upstream's traffic.
type Load interface {
	InFlight(addr string) int64
	Queued(addr string) int64
}

// Router is the data plane as bascule serve hands it over (a
// *router.Router); each part of the pipeline uses one of its parts.
type Router interface {
	Routes
	Drainer
	Load
}

// Store is what the pipeline persists.
type Store interface {
	store.Releases
	store.Deployments
	store.Slots
	store.RoutingTables
	store.Progressives
	store.Audit
	store.Retention
}

// Options configure a Service. Zero durations take the documented defaults.
type Options struct {
	App         string // default "app"
	Store       Store
	Artifacts   *artifact.Store
	Driver      Driver
	Router      Router
	RoutingPath string // where the routing table is persisted; empty: not persisted
	// ProgressPath is where bascule kept a progressive go-live in progress
	// before it moved to the store: one found there is carried over once.
	ProgressPath string
	Command      []string
	Env          []string
	Health       runtime.HealthCheck
	StartTimeout time.Duration // default 60s: start to healthy
	SmokeCommand []string      // optional
	SmokeTimeout time.Duration // default 60s
	SmokeEnv     []string      // extra environment for the smoke test (preview URL, header, token)
	DrainTimeout time.Duration // default 30s
	AutoGoLive   bool
	Logger       *slog.Logger
	Observer     Observer // optional: told of every finished pipeline
	// Migrations runs the releases' database migrations; nil when the app
	// has no database (the migrate step is then skipped).
	Migrations Migrations
	// Guard watches each go-live and rolls back on a breach; its zero
	// value (Window 0) is off. Traffic must be set for it to work.
	Guard guard.Config
	// Traffic reads the routers' per-color counters, for the guard. It
	// must keep at least BaselineSpan(Guard.Window) of past readings.
	Traffic Traffic
	// GuardTick is how often the guard judges; zero: every 50ms.
	GuardTick time.Duration
	// Retention is the garbage collection of release artifacts; its zero
	// value collects nothing.
	Retention Retention
	// Blobs is the store's copy of the artifacts, which a collection
	// deletes; nil when only the data directory holds them (SQLite).
	Blobs BlobDeleter
	// Standby starts the Service as a follower: it runs nothing and
	// refuses actions with ErrNotLeader until Lead. Without it the Service
	// leads from New on, as the only instance.
	Standby bool
}

// Migrations runs a release's database migrations in two phases. Check
// runs every gate of a deployment (lint; a rehearsal, on a shadow copy of
// the schema, of the live release's contract step when the deployment
// finalizes it, then of the candidate's expand step) and touches nothing.
// Expand runs before the release starts and must keep the live release
// working; it runs the compatibility gates again and refuses a release
// that would break it. Contract runs when the release is finalized and
// removes what only the previous release needed. They read the migrations
// from the unpacked release directories; progress receives one line per
// event (file applied, finding accepted with its reason, …); the returned
// summary is recorded in the deployment.
type Migrations interface {
	Check(ctx context.Context, plan migrate.Plan, progress func(string)) (summary string, err error)
	Expand(ctx context.Context, version, dir string, progress func(string)) (summary string, err error)
	Contract(ctx context.Context, version, dir string, progress func(string)) (summary string, err error)
}

// Observer is told how each pipeline ended (ready or failed) and how long
// it took; the server feeds metrics from it.
type Observer interface {
	DeploymentFinished(outcome string, d time.Duration)
}

// Service runs deployments and switches for one app.
type Service struct {
	opts   Options
	log    *slog.Logger
	events *broker

	runMu   sync.Mutex
	running map[int64]bool // deployments whose pipeline has not returned

	guardMu   sync.Mutex
	watch     *guardWatch  // the running watch, if any
	lastGuard *GuardStatus // how the last watch ended

	progMu   sync.Mutex
	prog     *Progressive  // the progressive go-live in progress, if any
	progWake chan struct{} // tells its runner that prog changed

	// switching serialises everything that changes which release runs where
	// or which color is live. Go-live and rollback only try it (or wait
	// briefly), so a second click gets a clear conflict instead of queueing
	// behind a deploy.
	switching switchLock

	// routeMu orders route's store write and install: the router installs
	// the tables in the order of the generations the store gave them.
	routeMu sync.Mutex

	termMu sync.Mutex
	term   *term // the current term; nil when not leading
	wg     sync.WaitGroup

	gcMu   sync.Mutex    // one collection of artifacts at a time
	gcWake chan struct{} // tells the collector a deployment ended
}

// New returns a Service. Call Recover once before serving requests.
func New(opts Options) *Service {
	if opts.App == "" {
		opts.App = "app"
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 60 * time.Second
	}
	if opts.SmokeTimeout <= 0 {
		opts.SmokeTimeout = 60 * time.Second
	}
	if opts.DrainTimeout <= 0 {
		opts.DrainTimeout = 30 * time.Second
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{opts: opts, log: log, events: newBroker(), running: map[int64]bool{},
		progWake: make(chan struct{}, 1), switching: newSwitchLock(), gcWake: make(chan struct{}, 1)}
	if !opts.Standby {
		// Alone on its store: the server runs Recover before it serves
		// the API.
		s.term = newTerm(store.Fence{}, false)
		close(s.term.ready)
	}
	return s
}

// Close stops running pipelines (they end failed, "interrupted") and waits.
func (s *Service) Close() { s.StepDown() }

// ConflictError says why an action cannot run now; the API answers 409.
type ConflictError struct {
	Msg    string
	Holder *store.Deployment // the deployment in the way, if any
}

func (e *ConflictError) Error() string { return e.Msg }

// ErrUnknownRelease is returned when deploying a version never registered.
var ErrUnknownRelease = errors.New("unknown release")

// ErrImageNotRunnable is returned when deploying a release that is a
// container image with a driver that runs only release artifacts.
var ErrImageNotRunnable = errors.New("release is a container image")

// ImageRunner is implemented by a Driver that runs releases that are
// container images (Release.Image). A driver without it runs artifacts
// only, and deploying an image with it is refused before anything starts.
type ImageRunner interface {
	RunsImages() bool
}

func runsImages(d Driver) bool {
	ir, ok := d.(ImageRunner)
	return ok && ir.RunsImages()
}

func conflict(format string, args ...any) error {
	return &ConflictError{Msg: fmt.Sprintf(format, args...)}
}

func (s *Service) now() time.Time { return time.Now().UTC() }

// Running reports whether the pipeline of deployment id is still going:
// its state may already be ready while an automatic go-live runs.
func (s *Service) Running(id int64) bool {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	return s.running[id]
}

func (s *Service) setRunning(id int64, on bool) {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	if on {
		s.running[id] = true
	} else {
		delete(s.running, id)
	}
}

// Wait blocks until the pipeline of deployment id has ended.
func (s *Service) Wait(ctx context.Context, id int64) (store.Deployment, error) {
	ch, cancel := s.Subscribe(id)
	defer cancel()
	for {
		// Running first: a pipeline that had ended by then has saved its
		// last state, which the read below sees.
		running := s.Running(id)
		d, err := s.opts.Store.Deployment(ctx, id)
		if err != nil || (!store.Active(d.State) && !running) {
			return d, err
		}
		select {
		case <-ctx.Done():
			return d, ctx.Err()
		case <-ch:
		}
	}
}

// App is the name of the app this service deploys.
func (s *Service) App() string { return s.opts.App }
