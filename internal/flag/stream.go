package flag

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// streamPing is how often an idle flag stream sends a comment, so that
// proxies keep it open and clients notice a dead connection.
const streamPing = 15 * time.Second

// StreamFormat is what a flag stream's events carry.
type StreamFormat int

const (
	// StreamSnapshots sends every version whole, for the Go SDK:
	//
	//	event: snapshot
	//	id: <version>
	//	data: <feature.Wire JSON on one line>
	StreamSnapshots StreamFormat = iota
	// StreamOFREP sends OFREP's change notification, which the bulk answer
	// announces in eventStreams and which carries no flag:
	//
	//	id: <version>
	//	data: {"type":"refetchEvaluation","etag":"\"v<version>\"","lastModified":<unix>}
	StreamOFREP
)

// ServeStream follows the served versions as Server-Sent Events until the
// client goes or the Service closes: the current version at once, unless the
// request's Last-Event-ID is that version (a client resuming with nothing
// missed), then each new one. When versions follow each other faster than a
// client reads, it gets the latest: each event stands for the whole
// configuration. Who may read the stream is the caller's to check.
func (s *Service) ServeStream(w http.ResponseWriter, r *http.Request, format StreamFormat) {
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
	cur := s.Current()
	if cur.Snapshot.Version != last {
		writeStreamEvent(w, cur, format)
	}
	flush()
	ping := time.NewTicker(streamPing)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.Closed():
			return // the server is stopping; clients reconnect
		case <-cur.Replaced:
			cur = s.Current()
			writeStreamEvent(w, cur, format)
		case <-ping.C:
			fmt.Fprint(w, ": ping\n\n")
		}
		flush()
	}
}

func writeStreamEvent(w http.ResponseWriter, cur Served, format StreamFormat) {
	v := cur.Snapshot.Version
	if format == StreamOFREP {
		fmt.Fprintf(w, "id: %d\ndata: {\"type\":\"refetchEvaluation\",\"etag\":\"\\\"v%d\\\"\"", v, v)
		if !cur.At.IsZero() {
			fmt.Fprintf(w, ",\"lastModified\":%d", cur.At.Unix())
		}
		fmt.Fprint(w, "}\n\n")
		return
	}
	fmt.Fprintf(w, "event: snapshot\nid: %d\ndata: %s\n\n", v, cur.JSON)
}
