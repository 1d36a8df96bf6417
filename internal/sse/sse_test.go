package sse

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRoundTrip: what Writer sends, Reader reads back as sent, over a real
// HTTP response, with the headers a stream needs.
func TestRoundTrip(t *testing.T) {
	sent := []Event{
		{Name: "snapshot", ID: "7", Data: []byte(`{"version":7}`)},
		{Name: "fragment", Data: []byte("<li>one</li>\r\n<li>two</li>")},
		{Data: []byte("plain message")},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := Start(w)
		for i, ev := range sent {
			if i == 1 {
				s.Comment("keep-alive")
			}
			if err := s.Send(ev); err != nil {
				t.Error(err)
			}
		}
	}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	for k, want := range map[string]string{"Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Accel-Buffering": "no"} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	lines := 0
	rd := NewReader(resp.Body, 1<<20)
	rd.Line = func() { lines++ }
	var got []Event
	for {
		ev, err := rd.Next()
		if errors.Is(err, ErrClosed) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ev)
	}
	sent[1].Data = []byte("<li>one</li>\n<li>two</li>") // the CR is dropped
	if d := cmp.Diff(sent, got); d != "" {
		t.Errorf("events read back differ (-sent +read):\n%s", d)
	}
	if lines < 10 {
		t.Errorf("Line called %d times, want once per line read, comments included", lines)
	}
}

func TestReaderLimitsAnEvent(t *testing.T) {
	rd := NewReader(strings.NewReader("data: "+strings.Repeat("x", 100)+"\n\n"), 64)
	if _, err := rd.Next(); err == nil || errors.Is(err, ErrClosed) {
		t.Errorf("Next on an event over the limit = %v, want a read error", err)
	}
}

func TestLastEventID(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	if _, ok := LastEventID(r); ok {
		t.Errorf("LastEventID without the header reported one")
	}
	r.Header.Set("Last-Event-ID", " 42 ")
	if id, ok := LastEventID(r); !ok || id != 42 {
		t.Errorf("LastEventID = %d %v, want 42", id, ok)
	}
}
