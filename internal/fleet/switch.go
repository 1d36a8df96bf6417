package fleet

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bascule/bascule/internal/router"
)

// CheckTable returns why the local router would not serve t exactly as
// given: the pipeline checks a table before it persists and installs it.
func (h *Hub) CheckTable(t router.Table) error { return h.opts.Local.CheckTable(t) }

// Install publishes t: the local router has it when Install returns, the
// other routers as soon as the stream reaches them. DrainRequests and
// Drain wait for their acknowledgements. t's generation is the one the
// store gave it (HubOptions.Tables); one not above the current
// generation is replaced by the next one.
func (h *Hub) Install(t router.Table) { h.publish(clone(t)) }

// DrainRequests waits until nothing but upgraded connections is in flight
// to addr on the local router, and every live router has installed the
// current generation and drained what it stopped sending production to.
// When ctx ends first, it returns an *IncompleteSwitchError naming the
// routers that did not confirm (the switch is published and persisted:
// they install it when they reach the control plane again), or the local
// router's ctx.Err().
func (h *Hub) DrainRequests(ctx context.Context, addr string) error {
	gen, live := h.Table().Generation, h.liveSet()
	err := h.opts.Local.DrainRequests(ctx, addr)
	if werr := h.await(ctx, gen, live, true); werr != nil {
		h.log.Warn("switch incomplete", "generation", gen, "err", werr)
		return werr
	}
	return err
}

// Drain waits until nothing is in flight to addr on the local router and
// every live router has drained the current generation, or ctx is done.
// As router.Drain, it then closes the local router's upgraded connections
// to addr and returns ctx.Err().
func (h *Hub) Drain(ctx context.Context, addr string) error {
	gen, live := h.Table().Generation, h.liveSet()
	err := h.opts.Local.Drain(ctx, addr)
	if werr := h.await(ctx, gen, live, true); werr != nil {
		h.log.Warn("drain not confirmed by every router", "addr", addr, "err", werr)
	}
	return err
}

// InFlight and Queued are the local router's counters, which the
// pipeline's status shows. Each router's are in the registry (Routers).
func (h *Hub) InFlight(addr string) int64 { return h.opts.Local.InFlight(addr) }

// Queued returns the local router's queued requests to addr.
func (h *Hub) Queued(addr string) int64 { return h.opts.Local.Queued(addr) }

func (h *Hub) liveSet() map[string]bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	live := h.liveLocked()
	live[h.opts.LocalID] = true
	return live
}

// await waits until every router of live has installed generation gen
// (and drained it, with drained), forgetting those that turn stale
// meanwhile, until ctx is done. It returns nil when every registered
// router confirmed, else an *IncompleteSwitchError naming the others,
// stale ones included: the guarantee that no router sends production to
// the old color holds only for routers that confirmed.
func (h *Hub) await(ctx context.Context, gen int64, live map[string]bool, drained bool) error {
	tick := time.NewTicker(h.opts.Interval / 2)
	defer tick.Stop()
	for {
		h.mu.Lock()
		waiting := false
		for id := range live {
			s, ok := h.routers[id]
			if !ok && id == h.opts.LocalID || ok && !confirmed(s.hb, gen, drained) && !h.staleAt(s.at) {
				waiting = true
			}
		}
		acked := h.acked
		h.mu.Unlock()
		if !waiting {
			break
		}
		select {
		case <-acked:
		case <-tick.C:
		case <-ctx.Done():
			return h.incomplete(gen, drained)
		}
	}
	return h.incomplete(gen, drained)
}

func confirmed(hb Heartbeat, gen int64, drained bool) bool {
	return hb.Installed >= gen && (!drained || hb.Drained >= gen)
}

// incomplete returns the error naming every registered router that has
// not confirmed gen, or nil.
func (h *Hub) incomplete(gen int64, drained bool) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	var lag []Laggard
	for id, s := range h.routers {
		if confirmed(s.hb, gen, drained) {
			continue
		}
		l := Laggard{ID: id, Host: s.hb.Host, Installed: s.hb.Installed, Drained: s.hb.Drained, LastSeen: s.at}
		switch {
		case h.staleAt(s.at):
			l.Reason = fmt.Sprintf("stale: no heartbeat since %s", s.at.UTC().Format(time.RFC3339))
		case s.hb.Installed < gen:
			l.Reason = fmt.Sprintf("has not installed it (serves generation %d)", s.hb.Installed)
		default:
			l.Reason = "installed it, still draining the old color"
		}
		lag = append(lag, l)
	}
	if len(lag) == 0 {
		return nil
	}
	slices.SortFunc(lag, func(a, b Laggard) int { return strings.Compare(a.ID, b.ID) })
	return &IncompleteSwitchError{Generation: gen, Lagging: lag}
}

// Laggard is a router that did not confirm a generation, and why.
type Laggard struct {
	ID        string    `json:"id"`
	Host      string    `json:"host"`
	Installed int64     `json:"installed"`
	Drained   int64     `json:"drained"`
	LastSeen  time.Time `json:"last_seen"`
	Reason    string    `json:"reason"`
}

// IncompleteSwitchError says that a switch was published (and persisted)
// but not every router confirmed it within the drain timeout.
type IncompleteSwitchError struct {
	Generation int64
	Lagging    []Laggard
}

func (e *IncompleteSwitchError) Error() string {
	parts := make([]string, len(e.Lagging))
	for i, l := range e.Lagging {
		parts[i] = fmt.Sprintf("router %s (%s) %s", l.ID, l.Host, l.Reason)
	}
	return fmt.Sprintf("switch incomplete: generation %d is published, but %s; they install it when they reach the control plane again",
		e.Generation, strings.Join(parts, "; "))
}

// Incomplete marks the error as a switch that happened, but not
// everywhere yet, for callers that cannot name this type.
func (e *IncompleteSwitchError) Incomplete() bool { return true }
