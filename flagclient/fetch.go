package flagclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/bascule/bascule/feature"
)

// ErrUnauthorized matches (with errors.Is) a *StatusError for 401 or 403:
// the server refused the API key.
var ErrUnauthorized = errors.New("API key refused")

// maxSnapshotBytes bounds one snapshot; thousands of flags fit in a few MB.
const maxSnapshotBytes = 64 << 20

// StatusError is an HTTP error answer from the server, with the code and
// message of its {"error": {"code", "message"}} body when it has one.
type StatusError struct {
	Status  int
	Code    string
	Message string
}

// Error reads like "server answered 401 Unauthorized: unauthorized: invalid API key".
func (e *StatusError) Error() string {
	s := fmt.Sprintf("server answered %d %s", e.Status, http.StatusText(e.Status))
	if e.Code != "" {
		s += ": " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Is makes errors.Is(err, ErrUnauthorized) true for 401 and 403.
func (e *StatusError) Is(target error) bool {
	return target == ErrUnauthorized && (e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden)
}

// statusError reads an error answer; the body is only informative.
func statusError(resp *http.Response) *StatusError {
	e := &StatusError{Status: resp.StatusCode}
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if json.Unmarshal(data, &body) == nil {
		e.Code, e.Message = body.Error.Code, body.Error.Message
	}
	return e
}

// newRequest makes an authenticated GET.
func (c *Client) newRequest(ctx context.Context, url string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	if c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	return req, nil
}

// etag is the snapshot endpoint's entity tag for a version.
func etag(version int64) string { return `"v` + strconv.FormatInt(version, 10) + `"` }

// fetch downloads the snapshot. When the client holds one (have), its
// version is sent as If-None-Match, and an unchanged snapshot returns
// (nil, nil, nil). raw is the body, for the cache file.
func (c *Client) fetch(ctx context.Context, have *feature.Snapshot) (s *feature.Snapshot, raw []byte, err error) {
	req, err := c.newRequest(ctx, c.snapshotURL)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", "application/json")
	if have != nil {
		req.Header.Set("If-None-Match", etag(have.Version))
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("get snapshot: %w", err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotModified:
		return nil, nil, nil
	default:
		return nil, nil, statusError(resp)
	}
	raw, err = io.ReadAll(io.LimitReader(resp.Body, maxSnapshotBytes))
	if err != nil {
		return nil, nil, fmt.Errorf("read snapshot: %w", err)
	}
	s, err = feature.DecodeSnapshot(raw)
	if err != nil {
		return nil, nil, err
	}
	return s, raw, nil
}

// pollOnce fetches the snapshot if it changed and installs it.
func (c *Client) pollOnce(ctx context.Context) {
	s, raw, err := c.fetch(ctx, c.snap.Load())
	switch {
	case err != nil && ctx.Err() == nil:
		c.log.Warn("poll flag snapshot", "url", c.snapshotURL, "err", err)
	case s != nil:
		c.apply(s, raw, true)
	}
}
