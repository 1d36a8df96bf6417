package guard

import (
	"testing"
	"time"
)

// BenchmarkObserve is the guard's cost on the router's hot path.
func BenchmarkObserve(b *testing.B) {
	m := NewMeter(time.Minute, time.Second)
	for b.Loop() {
		m.Observe("green", 200, 3*time.Millisecond)
	}
}

func BenchmarkJudgeUpdate(b *testing.B) {
	j := NewJudge(Config{Window: time.Minute, MaxErrorRate: 0.02, MinRequests: 100, MaxP99Ratio: 3})
	base := Counts{Requests: 3000, Errors: 20}
	base.Latency[10] = 3000
	var c Counts
	for b.Loop() {
		c.Requests += 10
		c.Latency[11] += 10
		j.Update(c, base)
	}
}

func BenchmarkJudgeUpdateErrorsOnly(b *testing.B) {
	j := NewJudge(Config{Window: time.Minute, MaxErrorRate: 0.02, MinRequests: 100})
	base := Counts{Requests: 3000, Errors: 20}
	var c Counts
	for b.Loop() {
		c.Requests += 10
		j.Update(c, base)
	}
}
