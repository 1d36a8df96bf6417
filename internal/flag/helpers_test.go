package flag

import (
	"testing"

	"github.com/bascule/bascule/feature"
)

// mustSnapshot builds a snapshot or fails the test with the validation error.
func mustSnapshot(t testing.TB, flags []*Flag, segments ...*Segment) *Snapshot {
	t.Helper()
	s, err := feature.NewSnapshot(1, flags, segments)
	if err != nil {
		t.Fatalf("NewSnapshot: %v", err)
	}
	return s
}

// user is a context with a targeting key and attributes given as pairs.
func user(key string, attrs ...any) EvalContext {
	ctx := EvalContext{TargetingKey: key, Attributes: map[string]any{}}
	for i := 0; i+1 < len(attrs); i += 2 {
		ctx.Attributes[attrs[i].(string)] = attrs[i+1]
	}
	return ctx
}

// internalUsers is the segment of the story: company e-mail addresses.
func internalUsers() *Segment {
	return &Segment{
		Key:        "internal-users",
		Keys:       []string{"user-vip"},
		Conditions: []Condition{{Attribute: "email", Op: OpEndsWith, Values: []string{"@example.com"}}},
	}
}
