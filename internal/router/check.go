package router

import (
	"context"
	"slices"
	"sync"
	"time"
)

// CheckInstances runs active health checks until ctx ends: every interval,
// probe is called for each instance of a color of several (an instance
// alone gets its color's every request whatever its health, so it is not
// probed), all of them at once. A failed probe ejects the instance as a
// passive failure does; a passing one brings an ejected instance back at
// once, without waiting for its ejection to end. probe is the control
// plane's health check (runtime.Probe with the app's health check): the
// router imports nothing of it. It returns when ctx ends.
func (r *Router) CheckInstances(ctx context.Context, interval time.Duration, probe func(ctx context.Context, addr string) error) {
	if interval <= 0 {
		interval = time.Second
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		r.checkOnce(ctx, probe)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// checkOnce probes every balanced instance once and waits for the answers.
func (r *Router) checkOnce(ctx context.Context, probe func(ctx context.Context, addr string) error) {
	var wg sync.WaitGroup
	for _, u := range r.balancedInstances() {
		wg.Go(func() {
			err := probe(ctx, u.addr)
			switch {
			case ctx.Err() != nil:
				// A probe cut short says nothing of the instance.
			case err != nil:
				r.failed(u, "health check: "+err.Error(), false)
			default:
				r.restore(u, "health check passed")
			}
		})
	}
	wg.Wait()
}

// balancedInstances returns the instances of the colors of several in the
// current table.
func (r *Router) balancedInstances() []*upstream {
	var out []*upstream
	for _, cs := range r.snap.Load().ups {
		if cs != nil && len(cs.ups) > 1 {
			for _, u := range cs.ups {
				if !slices.Contains(out, u) {
					out = append(out, u)
				}
			}
		}
	}
	return out
}

// Ejected returns how many instances of addr (one address, or a Table's
// upstream of several) are ejected now: they get no new requests until
// their ejection ends or a health check passes.
func (r *Router) Ejected(addr string) int64 {
	var n int64
	for _, u := range r.lookup(addr) {
		if !u.available() {
			n++
		}
	}
	return n
}
