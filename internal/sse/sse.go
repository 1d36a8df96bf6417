// Package sse writes and reads Server-Sent Events (the WHATWG
// "text/event-stream" format): the deployment stream, the flag stream and
// the web UI's live pages are written by Writer, and the CLI and the Go
// SDK read them with Reader. It depends on the standard library only, so
// the SDK carries nothing more for it.
package sse

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Writer writes events to an HTTP response, flushing each at once.
type Writer struct {
	w http.ResponseWriter
	f http.Flusher
}

// Start answers 200 with the event-stream headers (no caching, no proxy
// buffering) and returns the stream's writer.
func Start(w http.ResponseWriter) *Writer {
	f, _ := w.(http.Flusher)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx and friends: do not buffer
	w.WriteHeader(http.StatusOK)
	s := &Writer{w: w, f: f}
	s.flush()
	return s
}

// Event is one event: a name (empty: the default "message"), an id
// (empty: none) and data, which may span lines.
type Event struct {
	Name string
	ID   string
	Data []byte
}

// Send writes ev and flushes it. Each line of its data becomes a data
// line, as the format requires; a CR before a line's end is dropped.
func (s *Writer) Send(ev Event) error {
	var b bytes.Buffer
	if ev.Name != "" {
		b.WriteString("event: " + ev.Name + "\n")
	}
	if ev.ID != "" {
		b.WriteString("id: " + ev.ID + "\n")
	}
	for line := range bytes.SplitSeq(ev.Data, []byte("\n")) {
		b.WriteString("data: ")
		b.Write(bytes.TrimSuffix(line, []byte("\r")))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	if _, err := s.w.Write(b.Bytes()); err != nil {
		return err
	}
	s.flush()
	return nil
}

// Comment writes a comment line, which clients ignore: a keep-alive, so
// that proxies keep an idle stream open and clients can tell it lives.
func (s *Writer) Comment(text string) error {
	if _, err := io.WriteString(s.w, ": "+text+"\n\n"); err != nil {
		return err
	}
	s.flush()
	return nil
}

func (s *Writer) flush() {
	if s.f != nil {
		s.f.Flush()
	}
}

// LastEventID returns the id a reconnecting client says it saw last, as a
// number; false when it sent none, or not a number.
func LastEventID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(strings.TrimSpace(r.Header.Get("Last-Event-ID")), 10, 64)
	return id, err == nil
}

// Reader reads events from a stream.
type Reader struct {
	sc *bufio.Scanner
	// Line, if set, is called for every line read, comments included: the
	// sign of life a client watches for to tell a quiet stream from a
	// dead one.
	Line func()
}

// NewReader reads events from r; an event over max bytes is an error.
func NewReader(r io.Reader, max int) *Reader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, min(64<<10, max)), max)
	return &Reader{sc: sc}
}

// ErrClosed is what Next returns when the stream ended cleanly.
var ErrClosed = errors.New("event stream closed by the server")

// Next returns the next event. Comments are skipped; fields other than
// event, id and data are ignored, as the format says.
func (r *Reader) Next() (Event, error) {
	var ev Event
	seen := false
	for r.sc.Scan() {
		if r.Line != nil {
			r.Line()
		}
		line := r.sc.Bytes()
		if len(line) == 0 {
			if seen {
				return ev, nil
			}
			continue
		}
		if line[0] == ':' {
			continue
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(field) {
		case "event":
			ev.Name, seen = string(value), true
		case "id":
			ev.ID, seen = string(value), true
		case "data":
			if ev.Data != nil {
				ev.Data = append(ev.Data, '\n')
			}
			ev.Data, seen = append(ev.Data, value...), true
		}
	}
	if err := r.sc.Err(); err != nil {
		return Event{}, err
	}
	return Event{}, ErrClosed
}
