package server_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/bascule/bascule/feature"
	"github.com/bascule/bascule/internal/flag"
)

// openStream connects to the flag stream as an SDK would; lastID is sent as
// Last-Event-ID unless empty.
func (s *testServer) openStream(t testing.TB, key, lastID string) <-chan event {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", s.base+"/api/v1/flags/stream", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET stream = %v, %v; want 200 text/event-stream", resp, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return readEvents(resp)
}

func decodeEvent(t testing.TB, ev event) *flag.Snapshot {
	t.Helper()
	if ev.name != "snapshot" {
		t.Fatalf("event %q, want snapshot", ev.name)
	}
	snap, err := feature.DecodeSnapshot([]byte(ev.data))
	if err != nil {
		t.Fatalf("event data is not a snapshot: %v", err)
	}
	return snap
}

// TestFlagStreamDeliversChanges: a client gets the whole configuration at
// once, then each change, and a client resuming with nothing missed gets
// only what comes next.
func TestFlagStreamDeliversChanges(t *testing.T) {
	s := startServer(t)
	s.apply(t, storyFlags)
	key := s.token(t, "evaluator")
	events := s.openStream(t, key, "")
	first := nextEvent(t, events)
	if snap := decodeEvent(t, first); first.id != "1" || snap.Version != 1 || len(snap.Flags) != 3 {
		t.Fatalf("first event id %s version %d with %d flags, want the whole version 1", first.id, snap.Version, len(snap.Flags))
	}
	resumed := s.openStream(t, key, "1")
	s.call(t, "POST", "/api/v1/flags/checkout-v2/rollout", adminToken, `{"percentage":100}`)
	for name, ch := range map[string]<-chan event{"new client": events, "resumed client": resumed} {
		ev := nextEvent(t, ch)
		snap := decodeEvent(t, ev)
		got := feature.Evaluate(snap, "checkout-v2", flag.EvalContext{TargetingKey: "someone"})
		if ev.id != "2" || got.Value != true {
			t.Errorf("%s: after the rollout to 100%% event id %s serves %v, want id 2 serving true", name, ev.id, got.Value)
		}
	}
}

// BenchmarkFlagPropagation measures from a change through the API to a
// stream client holding the new snapshot, on loopback.
func BenchmarkFlagPropagation(b *testing.B) {
	s := startServer(b)
	s.apply(b, storyFlags)
	key := s.token(b, "evaluator")
	events := s.openStream(b, key, "")
	nextEvent(b, events)
	on := true // banner starts enabled
	b.ReportAllocs()
	for b.Loop() {
		on = !on
		path := "/api/v1/flags/banner/disable"
		if on {
			path = "/api/v1/flags/banner/enable"
		}
		if r := s.call(b, "POST", path, adminToken, ""); r.status != 200 {
			b.Fatalf("POST %s = %d %s", path, r.status, r.body)
		}
		decodeEvent(b, nextEvent(b, events))
	}
}

// TestFlagStreamEndsAtShutdown: a connected SDK does not hold a stopping
// server open; its stream ends and it reconnects elsewhere.
func TestFlagStreamEndsAtShutdown(t *testing.T) {
	s := startServer(t)
	events := s.openStream(t, s.token(t, "evaluator"), "")
	nextEvent(t, events)
	s.stop(t)
	select {
	case _, open := <-events:
		if open {
			t.Errorf("an event after shutdown, want the stream closed")
		}
	case <-time.After(5 * time.Second):
		t.Errorf("the stream is still open 5s after shutdown began")
	}
}
