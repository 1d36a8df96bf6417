package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/bascule/bascule/internal/sse"
)

// Stream writes the routing stream to w until ctx ends or a write fails:
// the current table at once, then each newer one. Publications that
// follow each other faster than a router reads are coalesced into the
// newest: a router needs the latest table, not the history.
func (h *Hub) Stream(ctx context.Context, w http.ResponseWriter) error {
	sw := sse.Start(w)
	keep := time.NewTicker(Keepalive)
	defer keep.Stop()
	var sent int64 = -1
	for {
		u, changed := h.Current()
		if u.Table.Generation != sent {
			b, err := json.Marshal(u)
			if err != nil {
				return fmt.Errorf("encode table: %w", err)
			}
			if err := sw.Send(sse.Event{Name: EventTable, ID: strconv.FormatInt(u.Table.Generation, 10), Data: b}); err != nil {
				return err
			}
			sent = u.Table.Generation
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		case <-keep.C:
			if err := sw.Comment("keep-alive"); err != nil {
				return err
			}
		}
	}
}
