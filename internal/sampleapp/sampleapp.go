// Package sampleapp is the app that `bascule demo` deploys: bascule runs it
// through a hidden subcommand, so the demo needs no build step. It answers
// every request with its release, so a switch is visible from a browser or
// curl, and it has the endpoints the zero-interruption tests need.
package sampleapp

import (
	"context"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/coder/websocket"
)

// Options say how the app behaves. The zero value is a healthy app; the
// other fields let the demo (and the tests) show what bascule does with a
// broken release.
type Options struct {
	Release    string
	Color      string
	Unhealthy  bool          // /healthz answers 500
	StartDelay time.Duration // wait before listening, like a slow boot
	Crash      string        // if set, print it and exit 1 at start
	Grace      time.Duration // shutdown grace; default 30s
	DB         DB            // optional: serve /rows from a table of this database
}

// Handler returns the app's handler.
func Handler(o Options) http.Handler {
	release, color := o.Release, o.Color
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Release", release)
		if o.Unhealthy {
			http.Error(w, "unhealthy on purpose", http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /sleep", func(w http.ResponseWriter, r *http.Request) {
		ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
		if err != nil || ms < 0 || ms > 600_000 {
			http.Error(w, "ms: want 0 to 600000", http.StatusBadRequest)
			return
		}
		select {
		case <-time.After(time.Duration(ms) * time.Millisecond):
		case <-r.Context().Done():
			return
		}
		w.Header().Set("X-Release", release)
		fmt.Fprintf(w, "%s slept %dms\n", release, ms)
	})
	if o.DB.URL != "" {
		t := &rows{release: release, cfg: o.DB}
		mux.HandleFunc("POST /rows", t.insert)
		mux.HandleFunc("GET /rows", t.list)
	}
	mux.HandleFunc("GET /events", func(w http.ResponseWriter, r *http.Request) { events(w, r, release) })
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) { echo(w, r, release) })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Release", release)
		if r.URL.Path == "/" && acceptsHTML(r) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, page, html.EscapeString(release), html.EscapeString(color), html.EscapeString(release))
			return
		}
		fmt.Fprintf(w, "%s\n", release)
	})
	return mux
}

const page = `<!doctype html><html lang="en"><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>shop %s</title>
<body style="font-family:system-ui;margin:3rem"><h1>The sample shop</h1>
<p>This page is served by the <strong>%s</strong> color, release <strong>%s</strong>.</p></body></html>
`

func acceptsHTML(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept") {
		if len(v) >= 9 && v[:9] == "text/html" {
			return true
		}
	}
	return false
}

// events streams a tick a second as Server-Sent Events, with the release.
func events(w http.ResponseWriter, r *http.Request, release string) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Release", release)
	every := 1000 * time.Millisecond
	if ms, err := strconv.Atoi(r.URL.Query().Get("every_ms")); err == nil && ms > 0 {
		every = time.Duration(ms) * time.Millisecond
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for i := 0; ; i++ {
		fmt.Fprintf(w, "event: tick\ndata: %s %d\n\n", release, i)
		fl.Flush()
		select {
		case <-r.Context().Done():
			return
		case <-t.C:
		}
	}
}

// echo is a WebSocket that answers each message with "release: message".
func echo(w http.ResponseWriter, r *http.Request, release string) {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	for {
		typ, msg, err := c.Read(r.Context())
		if err != nil {
			return
		}
		if err := c.Write(r.Context(), typ, []byte(release+": "+string(msg))); err != nil {
			return
		}
	}
}

// Serve runs the app on addr until ctx is done, then shuts down gracefully:
// in-flight requests finish (up to grace), as a well-behaved app does on
// SIGTERM.
func Serve(ctx context.Context, addr string, o Options, log *slog.Logger) error {
	if o.Crash != "" {
		return errors.New(o.Crash)
	}
	if o.StartDelay > 0 {
		log.Info("sample app booting slowly", "delay", o.StartDelay)
		select {
		case <-time.After(o.StartDelay):
		case <-ctx.Done():
			return nil
		}
	}
	grace := o.Grace
	if grace <= 0 {
		grace = 30 * time.Second
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: Handler(o), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("sample app listening", "addr", ln.Addr().String(), "release", o.Release, "color", o.Color)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("sample app shutting down", "release", o.Release)
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}
