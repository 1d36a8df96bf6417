package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/bascule/bascule/internal/store"
)

// Login checks a user's password and, if it is right, starts a new session
// and sets its cookie on w. Any session the browser came with ends: the
// session ID changes at login, so an ID planted beforehand is worthless.
// It returns ErrUnauthenticated for a wrong password, an unknown or
// disabled user (the same answer, to not reveal which names exist); a
// *RateLimitError (errors.Is ErrRateLimited) after too many failures for
// the name from the client address, from the address, or across bascule
// (see Options.Backoff, IPLimit and GlobalLimit), without checking the
// password; and an error wrapping ErrCSRF when the form was posted from
// another site. Every attempt is recorded in the audit log, never with the
// password, and so is every lockout a failure starts.
func (a *Authenticator) Login(ctx context.Context, w http.ResponseWriter, r *http.Request, name, password string) error {
	name = auditName(name)
	ip := a.opts.ClientIP(r)
	// "Login CSRF" logs the victim into the attacker's account. There is
	// no session yet, hence no CSRF token: the browser's Sec-Fetch-Site,
	// or else Origin, says where the form came from.
	if a.opts.CrossOrigin.Check(r) != nil {
		a.audit(ctx, name, "login", "refused", "cross-site form from "+ip)
		return fmt.Errorf("log in: %w: the login form was posted from another site", ErrCSRF)
	}
	if err := a.limits.admit(name, ip); err != nil {
		a.audit(ctx, name, "login", "rate_limited", "from "+ip+": "+err.Error())
		return err
	}
	usr, err := a.users.Verify(ctx, name, password)
	if errors.Is(err, ErrUnauthenticated) {
		a.audit(ctx, name, "login", "failed", "from "+ip)
		for _, l := range a.limits.failed(name, ip) {
			a.lockedOut(ctx, name, ip, l)
		}
		return ErrUnauthenticated
	}
	if err != nil {
		return fmt.Errorf("log in: %w", err)
	}
	a.limits.succeeded(name, ip)
	if c, err := r.Cookie(CookieName); err == nil {
		if err := a.sessions.Delete(ctx, c.Value); err != nil {
			return fmt.Errorf("log in: %w", err)
		}
	}
	id, _, err := a.sessions.Create(ctx, usr.Name)
	if err != nil {
		return fmt.Errorf("log in: %w", err)
	}
	http.SetCookie(w, a.cookie(r, id, int(a.sessions.maxAge()/time.Second)))
	// Logins are rare enough to carry the sweep of expired sessions,
	// which saves a background goroutine.
	if err := a.sessions.Sweep(ctx); err != nil {
		a.log.Error("sweep expired sessions", "err", err)
	}
	a.audit(ctx, usr.Name, "login", "ok", "from "+ip)
	return nil
}

// Logout ends the request's session and clears its cookie. For an unsafe
// method it first checks the CSRF token, like Authenticate, so that another
// site cannot log the user out; a request with no live session only gets
// its cookie cleared.
func (a *Authenticator) Logout(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	c, err := r.Cookie(CookieName)
	if err != nil {
		return nil
	}
	sess, err := a.opts.Store.Session(ctx, HashSecret(c.Value))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("log out: %w", err)
	}
	if err == nil && !safeMethod(r.Method) {
		if err := checkCSRF(r, sess.CSRFToken); err != nil {
			return fmt.Errorf("log out: %w", err)
		}
	}
	http.SetCookie(w, a.cookie(r, "", -1))
	if sess.IDHash == "" {
		return nil
	}
	if err := a.opts.Store.DeleteSession(ctx, sess.IDHash); err != nil {
		return fmt.Errorf("log out: %w", err)
	}
	a.audit(ctx, sess.User, "logout", "ok", "from "+a.opts.ClientIP(r))
	return nil
}

// cookie is the session cookie; maxAge < 0 deletes it.
func (a *Authenticator) cookie(r *http.Request, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: CookieName, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil || a.opts.SecureCookie}
}

// lockedOut tells the audit log and the operator's log that a failed login
// started a lockout. The log, which travels further than the audit log,
// names only users that exist: people type their password into the name
// field too.
func (a *Authenticator) lockedOut(ctx context.Context, name, ip string, l lockout) {
	a.audit(ctx, name, "login", "locked_out", l.detail)
	user := name
	if _, err := a.opts.Store.User(ctx, name); err != nil {
		user = "(no such user)"
	}
	if l.global {
		a.log.Warn("failed logins over the ceiling across bascule: password spraying?", "user", user, "client", ip,
			"detail", l.detail)
		return
	}
	a.log.Warn("login locked out", "user", user, "client", ip, "retry_after", l.wait.Round(time.Second).String(),
		"detail", l.detail)
}

// auditName normalises a typed user name and bounds what a stranger can
// write into the audit log and the limiter's keys.
func auditName(name string) string {
	name = strings.ToLower(strings.TrimSpace(name))
	if len(name) > 64 {
		name = name[:64]
	}
	return name
}

func (a *Authenticator) audit(ctx context.Context, actor, action, outcome, detail string) {
	now := time.Now
	if a.opts.Now != nil {
		now = a.opts.Now
	}
	// The account is the target of a login or logout, as a release is of
	// a deployment: the audit page's TARGET column names it.
	e := &store.AuditEntry{At: now().UTC(), Actor: actor, Action: action, Target: actor, Outcome: outcome, Detail: detail}
	if err := a.opts.Store.AppendAudit(ctx, e); err != nil {
		a.log.Error("append audit", "action", action, "err", err)
	}
}
