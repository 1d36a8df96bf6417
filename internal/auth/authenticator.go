package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/bascule/bascule/internal/store"
)

// CookieName is the session cookie's name.
const CookieName = "bascule_session"

// Where a form or a script puts the session's CSRF token.
const (
	CSRFField  = "csrf_token"
	CSRFHeader = "X-CSRF-Token"
)

// Store is what an Authenticator persists: tokens, users, sessions, and
// the audit entries of logins and logouts.
type Store interface {
	store.Tokens
	store.Users
	store.Sessions
	store.Audit
}

// Options configure an Authenticator. Set Store; every other field's zero
// value works.
type Options struct {
	Store    Store
	Password PasswordParams // cost of new password hashes; zero: the defaults
	// IdleTimeout and MaxSessionAge end sessions unused for that long, and
	// that long after login; zero: 12 hours and 7 days.
	IdleTimeout, MaxSessionAge time.Duration
	// Backoff paces failed logins per user name and client address; zero:
	// three free, then a wait of 1s doubling up to 15 minutes. There is no
	// limit per user name alone: anyone could lock the admins out with it.
	Backoff Backoff
	// IPLimit bounds failed logins per client address (IPv6: per /64),
	// whatever the names; zero: 20 per 15 minutes, room for an office
	// behind one address.
	IPLimit Limit
	// GlobalLimit bounds failed logins across all names and addresses,
	// against password spraying; zero: 100 per 15 minutes. Over it an
	// address with a failure in its IPLimit window may not try again,
	// while one that has not failed still may.
	GlobalLimit Limit
	// SecureCookie marks the session cookie Secure even on plain HTTP, for
	// a server behind a TLS-terminating proxy. Over TLS it always is.
	SecureCookie bool
	// ClientIP names the client for rate limiting and the audit log. Nil:
	// the host of r.RemoteAddr (set it when behind a trusted proxy).
	ClientIP func(r *http.Request) string
	// CrossOrigin tells a login form posted by another site (login CSRF)
	// from bascule's own; give the control plane's, so that its trusted
	// origins count here too. Nil: one with no trusted origin.
	CrossOrigin *http.CrossOriginProtection
	Now         func() time.Time // nil: time.Now
	Logger      *slog.Logger     // nil: discard
}

// Authenticator turns a request into a Principal, for the API and the web
// UI alike, and logs users in and out. Its methods are safe for concurrent
// use.
type Authenticator struct {
	opts     Options
	log      *slog.Logger
	tokens   *Tokens
	users    *Users
	sessions *Sessions
	limits   *loginLimits
}

// New returns an Authenticator.
func New(opts Options) *Authenticator {
	if opts.ClientIP == nil {
		opts.ClientIP = remoteHost
	}
	if opts.CrossOrigin == nil {
		opts.CrossOrigin = http.NewCrossOriginProtection()
	}
	a := &Authenticator{opts: opts, log: opts.Logger,
		tokens: &Tokens{Store: opts.Store, Now: opts.Now},
		users:  &Users{Store: opts.Store, Params: opts.Password, Now: opts.Now},
		sessions: &Sessions{Store: opts.Store, IdleTimeout: opts.IdleTimeout, MaxAge: opts.MaxSessionAge,
			Now: opts.Now},
		limits: newLoginLimits(opts),
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	return a
}

// Tokens manages API tokens.
func (a *Authenticator) Tokens() *Tokens { return a.tokens }

// Users manages users.
func (a *Authenticator) Users() *Users { return a.users }

// Sessions manages sessions.
func (a *Authenticator) Sessions() *Sessions { return a.sessions }

// ClientIP names the client behind r as the login limits and the audit log
// do (Options.ClientIP).
func (a *Authenticator) ClientIP(r *http.Request) string { return a.opts.ClientIP(r) }

func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Authenticate returns who r acts as: the holder of an Authorization:
// Bearer API token, or else the user of a valid session cookie. A request
// carrying neither, or a bad one, gets ErrUnauthenticated. A session
// request with an unsafe method (not GET, HEAD, OPTIONS) must carry the
// session's CSRF token, as form field csrf_token or header X-CSRF-Token;
// without it Authenticate returns an error wrapping ErrCSRF along with the
// session's principal, which is only for the audit log: do not act for it.
// Token requests need no CSRF token: browsers never add that header.
func (a *Authenticator) Authenticate(r *http.Request) (Principal, error) {
	p, err := a.Identify(r)
	if err != nil {
		return Principal{}, err
	}
	if p.Via == ViaSession && !safeMethod(r.Method) {
		if err := checkCSRF(r, p.CSRFToken); err != nil {
			return p, err
		}
	}
	return p, nil
}

// Identify returns who r's token or session cookie names, like
// Authenticate but without the CSRF check, so without reading the body:
// it is for the audit log of a request refused before authentication. Do
// not act for the principal it returns.
func (a *Authenticator) Identify(r *http.Request) (Principal, error) {
	if v := r.Header.Get("Authorization"); v != "" {
		return a.bearer(r.Context(), v)
	}
	c, err := r.Cookie(CookieName)
	if err != nil {
		return Principal{}, ErrUnauthenticated
	}
	return a.sessionPrincipal(r.Context(), c.Value)
}

func (a *Authenticator) bearer(ctx context.Context, header string) (Principal, error) {
	scheme, secret, ok := strings.Cut(header, " ")
	secret = strings.TrimSpace(secret)
	if !ok || !strings.EqualFold(scheme, "Bearer") || secret == "" {
		return Principal{}, ErrUnauthenticated
	}
	return a.tokens.Authenticate(ctx, secret)
}

// sessionPrincipal resolves a session ID to its user, with the user's role
// as it is now, so a demotion takes effect at the next request.
func (a *Authenticator) sessionPrincipal(ctx context.Context, id string) (Principal, error) {
	sess, err := a.sessions.Lookup(ctx, id)
	if err != nil {
		return Principal{}, err
	}
	usr, err := a.opts.Store.User(ctx, sess.User)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, ErrUnauthenticated
	}
	if err != nil {
		return Principal{}, fmt.Errorf("authenticate session: %w", err)
	}
	if usr.DisabledAt != nil {
		return Principal{}, ErrUnauthenticated
	}
	return Principal{Name: usr.Name, Role: usr.Role, User: usr.Name, Via: ViaSession,
		SessionID: sess.IDHash, CSRFToken: sess.CSRFToken}, nil
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// checkCSRF compares the request's CSRF token with the session's in
// constant time. The form is read only for form content types, so an
// artifact upload is never parsed as one.
func checkCSRF(r *http.Request, want string) error {
	got := r.Header.Get(CSRFHeader)
	if got == "" && isForm(r) {
		got = r.PostFormValue(CSRFField)
	}
	if got == "" || want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return fmt.Errorf("%w: send the form field %s or the header %s", ErrCSRF, CSRFField, CSRFHeader)
	}
	return nil
}

func isForm(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data"
}

// Source says where a request came from for the audit log: the client
// address and how it authenticated, e.g. "203.0.113.7 via session".
func (a *Authenticator) Source(r *http.Request, p Principal) string {
	ip := a.opts.ClientIP(r)
	if p.Via == "" {
		return ip
	}
	return ip + " via " + p.Via
}
