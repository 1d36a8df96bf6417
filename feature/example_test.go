package feature_test

import (
	"fmt"
	"log"
	"time"

	"github.com/bascule/bascule/feature"
)

// Build a snapshot and evaluate a flag for two users: staff get the new
// checkout by segment, everyone else by a 10 % rollout.
func Example() {
	snap, err := feature.NewSnapshot(1, []*feature.Flag{{
		Key:     "checkout-v2",
		Enabled: true, // boolean on/off variants, off by default
		Rules: []feature.Rule{
			{Segment: "staff", Variant: "on"},
			{Split: feature.Percent(10_000)}, // 10 % on, in units of 0.001 %
		},
	}}, []*feature.Segment{{
		Key:        "staff",
		Conditions: []feature.Condition{{Attribute: "email", Op: feature.OpEndsWith, Values: []string{"@example.com"}}},
	}})
	if err != nil {
		log.Fatal(err) // a *feature.ValidationError listing every problem
	}
	ann := feature.EvalContext{TargetingKey: "user-ann", Attributes: map[string]any{"email": "ann@example.com"}}
	r := feature.Evaluate(snap, "checkout-v2", ann)
	fmt.Println(r.Value, r.Variant, r.Reason)

	anonymous := feature.EvalContext{Attributes: map[string]any{"email": "eve@gmail.com"}}
	r = feature.Evaluate(snap, "checkout-v2", anonymous)
	fmt.Println(r.Reason, r.ErrorCode)
	// Output:
	// true on TARGETING_MATCH
	// ERROR TARGETING_KEY_MISSING
}

// A scheduled rollout is evaluated as of a time; EvaluateAt makes it a pure
// function of its arguments.
func ExampleEvaluateAt() {
	start := time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)
	snap, err := feature.NewSnapshot(1, []*feature.Flag{{
		Key: "collect-the-pot", Enabled: true,
		Schedule: []feature.Step{{At: start, Split: feature.Percent(100_000)}},
	}}, nil)
	if err != nil {
		log.Fatal(err)
	}
	user := feature.EvalContext{TargetingKey: "user-1"}
	fmt.Println(feature.EvaluateAt(snap, "collect-the-pot", user, start.Add(-time.Hour)).Variant)
	fmt.Println(feature.EvaluateAt(snap, "collect-the-pot", user, start).Variant)
	// Output:
	// off
	// on
}

// Bucket places a user for one flag, the same way in every process: user-1
// is in bucket 5348 of checkout-v2, so on at any rollout above 5.348 %.
func ExampleBucket() {
	b := feature.Bucket("checkout-v2", "", "user-1")
	fmt.Println(b, b < 10_000, b < 5_000)
	// Output: 5348 true false
}
