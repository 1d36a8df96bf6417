package web

import (
	"net/http"

	"github.com/bascule/bascule/internal/sse"
)

// eventStream is the UI's Server-Sent Events stream: named events carrying
// an HTML fragment or a word, written by package sse like every stream of
// bascule's.
type eventStream struct{ w *sse.Writer }

func startStream(w http.ResponseWriter) *eventStream { return &eventStream{w: sse.Start(w)} }

// send writes one event; data may span lines (an HTML fragment).
func (s *eventStream) send(event, data string) error {
	return s.w.Send(sse.Event{Name: event, Data: []byte(data)})
}

// keepAlive writes a comment, so proxies keep an idle stream open.
func (s *eventStream) keepAlive() error { return s.w.Comment("keep-alive") }
