package server

import (
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxLimitedKeys bounds the limiter map; past it, idle limiters go.
const maxLimitedKeys = 10000

// limitLogEvery is how often, at most, a key's refusals are logged: a
// client over its limit is refused thousands of times a second.
const limitLogEvery = time.Minute

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
// key exceeds its rate, as the OFREP specification describes. refused, when
// set, is told of each refusal.
func rateLimited(l *keyLimiter, refused func(*http.Request), next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok, wait := l.allow(apiKey(r))
		if !ok {
			if refused != nil {
				refused(r)
			}
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Max(1, math.Ceil(wait.Seconds())))))
			ofrepError(w, http.StatusTooManyRequests, "rate limit reached for this API key: retry later")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// limitLog logs a key's refusals at most once per limitLogEvery, with how
// many there were since the last line.
type limitLog struct {
	log   *slog.Logger
	now   func() time.Time
	rate  int
	burst int

	mu   sync.Mutex
	keys map[string]*limitLogKey
}

type limitLogKey struct {
	logged  time.Time
	refused int
}

func (l *limitLog) refused(name string) {
	now := l.now()
	l.mu.Lock()
	k := l.keys[name]
	if k == nil {
		if len(l.keys) >= maxLimitedKeys {
			clear(l.keys)
		}
		k = &limitLogKey{}
		l.keys[name] = k
	}
	k.refused++
	n := k.refused
	due := now.Sub(k.logged) >= limitLogEvery
	if due {
		k.logged, k.refused = now, 0
	}
	l.mu.Unlock()
	if due {
		l.log.Warn("OFREP rate limit reached: requests answered 429, and providers serve their defaults meanwhile",
			"key", name, "refused", n, "rate_limit", l.rate, "rate_burst", l.burst,
			"hint", "raise ofrep.rate_limit in bascule.yaml, or 0 for no limit")
	}
}
