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
	// Leaving says the router stops for good: it no longer takes requests
	// and finished those it had. The control plane forgets it, so that
	// switches neither wait for it nor name it (a router pod replaced in a
	// rolling update, an instance stopped cleanly).
	Leaving bool `json:"leaving,omitempty"`
	// Colors holds the requests in flight and queued per color.
	Colors map[router.Color]Load `json:"colors"`
	// Traffic is the router's guard counters, which the control plane's
	// guard sums across the fleet; absent from routers that keep none.
	Traffic *TrafficReport `json:"traffic,omitempty"`
}

// TrafficReport is a router's per-color guard counters since its process
// started: cumulative, so a lost heartbeat loses nothing.
type TrafficReport struct {
	// Boot names the router process's start (random): when it changes,
	// the counters started over.
	Boot string `json:"boot"`
	// UptimeMS is how long the process has been counting, in
	// milliseconds: counts from before the control plane was listening
	// are not news to it.
	UptimeMS int64                        `json:"uptime_ms"`
	Colors   map[router.Color]ColorCounts `json:"colors"`
}

// ColorCounts are guard.Counts on the wire: requests, errors (5xx), and
// the latency histogram, guard.NumBuckets buckets.
type ColorCounts struct {
	Requests int64   `json:"requests"`
	Errors   int64   `json:"errors"`
	Latency  []int64 `json:"latency"`
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
