package web

import (
	"errors"
	"net/http"

	"github.com/bascule/bascule/internal/httperr"
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

// describe says what the user sees of err: a page's own error as it is,
// any other as package httperr maps it for the API too. An error nobody
// knows is internal: the log gets the detail, the user a short message.
func describe(err error) *pageError {
	var pe *pageError
	if errors.As(err, &pe) {
		return pe
	}
	e, _ := httperr.Of(err)
	return &pageError{Status: e.Status, Msg: e.Text()}
}
