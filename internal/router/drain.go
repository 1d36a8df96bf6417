package router

import "context"

// InFlight returns the number of requests (upgraded connections included)
// currently in flight to addr: one instance's address, or a color's
// several joined by commas (a Table's upstream), whose counts it sums. An
// unknown address counts 0.
func (r *Router) InFlight(addr string) int64 {
	var n int64
	for _, u := range r.lookup(addr) {
		n += u.inflight.Load()
	}
	return n
}

// Drain blocks until nothing is in flight to addr and returns nil: to one
// instance, or to every instance of a Table's upstream of several. Call it
// after routing away from addr (Switch or SetUpstream): while a color still
// routes to addr, new requests keep arriving there.
//
// Upgraded connections (WebSocket etc.) are not cut when draining starts;
// they stay open until they end or ctx is done. When ctx is done Drain
// closes them forcibly and returns ctx.Err(); other requests still in flight
// are left to finish or to their clients.
//
// The instances are waited for one after the other: a request that moves
// to another instance of its color (a retry after a failure) keeps its
// count on the first until it ends, so none is missed.
func (r *Router) Drain(ctx context.Context, addr string) error {
	ups := r.lookup(addr)
	if len(ups) == 0 {
		return nil
	}
	for _, u := range ups {
		if err := u.wait(ctx); err != nil {
			n := 0
			for _, v := range ups {
				n += v.closeUpgraded()
			}
			r.log.Warn("drain: deadline reached", "upstream", addr, "in_flight", r.InFlight(addr), "upgraded_closed", n, "err", err)
			return err
		}
	}
	r.mu.Lock()
	r.prune(r.snap.Load())
	r.mu.Unlock()
	return nil
}

// DrainRequests blocks until the only requests in flight to addr, if any,
// are upgraded connections (WebSocket etc.), and returns nil; or returns
// ctx.Err() when ctx is done first. Unlike Drain it cuts nothing: call it
// after a switch, when the old color keeps running and its long-lived
// connections may stay on it.
//
// As Drain, it waits for every instance of a color of several, and of a
// reference every instance it has expanded to that is still in use.
func (r *Router) DrainRequests(ctx context.Context, addr string) error {
	for _, u := range r.lookup(addr) {
		if err := u.waitFor(ctx, func() bool { return u.plain() <= 0 }); err != nil {
			return err
		}
	}
	return nil
}

// wait blocks until u has nothing in flight or ctx is done.
func (u *upstream) wait(ctx context.Context) error {
	return u.waitFor(ctx, func() bool { return u.inflight.Load() == 0 })
}

// waitFor blocks until done reports true or ctx is done. The waiter is
// registered before the counts are read, so a release racing with it
// either is seen in the counts or sees the waiter and wakes it.
func (u *upstream) waitFor(ctx context.Context, done func() bool) error {
	u.waiters.Add(1)
	defer u.waiters.Add(-1)
	for {
		changed := u.changedChan()
		if done() {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// prune forgets upstreams that s does not route to and that have nothing in
// flight or waiting, so a long run of deploys does not pile them up. A
// request still holding an older snapshot cannot be lost: acquire re-checks
// the snapshot after counting itself, and that check fails once s (which
// does not reference the upstream) has been published. r.mu must be held.
func (r *Router) prune(s *snapshot) {
	for addr, u := range r.upstreams {
		if !s.references(u) && u.inflight.Load() == 0 && u.waiters.Load() == 0 {
			delete(r.upstreams, addr)
			if u.pool != nil {
				u.pool.close()
			}
		}
	}
}

// Upgraded returns the number of upgraded connections (WebSocket etc.) open
// to addr (one instance, or a Table's upstream of several, summed). They
// are part of InFlight; a caller that waits for plain requests to finish
// subtracts them.
func (r *Router) Upgraded(addr string) int64 {
	var n int64
	for _, u := range r.lookup(addr) {
		u.mu.Lock()
		n += int64(len(u.conns))
		u.mu.Unlock()
	}
	return n
}
