// Package leader elects which of several bascule instances sharing one
// PostgreSQL store leads the control plane: a lease row with a time to live
// and a fencing token (docs/adr/0010-leader-lease.md).
//
// An Elector campaigns for the lease and, for each term it wins, runs the
// caller's lead function with a context that carries the term's fence
// (store.WithFence) and is cancelled the moment the term ends: the lease
// could not be renewed before its deadline, another instance took it, or
// the Elector stops. The store refuses a write carrying a fence whose token
// is no longer the lease's, so a deposed leader that has not noticed yet
// (a long pause, a partition) cannot change anything.
package leader

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/bascule/bascule/internal/store"
)

// DefaultTTL is how long a lease lasts without renewal: the longest an
// instance that died while leading keeps the others waiting.
const DefaultTTL = 10 * time.Second

// Options configure an Elector. Leases is required; the zero value of every
// other field works.
type Options struct {
	Leases store.Leases
	Name   string // the lease; default store.LeaseControl
	// Holder names this instance in the lease; default host name, process
	// id and a random suffix, new at every start.
	Holder string
	URL    string        // where this instance's control plane answers, for followers to forward to
	TTL    time.Duration // default DefaultTTL
	// Renew is how often the leader renews; default TTL/3, so that two
	// renewals can fail before the lease runs out.
	Renew time.Duration
	// Retry is the longest a follower waits between two attempts to take
	// the lease; default TTL/3. It waits less when the lease it saw
	// expires sooner, so a takeover follows an expiry closely.
	Retry  time.Duration
	Logger *slog.Logger // nil: discard
}

// Elector campaigns for one lease. Its methods may be called from any
// goroutine.
type Elector struct {
	opts Options
	log  *slog.Logger

	settled     chan struct{} // closed once the first campaign has an answer
	settledOnce sync.Once

	mu       sync.Mutex
	token    int64     // the term's token; 0 when not leading
	deadline time.Time // the term ends then unless renewed, by this host's monotonic clock
}

// New returns an Elector; Run campaigns.
func New(opts Options) *Elector {
	if opts.Name == "" {
		opts.Name = store.LeaseControl
	}
	if opts.Holder == "" {
		opts.Holder = holderID()
	}
	if opts.TTL <= 0 {
		opts.TTL = DefaultTTL
	}
	if opts.Renew <= 0 {
		opts.Renew = opts.TTL / 3
	}
	if opts.Retry <= 0 {
		opts.Retry = opts.TTL / 3
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Elector{opts: opts, log: log.With("holder", opts.Holder), settled: make(chan struct{})}
}

// holderID names this process: readable in the lease row, and new at each
// start, so that a restarted instance never takes itself for its
// predecessor.
func holderID() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b))
}

// Holder is the name this instance holds the lease under.
func (e *Elector) Holder() string { return e.opts.Holder }

// URL is this instance's advertised control plane URL.
func (e *Elector) URL() string { return e.opts.URL }

// TTL is the lease's time to live.
func (e *Elector) TTL() time.Duration { return e.opts.TTL }

// Leading reports whether this instance leads now, and the token of its
// term. It reads the term's deadline rather than waiting for the loop to
// notice it, so it turns false at the deadline exactly.
func (e *Elector) Leading() (token int64, ok bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.token == 0 || !time.Now().Before(e.deadline) {
		return 0, false
	}
	return e.token, true
}

func (e *Elector) setTerm(token int64, deadline time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.token, e.deadline = token, deadline
}

// Current returns the lease as the store has it: who leads, at which URL,
// with which token. It returns store.ErrNotFound if nobody ever led.
func (e *Elector) Current(ctx context.Context) (store.Lease, error) {
	return e.opts.Leases.CurrentLease(ctx, e.opts.Name)
}

// Settled is closed once Run's first attempt has an answer: this instance
// leads, or the store said who does, or could not be read. A server waits
// for it before it serves, so that its first requests know where to go.
func (e *Elector) Settled() <-chan struct{} { return e.settled }

func (e *Elector) settle() { e.settledOnce.Do(func() { close(e.settled) }) }

// Run campaigns until ctx ends. For each term won it calls lead with a
// context that carries the term's fence and ends with the term, and waits
// for lead to return before campaigning again: two terms of one instance
// never overlap. A lead that returns early ends its term. When ctx ends
// during a term the lease is released, so that another instance takes
// over at once instead of after the TTL.
func (e *Elector) Run(ctx context.Context, lead func(ctx context.Context)) {
	defer e.settle()
	for {
		wait := e.campaign(ctx, lead)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// campaign tries to take the lease once, leads for the term if it did, and
// returns how long to wait before the next try.
func (e *Elector) campaign(ctx context.Context, lead func(ctx context.Context)) time.Duration {
	sent := time.Now()
	tctx, cancel := context.WithTimeout(ctx, e.opts.Retry)
	l, taken, err := e.opts.Leases.AcquireLease(tctx, e.opts.Name, e.opts.Holder, e.opts.URL, e.opts.TTL)
	cancel()
	if !taken {
		e.settle()
	}
	switch {
	case err != nil:
		if ctx.Err() == nil {
			e.log.Warn("leader election: cannot read the lease", "err", err)
		}
		return e.opts.Retry
	case !taken:
		// Try again just after it expires, a little early at most once
		// per Retry: the database's clock decides.
		return min(e.opts.Retry, max(l.Remaining, 10*time.Millisecond))
	}
	e.hold(ctx, l.Token, sent.Add(e.opts.TTL), lead)
	// Another instance may take over now; this one tries again later.
	return e.opts.Retry
}

// hold runs one term: lead in its goroutine, renewals on this one, until
// the lease is lost, lead returns or ctx ends.
func (e *Elector) hold(ctx context.Context, token int64, deadline time.Time, lead func(ctx context.Context)) {
	e.setTerm(token, deadline)
	e.settle()
	e.log.Info("leading the control plane", "token", token, "url", e.opts.URL)
	fence := store.Fence{Lease: e.opts.Name, Token: token}
	lctx, cancel := context.WithCancel(store.WithFence(ctx, fence))
	done := make(chan struct{})
	go func() {
		defer close(done)
		lead(lctx)
	}()
	why := e.renewUntilLost(ctx, token, deadline, done)
	// Not leading any more from this instant, before lead has wound down:
	// its last writes are refused by the fence if another took over.
	e.setTerm(0, time.Time{})
	cancel()
	<-done
	e.log.Warn("no longer leading the control plane", "token", token, "why", why)
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), e.opts.Renew)
	defer rcancel()
	if err := e.opts.Leases.ReleaseLease(rctx, e.opts.Name, e.opts.Holder, token); err != nil {
		e.log.Warn("release the lease", "err", err)
	}
}

// renewUntilLost renews the lease every Renew and returns why the term
// ended.
func (e *Elector) renewUntilLost(ctx context.Context, token int64, deadline time.Time, done <-chan struct{}) string {
	expire := time.NewTimer(time.Until(deadline))
	defer expire.Stop()
	tick := time.NewTicker(e.opts.Renew)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return "stopping"
		case <-done:
			return "the leader's work ended"
		case <-expire.C:
			return fmt.Sprintf("the lease was not renewed within %s", e.opts.TTL)
		case <-tick.C:
		}
		sent := time.Now()
		// A renewal that has not answered by the deadline is too late.
		rctx, cancel := context.WithDeadline(ctx, deadline)
		_, err := e.opts.Leases.RenewLease(rctx, e.opts.Name, e.opts.Holder, token, e.opts.TTL)
		cancel()
		switch {
		case errors.Is(err, store.ErrLeaseLost):
			return "another instance took the lease"
		case err != nil:
			if ctx.Err() == nil {
				e.log.Warn("renew the lease", "err", err, "left", time.Until(deadline).Round(time.Millisecond))
			}
			continue
		}
		deadline = sent.Add(e.opts.TTL)
		e.setTerm(token, deadline)
		expire.Reset(time.Until(deadline))
	}
}
