// Package httperr is the one place that says what an HTTP answer makes of
// bascule's domain errors: a status, a stable code for programs, a message
// for people. The JSON API and the web UI both answer through it, so a
// refused action reads the same, with the same status, in either.
package httperr

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/bascule/bascule/internal/artifact"
	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/deploy"
	"github.com/bascule/bascule/internal/flag"
	"github.com/bascule/bascule/internal/fleet"
	"github.com/bascule/bascule/internal/store"
)

// Error is an error as an answer states it. Its JSON form, under "error",
// is {"code": "...", "message": "..."}, with "deployment" on a conflict
// with one.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Holder  any    `json:"deployment,omitempty"` // the deployment in the way, on a 409
	// Lagging names the routers that did not confirm a switch, on a
	// switch_incomplete answer.
	Lagging any `json:"lagging,omitempty"`
	// Page, if set, is what a page of the web UI says instead of Message:
	// a sentence for a person at a browser rather than for a program.
	Page string `json:"-"`
}

func (e *Error) Error() string { return e.Message }

// Text is what a person reading a page is told.
func (e *Error) Text() string {
	if e.Page != "" {
		return e.Page
	}
	return e.Message
}

// New returns an Error with a formatted message.
func New(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Internal is the answer to an error Of does not know: the caller logs the
// detail, the answer gives none.
var Internal = &Error{Status: http.StatusInternalServerError, Code: "internal",
	Message: "internal error; see the bascule log",
	Page:    "Something went wrong inside bascule; the details are in its log."}

// Of returns the answer to err, and false when err is internal: one no
// rule below knows, whose detail belongs in the log and not in an answer.
func Of(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	for _, rule := range rules {
		if e := rule(err); e != nil {
			return e, true
		}
	}
	return Internal, false
}

// rules map one kind of error each; the first that knows err answers.
var rules = []func(error) *Error{
	incompleteSwitch,
	deployConflict,
	flagConflict,
	invalid,
	typed,
	sentinel,
}

// incompleteSwitch answers a go-live or rollback that every router did
// not confirm: production switched where routers confirmed, and the
// answer names the others. 504: the control plane waited for routers,
// and some did not answer in time.
func incompleteSwitch(err error) *Error {
	var ie *fleet.IncompleteSwitchError
	if !errors.As(err, &ie) {
		return nil
	}
	e := New(http.StatusGatewayTimeout, "switch_incomplete", "%s", ie.Error())
	e.Lagging = ie.Lagging
	names := make([]string, len(ie.Lagging))
	for i, l := range ie.Lagging {
		names[i] = l.ID
	}
	e.Page = "The switch is published, but not every router confirmed it: " + strings.Join(names, ", ") +
		". They switch when they reach bascule again; the routers list shows where each stands."
	return e
}

func deployConflict(err error) *Error {
	var ce *deploy.ConflictError
	if !errors.As(err, &ce) {
		return nil
	}
	e := New(http.StatusConflict, "conflict", "%s", ce.Msg)
	if ce.Holder != nil {
		e.Holder = ce.Holder
	}
	return e
}

func flagConflict(err error) *Error {
	var ce *flag.ConflictError
	if !errors.As(err, &ce) {
		return nil
	}
	e := New(http.StatusConflict, "version_conflict", "%s", ce.Error())
	e.Page = "Someone changed the flags since you reviewed this change (" + ce.Error() + "). Nothing was saved."
	return e
}

// invalid answers input that failed validation, every problem on a line.
func invalid(err error) *Error {
	var ve *flag.ValidationError
	var fe *flag.FileError
	var ie *auth.InputError
	var de *deploy.InputError
	var fi *fleet.InputError
	switch {
	case errors.As(err, &ve):
		msgs := make([]string, len(ve.Problems))
		for i, p := range ve.Problems {
			msgs[i] = p.Error()
		}
		return New(http.StatusBadRequest, "invalid_flags", "%s", strings.Join(msgs, "\n"))
	case errors.As(err, &fe):
		return New(http.StatusBadRequest, "invalid_flags_file", "%s", fe.Error())
	case errors.As(err, &ie):
		return New(http.StatusBadRequest, "bad_request", "%s", ie.Msg)
	case errors.As(err, &de):
		return New(http.StatusBadRequest, "bad_request", "%s", de.Msg)
	case errors.As(err, &fi):
		return New(http.StatusBadRequest, "bad_request", "%s", fi.Msg)
	}
	return nil
}

// sentinel answers the errors that are values, in the order a wrapped
// error should be recognised (the more specific first).
func sentinel(err error) *Error {
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			e := New(s.status, s.code, "%v", err)
			if s.message != "" {
				e.Message = s.message
			}
			e.Page = s.page
			return e
		}
	}
	return nil
}

var sentinels = []struct {
	err           error
	status        int
	code, message string
	page          string
}{
	{err: deploy.ErrUnknownRelease, status: http.StatusNotFound, code: "unknown_release"},
	// An instance that lost the lead mid-request: nothing was done; the
	// next try reaches the new leader.
	{err: deploy.ErrNotLeader, status: http.StatusServiceUnavailable, code: "not_leader"},
	{err: store.ErrFenced, status: http.StatusServiceUnavailable, code: "not_leader",
		message: "this bascule instance lost the lead of the control plane during the request; try again"},
	{err: deploy.ErrImageNotRunnable, status: http.StatusUnprocessableEntity, code: "image_release"},
	// The release is in the history, its bytes are not: gone for good.
	{err: deploy.ErrArtifactCollected, status: http.StatusGone, code: "artifact_collected"},
	{err: flag.ErrExists, status: http.StatusConflict, code: "exists"},
	{err: flag.ErrNotBoolean, status: http.StatusBadRequest, code: "bad_request"},
	{err: auth.ErrUnauthenticated, status: http.StatusUnauthorized, code: "unauthenticated",
		message: "log in, or send a valid API token: Authorization: Bearer TOKEN"},
	{err: auth.ErrForbidden, status: http.StatusForbidden, code: "forbidden"},
	{err: auth.ErrCSRF, status: http.StatusForbidden, code: "csrf"},
	{err: auth.ErrCrossOrigin, status: http.StatusForbidden, code: "cross_origin",
		page: "This was sent from a page of another site, and bascule takes changes only from its own pages. Nothing was done. Open bascule itself and try again."},
	{err: auth.ErrLastAdmin, status: http.StatusConflict, code: "last_admin", message: auth.ErrLastAdmin.Error()},
	{err: artifact.ErrTooLarge, status: http.StatusRequestEntityTooLarge, code: "too_large"},
	{err: artifact.ErrDigestMismatch, status: http.StatusBadRequest, code: "digest_mismatch"},
	{err: artifact.ErrInvalidArchive, status: http.StatusUnprocessableEntity, code: "invalid_archive"},
	{err: store.ErrNotFound, status: http.StatusNotFound, code: "not_found"},
	{err: store.ErrConflict, status: http.StatusConflict, code: "conflict"},
}

// typed answers the remaining error types.
func typed(err error) *Error {
	var rl *auth.RateLimitError
	var ue *artifact.UnsafeEntryError
	switch {
	case errors.As(err, &rl):
		return New(http.StatusTooManyRequests, "rate_limited", "%v", rl)
	case errors.As(err, &ue):
		return New(http.StatusUnprocessableEntity, "unsafe_archive", "%v", err)
	}
	return nil
}
