package flagclient

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// A snapshot event that does not decode is skipped: the client keeps the
// last good snapshot and takes the next good one.
func TestBadStreamEventIsSkipped(t *testing.T) {
	good, err := snapshotAt(t, 2, 0).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	cs := newContractServer(snapshotAt(t, 1, 0))
	mux := http.NewServeMux()
	mux.Handle("GET /api/v1/flags/snapshot", cs)
	mux.HandleFunc("GET /api/v1/flags/stream", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, ": ping\n\nevent: snapshot\nid: 9\ndata: {\"version\": 9, \"flags\": [{\"key\": 1}]}\n\n")
		fmt.Fprintf(w, "event: snapshot\r\nid: 2\r\ndata: %s\r\n\r\n", good)
		http.NewResponseController(w).Flush()
		<-r.Context().Done()
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	var logs logBuffer
	c := newTestClient(t, Options{URL: srv.URL, Logger: logs.logger(), PollInterval: noPolling})
	waitVersion(t, c, 2)
	if !strings.Contains(logs.String(), "ignoring a flag snapshot that does not decode") {
		t.Errorf("the bad event was not logged:\n%s", logs.String())
	}
}

// FuzzReadEvents: no stream content, however malformed, may crash the
// client or install an invalid snapshot.
func FuzzReadEvents(f *testing.F) {
	good, err := snapshotAt(f, 3, 0).MarshalJSON()
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte("event: snapshot\nid: 3\ndata: " + string(good) + "\n\n"))
	f.Add([]byte(": ping\n\nevent: snapshot\ndata: {\ndata: }\n\n"))
	f.Add([]byte("event:snapshot\r\ndata:null\r\n\r\n"))
	f.Fuzz(func(t *testing.T, stream []byte) {
		c, err := newClient(Options{URL: "http://127.0.0.1:1"})
		if err != nil {
			t.Fatal(err)
		}
		c.readEvents(bytes.NewReader(stream), func() {})
		if s := c.snap.Load(); s != nil {
			if err := s.Validate(); err != nil {
				t.Errorf("installed an invalid snapshot: %v", err)
			}
		}
	})
}

// The backoff grows to its cap and stays within [d/2, d].
func TestBackoff(t *testing.T) {
	b := backoff{max: 2 * time.Second}
	want := []time.Duration{100, 200, 400, 800, 1600, 2000, 2000}
	for i, w := range want {
		w *= time.Millisecond
		if d := b.next(); d < w/2 || d > w {
			t.Errorf("delay %d = %s, want within [%s, %s]", i, d, w/2, w)
		}
	}
	b.reset()
	if d := b.next(); d > minBackoff {
		t.Errorf("after reset, delay = %s, want at most %s", d, minBackoff)
	}
}
