package server_test

import (
	"bufio"
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/store"
	"github.com/bascule/bascule/internal/store/sqlite"
)

// unscopedKey stores a token whose role grants nothing bascule knows, as a
// token left from a role since removed would: valid, but with no scope.
func (s *testServer) unscopedKey(t *testing.T) string {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(s.dir, "bascule.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	secret := "bsc_unscoped-key-0123456789abcdefghij"
	if err := db.CreateToken(context.Background(), &store.Token{Name: "legacy", Hash: auth.HashSecret(secret), Role: "auditor", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return secret
}

// TestOFREPAuth: OFREP answers only API keys that may evaluate, sent either
// way OFREP providers send them, with OFREP's error shape otherwise.
func TestOFREPAuth(t *testing.T) {
	s := startServer(t)
	s.apply(t, storyFlags)
	evaluator, viewer := s.token(t, "evaluator"), s.token(t, "viewer")
	body := `{"context":{"targetingKey":"u1","email":"ada@example.com"}}`
	const path = "/ofrep/v1/evaluate/flags/checkout-v2"
	cases := []struct {
		name   string
		header []string
		status int
	}{
		{"no key", nil, 401},
		{"unknown key", []string{"X-API-Key", "bsc_nope-nope-nope-nope-nope"}, 401},
		{"not a bearer", []string{"Authorization", "Basic dXNlcjpwYXNz"}, 401},
		{"key without scope", []string{"X-API-Key", s.unscopedKey(t)}, 403},
		{"evaluator by bearer", []string{"Authorization", "Bearer " + evaluator}, 200},
		{"evaluator by X-API-Key", []string{"X-API-Key", evaluator}, 200},
		{"viewer", []string{"Authorization", "Bearer " + viewer}, 200},
	}
	for _, c := range cases {
		r := s.call(t, "POST", path, "", body, c.header...)
		if r.status != c.status {
			t.Errorf("%s: POST %s = %d %s, want %d", c.name, path, r.status, r.body, c.status)
			continue
		}
		m := r.json(t)
		if c.status != 200 && (m["errorDetails"] == nil || len(m) != 1) {
			t.Errorf("%s: body %s, want OFREP's {\"errorDetails\": …}", c.name, r.body)
		}
		if c.status == 200 && (m["value"] != true || m["reason"] != "TARGETING_MATCH") {
			t.Errorf("%s: checkout-v2 for staff = %s, want true by TARGETING_MATCH", c.name, r.body)
		}
	}
}

// TestOFREPBulk: the bulk answer has an ETag that a client sends back for a
// 304 until the flags change, and announces the change stream, which
// notifies OFREP providers in OFREP's form.
func TestOFREPBulk(t *testing.T) {
	s := startServer(t)
	s.apply(t, storyFlags)
	key := s.token(t, "evaluator")
	body := `{"context":{"targetingKey":"u1"}}`
	r := s.call(t, "POST", "/ofrep/v1/evaluate/flags", key, body)
	etag := r.header.Get("ETag")
	if r.status != 200 || etag == "" || len(r.json(t)["flags"].([]any)) != 3 {
		t.Fatalf("bulk = %d ETag %q %s, want 200, an ETag, 3 flags", r.status, etag, r.body)
	}
	streams := r.json(t)["eventStreams"].([]any)
	stream := streams[0].(map[string]any)
	want, _ := stream["url"].(string)
	if stream["type"] != "sse" || !strings.HasPrefix(want, s.base+"/api/v1/flags/stream?format=ofrep&token=") {
		t.Errorf("eventStreams = %v, want one sse stream at %s with a token", streams, s.base+"/api/v1/flags/stream?format=ofrep")
	}
	if r := s.call(t, "POST", "/ofrep/v1/evaluate/flags", key, body, "If-None-Match", etag); r.status != http.StatusNotModified {
		t.Errorf("bulk with its ETag = %d, want 304", r.status)
	}
	if r := s.call(t, "POST", "/ofrep/v1/evaluate/flags", key, `{"context":{"targetingKey":"u2"}}`, "If-None-Match", etag); r.status != 200 {
		t.Errorf("bulk for another context with the first's ETag = %d, want 200", r.status)
	}

	req, _ := http.NewRequest("GET", want, nil)
	req.Header.Set("X-API-Key", key)
	req.Header.Set("Last-Event-ID", "1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET the announced stream = %v, %v", resp, err)
	}
	defer resp.Body.Close()
	events := readEvents(resp)
	s.call(t, "POST", "/api/v1/flags/banner/disable", adminToken, "")
	ev := nextEvent(t, events)
	if ev.id != "2" || ev.name != "" || !strings.HasPrefix(ev.data, `{"type":"refetchEvaluation","etag":"\"v2\"","lastModified":`) {
		t.Errorf("OFREP stream event = %+v, want id 2, refetchEvaluation", ev)
	}
	if r := s.call(t, "POST", "/ofrep/v1/evaluate/flags", key, body, "If-None-Match", etag); r.status != 200 {
		t.Errorf("bulk with the old ETag after a change = %d, want 200", r.status)
	}
}

// TestOFREPMetrics: evaluations show in Prometheus per flag and variant.
func TestOFREPMetrics(t *testing.T) {
	s := startServer(t)
	s.apply(t, storyFlags)
	key := s.token(t, "evaluator")
	for range 3 {
		s.call(t, "POST", "/ofrep/v1/evaluate/flags/checkout-v2", key, `{"context":{"targetingKey":"u1","email":"ada@example.com"}}`)
	}
	s.call(t, "POST", "/ofrep/v1/evaluate/flags/nope", key, `{}`)
	s.call(t, "POST", "/ofrep/v1/evaluate/flags", key, `{"context":{"targetingKey":"u1"}}`)
	r := s.call(t, "GET", "/metrics", s.token(t, "viewer"), "")
	for _, want := range []string{
		`bascule_flag_evaluations_total{flag="checkout-v2",variant="on"} 3`,
		`bascule_flag_evaluations_total{flag="banner",variant="on"} 1`,
		`bascule_flag_evaluation_errors_total{flag=""} 1`,
	} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// event is one Server-Sent Event.
type event struct{ name, id, data string }

// readEvents parses a stream into a channel of events, closed at its end.
func readEvents(resp *http.Response) <-chan event {
	ch := make(chan event, 16)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 8<<20)
		var ev event
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.data != "" {
					ch <- ev
				}
				ev = event{}
			case strings.HasPrefix(line, "event: "):
				ev.name = line[len("event: "):]
			case strings.HasPrefix(line, "id: "):
				ev.id = line[len("id: "):]
			case strings.HasPrefix(line, "data: "):
				ev.data += line[len("data: "):]
			}
		}
	}()
	return ch
}

func nextEvent(t testing.TB, ch <-chan event) event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("stream ended")
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
	}
	return event{}
}
