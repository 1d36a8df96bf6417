package store

import (
	"context"
	"time"
)

// RoutingTable is the routing table the whole fleet serves, as the leader
// of the control plane last wrote it: every control-plane instance serves
// it on its routing stream and installs it in its own router, and a new
// leader starts from it (docs/adr/0015-shared-routing-state.md).
type RoutingTable struct {
	// App is the app whose fleet serves the table: one per app, as a
	// slot is.
	App string `json:"app"`
	// Generation numbers the table; it only grows, so that a router can
	// tell a newer table from an older one whichever instance sent it.
	Generation int64 `json:"generation"`
	// Table is the router's table as JSON (the router's own shape, kept
	// opaque here).
	Table     []byte    `json:"-"`
	UpdatedAt time.Time `json:"updated_at"`
}

// RoutingTables keeps the fleet's routing table, one per app.
type RoutingTables interface {
	// PutRoutingTable makes t the table of t.App's fleet under the
	// generation max(t.Generation, the stored one + 1), 1 at least, and
	// returns it as
	// stored: a write never lowers the generation nor reuses one. Under a
	// fenced ctx (WithFence) it is refused with a *FencedError, writing
	// nothing, when the writer no longer leads.
	PutRoutingTable(ctx context.Context, t RoutingTable) (RoutingTable, error)
	// RoutingTable returns the table of app's fleet, or ErrNotFound if
	// none was ever written.
	RoutingTable(ctx context.Context, app string) (RoutingTable, error)
}

// RoutingWatcher tells of each new routing table as it is written, when
// the store can push (PostgreSQL's LISTEN/NOTIFY). A store shared by
// several instances that cannot is read again periodically instead.
type RoutingWatcher interface {
	// WatchRoutingTable calls changed after each write of a routing
	// table committed by anyone, with the app written, until ctx
	// ends or the watch breaks; it returns why (ctx.Err() when ctx ended).
	// A write committed while no watch runs is not told of: read the table
	// again after (re)starting a watch.
	WatchRoutingTable(ctx context.Context, ready func(), changed func(app string)) error
}
