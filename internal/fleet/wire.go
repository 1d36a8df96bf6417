package fleet

import (
	"time"

	"github.com/bascule/bascule/internal/router"
)

// Update is one event of the routing stream (event name "table", id the
// generation): the table every router must serve, and how long a router
// waits for its drain before it gives up on acknowledging it.
type Update struct {
	Table router.Table `json:"table"`
	// DrainTimeoutMS is the control plane's drain_timeout, in milliseconds.
	DrainTimeoutMS int64 `json:"drain_timeout_ms"`
	// Settings are the control plane's router settings, which every router
	// applies so that a request is treated alike whichever router it
	// reaches. They hold the preview token: the routing stream is for
	// router-role tokens only.
	Settings *router.Settings `json:"settings,omitempty"`
}

// EventTable names the routing stream's table events.
const EventTable = "table"

func (u Update) drainTimeout() time.Duration {
	if u.DrainTimeoutMS <= 0 {
		return 30 * time.Second
	}
	return time.Duration(u.DrainTimeoutMS) * time.Millisecond
}

// Heartbeat is what a router reports, every interval and at once after an
// install or a drain (which makes it the acknowledgement as well).
type Heartbeat struct {
	ID        string `json:"id"`
	Host      string `json:"host"`
	Listen    string `json:"listen"`
	Installed int64  `json:"installed"` // generation served
	Drained   int64  `json:"drained"`   // last generation whose drain finished
	// Colors holds the requests in flight and queued per color.
	Colors map[router.Color]Load `json:"colors"`
}

// Load is one color's requests on one router.
type Load struct {
	InFlight int64 `json:"in_flight"`
	Queued   int64 `json:"queued"`
}

// The protocol's timing. A router heartbeats every DefaultInterval; one
// that missed StaleAfter intervals is stale: not waited for, and named in
// the answer of every switch it has not confirmed.
const (
	DefaultInterval = time.Second
	StaleAfter      = 3
	// Keepalive is how often the routing stream carries a comment when
	// nothing else; a router that hears nothing for 3 of them reconnects.
	Keepalive = 5 * time.Second
)
