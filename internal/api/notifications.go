package api

import (
	"context"
	"net/http"
	"strconv"

	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/notify"
	"github.com/bascule/bascule/internal/store"
)

// Notifications lists the webhooks and their deliveries; notify.Notifier
// provides it.
type Notifications interface {
	Endpoints() []notify.EndpointInfo
	Deliveries(ctx context.Context, state string, limit int) ([]store.Delivery, error)
}

// maxDeliveries bounds one listing of deliveries.
const maxDeliveries = 1000

// listNotifications returns the configured webhooks (without their
// secrets) and their most recent deliveries, newest first, with where each
// stands: attempts, the last error, the next try. ?state= keeps one state,
// ?limit= (default 100) bounds the list.
func (h *Handler) listNotifications(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	q := r.URL.Query()
	state := q.Get("state")
	switch state {
	case "", store.DeliveryPending, store.DeliveryDelivered, store.DeliveryFailed:
	default:
		return errorf(http.StatusBadRequest, "bad_request", "state %q: want %s, %s or %s",
			state, store.DeliveryPending, store.DeliveryDelivered, store.DeliveryFailed)
	}
	limit := 100
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxDeliveries {
			return errorf(http.StatusBadRequest, "bad_request", "limit %q: want 1 to %d", v, maxDeliveries)
		}
		limit = n
	}
	webhooks, deliveries := []notify.EndpointInfo{}, []store.Delivery{}
	if n := h.opts.Notifications; n != nil {
		webhooks = n.Endpoints()
		list, err := n.Deliveries(r.Context(), state, limit)
		if err != nil {
			return err
		}
		deliveries = append(deliveries, list...)
	}
	writeJSON(w, http.StatusOK, map[string]any{"webhooks": webhooks, "deliveries": deliveries})
	return nil
}
