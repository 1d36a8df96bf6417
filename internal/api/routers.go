package api

import (
	"context"
	"net/http"

	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/fleet"
)

// Fleet is what the API needs of the router fleet: its registry, its
// routing stream, and the routers' heartbeats. *fleet.Hub provides it.
type Fleet interface {
	Routers(ctx context.Context) (fleet.Fleet, error)
	Stream(ctx context.Context, w http.ResponseWriter) error
	Heartbeat(ctx context.Context, hb fleet.Heartbeat) error
	Forget(ctx context.Context, id string) error
}

var errNoFleet = errorf(http.StatusServiceUnavailable, "unavailable", "this bascule has no router fleet")

// listRouters answers every registered router, each marked stale or lagging.
func (h *Handler) listRouters(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	if h.opts.Fleet == nil {
		return errNoFleet
	}
	f, err := h.opts.Fleet.Routers(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, f)
	return nil
}

// routingStream is what a router follows: the table to serve, at once and
// at every change.
func (h *Handler) routingStream(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if h.opts.Fleet == nil {
		return errNoFleet
	}
	h.log.Info("router following the routing stream", "router", r.URL.Query().Get("id"), "token", p.Name,
		"installed", r.URL.Query().Get("generation"))
	if err := h.opts.Fleet.Stream(r.Context(), w); err != nil {
		h.log.Debug("routing stream ended", "router", r.URL.Query().Get("id"), "err", err)
	}
	return nil
}

// routerHeartbeat records a router's report; its generations acknowledge
// installs and drains. Not audited: one a second per router would bury
// the log, and the registry shows the latest.
func (h *Handler) routerHeartbeat(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	if h.opts.Fleet == nil {
		return errNoFleet
	}
	// Not h.decode: fields a newer router adds must not cut it off from
	// an older control plane in the middle of an upgrade.
	hb, err := fleet.DecodeHeartbeat(http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes))
	if err != nil {
		return err // an *fleet.InputError: 400
	}
	if err := h.opts.Fleet.Heartbeat(r.Context(), hb); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// forgetRouter removes a router gone for good from the registry.
func (h *Handler) forgetRouter(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if h.opts.Fleet == nil {
		return errNoFleet
	}
	id := r.PathValue("id")
	err := h.opts.Fleet.Forget(r.Context(), id)
	h.auditResult(r, p, "router.forget", id, "", err)
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
