package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bascule/bascule/internal/router"
	"github.com/bascule/bascule/internal/store"
)

// RouterStatus is one router as the API, the CLI and the UI show it.
type RouterStatus struct {
	ID        string                `json:"id"`
	Host      string                `json:"host"`
	Listen    string                `json:"listen"`
	Installed int64                 `json:"installed"`
	Drained   int64                 `json:"drained"`
	Colors    map[router.Color]Load `json:"colors"`
	LastSeen  time.Time             `json:"last_seen"`
	// Stale: no heartbeat for StaleAfter intervals. Lagging: it serves an
	// older generation than the fleet's, or has not drained it.
	Stale   bool `json:"stale"`
	Lagging bool `json:"lagging"`
	// Embedded: the router inside the control plane's own process.
	Embedded bool `json:"embedded"`
}

// InFlightOn returns the requests in flight on color c ("blue", "green").
func (r RouterStatus) InFlightOn(c string) int64 { return r.Colors[router.Color(c)].InFlight }

// Fleet is the registry as shown: the generation every router must serve
// and each router.
type Fleet struct {
	Generation int64          `json:"generation"`
	Interval   time.Duration  `json:"-"`
	StaleAfter string         `json:"stale_after"` // e.g. "3s"
	Routers    []RouterStatus `json:"routers"`
}

// Routers lists the registry from the store, so that any control-plane
// instance shows every router, each marked stale or lagging.
func (h *Hub) Routers(ctx context.Context) (Fleet, error) {
	list, err := h.opts.Store.ListRouters(ctx)
	if err != nil {
		return Fleet{}, fmt.Errorf("list routers: %w", err)
	}
	list = h.fresher(list)
	gen := h.Table().Generation
	f := Fleet{Generation: gen, Interval: h.opts.Interval, StaleAfter: (StaleAfter * h.opts.Interval).String(), Routers: []RouterStatus{}}
	for _, r := range list {
		rs := RouterStatus{ID: r.ID, Host: r.Host, Listen: r.Listen, Installed: r.Installed, Drained: r.Drained,
			LastSeen: r.LastSeen, Stale: h.staleAt(r.LastSeen), Embedded: r.ID == h.opts.LocalID}
		rs.Lagging = r.Installed < gen || r.Drained < gen
		if len(r.Colors) > 0 {
			if err := json.Unmarshal(r.Colors, &rs.Colors); err != nil {
				return Fleet{}, fmt.Errorf("read router %s's load: %w", r.ID, err)
			}
		}
		f.Routers = append(f.Routers, rs)
	}
	return f, nil
}

func encodeColors(c map[router.Color]Load) ([]byte, error) {
	if c == nil {
		c = map[router.Color]Load{}
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encode router load: %w", err)
	}
	return b, nil
}

// fresher overlays on the store's rows the heartbeats this hub heard and
// has not written yet (or wrote since the read), so its own list is never
// older than what it waits on.
func (h *Hub) fresher(list []store.Router) []store.Router {
	h.mu.Lock()
	defer h.mu.Unlock()
	at := map[string]int{}
	for i, r := range list {
		at[r.ID] = i
	}
	for id, s := range h.routers {
		i, ok := at[id]
		if ok && !s.at.After(list[i].LastSeen) {
			continue
		}
		colors, err := encodeColors(s.hb.Colors)
		if err != nil {
			continue
		}
		r := store.Router{ID: id, Host: s.hb.Host, Listen: s.hb.Listen, Installed: s.hb.Installed,
			Drained: s.hb.Drained, Colors: colors, LastSeen: s.at.UTC()}
		if ok {
			list[i] = r
		} else {
			list = append(list, r)
		}
	}
	slices.SortFunc(list, func(a, b store.Router) int { return strings.Compare(a.ID, b.ID) })
	return list
}
