package web

import (
	"fmt"
	"net/http"
	"strings"
)

// eventStream writes Server-Sent Events.
type eventStream struct {
	w http.ResponseWriter
	f http.Flusher
}

func startStream(w http.ResponseWriter) *eventStream {
	f, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no") // nginx and friends: do not buffer
	w.WriteHeader(http.StatusOK)
	s := &eventStream{w: w, f: f}
	s.flush()
	return s
}

// send writes one event; data may span lines (an HTML fragment), each of
// which becomes a data line, as the format requires.
func (s *eventStream) send(event, data string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "event: %s\n", event)
	for line := range strings.SplitSeq(data, "\n") {
		b.WriteString("data: ")
		b.WriteString(strings.TrimSuffix(line, "\r"))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	if _, err := s.w.Write([]byte(b.String())); err != nil {
		return err
	}
	s.flush()
	return nil
}

// keepAlive writes a comment, so proxies keep an idle stream open.
func (s *eventStream) keepAlive() error {
	if _, err := s.w.Write([]byte(": keep-alive\n\n")); err != nil {
		return err
	}
	s.flush()
	return nil
}

func (s *eventStream) flush() {
	if s.f != nil {
		s.f.Flush()
	}
}
