package flag

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/bascule/bascule/internal/sse"
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
	last, ok := sse.LastEventID(r)
	if !ok {
		last = -1
	}
	es := sse.Start(w)
	cur := s.Current()
	if cur.Snapshot.Version != last {
		writeStreamEvent(es, cur, format)
	}
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
			writeStreamEvent(es, cur, format)
		case <-ping.C:
			es.Comment("ping")
		}
	}
}

func writeStreamEvent(es *sse.Writer, cur Served, format StreamFormat) {
	v := cur.Snapshot.Version
	id := strconv.FormatInt(v, 10)
	if format == StreamOFREP {
		data := fmt.Sprintf(`{"type":"refetchEvaluation","etag":"\"v%d\""`, v)
		if !cur.At.IsZero() {
			data += fmt.Sprintf(`,"lastModified":%d`, cur.At.Unix())
		}
		es.Send(sse.Event{ID: id, Data: []byte(data + "}")})
		return
	}
	es.Send(sse.Event{Name: "snapshot", ID: id, Data: cur.JSON})
}
