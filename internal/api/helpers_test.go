package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bascule/bascule/internal/api"
	"github.com/bascule/bascule/internal/artifact"
	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/deploy"
	"github.com/bascule/bascule/internal/router"
	"github.com/bascule/bascule/internal/runtime/static"
	"github.com/bascule/bascule/internal/store"
	"github.com/bascule/bascule/internal/store/sqlite"
)

var roles = []string{"viewer", "deployer", "admin"}

// fixture is the API over real parts: a SQLite file, the deploy service
// with the static driver in front of two real backends, a real router.
type fixture struct {
	t     *testing.T
	srv   *httptest.Server
	h     *api.Handler
	db    *sqlite.DB
	auth  *auth.Authenticator
	arts  *artifact.Store // the API's and the deploy service's, as in bascule serve
	creds map[string]cred // by "<role> token" and "<role> session"
}

// cred is one way to authenticate: a bearer token, or a session cookie
// with its CSRF token.
type cred struct {
	role, via string
	bearer    string
	cookie    string
	csrf      string
	dropCSRF  bool
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureWith(t, nil)
}

// newFixtureWith is newFixture whose deploy service's options edit
// changes, when not nil.
func newFixtureWith(t *testing.T, edit func(*deploy.Options)) *fixture {
	t.Helper()
	ctx := context.Background()
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	t.Cleanup(backend.Close)
	addr := strings.TrimPrefix(backend.URL, "http://")
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "bascule.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &fixture{t: t, db: db, creds: map[string]cred{}, arts: &artifact.Store{Dir: t.TempDir()},
		auth: auth.New(auth.Options{Store: db, Password: auth.PasswordParams{Time: 1, MemoryKiB: 64}})}
	opts := deploy.Options{App: "shop", Store: db, Artifacts: f.arts,
		Driver: static.New(map[string]string{"blue": addr, "green": addr}), Router: router.New(router.Options{})}
	if edit != nil {
		edit(&opts)
	}
	svc := deploy.New(opts)
	t.Cleanup(svc.Close)
	if err := svc.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	f.h = api.New(api.Options{Store: db, Artifacts: f.arts, Deploy: svc, Auth: f.auth})
	f.srv = httptest.NewServer(f.h)
	t.Cleanup(f.srv.Close)
	for _, role := range roles {
		f.addCreds(role)
	}
	// Applications evaluating flags hold evaluator tokens; no person does.
	_, secret, err := f.auth.Tokens().Issue(ctx, "shop-sdk", store.RoleEvaluator, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.creds["evaluator token"] = cred{role: store.RoleEvaluator, via: "token", bearer: secret}
	// Routers hold router tokens; no person does either.
	_, secret, err = f.auth.Tokens().Issue(ctx, "edge-1", store.RoleRouter, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.creds["router token"] = cred{role: store.RoleRouter, via: "token", bearer: secret}
	return f
}

func (f *fixture) addCreds(role string) {
	ctx := context.Background()
	_, secret, err := f.auth.Tokens().Issue(ctx, role+"-ci", role, 0)
	if err != nil {
		f.t.Fatal(err)
	}
	f.creds[role+" token"] = cred{role: role, via: "token", bearer: secret}
	user := role + "-user"
	if _, err := f.auth.Users().Create(ctx, user, role, "password-"+user); err != nil {
		f.t.Fatal(err)
	}
	id, sess, err := f.auth.Sessions().Create(ctx, user)
	if err != nil {
		f.t.Fatal(err)
	}
	f.creds[role+" session"] = cred{role: role, via: "session", cookie: id, csrf: sess.CSRFToken}
}

// response is a decoded API answer.
type response struct {
	status int
	header http.Header
	body   []byte
	code   string // error code, if any
}

func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func (f *fixture) do(c *cred, method, path, body string) response {
	f.t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c != nil {
		if c.bearer != "" {
			req.Header.Set("Authorization", "Bearer "+c.bearer)
		}
		if c.cookie != "" {
			req.AddCookie(&http.Cookie{Name: auth.CookieName, Value: c.cookie})
			if !c.dropCSRF {
				req.Header.Set(auth.CSRFHeader, c.csrf)
			}
		}
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out := response{status: resp.StatusCode, header: resp.Header}
	out.body, _ = io.ReadAll(resp.Body)
	var e struct{ Error struct{ Code string } }
	if json.Unmarshal(out.body, &e) == nil {
		out.code = e.Error.Code
	}
	return out
}

// admin returns the admin token credential.
func (f *fixture) admin() *cred {
	c := f.creds["admin token"]
	return &c
}
