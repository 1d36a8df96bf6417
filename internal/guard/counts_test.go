package guard

import (
	"testing"
	"time"
)

// TestBuckets: every duration falls in the bucket whose bounds hold it,
// and buckets are never more than 1.5 times as wide as they start.
func TestBuckets(t *testing.T) {
	for d := time.Duration(0); d < 100*time.Second; d = d*21/20 + time.Microsecond {
		i := bucketOf(d)
		lo := time.Duration(0)
		if i > 0 {
			lo = upperBound(i - 1)
		}
		if d < lo || (i < NumBuckets-1 && d >= upperBound(i)) {
			t.Fatalf("bucketOf(%s) = %d, whose bounds are [%s, %s)", d, i, lo, upperBound(i))
		}
		if i > 0 && i < NumBuckets-1 && float64(upperBound(i)) > 1.5*float64(lo)+1 {
			t.Fatalf("bucket %d = [%s, %s) is more than 1.5 times wide", i, lo, upperBound(i))
		}
	}
	if got := bucketOf(time.Hour); got != NumBuckets-1 {
		t.Errorf("bucketOf(1h) = %d, want the last bucket %d", got, NumBuckets-1)
	}
}

func TestQuantileAndSlowerThan(t *testing.T) {
	var c Counter
	for range 990 {
		c.Observe(200, 10*time.Millisecond)
	}
	for range 10 {
		c.Observe(200, 900*time.Millisecond)
	}
	got := c.Read()
	if p := got.Quantile(0.99); p < 10*time.Millisecond || p > 15*time.Millisecond {
		t.Errorf("p99 of 990 × 10ms and 10 × 900ms = %s, want the bucket holding 10ms", p)
	}
	if p := got.Quantile(0.999); p < 900*time.Millisecond || p > 1350*time.Millisecond {
		t.Errorf("p99.9 = %s, want the bucket holding 900ms", p)
	}
	if n := got.SlowerThan(100 * time.Millisecond); n != 10 {
		t.Errorf("SlowerThan(100ms) = %d, want 10", n)
	}
	if n := got.SlowerThan(950 * time.Millisecond); n != 0 {
		t.Errorf("SlowerThan(950ms) = %d, want 0 (900ms requests are not surely slower)", n)
	}
}

func TestCounterErrors(t *testing.T) {
	var c Counter
	for _, s := range []int{200, 301, 404, 499, 500, 502, 503, 504, 599} {
		c.Observe(s, time.Millisecond)
	}
	got := c.Read()
	if got.Requests != 9 || got.Errors != 5 {
		t.Errorf("counts = %d requests, %d errors, want 9 and 5 (every 5xx, nothing else)", got.Requests, got.Errors)
	}
	if d := got.Sub(Counts{Requests: 4, Errors: 1}); d.Requests != 5 || d.Errors != 4 {
		t.Errorf("Sub = %d/%d, want 5/4", d.Requests, d.Errors)
	}
}

func TestPercent(t *testing.T) {
	for x, want := range map[float64]string{0: "0%", 0.31: "31%", 0.02: "2%", 0.001: "0.1%", 0.0015: "0.15%", 0.0123: "1.2%", 0.00001: "<0.01%"} {
		if got := Percent(x); got != want {
			t.Errorf("Percent(%g) = %q, want %q", x, got, want)
		}
	}
}

func TestMeterReadings(t *testing.T) {
	m := NewMeter(10*time.Second, time.Second)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 30 {
		for range 10 {
			m.Observe("blue", 200, time.Millisecond)
		}
		m.Observe("green", 500, time.Millisecond)
		m.Observe("purple", 500, time.Millisecond) // not a color: ignored
		m.Record(t0.Add(time.Duration(i) * time.Second))
	}
	// Readings at 0..29 s; the last 12 are kept (18..29 s).
	if got := m.Since("blue", t0.Add(25*time.Second)); got.Requests != 40 {
		t.Errorf("blue since 25s = %d requests, want 40 (readings 26-29 s and none since)", got.Requests)
	}
	if got := m.Since("blue", t0.Add(2*time.Second)); got.Requests != 110 {
		t.Errorf("blue since 2s = %d requests, want 110 (from the oldest reading kept, at 18 s)", got.Requests)
	}
	if got := m.Read("green"); got.Requests != 30 || got.Errors != 30 {
		t.Errorf("green = %+v, want 30 errors of 30", got)
	}
}
