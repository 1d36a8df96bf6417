package guard

import (
	"strings"
	"testing"
	"time"
)

var testConfig = Config{Window: time.Minute, MaxErrorRate: 0.02, MinRequests: 20, MaxP99Ratio: 3}

// counts builds counts of n requests, e of them errors, all taking d.
func counts(n, e uint64, d time.Duration) Counts {
	c := Counts{Requests: n, Errors: e}
	c.Latency[bucketOf(d)] = n
	return c
}

// feed gives j the candidate's requests step at a time, every step-th
// one failing when failEvery > 0, and returns the first breach.
func feed(j *Judge, base Counts, total, step, failEvery uint64, d time.Duration) (Verdict, bool) {
	var c Counts
	for c.Requests < total {
		for range step {
			c.Requests++
			if failEvery > 0 && c.Requests%failEvery == 0 {
				c.Errors++
			}
			c.Latency[bucketOf(d)]++
		}
		if v := j.Update(c, base); v.Breach {
			return v, true
		}
	}
	return Verdict{}, false
}

func TestJudgeReasonSaysWhy(t *testing.T) {
	j := NewJudge(testConfig)
	v := j.Update(counts(412, 128, 5*time.Millisecond), counts(1000, 1, 5*time.Millisecond))
	want := "31% of 412 requests failed (5xx), limit 2%, baseline 0.1%"
	if !v.Breach || v.Reason != want {
		t.Errorf("Update(128 errors of 412, baseline 1 of 1000) = %v %q, want a breach %q", v.Breach, v.Reason, want)
	}
	if v.ErrorRate < 0.31 || v.ErrorRate > 0.32 || v.BaselineErrorRate != 0.001 || v.Requests != 412 || v.BaselineRequests != 1000 {
		t.Errorf("verdict figures = %+v", v)
	}
}

func TestJudgeGrossRegressionWithinAFewDozenRequests(t *testing.T) {
	// A third of the requests fail; the baseline saw no traffic at all: the
	// limit holds on its own.
	v, ok := feed(NewJudge(testConfig), Counts{}, 1000, 1, 3, time.Millisecond)
	if !ok || v.Requests > 60 {
		t.Fatalf("a candidate failing 1 in 3 requests: breach %v after %d requests, want one within 60", ok, v.Requests)
	}
	if !strings.Contains(v.Reason, "no baseline") || !strings.Contains(v.Reason, "limit 2%") {
		t.Errorf("reason = %q, want it to say there was no baseline and name the limit", v.Reason)
	}
}

func TestJudgeNoVerdictBeforeMinRequests(t *testing.T) {
	cfg := testConfig
	cfg.MinRequests = 100
	j := NewJudge(cfg)
	for n := uint64(1); n < 100; n++ {
		if v := j.Update(counts(n, n, time.Millisecond), Counts{}); v.Breach {
			t.Fatalf("breach after %d requests, all failed; want no verdict before min_requests (100)", n)
		}
	}
	if v := j.Update(counts(100, 100, time.Millisecond), Counts{}); !v.Breach {
		t.Errorf("no breach at min_requests with every request failed")
	}
}

func TestJudgeHealthyCandidateNeverBreaches(t *testing.T) {
	base := counts(5000, 40, 20*time.Millisecond) // 0.8 %
	// 1 % errors (1 in 100), every request just as fast: no breach over
	// 20,000 requests.
	if v, ok := feed(NewJudge(testConfig), base, 20000, 10, 100, 20*time.Millisecond); ok {
		t.Errorf("a candidate like its baseline breached: %s", v.Reason)
	}
	// Without a baseline, 1.5 % errors stays under the 2 % limit.
	if v, ok := feed(NewJudge(testConfig), Counts{}, 20000, 10, 67, 20*time.Millisecond); ok {
		t.Errorf("a candidate under the limit, without a baseline, breached: %s", v.Reason)
	}
}

func TestJudgeWorseThanBaseline(t *testing.T) {
	base := counts(10000, 20, 20*time.Millisecond) // 0.2 %
	// 1.25 % errors: under the 2 % limit, six times the baseline.
	v, ok := feed(NewJudge(testConfig), base, 20000, 10, 80, 20*time.Millisecond)
	if !ok || !strings.Contains(v.Reason, "significantly more than the baseline's 0.2% of 10000") {
		t.Fatalf("a candidate at 6× its baseline's error rate: breach %v %q, want one against the baseline", ok, v.Reason)
	}
	// The same candidate against a baseline with too few requests is
	// judged by the limit alone.
	if v, ok := feed(NewJudge(testConfig), counts(10, 0, 20*time.Millisecond), 20000, 10, 80, 20*time.Millisecond); ok {
		t.Errorf("breach against a baseline of 10 requests (min_requests 20): %s", v.Reason)
	}
}

func TestJudgeLatency(t *testing.T) {
	base := counts(5000, 0, 20*time.Millisecond)
	v, ok := feed(NewJudge(testConfig), base, 5000, 10, 0, 200*time.Millisecond)
	if !ok || !strings.HasPrefix(v.Reason, "p99 latency 256ms over") || !strings.Contains(v.Reason, "more than 3× the baseline's 24ms") {
		t.Fatalf("a candidate 10× slower: breach %v %q, want a p99 breach", ok, v.Reason)
	}
	if v.Requests > 100 {
		t.Errorf("a candidate 10× slower was caught after %d requests, want within 100", v.Requests)
	}
	// Twice as slow is within max_p99_ratio 3.
	if v, ok := feed(NewJudge(testConfig), base, 5000, 10, 0, 40*time.Millisecond); ok {
		t.Errorf("a candidate 2× slower breached max_p99_ratio 3: %s", v.Reason)
	}
	// Without max_p99_ratio latency is not judged.
	cfg := testConfig
	cfg.MaxP99Ratio = 0
	if v, ok := feed(NewJudge(cfg), base, 5000, 10, 0, 200*time.Millisecond); ok {
		t.Errorf("latency judged without max_p99_ratio: %s", v.Reason)
	}
}
