package guard

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// Config is the guard's configuration (bascule.yaml's guard section).
type Config struct {
	// Window is how long the new live color is watched after go-live;
	// zero turns the guard off.
	Window time.Duration
	// MaxErrorRate is the share of 5xx answers above which a release is
	// rolled back, whatever its baseline (0 < MaxErrorRate < 1).
	MaxErrorRate float64
	// MinRequests is how many requests the new color must have served
	// before any verdict, and how many the baseline must have served to
	// be compared with.
	MinRequests int
	// MaxP99Ratio, if positive, is the most the new color's p99 latency
	// may be, as a multiple of the baseline's.
	MaxP99Ratio float64
}

// Enabled reports whether the guard watches go-lives.
func (c Config) Enabled() bool { return c.Window > 0 }

// Verdict is the guard's judgement of a candidate so far.
type Verdict struct {
	// Breach is set once a test has breached; Reason then says why, in
	// words for a person ("31% of 412 requests failed (5xx), limit 2%,
	// baseline 0.1%").
	Breach bool   `json:"breach"`
	Reason string `json:"reason,omitempty"`

	Requests          uint64        `json:"requests"`
	Errors            uint64        `json:"errors"`
	ErrorRate         float64       `json:"error_rate"`
	BaselineRequests  uint64        `json:"baseline_requests"`
	BaselineErrorRate float64       `json:"baseline_error_rate"`
	P99               time.Duration `json:"p99_ns"`
	BaselineP99       time.Duration `json:"baseline_p99_ns"`
}

// Judge decides, request count after request count, whether a candidate
// breaches. Feed it the candidate's counts since go-live and the
// baseline's counts with Update; it is not safe for concurrent use.
type Judge struct {
	cfg   Config
	seen  Counts // of the candidate, already judged
	limit sprt   // error rate against MaxErrorRate
	base  sprt   // error rate against the baseline's
	slow  sprt   // share of requests slower than MaxP99Ratio × baseline p99
}

// NewJudge returns a Judge for cfg.
func NewJudge(cfg Config) *Judge {
	return &Judge{cfg: cfg}
}

// Update judges cand, the candidate's counts since go-live, against base,
// the baseline's counts. Both only ever grow between calls. Once a verdict
// is a breach, every later one is too.
func (j *Judge) Update(cand, base Counts) Verdict {
	v := Verdict{Requests: cand.Requests, Errors: cand.Errors, ErrorRate: cand.ErrorRate(),
		BaselineRequests: base.Requests, BaselineErrorRate: base.ErrorRate(),
		P99: cand.Quantile(0.99), BaselineP99: base.Quantile(0.99)}
	prev := j.seen
	d := cand.Sub(prev)
	j.seen = cand
	minReq := uint64(max(j.cfg.MinRequests, 1))
	hasBase := base.Requests >= minReq

	p0, p1 := around(j.cfg.MaxErrorRate)
	overLimit := j.limit.update(d.Errors, d.Requests, p0, p1)

	worse := false
	if hasBase {
		p0, p1 = around(baselineFactor * baselineRate(base))
		worse = j.base.update(d.Errors, d.Requests, p0, p1)
	}

	slower, limit := false, time.Duration(0)
	if j.cfg.MaxP99Ratio > 0 && hasBase && base.Requests >= 100 && v.BaselineP99 > 0 {
		limit = time.Duration(j.cfg.MaxP99Ratio * float64(v.BaselineP99))
		p0, p1 = around(slowShare)
		slower = j.slow.update(sub(cand.SlowerThan(limit), prev.SlowerThan(limit)), d.Requests, p0, p1)
	}

	if cand.Requests < minReq {
		return v
	}
	switch {
	case overLimit:
		v.Breach = true
		v.Reason = fmt.Sprintf("%s of %d requests failed (5xx), limit %s, %s",
			Percent(v.ErrorRate), v.Requests, Percent(j.cfg.MaxErrorRate), baselineText(base))
	case worse:
		v.Breach = true
		v.Reason = fmt.Sprintf("%s of %d requests failed (5xx), significantly more than the baseline's %s of %d, limit %s",
			Percent(v.ErrorRate), v.Requests, Percent(v.BaselineErrorRate), base.Requests, Percent(j.cfg.MaxErrorRate))
	case slower:
		v.Breach = true
		v.Reason = fmt.Sprintf("p99 latency %s over %d requests, more than %s× the baseline's %s (limit %s)",
			roundDur(v.P99), v.Requests, strconv.FormatFloat(j.cfg.MaxP99Ratio, 'g', -1, 64), roundDur(v.BaselineP99), roundDur(limit))
	}
	return v
}

// baselineRate estimates the baseline's error rate on the high side, about
// one standard deviation above what it saw (so that a baseline that was
// lucky does not make a candidate as good as it look worse), and never
// below MinBaselineRate.
func baselineRate(base Counts) float64 {
	e := float64(base.Errors) + 1
	r := (e + math.Sqrt(e)) / float64(base.Requests+1)
	return max(r, MinBaselineRate)
}

func baselineText(base Counts) string {
	if base.Requests == 0 {
		return "no baseline (the previous release saw no traffic)"
	}
	return "baseline " + Percent(base.ErrorRate())
}

// Percent formats a share for people: two significant digits at most,
// "31%", "2%", "0.15%", "0%".
func Percent(x float64) string {
	p := x * 100
	switch {
	case p == 0:
		return "0%"
	case p < 0.01:
		return "<0.01%"
	case p >= 10:
		return strconv.FormatFloat(p, 'f', 0, 64) + "%"
	}
	return strconv.FormatFloat(p, 'g', 2, 64) + "%"
}

func roundDur(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}
