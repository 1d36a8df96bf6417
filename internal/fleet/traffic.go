package fleet

import (
	"context"
	"log/slog"
	"math"
	"math/bits"
	"slices"
	"sync"
	"time"

	"github.com/bascule/bascule/internal/guard"
	"github.com/bascule/bascule/internal/router"
)

// Counter is a router's per-color guard counters, read live;
// *guard.Meter provides it.
type Counter interface {
	Read(color string) guard.Counts
}

// TrafficOptions configure a Traffic.
type TrafficOptions struct {
	// Local is the counters of the router inside this process, read live
	// at each Read; nil: none.
	Local Counter
	// Keep is how far back At answers, at one reading every Every (zero:
	// DefaultInterval).
	Keep, Every time.Duration
	Logger      *slog.Logger // nil: discard
	Now         func() time.Time
}

// Traffic is the guard's view of the whole fleet's per-color counters:
// the local router's, read live, plus what each other router reported in
// its heartbeats. Each router's reports are counted as the increments
// between them, so a router that restarts (its counters start over), goes
// stale or is forgotten never makes the sum go backwards: what it
// reported still counts. It provides what the deploy pipeline's guard
// reads (deploy.Traffic); its methods are safe for concurrent use.
type Traffic struct {
	opts    TrafficOptions
	log     *slog.Logger
	started time.Time

	mu      sync.Mutex
	routers map[string]*tally
	sum     [2]guard.Counts // every router's increments, the local one's aside
	history [2]*guard.History
}

// tally is what the Traffic knows of one router's counters.
type tally struct {
	boot    string
	last    [2]guard.Counts // the latest counters of boot, field by field
	heard   time.Time
	retired []string // earlier boots, whose late reports are ignored
}

// The bounds of what a Traffic keeps per router.
const (
	// maxTallies bounds the routers remembered. Past it, the one heard
	// from longest ago is dropped: its counts stay in the sum, and if it
	// reports again its counters are taken as a new baseline.
	maxTallies = 1024
	// maxRetired bounds the earlier boots remembered per router.
	maxRetired = 4
)

// NewTraffic returns a Traffic that has heard from no router yet.
func NewTraffic(opts TrafficOptions) *Traffic {
	if opts.Every <= 0 {
		opts.Every = DefaultInterval
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	t := &Traffic{opts: opts, log: opts.Logger, started: opts.Now(), routers: map[string]*tally{}}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	for i := range t.history {
		t.history[i] = guard.NewHistory(opts.Keep, opts.Every)
	}
	return t
}

// colorSlot maps blue and green to 0 and 1; ok is false for others.
func colorSlot(c string) (int, bool) {
	switch router.Color(c) {
	case router.Blue:
		return 0, true
	case router.Green:
		return 1, true
	}
	return 0, false
}

var slotColors = [2]router.Color{router.Blue, router.Green}

// Read returns color c's counts across the fleet now: the local router's
// live, the others' as of their latest heartbeat.
func (t *Traffic) Read(c string) guard.Counts {
	i, ok := colorSlot(c)
	if !ok {
		return guard.Counts{}
	}
	t.mu.Lock()
	out := t.sum[i]
	t.mu.Unlock()
	if t.opts.Local != nil {
		out = plus(out, t.opts.Local.Read(c))
	}
	return out
}

// At returns color c's fleet counts as of the latest reading taken at or
// before at; when every reading is later, the oldest; without readings,
// zero counts (as guard.Meter.At answers).
func (t *Traffic) At(c string, at time.Time) guard.Counts {
	i, ok := colorSlot(c)
	if !ok {
		return guard.Counts{}
	}
	return t.history[i].At(at)
}

// Record takes a reading of both colors' fleet counts, as of now.
func (t *Traffic) Record(now time.Time) {
	for i, c := range slotColors {
		t.history[i].Record(now, t.Read(string(c)))
	}
}

// Run records a reading every opts.Every until ctx ends.
func (t *Traffic) Run(ctx context.Context) {
	t.Record(t.opts.Now())
	tick := time.NewTicker(t.opts.Every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			t.Record(t.opts.Now())
		}
	}
}

// heard counts what hb, checked by validHeartbeat and received at now,
// adds to what its router reported before.
func (t *Traffic) heard(hb Heartbeat, now time.Time) {
	tr := hb.Traffic
	if tr == nil {
		return // a router that keeps no counters
	}
	var got [2]guard.Counts
	for c, cc := range tr.Colors {
		if i, ok := colorSlot(string(c)); ok {
			got[i] = fromWire(cc)
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.routers[hb.ID]
	if r == nil {
		t.evictLocked()
		r = &tally{}
		t.routers[hb.ID] = r
	}
	if slices.Contains(r.retired, tr.Boot) {
		return // a late report from before a restart, delivered after it
	}
	r.heard = now
	if tr.Boot == r.boot {
		for i := range got {
			t.sum[i] = plus(t.sum[i], got[i].Sub(r.last[i]))
			r.last[i] = highest(r.last[i], got[i])
		}
		return
	}
	// A boot not seen before: a router new to this control plane, or
	// restarted. Its counters count from zero, but only if it started
	// after this Traffic did: counts from before (a control plane that
	// restarted, a router dropped from the tallies) are history it did
	// not watch, and would land all at once as if just served.
	fresh := now.Add(-time.Duration(tr.UptimeMS) * time.Millisecond).After(t.started)
	if r.boot != "" {
		r.retired = append(r.retired, r.boot)
		if len(r.retired) > maxRetired {
			r.retired = r.retired[1:]
		}
		t.log.Info("router restarted: its guard counters start over", "router", hb.ID)
	}
	r.boot, r.last = tr.Boot, got
	if fresh {
		for i := range got {
			t.sum[i] = plus(t.sum[i], got[i])
		}
	}
}

// evictLocked drops the router heard from longest ago when the tallies
// are full. Its counts stay in the sum.
func (t *Traffic) evictLocked() {
	if len(t.routers) < maxTallies {
		return
	}
	var oldest string
	var at time.Time
	for id, r := range t.routers {
		if oldest == "" || r.heard.Before(at) {
			oldest, at = id, r.heard
		}
	}
	delete(t.routers, oldest)
}

// highest returns the larger of a and b, field by field: a report that
// arrives after a newer one (a slow request overtaken) moves nothing back.
func highest(a, b guard.Counts) guard.Counts {
	a.Requests, a.Errors = max(a.Requests, b.Requests), max(a.Errors, b.Errors)
	for i := range a.Latency {
		a.Latency[i] = max(a.Latency[i], b.Latency[i])
	}
	return a
}

// plus returns a + b, bucket by bucket, stopping at the largest count
// rather than wrapping around: routers that report absurd counts (each is
// bounded, their number is not) must not make the sum go backwards.
func plus(a, b guard.Counts) guard.Counts {
	a.Requests, a.Errors = addSat(a.Requests, b.Requests), addSat(a.Errors, b.Errors)
	for i := range a.Latency {
		a.Latency[i] = addSat(a.Latency[i], b.Latency[i])
	}
	return a
}

func addSat(a, b uint64) uint64 {
	if s, carry := bits.Add64(a, b, 0); carry == 0 {
		return s
	}
	return math.MaxUint64
}
