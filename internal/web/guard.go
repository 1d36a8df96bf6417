package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/store"
)

// maxFormBytes bounds a form body: the largest form is a segment's list of
// keys, far below this.
const maxFormBytes = 256 << 10

// guard authenticates the request and checks the route's role before the
// handler runs. Without a valid session a page redirects to the login, and
// an action is not performed (it redirects too, saying so); a change
// without the session's CSRF token, or by a role too low, gets 403 and is
// audited, because a forged form is worth knowing about.
func (h *Handler) guard(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		p, err := h.opts.Auth.Authenticate(r)
		r = r.WithContext(store.WithSource(r.Context(), h.opts.Auth.Source(r, p)))
		switch {
		case errors.Is(err, auth.ErrCSRF):
			h.audit(r, p, "denied", r.Method+" "+r.URL.Path, "csrf", "no valid CSRF token")
			h.fail(w, r, auth.Principal{}, &pageError{Status: http.StatusForbidden,
				Msg: "This form was not sent from a bascule page you loaded (its CSRF token is missing or stale). Nothing was done. Reload the page and try again."})
			return
		case errors.Is(err, auth.ErrUnauthenticated):
			h.toLogin(w, r)
			return
		case err != nil:
			h.fail(w, r, auth.Principal{}, err)
			return
		}
		if !p.Can(rt.role) {
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				h.audit(r, p, "denied", r.Method+" "+r.URL.Path, "forbidden", "needs the "+rt.role+" role, has "+p.Role)
			}
			h.fail(w, r, p, &pageError{Status: http.StatusForbidden,
				Msg: "This needs the " + rt.role + " role; you (" + p.Name + ") have the " + p.Role + " role. Nothing was done."})
			return
		}
		if err := rt.handle(w, r, p); err != nil {
			h.fail(w, r, p, err)
		}
	})
}

// toLogin sends a visitor without a valid session to the login page, which
// brings them back where they were. A change is never replayed after the
// login: the user sees the page again and decides again.
func (h *Handler) toLogin(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Accept") == "text/event-stream" {
		// EventSource cannot follow a login; the page says the session ended.
		http.Error(w, "log in again", http.StatusUnauthorized)
		return
	}
	q := url.Values{}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		q.Set("next", r.URL.RequestURI())
	} else {
		q.Set("next", refererPath(r))
		q.Set("expired", "1")
	}
	http.Redirect(w, r, "/login?"+q.Encode(), http.StatusSeeOther)
}

// refererPath is the local page a form was sent from, to come back to.
func refererPath(r *http.Request) string {
	u, err := url.Parse(r.Referer())
	if err != nil || u.Host != r.Host {
		return "/"
	}
	return safeNext(u.RequestURI())
}

// safeNext keeps a redirect target on this site: a path, never a URL or a
// protocol-relative "//host" that would send the user elsewhere.
func safeNext(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.HasPrefix(next, `/\`) {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return "/"
	}
	return next
}

// audit appends what the UI itself did or refused; deployments and flag
// changes are audited by their services.
func (h *Handler) audit(r *http.Request, p auth.Principal, action, target, outcome, detail string) {
	actor := p.Name
	if actor == "" {
		actor = "anonymous"
	}
	if ip := h.opts.Auth.ClientIP(r); ip != "" {
		detail = strings.TrimPrefix(detail+"; from "+ip, "; ")
	}
	e := &store.AuditEntry{At: h.now().UTC().Truncate(time.Millisecond), Actor: actor, Action: action,
		Target: target, Outcome: outcome, Detail: detail}
	if err := h.opts.Store.AppendAudit(r.Context(), e); err != nil {
		h.log.Error("append audit", "action", action, "err", err)
	}
}
