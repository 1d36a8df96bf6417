// Package server assembles bascule from its parts (router, runtime driver,
// store, deploy pipeline, API) for `bascule serve` and `bascule demo`, and
// runs it until its context ends.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/bascule/bascule/feature"
	"github.com/bascule/bascule/internal/api"
	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/config"
	"github.com/bascule/bascule/internal/deploy"
	"github.com/bascule/bascule/internal/flag"
	"github.com/bascule/bascule/internal/fleet"
	"github.com/bascule/bascule/internal/guard"
	"github.com/bascule/bascule/internal/leader"
	"github.com/bascule/bascule/internal/notify"
	"github.com/bascule/bascule/internal/router"
	"github.com/bascule/bascule/internal/store"
)

// Options configure a Server.
type Options struct {
	Config config.Config
	Logger *slog.Logger // nil: discard
	// AdminToken, when set and no token exists yet, is the initial admin
	// token (BASCULE_ADMIN_TOKEN). Otherwise one is generated.
	AdminToken string
	// AdminPassword, when set and no user exists yet, is the password of
	// the initial "admin" user (BASCULE_ADMIN_PASSWORD). Otherwise one is
	// generated.
	AdminPassword string
	// StopAppsOnClose stops the apps when the server shuts down gracefully.
	// After a crash they keep serving and the next start adopts them.
	StopAppsOnClose bool
}

// Server is a running bascule: router and control plane.
type Server struct {
	cfg    config.Config
	log    *slog.Logger
	opts   Options
	router *router.Router
	store  store.Store
	driver driver
	deploy *deploy.Service
	fleet  *fleet.Hub // the routers, this process's own among them
	// traffic is the guard's view of every router's counters; nil when
	// the guard is off.
	traffic *fleet.Traffic
	meter   *guard.Meter // the embedded router's guard counters, when the guard is on

	forgetLater *time.Timer // forgets this host's earlier embedded routers
	auth        *auth.Authenticator
	flags       *flag.Service

	notify       *notify.Notifier
	stopNotifier func() // stops the notifier and waits for it

	// elector campaigns for the lead of the control plane among the
	// instances sharing the store; nil when only this one uses it.
	elector     *leader.Elector
	stopElector func() // ends the campaign, and the term if leading, and waits
	// up sends the embedded router's heartbeats to the leader while this
	// instance follows.
	up *upstream
	// stopFollow ends the hub's following of the stored routing table
	// (while this instance does not lead) and waits; nil when it does not
	// follow.
	followMu   sync.Mutex
	stopFollow func()

	stopSharing         func()             // ends the copy of local artifacts to the shared store and waits
	stopSweeping        func()             // ends the removal of collected artifacts from this disk and waits
	stopMeter           context.CancelFunc // ends the guard meter's readings
	stopChecks          func()             // ends the router's active health checks and waits
	stopResolver        func()             // ends the router's watch of EndpointSlices (kubernetes driver)
	routerSrv           *router.Server
	controlSrv          *http.Server
	routerLn, controlLn net.Listener
	serveErr            chan error

	// InitialToken is the admin token created at this start, "" if tokens
	// existed already. It is shown once and never stored in clear.
	InitialToken string
	// InitialPassword is the password of the "admin" user created at this
	// start, "" if users existed already. It is shown once, stored hashed.
	InitialPassword string
	// PreviewToken unlocks the idle color through the router.
	PreviewToken string
}

// ListenError is an address bascule could not listen on. Key is the
// config key that sets it ("listen" or "control"), so that the CLI can
// point at the line to change.
type ListenError struct {
	Key, Addr string
	Err       error
}

func (e *ListenError) Error() string { return e.Err.Error() }

func (e *ListenError) Unwrap() error { return e.Err }

// driver is a runtime driver as the server manages it.
type driver interface {
	deploy.Driver
	Close() error
}

// Open starts bascule: the router listens first and serves the persisted
// routing table at once, so production keeps being served whatever the
// control plane is doing; then the store opens, the driver adopts the apps a
// previous run left, an interrupted deployment is failed, and the control
// plane listens.
func Open(ctx context.Context, opts Options) (_ *Server, err error) {
	cfg := opts.Config
	s := &Server{cfg: cfg, opts: opts, log: opts.Logger, serveErr: make(chan error, 2)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.up = &upstream{log: s.log.With("component", "fleet"), client: &http.Client{}}
	defer func() {
		if err != nil {
			s.shutdown(context.Background())
		}
	}()
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	if s.PreviewToken, err = previewToken(cfg); err != nil {
		return nil, err
	}
	table, err := router.LoadTable(s.routingPath())
	if err != nil {
		return nil, err
	}
	resolver, err := newResolver(cfg, s.log.With("component", "endpoints"))
	if err != nil {
		return nil, err
	}
	var res router.Resolver
	if resolver != nil {
		res = resolver
	}
	m := newMetrics()
	s.startMeter(m)
	s.router = router.New(router.Options{Logger: s.log.With("component", "router"), Resolver: res,
		PreviewHosts: hostsOnly(cfg.Preview.Hosts), PreviewHeader: cfg.Preview.Header,
		PreviewCookie: cfg.Preview.Cookie, PreviewToken: s.PreviewToken, Observe: m.observe,
		StripCookies: []string{auth.CookieName},
		Concurrency:  cfg.Concurrency.Limit, QueueTimeout: cfg.Concurrency.QueueTimeout,
		// Progressive go-lives bucket users exactly as flags do.
		Bucket:          feature.Bucket,
		CohortKeyCookie: cfg.Progressive.StickyCookie, CohortKeyHeader: cfg.Progressive.StickyHeader})
	s.router.Install(table)
	s.stopResolver = followResolver(resolver, s.router)
	s.startInstanceChecks()
	m.watchQueues(s.router)
	if s.routerLn, err = net.Listen("tcp", cfg.Listen); err != nil {
		return nil, &ListenError{Key: "listen", Addr: cfg.Listen, Err: fmt.Errorf("router: listen %s: %w", cfg.Listen, err)}
	}
	s.routerSrv = router.NewServer(cfg.Listen, s.router)
	go func() { s.serveErr <- serve(s.routerSrv, s.routerLn) }()
	s.log.Info("router listening", "addr", s.routerLn.Addr().String(), "live", table.Live)

	if err := s.openControlPlane(ctx, m); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) openControlPlane(ctx context.Context, m *metrics) (err error) {
	cfg := s.cfg
	if s.store, err = openStore(ctx, cfg); err != nil {
		return err
	}
	s.startNotifier()
	live := func() string { return string(s.router.Table().Live) }
	if s.driver, err = newDriver(ctx, cfg, live, s.log); err != nil {
		return err
	}
	arts := s.newArtifacts()
	mig := newMigrator(cfg, migrationCommands(s.driver, s.store), s.log)
	if s.fleet, err = s.openFleet(ctx); err != nil {
		return err
	}
	// Sharing the store, this instance follows until it wins the lease.
	_, shared := s.store.(store.Leases)
	s.deploy = deploy.New(deploy.Options{App: cfg.App, Store: s.store, Artifacts: arts, Driver: s.driver,
		Router: s.fleet, RoutingPath: s.routingPath(), ProgressPath: filepath.Join(cfg.DataDir, "golive.json"),
		Command: cfg.Runtime.Process.Command, Env: appEnv(cfg), Health: healthCheck(cfg),
		StartTimeout: cfg.HealthCheck.StartTimeout,
		SmokeCommand: cfg.SmokeTest.Command, SmokeTimeout: cfg.SmokeTest.Timeout, SmokeEnv: s.smokeEnv(),
		DrainTimeout: cfg.DrainTimeout, AutoGoLive: cfg.AutoGoLive, Logger: s.log.With("component", "deploy"),
		Observer: m, Migrations: deployMigrations(mig), Guard: guardConfig(cfg), Traffic: s.guardTraffic(),
		Retention: retention(cfg), Blobs: sharedBlobs(arts, s.store), Standby: shared})
	cop, err := newCrossOrigin(cfg)
	if err != nil {
		return err
	}
	proxies, err := auth.ParseProxies(cfg.ControlTrustedProxies)
	if err != nil {
		return fmt.Errorf("control_trusted_proxies: %w", err)
	}
	s.auth = auth.New(auth.Options{Store: s.store, SecureCookie: cfg.SecureCookies, CrossOrigin: cop,
		ClientIP: proxies.ClientIP, Logger: s.log.With("component", "auth")})
	// The control plane listens before the first credentials are created,
	// last of all that can fail: if its port is taken, the start fails with
	// nothing created and the next start shows them, instead of locking
	// the operator out.
	if s.controlLn, err = listenControl(cfg); err != nil {
		return &ListenError{Key: "control", Addr: cfg.Control, Err: err}
	}
	s.elector = s.newElector()
	if err := s.openFlags(ctx, m); err != nil {
		return err
	}
	apiH := api.New(api.Options{Store: s.store, Artifacts: arts, Deploy: s.deploy, Auth: s.auth, Fleet: s.fleet,
		Flags: s.flags, Migrations: apiMigrations(mig), Logger: s.log.With("component", "api"),
		Notifications: s.notify})
	if s.InitialToken, err = bootstrapToken(ctx, s.store, s.auth.Tokens(), s.opts.AdminToken); err != nil {
		return err
	}
	if s.InitialPassword, err = bootstrapAdmin(ctx, s.auth.Users(), s.opts.AdminPassword); err != nil {
		return err
	}
	// After the first credentials: its token is not one an operator made.
	if s.elector != nil {
		if err := s.up.start(ctx, s.elector, s.auth.Tokens(), s.localRouterID()); err != nil {
			return err
		}
	}
	s.controlSrv = &http.Server{Handler: s.controlMux(apiH, m, cop), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second,
		// TLS handshake failures and the like are a client's problem, not
		// bascule's: debug level, through the same structured log.
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	s.startLeading(ctx)
	s.startSharing(arts)
	s.startSweeping(arts)
	go func() { s.serveErr <- serve(s.controlSrv, s.controlLn) }()
	s.log.Info("control plane listening", "addr", s.controlLn.Addr().String())
	return nil
}

func serve(srv interface{ Serve(net.Listener) error }, ln net.Listener) error {
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// RouterAddr is the address production traffic goes to.
func (s *Server) RouterAddr() string { return s.routerLn.Addr().String() }

// ControlAddr is the address of the API.
func (s *Server) ControlAddr() string { return s.controlLn.Addr().String() }

// Deploy is the deployment service, for in-process callers (the demo).
func (s *Server) Deploy() *deploy.Service { return s.deploy }

// Run serves until ctx ends or a listener fails, then shuts down.
func (s *Server) Run(ctx context.Context) error {
	var err error
	select {
	case <-ctx.Done():
	case err = <-s.serveErr:
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.DrainTimeout+s.cfg.StopTimeout)
	defer cancel()
	s.shutdown(sctx)
	return err
}

// shutdown stops the control plane's API, lets the router finish its
// in-flight requests, stops the control plane, then stops the apps if
// asked to.
func (s *Server) shutdown(ctx context.Context) {
	if s.flags != nil {
		s.flags.Close() // end flag streams, or Shutdown would wait for them
	}
	if s.controlSrv != nil {
		s.controlSrv.Shutdown(ctx)
	} else if s.controlLn != nil {
		s.controlLn.Close()
	}
	// The router takes no more requests and finishes those it has, still
	// following the fleet's table; then it leaves the fleet, told to the
	// leader while this instance still knows who leads.
	if s.routerSrv != nil {
		s.routerSrv.Shutdown(ctx)
	} else if s.routerLn != nil {
		s.routerLn.Close()
	}
	if s.fleet != nil {
		s.fleet.Leave(ctx)
	}
	if s.stopElector != nil {
		s.stopElector() // steps down, stops the webhook worker, releases the lease
	}
	s.unfollow()
	if s.auth != nil {
		s.up.close(ctx, s.auth.Tokens())
	}
	if s.deploy != nil {
		s.deploy.Close()
	}
	if s.forgetLater != nil {
		s.forgetLater.Stop()
	}
	if s.fleet != nil {
		s.fleet.Close()
	}
	if s.stopChecks != nil {
		s.stopChecks()
	}
	if s.stopResolver != nil {
		s.stopResolver()
	}
	if s.driver != nil {
		if s.opts.StopAppsOnClose {
			for _, c := range []string{"blue", "green"} {
				if err := s.driver.Stop(ctx, c); err != nil {
					s.log.Error("stop app", "color", c, "err", err)
				}
			}
		}
		s.driver.Close()
	}
	if s.stopNotifier != nil {
		s.stopNotifier() // before the store it writes to closes
	}
	if s.stopSharing != nil {
		s.stopSharing() // before the store it writes to closes
	}
	if s.stopSweeping != nil {
		s.stopSweeping() // before the store it reads closes
	}
	if s.store != nil {
		s.store.Close()
	}
	if s.stopMeter != nil {
		s.stopMeter()
	}
}

func (s *Server) routingPath() string { return filepath.Join(s.cfg.DataDir, "routing.json") }
