package guard

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// errorStream draws a request stream's errors at rate p: it yields the
// positions of the failed requests by drawing the geometric gaps between
// them, so its cost is the number of errors, not of requests.
type errorStream struct {
	rng  *rand.Rand
	p    float64
	next uint64 // position of the next failed request (0-based)
}

func newErrorStream(rng *rand.Rand, p float64) *errorStream {
	s := &errorStream{rng: rng, p: p}
	s.next = s.gap()
	return s
}

func (s *errorStream) gap() uint64 {
	if s.p <= 0 {
		return math.MaxUint64
	}
	if s.p >= 1 {
		return 0
	}
	return uint64(math.Floor(math.Log(1-s.rng.Float64()) / math.Log(1-s.p)))
}

// errorsBefore counts the failed requests at positions below n, consuming
// them.
func (s *errorStream) errorsBefore(n uint64) uint64 {
	var k uint64
	for s.next < n {
		k++
		s.next += 1 + s.gap()
	}
	return k
}

// simWindow is one simulated guard window: a baseline of baseN requests at
// rate pb, then a candidate at rate pc judged every `batch` requests, for
// at most candN requests. It returns the requests seen when the guard
// breached, or 0 when it never did.
func simWindow(rng *rand.Rand, cfg Config, pb, pc float64, baseN, candN, batch uint64) uint64 {
	base := Counts{Requests: baseN, Errors: newErrorStream(rng, pb).errorsBefore(baseN)}
	cand := newErrorStream(rng, pc)
	j := NewJudge(cfg)
	var c Counts
	for c.Requests < candN {
		c.Requests += batch
		c.Errors += cand.errorsBefore(c.Requests)
		if j.Update(c, base).Breach {
			return c.Requests
		}
	}
	return 0
}

// simResult summarises many windows of one scenario.
type simResult struct {
	windows, rolledBack int
	detect              []uint64 // requests seen at each rollback
}

func (r simResult) rate() float64 { return float64(r.rolledBack) / float64(r.windows) }

func (r simResult) quantile(q float64) uint64 {
	if len(r.detect) == 0 {
		return 0
	}
	s := slices.Clone(r.detect)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// TestSimulation runs thousands of guard windows: a baseline of 3,000
// requests with 0.5-1 % errors, and a candidate judged over up to 6,000
// requests (a 5-minute window at 20 requests per second) that is healthy
// (its rate within -20 %/+25 % of the baseline's), 3 or 10 times worse, or
// fails 30 % of requests. It reports how often each is rolled back and
// after how many requests, and holds the guard to its promises: false
// rollbacks rare, regressions caught, a gross one within a few dozen
// requests. min_requests only delays a verdict, so the second run, with
// 100, is shorter.
func TestSimulation(t *testing.T) {
	const baseN, candN, batch = 3000, 6000, 20
	healthy := func(rng *rand.Rand, pb float64) float64 { return pb * (0.8 + 0.45*rng.Float64()) }
	times := func(k float64) func(*rand.Rand, float64) float64 {
		return func(_ *rand.Rand, pb float64) float64 { return k * pb }
	}
	gross := func(*rand.Rand, float64) float64 { return 0.30 }
	scenarios := []struct {
		minReq  int
		name    string
		windows int
		rate    func(rng *rand.Rand, pb float64) float64
		check   func(r simResult) string // what is wrong, or ""
	}{
		{20, "healthy", 3000, healthy, func(r simResult) string {
			return fail(r.rate() > 0.01, "%.2f%% rolled back, want under 1%%", 100*r.rate())
		}},
		{20, "3× worse", 1500, times(3), func(r simResult) string {
			return fail(r.rate() < 0.85, "%.1f%% rolled back, want 85%%+", 100*r.rate())
		}},
		{20, "10× worse", 1000, times(10), func(r simResult) string {
			return fail(r.rate() < 0.99 || r.quantile(0.9) > 600, "%.1f%% rolled back, p90 after %d requests; want 99%%+ within 600", 100*r.rate(), r.quantile(0.9))
		}},
		{20, "30% failing", 1000, gross, func(r simResult) string {
			return fail(r.rate() < 1 || r.quantile(0.9) > 60, "%.1f%% rolled back, p90 after %d requests; want all within 60", 100*r.rate(), r.quantile(0.9))
		}},
		{100, "healthy", 1000, healthy, func(r simResult) string {
			return fail(r.rate() > 0.01, "%.2f%% rolled back, want under 1%%", 100*r.rate())
		}},
		{100, "30% failing", 500, gross, func(r simResult) string {
			return fail(r.rate() < 1 || r.quantile(0.9) > 100, "%.1f%% rolled back, p90 after %d requests; want all at 100", 100*r.rate(), r.quantile(0.9))
		}},
	}
	var report strings.Builder
	fmt.Fprintf(&report, "%-12s %-12s %7s %11s %14s %14s\n", "min_requests", "candidate", "windows", "rolled back", "requests (p50)", "requests (p90)")
	for i, sc := range scenarios {
		cfg := Config{Window: 1, MaxErrorRate: 0.02, MinRequests: sc.minReq}
		rng := rand.New(rand.NewPCG(15, uint64(i)))
		var r simResult
		for range sc.windows {
			pb := 0.005 + 0.005*rng.Float64()
			n := simWindow(rng, cfg, pb, sc.rate(rng, pb), baseN, candN, batch)
			r.windows++
			if n > 0 {
				r.rolledBack++
				r.detect = append(r.detect, n)
			}
		}
		fmt.Fprintf(&report, "%-12d %-12s %7d %10.2f%% %14d %14d\n", sc.minReq, sc.name, r.windows, 100*r.rate(), r.quantile(0.5), r.quantile(0.9))
		if msg := sc.check(r); msg != "" {
			t.Errorf("min_requests %d, %s candidate: %s", sc.minReq, sc.name, msg)
		}
	}
	t.Logf("guard simulation (baseline 3,000 requests at 0.5-1%% errors, candidate up to 6,000, max_error_rate 2%%):\n%s", report.String())
}

func fail(bad bool, format string, args ...any) string {
	if !bad {
		return ""
	}
	return fmt.Sprintf(format, args...)
}
