package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/bascule/bascule/internal/migrate"
)

// Migrations returns the migrations applied to the app's database and the
// newest release's pending ones.
func (c *Client) Migrations(ctx context.Context) (migrate.Status, error) {
	var st migrate.Status
	return st, c.do(ctx, http.MethodGet, "/api/v1/migrations", nil, "", &st)
}

// LintRelease lints the migrations of a registered release on the server.
func (c *Client) LintRelease(ctx context.Context, version string) (migrate.LintResult, error) {
	var res migrate.LintResult
	return res, c.do(ctx, http.MethodPost, "/api/v1/releases/"+url.PathEscape(version)+"/lint", nil, "", &res)
}
