package notify

import (
	"context"
	"errors"
	"fmt"

	"github.com/bascule/bascule/internal/store"
)

// dispatchBatch is how many events one transaction turns into deliveries.
const dispatchBatch = 100

// dispatch turns every pending event into its deliveries, a batch per
// transaction: an event is marked dispatched together with its
// deliveries, so it is neither lost nor sent twice by a crash in between.
func (n *Notifier) dispatch(ctx context.Context) error {
	// Bounded, as every loop here: what is left waits for the next poll.
	for range 50 {
		evs, err := n.opts.Store.PendingEvents(ctx, dispatchBatch)
		if err != nil || len(evs) == 0 {
			return err
		}
		ids, ds := n.deliveries(evs)
		err = n.opts.Store.DispatchEvents(ctx, ids, ds)
		switch {
		case errors.Is(err, store.ErrConflict):
			// Another bascule sharing the store dispatched some of them
			// first: read again what is left.
			continue
		case err != nil:
			return fmt.Errorf("dispatch %d events: %w", len(ids), err)
		}
		if len(ds) > 0 {
			n.poke()
		}
		if len(evs) < dispatchBatch {
			return nil
		}
	}
	return nil
}

// deliveries returns the IDs of evs and the deliveries they make. An event
// that cannot be read is logged and dispatched to nobody rather than
// blocking the ones after it.
func (n *Notifier) deliveries(evs []store.Event) ([]int64, []store.Delivery) {
	now := n.opts.Now().UTC()
	ids := make([]int64, 0, len(evs))
	var ds []store.Delivery
	for _, se := range evs {
		ids = append(ids, se.ID)
		ev, ok, err := fromStore(se, n.opts.App)
		if err != nil {
			n.log.Error("skip unreadable notification event", "id", se.ID, "source", se.Source, "err", err)
			continue
		}
		if !ok {
			continue
		}
		for _, e := range n.opts.Endpoints {
			if !e.wants(ev.Kind) {
				continue
			}
			body, err := e.render(ev)
			if err != nil {
				n.log.Error("skip notification event", "id", se.ID, "err", err)
				continue
			}
			ds = append(ds, store.Delivery{EventID: se.ID, Endpoint: e.key(), Target: e.target(), EventType: ev.Type,
				Summary: ev.Text, Body: body, State: store.DeliveryPending, CreatedAt: now, NextAt: &now})
		}
	}
	return ids, ds
}
