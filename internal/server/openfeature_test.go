package server_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/open-feature/go-sdk-contrib/providers/ofrep"
	"github.com/open-feature/go-sdk/openfeature"
)

// TestOpenFeatureSDK evaluates flags from bascule through the real
// OpenFeature Go SDK and its OFREP provider, as an application would.
func TestOpenFeatureSDK(t *testing.T) {
	s := startServer(t)
	s.apply(t, storyFlags)
	key := s.token(t, "evaluator")
	ctx := context.Background()
	if err := openfeature.SetProviderWithContextAndWait(ctx, ofrep.NewProvider(s.base, ofrep.WithApiKeyAuth(key))); err != nil {
		t.Fatalf("SetProvider = %v", err)
	}
	t.Cleanup(func() { openfeature.ShutdownWithContext(context.Background()) })
	client := openfeature.NewClient("shop")

	staff := openfeature.NewEvaluationContext("u-staff", map[string]any{"email": "ada@example.com"})
	b, err := client.BooleanValueDetails(ctx, "checkout-v2", false, staff)
	if err != nil || !b.Value || b.Reason != openfeature.TargetingMatchReason || b.Variant != "on" {
		t.Errorf("checkout-v2 for staff = %v (%s, %s), %v; want true by TARGETING_MATCH", b.Value, b.Reason, b.Variant, err)
	}

	str, err := client.StringValueDetails(ctx, "banner", "", openfeature.NewEvaluationContext("u1", nil))
	if err != nil || str.Value != "Summer sale" || str.Reason != openfeature.StaticReason {
		t.Errorf("banner = %q (%s), %v; want \"Summer sale\" STATIC", str.Value, str.Reason, err)
	}

	// 10 % of everyone else: each user always gets the same answer, and
	// about a tenth of users get true.
	on := 0
	for i := range 200 {
		user := openfeature.NewEvaluationContext(fmt.Sprintf("user-%d", i), map[string]any{"email": "x@gmail.com"})
		first, err := client.BooleanValue(ctx, "checkout-v2", false, user)
		if err != nil {
			t.Fatalf("checkout-v2 for user-%d: %v", i, err)
		}
		if again, _ := client.BooleanValue(ctx, "checkout-v2", !first, user); again != first {
			t.Errorf("checkout-v2 for user-%d = %v then %v, want the same answer every time", i, first, again)
		}
		if first {
			on++
		}
	}
	if on < 5 || on > 40 {
		t.Errorf("checkout-v2 at 10%%: %d of 200 users on, want about 20", on)
	}

	nope, err := client.BooleanValueDetails(ctx, "no-such-flag", true, staff)
	if err == nil || nope.Value != true || nope.ErrorCode != openfeature.FlagNotFoundCode {
		t.Errorf("unknown flag = %v, code %q, %v; want the default true with FLAG_NOT_FOUND", nope.Value, nope.ErrorCode, err)
	}
}
