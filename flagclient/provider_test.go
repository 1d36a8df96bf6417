package flagclient

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/open-feature/go-sdk/openfeature"

	"github.com/bascule/bascule/feature"
)

// openFeatureClient registers a provider over c with the real OpenFeature
// SDK, as an application would, and resets the SDK after the test.
func openFeatureClient(t testing.TB, c *Client) *openfeature.Client {
	t.Helper()
	if err := openfeature.SetProviderAndWait(NewProvider(c)); err != nil {
		t.Fatalf("SetProviderAndWait: %v", err)
	}
	t.Cleanup(openfeature.Shutdown)
	return openfeature.NewClient("flagclient-test")
}

var (
	ofInsider  = openfeature.NewEvaluationContext("user-ann", map[string]any{"email": "ann@example.com"})
	ofOutsider = openfeature.NewEvaluationContext("user-bob", map[string]any{"email": "bob@gmail.com"})
)

func TestProviderThroughOpenFeature(t *testing.T) {
	h := newHarness(t, snapshotAt(t, 1, 0))
	of := openFeatureClient(t, newTestClient(t, Options{URL: h.url, PollInterval: noPolling}))
	ctx := context.Background()

	if on, err := of.BooleanValue(ctx, "checkout-v2", false, ofInsider); !on || err != nil {
		t.Errorf("BooleanValue(checkout-v2, insider) = %v, %v; want true, nil", on, err)
	}
	d, err := of.BooleanValueDetails(ctx, "checkout-v2", true, ofOutsider)
	if d.Value || d.Reason != openfeature.SplitReason || d.Variant != "off" || err != nil {
		t.Errorf("BooleanValueDetails(checkout-v2, outsider) = %v/%s/%s, %v; want false/off/SPLIT", d.Value, d.Variant, d.Reason, err)
	}
	s, err := of.StringValueDetails(ctx, "button-color", "", ofOutsider)
	if s.Value != "#a00" || s.Reason != openfeature.StaticReason || s.Variant != "red" || err != nil {
		t.Errorf("StringValueDetails(button-color) = %q/%s/%s, %v; want #a00/red/STATIC", s.Value, s.Variant, s.Reason, err)
	}
	if n, err := of.IntValue(ctx, "max-items", 0, ofOutsider); n != 10 || err != nil {
		t.Errorf("IntValue(max-items) = %d, %v; want 10", n, err)
	}
	if f, err := of.FloatValue(ctx, "ratio", 0, ofOutsider); f != 2.5 || err != nil {
		t.Errorf("FloatValue(ratio) = %v, %v; want 2.5", f, err)
	}
	o, err := of.ObjectValue(ctx, "theme", nil, ofOutsider)
	if diff := cmp.Diff(map[string]any{"bg": "#000", "sizes": []any{1.0, 2.0}}, o); diff != "" || err != nil {
		t.Errorf("ObjectValue(theme) error %v, (-want +got):\n%s", err, diff)
	}
}

func TestProviderErrors(t *testing.T) {
	h := newHarness(t, snapshotAt(t, 1, 0))
	of := openFeatureClient(t, newTestClient(t, Options{URL: h.url, PollInterval: noPolling}))
	ctx := context.Background()

	cases := []struct {
		name string
		eval func() (any, openfeature.ErrorCode)
		def  any
		code openfeature.ErrorCode
	}{
		{"missing flag", func() (any, openfeature.ErrorCode) {
			d, _ := of.BooleanValueDetails(ctx, "no-such-flag", true, ofOutsider)
			return d.Value, d.ErrorCode
		}, true, openfeature.FlagNotFoundCode},
		{"string of a boolean flag", func() (any, openfeature.ErrorCode) {
			d, _ := of.StringValueDetails(ctx, "checkout-v2", "dflt", ofOutsider)
			return d.Value, d.ErrorCode
		}, "dflt", openfeature.TypeMismatchCode},
		{"rollout without targeting key", func() (any, openfeature.ErrorCode) {
			d, _ := of.BooleanValueDetails(ctx, "checkout-v2", true, openfeature.NewTargetlessEvaluationContext(map[string]any{"email": "x@gmail.com"}))
			return d.Value, d.ErrorCode
		}, true, openfeature.TargetingKeyMissingCode},
		{"int of a fractional number", func() (any, openfeature.ErrorCode) {
			d, _ := of.IntValueDetails(ctx, "ratio", 7, ofOutsider)
			return d.Value, d.ErrorCode
		}, int64(7), openfeature.TypeMismatchCode},
	}
	for _, tc := range cases {
		got, code := tc.eval()
		if got != tc.def || code != tc.code {
			t.Errorf("%s: served %v with %s, want the default %v with %s", tc.name, got, code, tc.def, tc.code)
		}
	}
	_, err := of.BooleanValue(ctx, "no-such-flag", false, ofOutsider)
	if err == nil {
		t.Error("BooleanValue(no-such-flag) returned no error")
	}
}

func TestProviderAnnouncesChanges(t *testing.T) {
	h := newHarness(t, snapshotAt(t, 1, 0))
	c := newTestClient(t, Options{URL: h.url, PollInterval: noPolling})
	of := openFeatureClient(t, c)
	events := make(chan openfeature.EventDetails, 10)
	handler := func(d openfeature.EventDetails) { events <- d }
	of.AddHandler(openfeature.ProviderConfigChange, &handler)

	h.publish(snapshotAt(t, 2, 50000))
	select {
	case d := <-events:
		if !slices.Equal(d.FlagChanges, []string{"checkout-v2"}) || d.EventMetadata["version"] != int64(2) {
			t.Errorf("config change event names %v at version %v, want [checkout-v2] at 2", d.FlagChanges, d.EventMetadata["version"])
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no PROVIDER_CONFIGURATION_CHANGED event 10 s after publishing version 2")
	}
	if on, _ := of.BooleanValue(context.Background(), "checkout-v2", false, ofOutsider); on != c.Bool("checkout-v2", false, outsider) {
		t.Error("OpenFeature and the client disagree after the change")
	}
}

// Initialisation waits for the client's first snapshot; if it gives up, the
// provider still becomes ready when the snapshot comes.
func TestProviderInitWaitsForReady(t *testing.T) {
	addr := freeAddr(t)
	c := newTestClient(t, Options{URL: "http://" + addr, PollInterval: 50 * time.Millisecond})
	p := NewProvider(c).(*Provider)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := p.InitWithContext(ctx, openfeature.EvaluationContext{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("InitWithContext without a snapshot = %v, want a deadline error", err)
	}
	h := unstartedHarness(t, snapshotAt(t, 1, 0))
	h.start(addr)
	for {
		select {
		case ev := <-p.EventChannel():
			if ev.EventType == openfeature.ProviderReady {
				if err := p.InitWithContext(context.Background(), openfeature.EvaluationContext{}); err != nil {
					t.Errorf("InitWithContext once ready = %v", err)
				}
				return
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no PROVIDER_READY event 10 s after the server came up")
		}
	}
}

// The OpenFeature context maps to feature.EvalContext exactly: the provider
// serves what feature.Evaluate serves for the same user.
func TestProviderMatchesEvaluate(t *testing.T) {
	s := snapshotAt(t, 1, 30000)
	h := newHarness(t, s)
	of := openFeatureClient(t, newTestClient(t, Options{URL: h.url, PollInterval: noPolling}))
	for _, key := range []string{"u-1", "u-2", "u-3", "u-4", "u-5", "u-6", "u-7", "u-8", "u-9", "u-10"} {
		want := feature.Evaluate(s, "checkout-v2", user(key, "x@gmail.com"))
		d, _ := of.BooleanValueDetails(context.Background(), "checkout-v2", false,
			openfeature.NewEvaluationContext(key, map[string]any{"email": "x@gmail.com"}))
		if d.Variant != want.Variant || string(d.Reason) != string(want.Reason) {
			t.Errorf("OpenFeature for %s = %s/%s, feature.Evaluate = %s/%s", key, d.Variant, d.Reason, want.Variant, want.Reason)
		}
	}
}
