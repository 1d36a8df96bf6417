package api

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/flag"
)

// flagHandler is an endpoint that needs the flag service.
type flagHandler func(w http.ResponseWriter, r *http.Request, p auth.Principal, svc *flag.Service) error

// fl adapts a flagHandler to a route, answering 503 on a server built
// without flags.
func (h *Handler) fl(fn flagHandler) func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		if h.opts.Flags == nil {
			return errorf(http.StatusServiceUnavailable, "unavailable", "feature flags are not enabled on this server")
		}
		return fn(w, r, p, h.opts.Flags)
	}
}

// flagChange is the answer to every change: what it did, and the flag or
// segment as it now is.
type flagChange struct {
	flag.Outcome
	Flag    *flag.Flag    `json:"flag,omitempty"`
	Segment *flag.Segment `json:"segment,omitempty"`
}

func setVersion(w http.ResponseWriter, version int64) {
	w.Header().Set("ETag", fmt.Sprintf(`"v%d"`, version))
}

// ifVersion reads If-Match: "v12" makes a change conditional on version 12.
func ifVersion(r *http.Request) (*int64, error) {
	v := strings.TrimSpace(r.Header.Get("If-Match"))
	if v == "" || v == "*" {
		return nil, nil
	}
	n, err := strconv.ParseInt(strings.TrimPrefix(strings.Trim(strings.TrimPrefix(v, "W/"), `"`), "v"), 10, 64)
	if err != nil || n < 0 {
		return nil, errorf(http.StatusBadRequest, "bad_request", `If-Match %s: want the ETag of a flags read, "v<version>"`, v)
	}
	return &n, nil
}

// change runs one edit as p and answers with its outcome. An If-Match
// header makes it conditional on the version the caller read.
// A 201 answer points at the created flag or segment (e.Target).
func (h *Handler) change(w http.ResponseWriter, r *http.Request, p auth.Principal, svc *flag.Service,
	e flag.Edit, status int, edit func(*flag.Draft) error) error {
	base, err := ifVersion(r)
	if err != nil {
		return err
	}
	e.Actor, e.IfVersion = p.Name, base
	out, err := svc.Update(r.Context(), e, edit)
	if err != nil {
		return err
	}
	setVersion(w, out.Version)
	if status == http.StatusCreated {
		kind, _, _ := strings.Cut(e.Action, ".")
		w.Header().Set("Location", "/api/v1/"+kind+"s/"+e.Target)
	}
	res := flagChange{Outcome: out}
	snap := svc.Snapshot()
	if f, ok := snap.Flags[e.Target]; ok && strings.HasPrefix(e.Action, "flag.") {
		res.Flag = f
	}
	if s, ok := snap.Segments[e.Target]; ok && strings.HasPrefix(e.Action, "segment.") {
		res.Segment = s
	}
	writeJSON(w, status, res)
	return nil
}

func (h *Handler) flagSnapshot(w http.ResponseWriter, r *http.Request, _ auth.Principal, svc *flag.Service) error {
	cur := svc.Current()
	etag := fmt.Sprintf(`"v%d"`, cur.Snapshot.Version)
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "no-cache")
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagListHas(inm, etag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(cur.JSON)
	return nil
}

func etagListHas(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		if t = strings.TrimSpace(t); t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

func (h *Handler) listFlags(w http.ResponseWriter, r *http.Request, _ auth.Principal, svc *flag.Service) error {
	wire := svc.Snapshot().Wire()
	setVersion(w, wire.Version)
	writeJSON(w, http.StatusOK, map[string]any{"version": wire.Version, "flags": wire.Flags})
	return nil
}

func (h *Handler) getFlag(w http.ResponseWriter, r *http.Request, _ auth.Principal, svc *flag.Service) error {
	snap := svc.Snapshot()
	f, ok := snap.Flags[r.PathValue("key")]
	if !ok {
		return errorf(http.StatusNotFound, "not_found", "flag %q not found", r.PathValue("key"))
	}
	setVersion(w, snap.Version)
	writeJSON(w, http.StatusOK, f)
	return nil
}

// readFlag decodes a flag strictly; a PUT's key comes from the URL.
func (h *Handler) readFlag(w http.ResponseWriter, r *http.Request) (*flag.Flag, error) {
	var f flag.Flag
	if err := h.decode(w, r, &f); err != nil {
		return nil, err
	}
	if key := r.PathValue("key"); key != "" {
		if f.Key != "" && f.Key != key {
			return nil, errorf(http.StatusBadRequest, "bad_request", "key %q in the body does not match %q in the URL; flags cannot be renamed", f.Key, key)
		}
		f.Key = key
	}
	if f.Key == "" {
		return nil, errorf(http.StatusBadRequest, "bad_request", `"key" is required`)
	}
	return &f, nil
}

func (h *Handler) createFlag(w http.ResponseWriter, r *http.Request, p auth.Principal, svc *flag.Service) error {
	f, err := h.readFlag(w, r)
	if err != nil {
		return err
	}
	return h.change(w, r, p, svc, flag.Edit{Action: "flag.create", Target: f.Key}, http.StatusCreated,
		func(d *flag.Draft) error { return d.CreateFlag(f) })
}

func (h *Handler) putFlag(w http.ResponseWriter, r *http.Request, p auth.Principal, svc *flag.Service) error {
	f, err := h.readFlag(w, r)
	if err != nil {
		return err
	}
	return h.change(w, r, p, svc, flag.Edit{Action: "flag.update", Target: f.Key}, http.StatusOK,
		func(d *flag.Draft) error { d.PutFlag(f); return nil })
}

func (h *Handler) deleteFlag(w http.ResponseWriter, r *http.Request, p auth.Principal, svc *flag.Service) error {
	key := r.PathValue("key")
	return h.change(w, r, p, svc, flag.Edit{Action: "flag.delete", Target: key}, http.StatusOK,
		func(d *flag.Draft) error { return d.DeleteFlag(key) })
}

func (h *Handler) enableFlag(w http.ResponseWriter, r *http.Request, p auth.Principal, svc *flag.Service) error {
	return h.setEnabled(w, r, p, svc, true)
}

func (h *Handler) disableFlag(w http.ResponseWriter, r *http.Request, p auth.Principal, svc *flag.Service) error {
	return h.setEnabled(w, r, p, svc, false)
}

func (h *Handler) setEnabled(w http.ResponseWriter, r *http.Request, p auth.Principal, svc *flag.Service, on bool) error {
	key, action := r.PathValue("key"), "flag.disable"
	if on {
		action = "flag.enable"
	}
	return h.change(w, r, p, svc, flag.Edit{Action: action, Target: key}, http.StatusOK,
		func(d *flag.Draft) error { return d.SetEnabled(key, on) })
}

type rolloutRequest struct {
	Percentage *float64 `json:"percentage"`
}

func (h *Handler) rolloutFlag(w http.ResponseWriter, r *http.Request, p auth.Principal, svc *flag.Service) error {
	var req rolloutRequest
	if err := h.decode(w, r, &req); err != nil {
		return err
	}
	if req.Percentage == nil {
		return errorf(http.StatusBadRequest, "bad_request", `"percentage" is required, e.g. {"percentage": 25}`)
	}
	pct := *req.Percentage
	weight := math.Round(pct * 1000)
	if pct < 0 || pct > 100 || math.Abs(pct*1000-weight) > 1e-6 {
		return errorf(http.StatusBadRequest, "bad_request", "percentage %v: want 0 to 100 with at most 3 decimals", pct)
	}
	key := r.PathValue("key")
	return h.change(w, r, p, svc, flag.Edit{Action: "flag.rollout", Target: key}, http.StatusOK,
		func(d *flag.Draft) error { return d.SetRollout(key, int(weight)) })
}

// applyFlags is flags as code: the body is a whole flags file, which
// replaces every flag and segment. ?file= names it in error messages;
// ?dry_run=true answers the diff without applying it.
func (h *Handler) applyFlags(w http.ResponseWriter, r *http.Request, p auth.Principal, svc *flag.Service) error {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return errorf(http.StatusRequestEntityTooLarge, "too_large", "flags file over %d bytes", tooBig.Limit)
	}
	if err != nil {
		return errorf(http.StatusBadRequest, "bad_request", "read flags file: %v", err)
	}
	name := r.URL.Query().Get("file")
	if name == "" {
		name = "flags.yaml"
	}
	dryRun, err := queryBool(r, "dry_run")
	if err != nil {
		return err
	}
	doc, err := flag.ParseFile(name, data)
	if err != nil {
		return err
	}
	return h.change(w, r, p, svc, flag.Edit{Action: "flags.apply", Target: name, DryRun: dryRun}, http.StatusOK,
		func(d *flag.Draft) error { d.Replace(doc); return nil })
}

func queryBool(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, errorf(http.StatusBadRequest, "bad_request", "%s=%q: want true or false", name, v)
	}
	return b, nil
}

func (h *Handler) exportFlags(w http.ResponseWriter, r *http.Request, _ auth.Principal, svc *flag.Service) error {
	snap := svc.Snapshot()
	setVersion(w, snap.Version)
	w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(flag.Export(snap))
	return nil
}

func (h *Handler) staleFlags(w http.ResponseWriter, r *http.Request, _ auth.Principal, svc *flag.Service) error {
	writeJSON(w, http.StatusOK, map[string]any{"stale": svc.Stale()})
	return nil
}
