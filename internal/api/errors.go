package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/bascule/bascule/internal/artifact"
	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/deploy"
	"github.com/bascule/bascule/internal/store"
)

// Error is an API error with its HTTP status. Its JSON form is
// {"error": {"code": "...", "message": "..."}}.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Holder  any    `json:"deployment,omitempty"` // the deployment in the way, on a 409
}

func (e *Error) Error() string { return e.Message }

func errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// toError is the one place that maps errors to statuses. An error it does
// not know is internal: logged in full, shown as a short message.
func toError(err error) (*Error, bool) {
	var ae *Error
	var ce *deploy.ConflictError
	var ie *auth.InputError
	var rl *auth.RateLimitError
	var ue *artifact.UnsafeEntryError
	var de *deploy.InputError
	switch {
	case errors.As(err, &ae):
		return ae, true
	case errors.As(err, &ce):
		e := errorf(http.StatusConflict, "conflict", "%s", ce.Msg)
		if ce.Holder != nil {
			e.Holder = ce.Holder
		}
		return e, true
	case errors.Is(err, deploy.ErrUnknownRelease):
		return errorf(http.StatusNotFound, "unknown_release", "%v", err), true
	case errors.Is(err, store.ErrNotFound):
		return errorf(http.StatusNotFound, "not_found", "%v", err), true
	case errors.Is(err, store.ErrConflict):
		return errorf(http.StatusConflict, "conflict", "%v", err), true
	case errors.Is(err, auth.ErrUnauthenticated):
		return errorf(http.StatusUnauthorized, "unauthenticated", "log in, or send a valid API token: Authorization: Bearer TOKEN"), true
	case errors.Is(err, auth.ErrForbidden):
		return errorf(http.StatusForbidden, "forbidden", "%v", err), true
	case errors.Is(err, auth.ErrCSRF):
		return errorf(http.StatusForbidden, "csrf", "%v", err), true
	case errors.Is(err, auth.ErrCrossOrigin):
		return errorf(http.StatusForbidden, "cross_origin", "%v", err), true
	case errors.As(err, &rl):
		return errorf(http.StatusTooManyRequests, "rate_limited", "%v", rl), true
	case errors.As(err, &ie):
		return errorf(http.StatusBadRequest, "bad_request", "%s", ie.Msg), true
	case errors.As(err, &de):
		return errorf(http.StatusBadRequest, "bad_request", "%s", de.Msg), true
	case errors.Is(err, auth.ErrLastAdmin):
		return errorf(http.StatusConflict, "last_admin", "%v", auth.ErrLastAdmin), true
	case errors.Is(err, artifact.ErrTooLarge):
		return errorf(http.StatusRequestEntityTooLarge, "too_large", "%v", err), true
	case errors.Is(err, artifact.ErrDigestMismatch):
		return errorf(http.StatusBadRequest, "digest_mismatch", "%v", err), true
	case errors.As(err, &ue):
		return errorf(http.StatusUnprocessableEntity, "unsafe_archive", "%v", err), true
	case errors.Is(err, artifact.ErrInvalidArchive):
		return errorf(http.StatusUnprocessableEntity, "invalid_archive", "%v", err), true
	}
	return errorf(http.StatusInternalServerError, "internal", "internal error; see the bascule log"), false
}

// WriteError answers err as the API answers its own errors, for what the
// control plane refuses in front of the API (a cross-origin change).
func (h *Handler) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	h.writeError(w, r, err)
}

func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e, known := toError(err)
	if !known {
		h.log.Error("api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="bascule"`)
	}
	var rl *auth.RateLimitError
	if errors.As(err, &rl) {
		w.Header().Set("Retry-After", strconv.Itoa(int(rl.RetryAfter.Round(time.Second)/time.Second)))
	}
	writeJSON(w, e.Status, map[string]*Error{"error": e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// decode reads a JSON body strictly: bounded, no unknown fields, one value.
func (h *Handler) decode(w http.ResponseWriter, r *http.Request, v any) error {
	r.Body = http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return errorf(http.StatusRequestEntityTooLarge, "too_large", "request body over %d bytes", tooBig.Limit)
		}
		return errorf(http.StatusBadRequest, "bad_request", "invalid JSON body: %v", err)
	}
	if dec.More() {
		return errorf(http.StatusBadRequest, "bad_request", "invalid JSON body: more than one value")
	}
	return nil
}
