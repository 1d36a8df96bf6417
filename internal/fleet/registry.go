package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/bascule/bascule/internal/router"
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
