package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/bascule/bascule/internal/notify"
	"github.com/bascule/bascule/internal/store"
)

// Notifications is what GET /api/v1/notifications answers.
type Notifications struct {
	Webhooks   []notify.EndpointInfo `json:"webhooks"`
	Deliveries []store.Delivery      `json:"deliveries"`
}

// Notifications returns the webhooks and their recent deliveries, newest
// first, those in state only unless state is "".
func (c *Client) Notifications(ctx context.Context, state string) (Notifications, error) {
	var out Notifications
	path := "/api/v1/notifications"
	if state != "" {
		path += "?state=" + url.QueryEscape(state)
	}
	return out, c.do(ctx, http.MethodGet, path, nil, "", &out)
}
