package web_test

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

type event struct{ name, data string }

// stream opens an event stream with b's session and returns its events.
func (b *browser) stream(t *testing.T, path string) <-chan event {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", b.base+path, nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := b.c.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET %s = %v, %v; want 200 text/event-stream", path, resp, err)
	}
	ch := make(chan event, 64)
	go func() {
		defer resp.Body.Close()
		defer close(ch)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		var ev event
		var data []string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				data = append(data, strings.TrimPrefix(line, "data: "))
			case line == "" && ev.name != "":
				ev.data = strings.Join(data, "\n")
				ch <- ev
				ev, data = event{}, nil
			}
		}
	}()
	return ch
}

// next returns the next event named name, skipping others; "" takes any.
func next(t *testing.T, ch <-chan event, name string) event {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("the stream ended before a %q event", name)
			}
			if name == "" || ev.name == name {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %q event within 10s", name)
		}
	}
}

// TestDeploymentStream follows a deployment as its page does: the steps
// arrive rendered as they happen, the health step running while the app is
// not healthy yet, then done; the stream ends with the deployment.
func TestDeploymentStream(t *testing.T) {
	s := newStack(t)
	s.addRelease("v1", "")
	release := s.gate.hold()
	defer release()
	dana := s.login("dana")
	dana.post("/deploy", map[string][]string{"version": {"v1"}, "confirm": {"yes"}})
	events := dana.stream(t, "/deployments/1/events")
	var log event
	for {
		ev := next(t, events, "")
		if ev.name == "log" {
			log = ev
		}
		if ev.name == "deployment" && strings.Contains(ev.data, `data-step="health" data-state="running"`) {
			break
		}
	}
	if log.name == "" { // the log follows the first deployment event
		log = next(t, events, "log")
	}
	if !strings.Contains(log.data, "No log lines yet.") {
		t.Errorf("log event = %q, want the note that the static driver keeps no log", log.data)
	}
	release()
	var last event
	for ev := range events {
		if ev.name == "deployment" {
			last = ev
		}
		if ev.name == "end" {
			if ev.data != "ready" {
				t.Errorf("end event = %q, want ready", ev.data)
			}
			break
		}
	}
	for _, want := range []string{`data-step="health" data-state="done"`, `data-step="smoke" data-state="skipped"`, "state-ready"} {
		if !strings.Contains(last.data, want) {
			t.Errorf("the last deployment event lacks %q", want)
		}
	}
	if strings.Contains(last.data, "<html") {
		t.Error("the event holds a whole page, want the fragment")
	}
}

// TestOverviewStream sends traffic rates every tick and the panel when it
// differs from the page's.
func TestOverviewStream(t *testing.T) {
	s := newStack(t)
	s.addRelease("v1", "")
	ada := s.login("ada")
	events := ada.stream(t, "/overview/events?sig=stale")
	if ev := next(t, events, "stats"); !strings.Contains(ev.data, `"blue":{"rps":`) {
		t.Errorf("stats event = %q, want rates by color", ev.data)
	}
	if ev := next(t, events, "panel"); !strings.Contains(ev.data, `id="panel"`) || !strings.Contains(ev.data, `action="/deploy"`) {
		t.Errorf("panel event lacks the panel and the admin's actions")
	}
	next(t, events, "stats")
	next(t, events, "stats")
}
