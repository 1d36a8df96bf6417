package feature

import (
	"fmt"
	"testing"
)

// The reference case: a boolean flag with one segment rule and one
// percentage rule, evaluated for a user outside the segment (both rules run).
func benchSnapshot(b *testing.B, flags ...*Flag) *Snapshot {
	return mustSnapshot(b, flags, internalUsers())
}

func BenchmarkEvaluateStatic(b *testing.B) {
	s := benchSnapshot(b, &Flag{Key: "f", Enabled: true, DefaultVariant: "on"})
	ctx := user("user-12345", "email", "bob@gmail.com")
	b.ReportAllocs()
	for b.Loop() {
		Evaluate(s, "f", ctx)
	}
}

func BenchmarkEvaluateRollout50(b *testing.B) {
	s := benchSnapshot(b, &Flag{Key: "f", Enabled: true, Rules: []Rule{{Split: Percent(50000)}}})
	ctx := user("user-12345", "email", "bob@gmail.com")
	b.ReportAllocs()
	for b.Loop() {
		Evaluate(s, "f", ctx)
	}
}

func BenchmarkEvaluateSegmentRule(b *testing.B) {
	s := benchSnapshot(b, &Flag{Key: "f", Enabled: true, Rules: []Rule{
		{Segment: "internal-users", Variant: "on"},
		{Split: Percent(50000)},
	}})
	ctx := user("user-12345", "email", "bob@gmail.com")
	b.ReportAllocs()
	for b.Loop() {
		Evaluate(s, "f", ctx)
	}
}

func BenchmarkEvaluateBulk100(b *testing.B) {
	s := benchSnapshot(b, hundredFlags()...)
	ctx := user("user-12345", "email", "bob@gmail.com")
	b.ReportAllocs()
	for b.Loop() {
		for _, k := range s.FlagKeys() {
			Evaluate(s, k, ctx)
		}
	}
}

func BenchmarkBucket(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Bucket("checkout-v2", "", "user-12345")
	}
}

// hundredFlags is a realistic bulk: a third static, a third 50 % rollouts,
// a third a segment rule then a 10 % rollout.
func hundredFlags() []*Flag {
	var flags []*Flag
	for i := range 100 {
		f := &Flag{Key: fmt.Sprintf("flag-%03d", i), Enabled: true}
		switch i % 3 {
		case 1:
			f.Rules = []Rule{{Split: Percent(50000)}}
		case 2:
			f.Rules = []Rule{{Segment: "internal-users", Variant: "on"}, {Split: Percent(10000)}}
		}
		flags = append(flags, f)
	}
	return flags
}
