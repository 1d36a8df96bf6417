package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/deploy"
	"github.com/bascule/bascule/internal/sse"
	"github.com/bascule/bascule/internal/store"
)

func (h *Handler) status(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	st, err := h.opts.Deploy.Status(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

type deployRequest struct {
	Version string `json:"version"`
	Reason  string `json:"reason"`
}

func (h *Handler) createDeployment(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	var req deployRequest
	if err := h.decode(w, r, &req); err != nil {
		return err
	}
	if strings.TrimSpace(req.Version) == "" {
		return errorf(http.StatusBadRequest, "bad_request", `"version" is required`)
	}
	d, err := h.opts.Deploy.Deploy(r.Context(), req.Version, req.Reason, p.Name)
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/deployments/%d", d.ID))
	writeJSON(w, http.StatusAccepted, d)
	return nil
}

func (h *Handler) listDeployments(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return errorf(http.StatusBadRequest, "bad_request", "limit %q: want 1 to 1000", v)
		}
		limit = n
	}
	list, err := h.opts.Store.ListDeployments(r.Context(), h.opts.Deploy.App(), limit)
	if err != nil {
		return err
	}
	if list == nil {
		list = []store.Deployment{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"deployments": list})
	return nil
}

func deploymentID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, errorf(http.StatusBadRequest, "bad_request", "deployment id %q is not a number", r.PathValue("id"))
	}
	return id, nil
}

func (h *Handler) getDeployment(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	id, err := deploymentID(r)
	if err != nil {
		return err
	}
	d, err := h.opts.Store.Deployment(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

// deploymentEvents streams the deployment as Server-Sent Events: one
// "deployment" event with the whole record at each change, until it is no
// longer running. The first event is the current state.
func (h *Handler) deploymentEvents(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	id, err := deploymentID(r)
	if err != nil {
		return err
	}
	updates, cancel := h.opts.Deploy.Subscribe(id)
	defer cancel()
	d, err := h.opts.Store.Deployment(r.Context(), id)
	if err != nil {
		return err
	}
	es := sse.Start(w)
	send := func(d store.Deployment) {
		b, _ := json.Marshal(d)
		es.Send(sse.Event{Name: "deployment", ID: strconv.Itoa(len(d.Steps)), Data: b})
	}
	send(d)
	keepAlive := time.NewTicker(15 * time.Second)
	defer keepAlive.Stop()
	for store.Active(d.State) || h.opts.Deploy.Running(id) {
		select {
		case <-r.Context().Done():
			return nil
		case u := <-updates:
			if u.UpdatedAt.Before(d.UpdatedAt) && store.Active(u.State) {
				continue // published before our first read
			}
			d = u
			send(d)
		case <-keepAlive.C:
			es.Comment("keep-alive")
		}
	}
	return nil
}

type switchRequest struct {
	Reason string `json:"reason"`
	Force  bool   `json:"force"` // rollback only: switch back despite a finalized release
	// Go-live only: a progressive go-live, steps of percentages of users
	// (ending at 100) moved on every interval (a Go duration, "2m").
	Steps    []int  `json:"steps"`
	Interval string `json:"interval"`
}

// only refuses the fields that the action does not take.
func (req switchRequest) only(force, progressive bool) error {
	switch {
	case req.Force && !force:
		return errorf(http.StatusBadRequest, "bad_request", `"force" applies to rollback only`)
	case (req.Steps != nil || req.Interval != "") && !progressive:
		return errorf(http.StatusBadRequest, "bad_request", `"steps" and "interval" apply to go-live only`)
	}
	return nil
}

func (h *Handler) goLive(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	return h.switchColor(w, r, p, func(ctx context.Context, actor string, req switchRequest) (deploy.Status, error) {
		if err := req.only(false, true); err != nil {
			return deploy.Status{}, err
		}
		if req.Steps == nil && req.Interval == "" {
			return h.opts.Deploy.GoLive(ctx, actor, req.Reason)
		}
		interval, err := time.ParseDuration(req.Interval)
		if err != nil || req.Steps == nil {
			return deploy.Status{}, errorf(http.StatusBadRequest, "bad_request",
				`a progressive go-live needs "steps", such as [1, 10, 50, 100], and "interval", a duration such as "2m"`)
		}
		return h.opts.Deploy.GoLiveProgressive(ctx, actor, req.Reason, req.Steps, interval)
	})
}

func (h *Handler) rollback(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	return h.switchColor(w, r, p, func(ctx context.Context, actor string, req switchRequest) (deploy.Status, error) {
		if err := req.only(true, false); err != nil {
			return deploy.Status{}, err
		}
		return h.opts.Deploy.Rollback(ctx, actor, req.Reason, req.Force)
	})
}

func (h *Handler) finalize(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	return h.switchColor(w, r, p, func(ctx context.Context, actor string, req switchRequest) (deploy.Status, error) {
		if err := req.only(false, false); err != nil {
			return deploy.Status{}, err
		}
		return h.opts.Deploy.Finalize(ctx, actor, req.Reason)
	})
}

// progressAction serves promote, pause and resume of the progressive
// go-live in progress.
func (h *Handler) progressAction(do func(ctx context.Context, actor, reason string) (deploy.Status, error)) func(http.ResponseWriter, *http.Request, auth.Principal) error {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		return h.switchColor(w, r, p, func(ctx context.Context, actor string, req switchRequest) (deploy.Status, error) {
			if err := req.only(false, false); err != nil {
				return deploy.Status{}, err
			}
			return do(ctx, actor, req.Reason)
		})
	}
}

func (h *Handler) switchColor(w http.ResponseWriter, r *http.Request, p auth.Principal,
	do func(ctx context.Context, actor string, req switchRequest) (deploy.Status, error)) error {
	var req switchRequest
	if r.ContentLength != 0 {
		if err := h.decode(w, r, &req); err != nil {
			return err
		}
	}
	st, err := do(r.Context(), p.Name, req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}
