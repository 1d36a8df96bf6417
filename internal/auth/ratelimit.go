package auth

import (
	"sync"
	"time"
)

// Limit is how many failed logins a key (a user name, a client address)
// may have within Window; the next attempt is refused until the oldest
// failure leaves the window.
type Limit struct {
	Max    int           // 0: 5
	Window time.Duration // 0: 15 minutes
}

func (l Limit) withDefaults() Limit {
	if l.Max <= 0 {
		l.Max = 5
	}
	if l.Window <= 0 {
		l.Window = 15 * time.Minute
	}
	return l
}

// Limiter counts recent failures per key, in memory. It holds at most
// maxKeys keys, so a flood of made-up user names cannot exhaust memory, and
// it runs no goroutine: expired entries are dropped as keys are touched,
// and swept when the map is full. Its methods are safe for concurrent use.
type Limiter struct {
	limit   Limit
	maxKeys int
	now     func() time.Time

	mu   sync.Mutex
	keys map[string][]time.Time // failure times in the window, oldest first, at most limit.Max
}

// NewLimiter returns a Limiter; maxKeys <= 0 means 10,000 and a nil now
// means time.Now.
func NewLimiter(limit Limit, maxKeys int, now func() time.Time) *Limiter {
	if maxKeys <= 0 {
		maxKeys = 10000
	}
	if now == nil {
		now = time.Now
	}
	return &Limiter{limit: limit.withDefaults(), maxKeys: maxKeys, now: now, keys: map[string][]time.Time{}}
}

// Check reports whether key may try again now; when it may not, retryAfter
// says how long until it may.
func (l *Limiter) Check(key string) (retryAfter time.Duration, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	fails := l.recent(key, now)
	if len(fails) < l.limit.Max {
		return 0, true
	}
	return fails[0].Add(l.limit.Window).Sub(now), false
}

// Fail records a failed attempt for key and reports whether this failure
// reached the limit, so that key may not try again until one leaves the
// window: the moment a lockout begins.
func (l *Limiter) Fail(key string) (locked bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	fails := l.recent(key, now)
	if fails == nil && len(l.keys) >= l.maxKeys {
		l.makeRoom(now)
	}
	locked = len(fails) == l.limit.Max-1
	fails = append(fails, now)
	if len(fails) > l.limit.Max {
		fails = fails[len(fails)-l.limit.Max:]
	}
	l.keys[key] = fails
	return locked
}

// Recent returns how many failures key has in the window and how long
// until the last of them leaves it.
func (l *Limiter) Recent(key string) (n int, clearIn time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	fails := l.recent(key, now)
	if len(fails) == 0 {
		return 0, 0
	}
	return len(fails), fails[len(fails)-1].Add(l.limit.Window).Sub(now)
}

// Reset forgets key's failures (after a successful login).
func (l *Limiter) Reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.keys, key)
}

// Len returns how many keys are tracked.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

// recent returns key's failures still in the window, dropping the rest.
func (l *Limiter) recent(key string, now time.Time) []time.Time {
	fails, ok := l.keys[key]
	if !ok {
		return nil
	}
	cut := 0
	for cut < len(fails) && !now.Before(fails[cut].Add(l.limit.Window)) {
		cut++
	}
	if cut == len(fails) {
		delete(l.keys, key)
		return nil
	}
	fails = fails[cut:]
	l.keys[key] = fails
	return fails
}

// makeRoom drops every expired key and, if the map is still full, the key
// whose last failure is the oldest: under a flood, the newest evidence is
// the most useful to keep.
func (l *Limiter) makeRoom(now time.Time) {
	var oldestKey string
	var oldest time.Time
	found := false
	for k, fails := range l.keys {
		last := fails[len(fails)-1]
		if !now.Before(last.Add(l.limit.Window)) {
			delete(l.keys, k)
			continue
		}
		if !found || last.Before(oldest) {
			oldestKey, oldest, found = k, last, true
		}
	}
	if found && len(l.keys) >= l.maxKeys {
		delete(l.keys, oldestKey)
	}
}
