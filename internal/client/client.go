// Package client is the Go client of bascule's REST API, used by the CLI.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/bascule/bascule/internal/deploy"
	"github.com/bascule/bascule/internal/fleet"
	"github.com/bascule/bascule/internal/sse"
	"github.com/bascule/bascule/internal/store"
)

// Client calls one bascule server.
type Client struct {
	BaseURL string       // e.g. http://127.0.0.1:8081
	Token   string       // API token
	HTTP    *http.Client // nil: http.DefaultClient
}

// Error is an error answered by the API.
type Error struct {
	Status  int
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return fmt.Sprintf("%s (HTTP %d %s)", e.Message, e.Status, e.Code) }

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

func (c *Client) do(ctx context.Context, method, path string, body io.Reader, contentType string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+path, body)
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.http().Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	return decodeResponse(resp, out)
}

func decodeResponse(resp *http.Response, out any) error {
	if resp.StatusCode >= 400 {
		var e struct {
			Error *Error `json:"error"`
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if json.Unmarshal(b, &e) != nil || e.Error == nil {
			return &Error{Status: resp.StatusCode, Code: "http", Message: strings.TrimSpace(string(b))}
		}
		e.Error.Status = resp.StatusCode
		return e.Error
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode response: %w", err)
	}
	return nil
}

func (c *Client) postJSON(ctx context.Context, path string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPost, path, bytes.NewReader(b), "application/json", out)
}

// Status returns both colors and the deployment in progress.
func (c *Client) Status(ctx context.Context) (deploy.Status, error) {
	var st deploy.Status
	return st, c.do(ctx, http.MethodGet, "/api/v1/status", nil, "", &st)
}

// Releases lists registered releases, newest first.
func (c *Client) Releases(ctx context.Context) ([]store.Release, error) {
	var out struct{ Releases []store.Release }
	return out.Releases, c.do(ctx, http.MethodGet, "/api/v1/releases", nil, "", &out)
}

// PruneReleases asks the leader to collect now the artifacts the
// retention rule lets go (admin only); dry, it deletes nothing and says
// what it would.
func (c *Client) PruneReleases(ctx context.Context, dry bool) (deploy.Collection, error) {
	var out deploy.Collection
	path := "/api/v1/releases/prune"
	if dry {
		path += "?dry_run=true"
	}
	return out, c.do(ctx, http.MethodPost, path, nil, "", &out)
}

// AddRelease streams an artifact to the server as version. created tells
// whether it is new (false: the same bytes were registered before).
func (c *Client) AddRelease(ctx context.Context, version, filename, digest string, body io.Reader) (rel store.Release, created bool, err error) {
	return c.addRelease(ctx, url.Values{"version": {version}, "filename": {filename}}, digest, body)
}

// AddImageRelease registers version as a container image named by digest,
// with body the archive of its migrations (a migrations/ directory, or
// none) whose sha256 is digest. created is false when the same image and
// migrations were registered before.
func (c *Client) AddImageRelease(ctx context.Context, version, image, digest string, body io.Reader) (rel store.Release, created bool, err error) {
	q := url.Values{"version": {version}, "image": {image}, "filename": {"migrations.tar.gz"}}
	return c.addRelease(ctx, q, digest, body)
}

func (c *Client) addRelease(ctx context.Context, q url.Values, digest string, body io.Reader) (rel store.Release, created bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.BaseURL, "/")+"/api/v1/releases?"+q.Encode(), body)
	if err != nil {
		return rel, false, err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Authorization", "Bearer "+c.Token)
	if digest != "" {
		req.Header.Set("X-Bascule-Digest", digest)
	}
	resp, err := c.http().Do(req)
	if err != nil {
		return rel, false, fmt.Errorf("upload release: %w", err)
	}
	defer resp.Body.Close()
	err = decodeResponse(resp, &rel)
	return rel, resp.StatusCode == http.StatusCreated, err
}

// Deploy starts a deployment.
func (c *Client) Deploy(ctx context.Context, version, reason string) (store.Deployment, error) {
	var d store.Deployment
	return d, c.postJSON(ctx, "/api/v1/deployments", map[string]string{"version": version, "reason": reason}, &d)
}

// Deployment returns one deployment.
func (c *Client) Deployment(ctx context.Context, id int64) (store.Deployment, error) {
	var d store.Deployment
	return d, c.do(ctx, http.MethodGet, fmt.Sprintf("/api/v1/deployments/%d", id), nil, "", &d)
}

// Deployments returns the history, newest first.
func (c *Client) Deployments(ctx context.Context, limit int) ([]store.Deployment, error) {
	var out struct{ Deployments []store.Deployment }
	return out.Deployments, c.do(ctx, http.MethodGet, fmt.Sprintf("/api/v1/deployments?limit=%d", limit), nil, "", &out)
}

// GoLive switches production to the ready color.
func (c *Client) GoLive(ctx context.Context, reason string) (deploy.Status, error) {
	var st deploy.Status
	return st, c.postJSON(ctx, "/api/v1/go-live", map[string]string{"reason": reason}, &st)
}

// GoLiveProgressive starts a progressive go-live: steps of percentages of
// users (ending at 100), one every interval (a Go duration, "2m").
func (c *Client) GoLiveProgressive(ctx context.Context, reason string, steps []int, interval string) (deploy.Status, error) {
	var st deploy.Status
	return st, c.postJSON(ctx, "/api/v1/go-live", map[string]any{"reason": reason, "steps": steps, "interval": interval}, &st)
}

// Promote takes the progressive go-live in progress to 100 % at once;
// Pause holds it at its step; Resume lets it go on.
func (c *Client) Promote(ctx context.Context, reason string) (deploy.Status, error) {
	return c.progressAction(ctx, "promote", reason)
}

// Pause holds the progressive go-live in progress at its step.
func (c *Client) Pause(ctx context.Context, reason string) (deploy.Status, error) {
	return c.progressAction(ctx, "pause", reason)
}

// Resume lets a paused progressive go-live go on.
func (c *Client) Resume(ctx context.Context, reason string) (deploy.Status, error) {
	return c.progressAction(ctx, "resume", reason)
}

func (c *Client) progressAction(ctx context.Context, action, reason string) (deploy.Status, error) {
	var st deploy.Status
	return st, c.postJSON(ctx, "/api/v1/go-live/"+action, map[string]string{"reason": reason}, &st)
}

// GoLiveState returns what the guard sees of the last go-live.
func (c *Client) GoLiveState(ctx context.Context) (deploy.GoLiveState, error) {
	var st deploy.GoLiveState
	return st, c.do(ctx, http.MethodGet, "/api/v1/go-live", nil, "", &st)
}

// Rollback switches production back to the previous color. force switches
// back even though the live release is finalized.
func (c *Client) Rollback(ctx context.Context, reason string, force bool) (deploy.Status, error) {
	var st deploy.Status
	return st, c.postJSON(ctx, "/api/v1/rollback", map[string]any{"reason": reason, "force": force}, &st)
}

// Finalize runs the contract migrations of the live release.
func (c *Client) Finalize(ctx context.Context, reason string) (deploy.Status, error) {
	var st deploy.Status
	return st, c.postJSON(ctx, "/api/v1/finalize", map[string]string{"reason": reason}, &st)
}

// Follow calls fn with each update of deployment id, from the server's
// event stream, until the deployment stops running or ctx ends.
func (c *Client) Follow(ctx context.Context, id int64, fn func(store.Deployment)) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/api/v1/deployments/%d/events", strings.TrimRight(c.BaseURL, "/"), id), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.http().Do(req)
	if err != nil {
		return fmt.Errorf("follow deployment %d: %w", id, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return decodeResponse(resp, nil)
	}
	events := sse.NewReader(resp.Body, 4<<20)
	for {
		ev, err := events.Next()
		if errors.Is(err, sse.ErrClosed) {
			break
		}
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			return fmt.Errorf("follow deployment %d: %w", id, err)
		}
		var d store.Deployment
		if err := json.Unmarshal(ev.Data, &d); err != nil {
			return fmt.Errorf("decode event: %w", err)
		}
		fn(d)
	}
	return ctx.Err()
}

// Routers lists the router fleet: the generation every router must serve,
// and each router, marked stale or lagging.
func (c *Client) Routers(ctx context.Context) (fleet.Fleet, error) {
	var f fleet.Fleet
	return f, c.do(ctx, http.MethodGet, "/api/v1/routers", nil, "", &f)
}

// ForgetRouter removes a router gone for good from the registry.
func (c *Client) ForgetRouter(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/api/v1/routers/"+url.PathEscape(id), nil, "", nil)
}
