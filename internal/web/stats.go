package web

import (
	"encoding/json"
	"sync"
	"time"
)

// Rate is a color's traffic over one interval.
type Rate struct {
	RPS    float64 `json:"rps"`     // requests per second
	ErrPct float64 `json:"err_pct"` // share of them that failed, in percent
}

// rateBook turns the router's ever-growing counters into recent rates. It
// samples only when someone looks (a live overview asks once a tick), so an
// unwatched bascule spends nothing on it, and it keeps the last n samples,
// so a newly opened overview draws a chart at once.
type rateBook struct {
	mu      sync.Mutex
	n       int
	samples []rateSample // oldest first
}

type rateSample struct {
	at     time.Time
	counts map[string]ColorStats
}

func newRateBook(n int) *rateBook { return &rateBook{n: n + 1} }

// sample records the counters at now unless the last sample is more recent
// than every (several viewers share one sample per tick).
func (b *rateBook) sample(now time.Time, every time.Duration, read func() map[string]ColorStats) {
	if read == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.samples) > 0 && now.Sub(b.samples[len(b.samples)-1].at) < every {
		return
	}
	b.samples = append(b.samples, rateSample{at: now, counts: read()})
	if len(b.samples) > b.n {
		b.samples = append(b.samples[:0], b.samples[len(b.samples)-b.n:]...)
	}
}

// history returns color's rates between consecutive samples, oldest first.
func (b *rateBook) history(color string) []Rate {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]Rate, 0, len(b.samples))
	for i := 1; i < len(b.samples); i++ {
		out = append(out, rateBetween(b.samples[i-1], b.samples[i], color))
	}
	return out
}

// latest returns each color's rate over the last interval.
func (b *rateBook) latest(colors ...string) map[string]Rate {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[string]Rate, len(colors))
	for _, c := range colors {
		if n := len(b.samples); n >= 2 {
			out[c] = rateBetween(b.samples[n-2], b.samples[n-1], c)
		} else {
			out[c] = Rate{}
		}
	}
	return out
}

func rateBetween(a, b rateSample, color string) Rate {
	secs := b.at.Sub(a.at).Seconds()
	x, y := a.counts[color], b.counts[color]
	if secs <= 0 || y.Requests < x.Requests {
		return Rate{}
	}
	reqs := float64(y.Requests - x.Requests)
	r := Rate{RPS: reqs / secs}
	if reqs > 0 && y.Errors >= x.Errors {
		r.ErrPct = 100 * float64(y.Errors-x.Errors) / reqs
	}
	return r
}

// historyJSON is color's history for a chart's data attribute.
func (b *rateBook) historyJSON(color string) string {
	out, _ := json.Marshal(b.history(color))
	return string(out)
}
