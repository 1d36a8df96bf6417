package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/httperr"
)

// Error is an API error with its HTTP status. Its JSON form is
// {"error": {"code": "...", "message": "..."}}. Errors are mapped to it in
// one place for the API and the web UI alike: package httperr.
type Error = httperr.Error

func errorf(status int, code, format string, args ...any) *Error {
	return httperr.New(status, code, format, args...)
}

// toError maps err to its answer; an error it does not know is internal:
// logged in full, shown as a short message.
func toError(err error) (*Error, bool) { return httperr.Of(err) }

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
