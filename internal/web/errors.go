package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/deploy"
	"github.com/bascule/bascule/internal/flag"
	"github.com/bascule/bascule/internal/store"
)

// pageError is an error shown to the user as it is, with its status.
type pageError struct {
	Status int
	Msg    string
}

func (e *pageError) Error() string { return e.Msg }

func badRequest(format string) *pageError {
	return &pageError{Status: http.StatusBadRequest, Msg: format}
}

// describe is the one place that maps errors to what the user sees. An
// error it does not know is internal: the log gets the detail, the user a
// short message.
func describe(err error) *pageError {
	var pe *pageError
	var ce *deploy.ConflictError
	var ie *auth.InputError
	var ve *flag.ValidationError
	var fc *flag.ConflictError
	var de *deploy.InputError
	switch {
	case errors.As(err, &pe):
		return pe
	case errors.As(err, &ce):
		return &pageError{http.StatusConflict, ce.Msg}
	case errors.As(err, &fc):
		return &pageError{http.StatusConflict, "Someone changed the flags since you reviewed this change (" + fc.Error() + "). Nothing was saved."}
	case errors.As(err, &ve):
		msgs := make([]string, len(ve.Problems))
		for i, p := range ve.Problems {
			msgs[i] = p.Error()
		}
		return &pageError{http.StatusBadRequest, strings.Join(msgs, "\n")}
	case errors.Is(err, deploy.ErrUnknownRelease):
		return &pageError{http.StatusNotFound, err.Error()}
	case errors.Is(err, flag.ErrExists), errors.Is(err, flag.ErrNotBoolean):
		return &pageError{http.StatusBadRequest, err.Error()}
	case errors.Is(err, auth.ErrCrossOrigin):
		return &pageError{http.StatusForbidden, "This was sent from a page of another site, and bascule takes changes only from its own pages. Nothing was done. Open bascule itself and try again."}
	case errors.Is(err, auth.ErrLastAdmin):
		return &pageError{http.StatusConflict, auth.ErrLastAdmin.Error()}
	case errors.As(err, &ie):
		return &pageError{http.StatusBadRequest, ie.Msg}
	case errors.As(err, &de):
		return &pageError{http.StatusBadRequest, de.Msg}
	case errors.Is(err, store.ErrNotFound):
		return &pageError{http.StatusNotFound, err.Error()}
	case errors.Is(err, store.ErrConflict):
		return &pageError{http.StatusConflict, err.Error()}
	}
	return &pageError{http.StatusInternalServerError, "Something went wrong inside bascule; the details are in its log."}
}
