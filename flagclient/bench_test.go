package flagclient

import (
	"context"
	"testing"
	"time"

	"github.com/open-feature/go-sdk/openfeature"

	"github.com/bascule/bascule/feature"
)

// BenchmarkBool is the reference case through the client: a boolean
// flag with a segment rule and a 50 % rollout, for a user outside the
// segment, so both rules run.
func BenchmarkBool(b *testing.B) {
	h := newHarness(b, snapshotAt(b, 1, 50000))
	c := newTestClient(b, Options{URL: h.url, PollInterval: noPolling})
	ec := user("user-12345", "bob@gmail.com")
	b.ReportAllocs()
	for b.Loop() {
		c.Bool("checkout-v2", false, ec)
	}
}

// BenchmarkFlagEvaluate is feature.Evaluate alone on the same snapshot: the
// baseline BenchmarkBool's overhead (atomic load, type check) is measured
// against on a machine whose load varies.
func BenchmarkFlagEvaluate(b *testing.B) {
	s := snapshotAt(b, 1, 50000)
	ec := user("user-12345", "bob@gmail.com")
	b.ReportAllocs()
	for b.Loop() {
		feature.Evaluate(s, "checkout-v2", ec)
	}
}

// BenchmarkBoolParallel is BenchmarkBool from every core at once: the atomic
// snapshot pointer must not become a point of contention.
func BenchmarkBoolParallel(b *testing.B) {
	h := newHarness(b, snapshotAt(b, 1, 50000))
	c := newTestClient(b, Options{URL: h.url, PollInterval: noPolling})
	ec := user("user-12345", "bob@gmail.com")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Bool("checkout-v2", false, ec)
		}
	})
}

// BenchmarkProviderBoolean is the same evaluation through the OpenFeature
// SDK's client; the SDK's own context merging and hooks dominate.
func BenchmarkProviderBoolean(b *testing.B) {
	h := newHarness(b, snapshotAt(b, 1, 50000))
	of := openFeatureClient(b, newTestClient(b, Options{URL: h.url, PollInterval: noPolling}))
	ec := openfeature.NewEvaluationContext("user-12345", map[string]any{"email": "bob@gmail.com"})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		of.BooleanValue(ctx, "checkout-v2", false, ec)
	}
}

// BenchmarkPropagation measures one flag change on the server to the client
// holding the new version, through the stream on loopback (goal < 100 ms).
func BenchmarkPropagation(b *testing.B) {
	h := newHarness(b, snapshotAt(b, 1, 0))
	c := newTestClient(b, Options{URL: h.url, PollInterval: noPolling})
	seen := make(chan int64, 1)
	c.OnChange(func(v int64) { seen <- v })
	version := int64(1)
	b.ReportAllocs()
	for b.Loop() {
		// The snapshot is built off the clock: the benchmark measures
		// delivery, not NewSnapshot.
		b.StopTimer()
		version++
		s := snapshotAt(b, version, int(version%100)*1000)
		b.StartTimer()
		h.publish(s)
		select {
		case v := <-seen:
			if v != version {
				b.Fatalf("client saw version %d, want %d", v, version)
			}
		case <-time.After(10 * time.Second):
			b.Fatalf("version %d not seen within 10 s", version)
		}
	}
}
