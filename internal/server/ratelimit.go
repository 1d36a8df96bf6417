package server

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Each API key may evaluate flags at ofrepRate per second, with bursts of
// ofrepBurst: far above what an SDK needs (it evaluates in-process or caches
// bulk results), low enough that one runaway client cannot starve the
// control plane.
const (
	ofrepRate  = 2000
	ofrepBurst = 4000
	// maxLimitedKeys bounds the limiter map; past it, idle limiters go.
	maxLimitedKeys = 10000
)

// keyLimiter rate-limits requests per API key.
type keyLimiter struct {
	rate  rate.Limit
	burst int
	now   func() time.Time

	mu   sync.Mutex
	keys map[string]*rate.Limiter
}

func newKeyLimiter(perSecond float64, burst int) *keyLimiter {
	return &keyLimiter{rate: rate.Limit(perSecond), burst: burst, now: time.Now, keys: map[string]*rate.Limiter{}}
}

// allow reports whether key may make a request now, and if not, after how
// long it may.
func (l *keyLimiter) allow(key string) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	lim, ok := l.keys[key]
	if !ok {
		if len(l.keys) >= maxLimitedKeys {
			l.evictFull(now)
		}
		lim = rate.NewLimiter(l.rate, l.burst)
		l.keys[key] = lim
	}
	l.mu.Unlock()
	r := lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// evictFull forgets limiters whose bucket has refilled: they hold no state
// worth keeping. l.mu must be held.
func (l *keyLimiter) evictFull(now time.Time) {
	for k, lim := range l.keys {
		if lim.TokensAt(now) >= float64(l.burst) {
			delete(l.keys, k)
		}
	}
}

// rateLimited answers 429 with Retry-After (whole seconds, at least 1) once a
// key exceeds its rate, as the OFREP specification describes.
func rateLimited(l *keyLimiter, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok, wait := l.allow(apiKey(r))
		if !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Max(1, math.Ceil(wait.Seconds())))))
			ofrepError(w, http.StatusTooManyRequests, "rate limit reached for this API key: retry later")
			return
		}
		next.ServeHTTP(w, r)
	})
}
