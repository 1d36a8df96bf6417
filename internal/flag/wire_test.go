package flag

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/bascule/bascule/feature"
)

func TestDocumentRoundTrip(t *testing.T) {
	data, err := os.ReadFile("testdata/flags.yaml")
	if err != nil {
		t.Fatal(err)
	}
	yd, err := ParseFile("flags.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	s, err := yd.Snapshot(7)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := feature.DecodeSnapshot(b)
	if err != nil {
		t.Fatalf("DecodeSnapshot(Marshal(s)) = %v", err)
	}
	if diff := cmp.Diff(s.Wire(), got.Wire(), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("wire round trip (-want +got):\n%s", diff)
	}
	ctx := EvalContext{TargetingKey: "user-42", Attributes: map[string]any{"email": "ann@example.com"}}
	for _, k := range s.FlagKeys() {
		if a, b := feature.Evaluate(s, k, ctx), feature.Evaluate(got, k, ctx); a.Variant != b.Variant || a.Reason != b.Reason {
			t.Errorf("Evaluate(%s) after the round trip = %s/%s, want %s/%s", k, b.Variant, b.Reason, a.Variant, a.Reason)
		}
	}
	if _, err := feature.DecodeSnapshot([]byte(`{"version":1,"flags":[{"key":"x","rules":[{"segment":"nope","variant":"on"}]}]}`)); err == nil {
		t.Error("DecodeSnapshot accepted a rule naming an unknown segment")
	}
}
