package auth

import (
	"sync"
	"time"
)

// Backoff paces attempts that keep failing: after Free failures in a row,
// each attempt must wait, Base the first time, then twice as long each
// time, up to Max. A key that fails no more for Forget starts afresh.
//
// With the defaults a person who mistypes three times waits a second, and
// a guesser at one name from one address gets 13 tries in about 17
// minutes, then one every 15 minutes: about 100 a day.
type Backoff struct {
	Free   int           // failures in a row before the first wait; 0: 3
	Base   time.Duration // the first wait; 0: 1 second
	Max    time.Duration // the longest wait; 0: 15 minutes
	Forget time.Duration // a key quiet this long starts afresh; 0: 24 hours
}

func (b Backoff) withDefaults() Backoff {
	if b.Free <= 0 {
		b.Free = 3
	}
	if b.Base <= 0 {
		b.Base = time.Second
	}
	if b.Max <= 0 {
		b.Max = 15 * time.Minute
	}
	if b.Forget <= 0 {
		b.Forget = 24 * time.Hour
	}
	return b
}

// Wait is how long an attempt must wait after n failures in a row.
func (b Backoff) Wait(n int) time.Duration {
	b = b.withDefaults()
	if n < b.Free {
		return 0
	}
	d := b.Base
	for i := b.Free; i < n && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// Pacer applies a Backoff per key, in memory. An attempt is counted as a
// failure when it starts (Try), and forgiven when it succeeds (Reset), so
// that attempts sent in parallel cannot all pass before the first failure
// is recorded. Like Limiter it holds at most maxKeys keys and runs no
// goroutine. Its methods are safe for concurrent use.
type Pacer struct {
	policy  Backoff
	maxKeys int
	now     func() time.Time

	mu   sync.Mutex
	keys map[string]paced
}

type paced struct {
	fails int       // attempts in a row not followed by a success
	last  time.Time // the latest of them
}

// NewPacer returns a Pacer; maxKeys <= 0 means 50,000 and a nil now means
// time.Now.
func NewPacer(policy Backoff, maxKeys int, now func() time.Time) *Pacer {
	if maxKeys <= 0 {
		maxKeys = 50000
	}
	if now == nil {
		now = time.Now
	}
	return &Pacer{policy: policy.withDefaults(), maxKeys: maxKeys, now: now, keys: map[string]paced{}}
}

// Try reports whether key may attempt now and, if it may, counts the
// attempt as a failure until Reset. When it may not, retryAfter says how
// long until it may.
func (p *Pacer) Try(key string) (retryAfter time.Duration, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	k := p.current(key, now)
	if next := k.last.Add(p.policy.Wait(k.fails)); k.fails > 0 && now.Before(next) {
		return next.Sub(now), false
	}
	if k.fails == 0 && len(p.keys) >= p.maxKeys {
		p.makeRoom(now)
	}
	p.keys[key] = paced{fails: k.fails + 1, last: now}
	return 0, true
}

// Failures returns key's failures in a row and how long its next attempt
// must wait.
func (p *Pacer) Failures(key string) (n int, wait time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	k := p.current(key, now)
	if k.fails == 0 {
		return 0, 0
	}
	return k.fails, max(0, k.last.Add(p.policy.Wait(k.fails)).Sub(now))
}

// Reset forgets key's failures (after a successful attempt).
func (p *Pacer) Reset(key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.keys, key)
}

// Len returns how many keys are tracked.
func (p *Pacer) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.keys)
}

// current returns key's state, dropping it if it has been quiet for
// Forget.
func (p *Pacer) current(key string, now time.Time) paced {
	k, ok := p.keys[key]
	if ok && p.forgotten(k, now) {
		delete(p.keys, key)
		return paced{}
	}
	return k
}

func (p *Pacer) forgotten(k paced, now time.Time) bool {
	return !now.Before(k.last.Add(p.policy.Forget))
}

// makeRoom drops every forgotten key and, if the map is still full, the
// key quiet the longest: a flood of new keys evicts the stalest evidence
// first, and a guesser who keeps trying stays among the freshest.
func (p *Pacer) makeRoom(now time.Time) {
	var oldestKey string
	var oldest time.Time
	found := false
	for key, k := range p.keys {
		if p.forgotten(k, now) {
			delete(p.keys, key)
			continue
		}
		if !found || k.last.Before(oldest) {
			oldestKey, oldest, found = key, k.last, true
		}
	}
	if found && len(p.keys) >= p.maxKeys {
		delete(p.keys, oldestKey)
	}
}
