// Package api serves bascule's JSON REST API under /api/v1.
package api

import (
	"log/slog"
	"net/http"

	"github.com/bascule/bascule/internal/artifact"
	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/deploy"
	"github.com/bascule/bascule/internal/flag"
	"github.com/bascule/bascule/internal/store"
)

// Options configure the API handler.
type Options struct {
	Store     store.Store
	Artifacts *artifact.Store
	Deploy    *deploy.Service
	// Auth authenticates every request (API token or session cookie with
	// its CSRF token) and manages users and tokens.
	Auth *auth.Authenticator
	// Flags serves and changes the feature flags; nil answers 503.
	Flags *flag.Service
	// Migrations reads the app database's migration history; nil when the
	// app has no database.
	Migrations Migrations
	Logger     *slog.Logger // nil: discard
	// Notifications lists the webhooks and their deliveries; nil: none
	// are configured.
	Notifications Notifications
	// Fleet is the router fleet: the registry, the routing stream and the
	// heartbeats; nil answers 503 there.
	Fleet Fleet
	// MaxBodyBytes bounds JSON bodies; default 1 MiB. Artifact uploads are
	// bounded by the artifact store instead.
	MaxBodyBytes int64
}

// Handler is the API.
type Handler struct {
	opts Options
	log  *slog.Logger
	mux  *http.ServeMux
}

// New returns the API handler. It serves only /api/v1/ paths.
func New(opts Options) *Handler {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	h := &Handler{opts: opts, log: opts.Logger, mux: http.NewServeMux()}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.routes()
	return h
}

// route is one endpoint and the least role that may call it. Keeping them
// in one table makes "every mutating endpoint checks the role" checkable.
type route struct {
	pattern string
	role    string
	handle  func(w http.ResponseWriter, r *http.Request, p auth.Principal) error
}

// Routes lists the endpoints with their minimum role, for tests and docs.
func (h *Handler) Routes() map[string]string {
	out := map[string]string{}
	for _, rt := range h.table() {
		out[rt.pattern] = rt.role
	}
	return out
}

func (h *Handler) table() []route {
	return []route{
		{"GET /api/v1/status", store.RoleViewer, h.status},
		{"GET /api/v1/releases", store.RoleViewer, h.listReleases},
		{"GET /api/v1/releases/{version}", store.RoleViewer, h.getRelease},
		{"POST /api/v1/releases", store.RoleDeployer, h.addRelease},
		{"POST /api/v1/releases/{version}/lint", store.RoleDeployer, h.lintRelease},
		{"POST /api/v1/releases/prune", store.RoleAdmin, h.pruneReleases},
		{"GET /api/v1/migrations", store.RoleViewer, h.listMigrations},
		{"GET /api/v1/deployments", store.RoleViewer, h.listDeployments},
		{"POST /api/v1/deployments", store.RoleDeployer, h.createDeployment},
		{"GET /api/v1/deployments/{id}", store.RoleViewer, h.getDeployment},
		{"GET /api/v1/deployments/{id}/events", store.RoleViewer, h.deploymentEvents},
		{"POST /api/v1/go-live", store.RoleDeployer, h.goLive},
		{"GET /api/v1/go-live", store.RoleViewer, h.goLiveState},
		{"POST /api/v1/go-live/promote", store.RoleDeployer, h.progressAction(h.opts.Deploy.Promote)},
		{"POST /api/v1/go-live/pause", store.RoleDeployer, h.progressAction(h.opts.Deploy.Pause)},
		{"POST /api/v1/go-live/resume", store.RoleDeployer, h.progressAction(h.opts.Deploy.Resume)},
		{"POST /api/v1/rollback", store.RoleDeployer, h.rollback},
		{"POST /api/v1/finalize", store.RoleDeployer, h.finalize},
		{"GET /api/v1/routers", store.RoleViewer, h.listRouters},
		{"GET /api/v1/routers/stream", store.RoleRouter, h.routingStream},
		{"POST /api/v1/routers/heartbeat", store.RoleRouter, h.routerHeartbeat},
		{"DELETE /api/v1/routers/{id}", store.RoleAdmin, h.forgetRouter},
		{"GET /api/v1/audit", store.RoleViewer, h.listAudit},
		{"GET /api/v1/notifications", store.RoleViewer, h.listNotifications},
		{"GET /api/v1/users", store.RoleAdmin, h.listUsers},
		{"POST /api/v1/users", store.RoleAdmin, h.createUser},
		{"PUT /api/v1/users/{name}", store.RoleAdmin, h.updateUser},
		{"DELETE /api/v1/users/{name}", store.RoleAdmin, h.deleteUser},
		{"GET /api/v1/tokens", store.RoleAdmin, h.listTokens},
		{"POST /api/v1/tokens", store.RoleAdmin, h.createToken},
		{"DELETE /api/v1/tokens/{id}", store.RoleAdmin, h.revokeToken},
		{"GET /api/v1/flags/snapshot", store.RoleEvaluator, h.fl(h.flagSnapshot)},
		{"GET /api/v1/flags/stream", store.RoleEvaluator, h.fl(h.flagStream)},
		{"GET /api/v1/flags", store.RoleViewer, h.fl(h.listFlags)},
		{"POST /api/v1/flags", store.RoleDeployer, h.fl(h.createFlag)},
		{"GET /api/v1/flags/{key}", store.RoleViewer, h.fl(h.getFlag)},
		{"PUT /api/v1/flags/{key}", store.RoleDeployer, h.fl(h.putFlag)},
		{"DELETE /api/v1/flags/{key}", store.RoleDeployer, h.fl(h.deleteFlag)},
		{"POST /api/v1/flags/{key}/enable", store.RoleDeployer, h.fl(h.enableFlag)},
		{"POST /api/v1/flags/{key}/disable", store.RoleDeployer, h.fl(h.disableFlag)},
		{"POST /api/v1/flags/{key}/rollout", store.RoleDeployer, h.fl(h.rolloutFlag)},
		{"GET /api/v1/flags/{key}/history", store.RoleViewer, h.fl(h.flagHistory)},
		{"POST /api/v1/flags/apply", store.RoleDeployer, h.fl(h.applyFlags)},
		{"GET /api/v1/flags/export", store.RoleViewer, h.fl(h.exportFlags)},
		{"GET /api/v1/flags/stale", store.RoleViewer, h.fl(h.staleFlags)},
		{"GET /api/v1/segments", store.RoleViewer, h.fl(h.listSegments)},
		{"POST /api/v1/segments", store.RoleDeployer, h.fl(h.createSegment)},
		{"GET /api/v1/segments/{key}", store.RoleViewer, h.fl(h.getSegment)},
		{"PUT /api/v1/segments/{key}", store.RoleDeployer, h.fl(h.putSegment)},
		{"DELETE /api/v1/segments/{key}", store.RoleDeployer, h.fl(h.deleteSegment)},
	}
}

func (h *Handler) routes() {
	for _, rt := range h.table() {
		h.mux.Handle(rt.pattern, h.guard(rt))
	}
	h.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		h.writeError(w, r, errorf(http.StatusNotFound, "not_found", "no such endpoint: %s %s", r.Method, r.URL.Path))
	})
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }
