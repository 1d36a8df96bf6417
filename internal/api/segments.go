package api

import (
	"net/http"

	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/flag"
)

func (h *Handler) listSegments(w http.ResponseWriter, r *http.Request, _ auth.Principal, svc *flag.Service) error {
	wire := svc.Snapshot().Wire()
	setVersion(w, wire.Version)
	writeJSON(w, http.StatusOK, map[string]any{"version": wire.Version, "segments": wire.Segments})
	return nil
}

func (h *Handler) getSegment(w http.ResponseWriter, r *http.Request, _ auth.Principal, svc *flag.Service) error {
	snap := svc.Snapshot()
	s, ok := snap.Segments[r.PathValue("key")]
	if !ok {
		return errorf(http.StatusNotFound, "not_found", "segment %q not found", r.PathValue("key"))
	}
	setVersion(w, snap.Version)
	writeJSON(w, http.StatusOK, s)
	return nil
}

// readSegment decodes a segment strictly; a PUT's key comes from the URL.
func (h *Handler) readSegment(w http.ResponseWriter, r *http.Request) (*flag.Segment, error) {
	var s flag.Segment
	if err := h.decode(w, r, &s); err != nil {
		return nil, err
	}
	if key := r.PathValue("key"); key != "" {
		if s.Key != "" && s.Key != key {
			return nil, errorf(http.StatusBadRequest, "bad_request", "key %q in the body does not match %q in the URL; segments cannot be renamed", s.Key, key)
		}
		s.Key = key
	}
	if s.Key == "" {
		return nil, errorf(http.StatusBadRequest, "bad_request", `"key" is required`)
	}
	return &s, nil
}

func (h *Handler) createSegment(w http.ResponseWriter, r *http.Request, p auth.Principal, svc *flag.Service) error {
	s, err := h.readSegment(w, r)
	if err != nil {
		return err
	}
	return h.change(w, r, p, svc, flag.Edit{Action: "segment.create", Target: s.Key}, http.StatusCreated,
		func(d *flag.Draft) error { return d.CreateSegment(s) })
}

func (h *Handler) putSegment(w http.ResponseWriter, r *http.Request, p auth.Principal, svc *flag.Service) error {
	s, err := h.readSegment(w, r)
	if err != nil {
		return err
	}
	return h.change(w, r, p, svc, flag.Edit{Action: "segment.update", Target: s.Key}, http.StatusOK,
		func(d *flag.Draft) error { d.PutSegment(s); return nil })
}

func (h *Handler) deleteSegment(w http.ResponseWriter, r *http.Request, p auth.Principal, svc *flag.Service) error {
	key := r.PathValue("key")
	return h.change(w, r, p, svc, flag.Edit{Action: "segment.delete", Target: key}, http.StatusOK,
		func(d *flag.Draft) error { return d.DeleteSegment(key) })
}
