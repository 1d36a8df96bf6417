package server

import (
	"strings"
	"testing"
	"time"
)

// The stream credential is the same for everyone within a period (so the
// bulk answer's ETag holds), rotates with the period, is accepted until the
// end of the next one, and is worthless once changed or expired.
func TestStreamTokensRotateAndExpire(t *testing.T) {
	now := time.Date(2026, 12, 6, 9, 0, 30, 0, time.UTC)
	tokens := newStreamTokens()
	tokens.now = func() time.Time { return now }

	first := tokens.issue()
	now = now.Add(4 * time.Minute) // 09:04:30, same period
	if again := tokens.issue(); again != first {
		t.Errorf("credential changed within its period: %s then %s", first, again)
	}
	now = now.Add(time.Minute) // 09:05:30, next period
	second := tokens.issue()
	if second == first {
		t.Error("credential did not rotate with the period")
	}
	if !tokens.valid(first) || !tokens.valid(second) {
		t.Error("credentials of this period and the previous one must both be accepted")
	}
	now = time.Date(2026, 12, 6, 9, 10, 0, 0, time.UTC) // the end of the period after the first's
	if tokens.valid(first) {
		t.Error("the first credential is still accepted at the end of the next period")
	}
	if !tokens.valid(second) {
		t.Error("the second credential expired early")
	}

	_, secondMAC, _ := strings.Cut(second, ".")
	other := newStreamTokens()
	other.now = tokens.now
	for name, tok := range map[string]string{
		"another server's": other.issue(),
		"a later expiry":   "9999999999." + secondMAC,
		"no MAC":           "1796547000",
		"empty":            "",
		"MAC of nothing":   "." + tokens.mac(""),
		"not a number":     "soon." + tokens.mac("soon"),
	} {
		if tokens.valid(tok) {
			t.Errorf("%s credential %q accepted", name, tok)
		}
	}
}
