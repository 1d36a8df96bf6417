package web

import (
	"errors"
	"net/http"

	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/store"
)

type loginView struct {
	Next    string
	Name    string
	Expired bool // sent here by an action whose session had ended
}

// loginPage shows the login form, or goes on to next for a user who is
// logged in already.
func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if _, err := h.opts.Auth.Authenticate(r); err == nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	v := loginView{Next: next, Expired: r.URL.Query().Get("expired") == "1"}
	pg := page{Title: "Log in", Data: v}
	if v.Expired {
		pg.Error = "Your session has ended, so that action was not performed. Log in, then look again before acting."
	}
	h.render(w, http.StatusOK, "login", pg)
}

// login checks the password and starts a session (Authenticator.Login:
// rate limited, audited, session ID rotated).
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	name, password := r.PostFormValue("name"), r.PostFormValue("password")
	v := loginView{Next: safeNext(r.PostFormValue("next")), Name: name}
	// The audit entries of a login say where it came from, as those of
	// authenticated requests do.
	ctx := store.WithSource(r.Context(), h.opts.Auth.Source(r, auth.Principal{Via: "login form"}))
	err := h.opts.Auth.Login(ctx, w, r, name, password)
	if err == nil {
		http.Redirect(w, r, v.Next, http.StatusSeeOther)
		return
	}
	status, msg := http.StatusUnauthorized, "Wrong user name or password."
	var rl *auth.RateLimitError
	switch {
	case errors.As(err, &rl):
		status, msg = http.StatusTooManyRequests, rl.Error()+"."
	case errors.Is(err, auth.ErrCSRF):
		status, msg = http.StatusForbidden, "This login form was sent from another site; log in from bascule's own page."
	case !errors.Is(err, auth.ErrUnauthenticated):
		h.log.Error("log in", "err", err)
		status, msg = http.StatusInternalServerError, "Logging in failed inside bascule; the details are in its log."
	}
	h.render(w, status, "login", page{Title: "Log in", Data: v, Error: msg})
}

// logout ends the session; its form carries the CSRF token, so another
// site cannot log the user out.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	r = r.WithContext(store.WithSource(r.Context(), h.opts.Auth.Source(r, auth.Principal{Via: auth.ViaSession})))
	if err := h.opts.Auth.Logout(w, r); errors.Is(err, auth.ErrCSRF) {
		h.fail(w, r, auth.Principal{}, &pageError{Status: http.StatusForbidden,
			Msg: "Logging out needs the form from a bascule page; reload the page and try again."})
		return
	} else if err != nil {
		h.fail(w, r, auth.Principal{}, err)
		return
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
