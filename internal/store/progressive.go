package store

import (
	"context"
	"time"
)

// Progressive is the progressive go-live in progress of an app's fleet,
// as the leader of the control plane last wrote it: the schedule that
// moves the routing table's split, kept beside the table so that a new
// leader carries the go-live on where the last one left it
// (docs/adr/0019-progressive-go-live-in-the-store.md).
type Progressive struct {
	App string `json:"app"`
	// State is the go-live as JSON (package deploy's shape, kept opaque
	// here).
	State     []byte    `json:"-"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Progressives keeps the progressive go-live in progress, at most one per
// app.
type Progressives interface {
	// PutProgressive makes p the go-live in progress of p.App. Under a
	// fenced ctx (WithFence) it is refused with a *FencedError, writing
	// nothing, when the writer no longer leads.
	PutProgressive(ctx context.Context, p Progressive) error
	// Progressive returns the go-live in progress of app, or ErrNotFound.
	Progressive(ctx context.Context, app string) (Progressive, error)
	// DeleteProgressive records that app has no go-live in progress (none
	// is no error), fenced as PutProgressive.
	DeleteProgressive(ctx context.Context, app string) error
}
