package store

import (
	"context"
	"time"
)

// Router is one data-plane process as it last reported itself: a
// `bascule router` or the router inside `bascule serve`. Routers write it
// with every heartbeat, so any control-plane instance sees the same fleet.
type Router struct {
	ID     string `json:"id"`
	Host   string `json:"host"`
	Listen string `json:"listen"` // the address it serves production on
	// Installed is the generation of the routing table it serves;
	// Drained the last generation after whose install it saw no request
	// left in flight on the addresses that generation stopped sending
	// production to.
	Installed int64 `json:"installed"`
	Drained   int64 `json:"drained"`
	// Colors holds its in-flight and queued requests per color, as JSON
	// (the router's own shape, kept opaque here).
	Colors   []byte    `json:"-"`
	LastSeen time.Time `json:"last_seen"`
}

// Routers is the registry of data-plane processes.
type Routers interface {
	// PutRouter records r, replacing what r.ID reported before.
	PutRouter(ctx context.Context, r Router) error
	// ListRouters returns every registered router ordered by ID.
	ListRouters(ctx context.Context) ([]Router, error)
	// DeleteRouter forgets a router, or returns ErrNotFound.
	DeleteRouter(ctx context.Context, id string) error
}
