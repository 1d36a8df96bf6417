package flagclient

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bascule/bascule/feature"
)

func TestTypedValues(t *testing.T) {
	h := newHarness(t, snapshotAt(t, 1, 0))
	c := newTestClient(t, Options{URL: h.url, PollInterval: noPolling})

	if got := c.String("button-color", "", outsider); got != "#a00" {
		t.Errorf("String(button-color) = %q, want #a00", got)
	}
	if got := c.Float("ratio", 0, outsider); got != 2.5 {
		t.Errorf("Float(ratio) = %v, want 2.5", got)
	}
	if got := c.Int("max-items", 0, outsider); got != 10 {
		t.Errorf("Int(max-items) = %d, want 10", got)
	}
	if got := c.Float("max-items", 0, outsider); got != 10 {
		t.Errorf("Float(max-items) = %v, want 10", got)
	}
	want := map[string]any{"bg": "#000", "sizes": []any{1.0, 2.0}}
	got := c.Object("theme", nil, outsider)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Object(theme) (-want +got):\n%s", diff)
	}
	got["bg"] = "#fff" // the caller's copy: the next evaluation must not see it
	if again := c.Object("theme", nil, outsider); again["bg"] != "#000" {
		t.Errorf("Object(theme) after a caller modified its copy: bg = %v, want #000", again["bg"])
	}
	if r := c.Evaluate("checkout-v2", insider); r.Reason != feature.ReasonTargetingMatch || r.Variant != "on" {
		t.Errorf("Evaluate(checkout-v2, insider) = %s/%s, want on/TARGETING_MATCH", r.Variant, r.Reason)
	}
}

func TestTypeMismatchServesDefault(t *testing.T) {
	h := newHarness(t, snapshotAt(t, 1, 0))
	c := newTestClient(t, Options{URL: h.url, PollInterval: noPolling})

	check := func(call string, gotDefault bool, r feature.Result) {
		t.Helper()
		if !gotDefault || r.Reason != feature.ReasonError || r.ErrorCode != feature.ErrTypeMismatch || r.ErrorMessage == "" {
			t.Errorf("%s: default served %v, result %s/%s %q; want the default and ERROR/TYPE_MISMATCH with a message",
				call, gotDefault, r.Reason, r.ErrorCode, r.ErrorMessage)
		}
	}
	b, r := c.BoolDetail("button-color", true, outsider)
	check("BoolDetail(button-color)", b, r)
	s, r := c.StringDetail("checkout-v2", "dflt", insider)
	check("StringDetail(checkout-v2)", s == "dflt", r)
	f, r := c.FloatDetail("theme", -1, outsider)
	check("FloatDetail(theme)", f == -1, r)
	i, r := c.IntDetail("ratio", -1, outsider) // 2.5 is a number, not an integer
	check("IntDetail(ratio)", i == -1, r)
	o, r := c.ObjectDetail("button-color", map[string]any{"d": 1}, outsider)
	check("ObjectDetail(button-color)", o["d"] == 1, r)

	v, r := c.BoolDetail("no-such-flag", true, outsider)
	if !v || r.ErrorCode != feature.ErrFlagNotFound {
		t.Errorf("BoolDetail(no-such-flag) = %v, %s; want the default true, FLAG_NOT_FOUND", v, r.ErrorCode)
	}
	v, r = c.BoolDetail("checkout-v2", true, feature.EvalContext{Attributes: map[string]any{"email": "x@gmail.com"}})
	if !v || r.ErrorCode != feature.ErrTargetingKeyMissing {
		t.Errorf("BoolDetail(rollout, no targeting key) = %v, %s; want the default true, TARGETING_KEY_MISSING", v, r.ErrorCode)
	}
}

// The SDK must place every user exactly where the server's evaluation does,
// and a user in at 10 % must still be in at 20 % after the update arrives.
func TestStickyPercentageMatchesEvaluate(t *testing.T) {
	at10 := snapshotAt(t, 1, 10000)
	h := newHarness(t, at10)
	c := newTestClient(t, Options{URL: h.url, PollInterval: noPolling})

	const users = 2000
	inAt10 := 0
	for i := range users {
		ec := user(fmt.Sprintf("user-%d", i), "someone@gmail.com")
		want := feature.Evaluate(at10, "checkout-v2", ec).Value.(bool)
		if got := c.Bool("checkout-v2", !want, ec); got != want {
			t.Fatalf("Bool(checkout-v2, %s) = %v, feature.Evaluate says %v", ec.TargetingKey, got, want)
		}
		if want {
			inAt10++
		}
	}
	if inAt10 < users*8/100 || inAt10 > users*12/100 {
		t.Errorf("%d of %d users in at 10 %%, want about %d", inAt10, users, users/10)
	}

	h.publish(snapshotAt(t, 2, 20000))
	waitVersion(t, c, 2)
	for i := range users {
		ec := user(fmt.Sprintf("user-%d", i), "someone@gmail.com")
		if feature.Evaluate(at10, "checkout-v2", ec).Value == true && !c.Bool("checkout-v2", false, ec) {
			t.Fatalf("%s was in at 10 %% but is out at 20 %%", ec.TargetingKey)
		}
	}
}

func TestOnChangeOrder(t *testing.T) {
	h := newHarness(t, snapshotAt(t, 1, 0))
	c := newTestClient(t, Options{URL: h.url, PollInterval: noPolling})
	seen := make(chan int64, 10)
	c.OnChange(func(v int64) {
		if c.Version() != v {
			t.Errorf("OnChange(%d) called while Version() = %d: listeners must run after the swap", v, c.Version())
		}
		seen <- v
	})
	for v := int64(2); v <= 4; v++ {
		h.publish(snapshotAt(t, v, int(v)*1000))
		select {
		case got := <-seen:
			if got != v {
				t.Fatalf("OnChange got version %d, want %d", got, v)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("OnChange not called for version %d", v)
		}
	}
}
