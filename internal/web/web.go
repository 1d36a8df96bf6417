// Package web is bascule's control room: server-rendered pages
// (html/template, assets embedded in the binary, a little plain JavaScript)
// for the overview of both colors and the three big actions, a deployment as
// it happens, releases, history, feature flags, the audit log, and users and
// tokens. Live parts (traffic charts, pipeline steps, the app's log) arrive
// over Server-Sent Events. Every page needs a session; every change needs
// the session's CSRF token and the right role, checked here on the server.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/deploy"
	"github.com/bascule/bascule/internal/flag"
	"github.com/bascule/bascule/internal/fleet"
	"github.com/bascule/bascule/internal/store"
)

// Store is what the pages read, and where the UI's own actions (user and
// token changes, refused attempts) are audited.
type Store interface {
	store.Releases
	store.Deployments
	store.Slots
	store.Audit
	store.Tokens
}

// Fleet is what the overview shows of the routers. *fleet.Hub provides it.
type Fleet interface {
	Routers(ctx context.Context) (fleet.Fleet, error)
}

// ColorStats are the router's counters for one color since start: requests
// routed there and how many of them failed (5xx, or no response at all).
type ColorStats struct {
	Requests uint64
	Errors   uint64
}

// Options configure the UI. Auth, Store and Deploy are required; the zero
// value of every other field works.
type Options struct {
	Auth   *auth.Authenticator
	Store  Store
	Deploy *deploy.Service
	// Flags is the flag service; nil: the flag pages say flags are off.
	Flags *flag.Service
	// Stats reads the router's per-color counters. It is called about once
	// a second while someone watches the overview, so it must be cheap.
	// Nil: the overview shows no traffic.
	Stats func() map[string]ColorStats
	// PreviewURL opens the idle color in a browser (a preview host with the
	// preview token); "" shows no preview link.
	PreviewURL string
	// Notifications lists the webhooks and their deliveries; nil: the page
	// says none are configured.
	Notifications Notifications
	// Fleet lists the routers; nil: the overview shows none.
	Fleet Fleet
	// Tick is how often the overview's charts get a point; 0: one second.
	Tick   time.Duration
	Logger *slog.Logger     // nil: discard
	Now    func() time.Time // nil: time.Now
}

// Handler serves the UI. It owns every path but the API's (/api/), OFREP's,
// /metrics and /healthz, which the server routes elsewhere first.
type Handler struct {
	opts  Options
	log   *slog.Logger
	mux   *http.ServeMux
	pages *pages
	rates *rateBook
	// switching holds a go-live or rollback from its check of what is live
	// to its end; see switchAction.
	switching sync.Mutex
}

// New returns the UI handler. It panics if the embedded templates do not
// parse, which a test catches long before a release.
func New(opts Options) *Handler {
	if opts.Tick <= 0 {
		opts.Tick = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	h := &Handler{opts: opts, log: opts.Logger, mux: http.NewServeMux(), rates: newRateBook(60)}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.pages = mustParsePages()
	h.routes()
	return h
}

// ServeHTTP sets the security headers on every answer and routes.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setSecurityHeaders(w.Header())
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) now() time.Time { return h.opts.Now() }

// Routes lists the guarded routes with their minimum role, for tests and
// docs: the login, logout and static routes are not in it.
func (h *Handler) Routes() map[string]string {
	out := map[string]string{}
	for _, rt := range h.table() {
		out[rt.pattern] = rt.role
	}
	return out
}
