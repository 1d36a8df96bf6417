package fleet

import (
	"crypto/rand"
	"time"

	"github.com/bascule/bascule/internal/router"
)

// bootID names one start of a router process, so that the control plane
// tells counters that started over from counters that went backwards.
type bootID struct {
	id    string
	start time.Time
}

func newBootID() bootID { return bootID{id: rand.Text()[:16], start: time.Now()} }

// traffic is the agent's guard counters as a heartbeat carries them; nil
// without counters.
func (a *Agent) traffic() *TrafficReport {
	if a.opts.Counts == nil {
		return nil
	}
	tr := &TrafficReport{Boot: a.boot.id, UptimeMS: time.Since(a.boot.start).Milliseconds(),
		Colors: make(map[router.Color]ColorCounts, len(slotColors))}
	for _, c := range slotColors {
		tr.Colors[c] = toWire(a.opts.Counts.Read(string(c)))
	}
	return tr
}
