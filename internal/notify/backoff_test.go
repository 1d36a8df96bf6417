package notify

import (
	"testing"
	"time"
)

// TestBackoff: the wait doubles from MinBackoff up to MaxBackoff, keeps at
// least half of it, and never overflows however many attempts failed.
func TestBackoff(t *testing.T) {
	n := New(Options{MinBackoff: time.Second, MaxBackoff: time.Hour})
	for attempt, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 5: 16 * time.Second, 13: time.Hour, 1000: time.Hour} {
		for range 100 {
			if got := n.backoff(attempt); got < want/2 || got > want {
				t.Fatalf("backoff(%d) = %s, want between %s and %s", attempt, got, want/2, want)
			}
		}
	}
}

func TestTarget(t *testing.T) {
	for url, want := range map[string]string{
		"https://hooks.slack.com/services/T0/B0/XXXX": "https://hooks.slack.com/…",
		"https://user:pw@hooks.example.com/":          "https://hooks.example.com",
		"http://127.0.0.1:9000?token=x":               "http://127.0.0.1:9000/…",
		"http://127.0.0.1:9000":                       "http://127.0.0.1:9000",
	} {
		if got := (Endpoint{URL: url}).target(); got != want {
			t.Errorf("target(%s) = %q, want %q", url, got, want)
		}
	}
}
