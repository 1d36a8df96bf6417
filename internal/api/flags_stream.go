package api

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/flag"
)

// streamPing is how often an idle flag stream sends a comment, so that
// proxies keep it open and clients notice a dead connection.
const streamPing = 15 * time.Second

// flagStream serves the flag configuration as Server-Sent Events:
//
//	event: snapshot
//	id: <version>
//	data: <flag.Wire JSON on one line>
//
// once at once, unless the request's Last-Event-ID is the version served
// (a client resuming with nothing missed), then once per new version. When
// several versions follow each other faster than a client reads, it gets
// the latest: each event is the whole configuration.
//
// With ?format=ofrep, the stream is the one the OFREP bulk answer announces
// in eventStreams: the same events but as OFREP's notification, `data:
// {"type":"refetchEvaluation","etag":"\"v<version>\"","lastModified":<unix>}`
// with the default event type, telling providers to re-fetch.
func (h *Handler) flagStream(w http.ResponseWriter, r *http.Request, _ auth.Principal, svc *flag.Service) error {
	ofrep := r.URL.Query().Get("format") == "ofrep"
	last, err := strconv.ParseInt(strings.TrimSpace(r.Header.Get("Last-Event-ID")), 10, 64)
	if err != nil {
		last = -1
	}
	flusher, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	flush := func() {
		if flusher != nil {
			flusher.Flush()
		}
	}
	cur := svc.Current()
	if cur.Snapshot.Version != last {
		writeFlagEvent(w, cur, ofrep)
	}
	flush()
	ping := time.NewTicker(streamPing)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-svc.Closed():
			return nil // the server is stopping; clients reconnect
		case <-cur.Replaced:
			cur = svc.Current()
			writeFlagEvent(w, cur, ofrep)
		case <-ping.C:
			fmt.Fprint(w, ": ping\n\n")
		}
		flush()
	}
}

func writeFlagEvent(w http.ResponseWriter, cur flag.Served, ofrep bool) {
	v := cur.Snapshot.Version
	if ofrep {
		fmt.Fprintf(w, "id: %d\ndata: {\"type\":\"refetchEvaluation\",\"etag\":\"\\\"v%d\\\"\"", v, v)
		if !cur.At.IsZero() {
			fmt.Fprintf(w, ",\"lastModified\":%d", cur.At.Unix())
		}
		fmt.Fprint(w, "}\n\n")
		return
	}
	fmt.Fprintf(w, "event: snapshot\nid: %d\ndata: %s\n\n", v, cur.JSON)
}
