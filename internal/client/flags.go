package client

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/bascule/bascule/internal/flag"
)

// FlagList is the flags at one version.
type FlagList struct {
	Version int64        `json:"version"`
	Flags   []*flag.Flag `json:"flags"`
}

// FlagChange is what a change did: flag.Outcome, and the flag as it now is
// (nil when deleted, or for a whole-file apply).
type FlagChange struct {
	flag.Outcome
	Flag *flag.Flag `json:"flag"`
}

// Flags lists every flag, by key.
func (c *Client) Flags(ctx context.Context) (FlagList, error) {
	var out FlagList
	return out, c.do(ctx, http.MethodGet, "/api/v1/flags", nil, "", &out)
}

// Flag returns one flag.
func (c *Client) Flag(ctx context.Context, key string) (*flag.Flag, error) {
	var f flag.Flag
	return &f, c.do(ctx, http.MethodGet, "/api/v1/flags/"+url.PathEscape(key), nil, "", &f)
}

// SetFlagEnabled flips a flag's kill switch.
func (c *Client) SetFlagEnabled(ctx context.Context, key string, on bool) (FlagChange, error) {
	verb := "disable"
	if on {
		verb = "enable"
	}
	var out FlagChange
	return out, c.do(ctx, http.MethodPost, "/api/v1/flags/"+url.PathEscape(key)+"/"+verb, nil, "", &out)
}

// SetFlagRollout serves "on" to percent % of a boolean flag's users.
func (c *Client) SetFlagRollout(ctx context.Context, key string, percent float64) (FlagChange, error) {
	var out FlagChange
	return out, c.postJSON(ctx, "/api/v1/flags/"+url.PathEscape(key)+"/rollout", map[string]float64{"percentage": percent}, &out)
}

// ApplyFlags sends a flags file (name is used in error messages). A dry run
// answers the diff against the current version without applying it. When
// ifVersion is not negative the file is applied only over that version: the
// one whose diff was shown.
func (c *Client) ApplyFlags(ctx context.Context, name string, data []byte, dryRun bool, ifVersion int64) (flag.Outcome, error) {
	q := url.Values{"file": {name}}
	if dryRun {
		q.Set("dry_run", "true")
	}
	req, err := c.newRequest(ctx, http.MethodPost, "/api/v1/flags/apply?"+q.Encode(), bytes.NewReader(data))
	if err != nil {
		return flag.Outcome{}, err
	}
	req.Header.Set("Content-Type", "application/yaml")
	if ifVersion >= 0 {
		req.Header.Set("If-Match", fmt.Sprintf(`"v%d"`, ifVersion))
	}
	var out flag.Outcome
	return out, c.send(req, &out)
}

// ExportFlags returns every flag and segment as a flags file.
func (c *Client) ExportFlags(ctx context.Context) ([]byte, error) {
	req, err := c.newRequest(ctx, http.MethodGet, "/api/v1/flags/export", nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http().Do(req)
	if err != nil {
		return nil, fmt.Errorf("export flags: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, decodeResponse(resp, nil)
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("export flags: %w", err)
	}
	return data, nil
}

// StaleFlags lists the release flags ready to remove.
func (c *Client) StaleFlags(ctx context.Context) ([]flag.StaleFlag, error) {
	var out struct{ Stale []flag.StaleFlag }
	return out.Stale, c.do(ctx, http.MethodGet, "/api/v1/flags/stale", nil, "", &out)
}

func (c *Client) newRequest(ctx context.Context, method, path string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+path, body)
	if err != nil {
		return nil, err
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	return req, nil
}

func (c *Client) send(req *http.Request, out any) error {
	resp, err := c.http().Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	return decodeResponse(resp, out)
}
