package web

import (
	"context"
	"net/http"

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

// notificationsShow is how many deliveries the page shows.
const notificationsShow = 200

var deliveryStates = []string{store.DeliveryPending, store.DeliveryDelivered, store.DeliveryFailed}

type notificationsView struct {
	State      string
	States     []string
	Webhooks   []notify.EndpointInfo
	Deliveries []store.Delivery
}

// notificationsPage shows the webhooks and their recent deliveries, each
// with where it stands: attempts, the last error, the next try.
func (h *Handler) notificationsPage(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	v := notificationsView{State: r.URL.Query().Get("state"), States: deliveryStates}
	switch v.State {
	case "", store.DeliveryPending, store.DeliveryDelivered, store.DeliveryFailed:
	default:
		v.State = ""
	}
	if n := h.opts.Notifications; n != nil {
		v.Webhooks = n.Endpoints()
		list, err := n.Deliveries(r.Context(), v.State, notificationsShow)
		if err != nil {
			return err
		}
		v.Deliveries = list
	}
	h.render(w, http.StatusOK, "notifications", page{Title: "Notifications", Nav: "notifications", User: p, Data: v})
	return nil
}
