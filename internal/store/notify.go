package store

import (
	"context"
	"time"
)

// Event sources: what recorded a notification event.
const (
	// EventDeployment: a deployment was created (From is "") or changed
	// state. Payload: DeploymentEvent.
	EventDeployment = "deployment"
	// EventAudit: a go-live or rollback was audited, done or failed.
	// Payload: AuditEvent.
	EventAudit = "audit"
	// EventFlags: a new version of the flags was written. Payload: FlagEvent.
	EventFlags = "flags"
	// EventPublished: bascule's own code published an event (the guard, a
	// progressive go-live's step) with RecordEvent. The payload is the
	// publisher's.
	EventPublished = "published"
)

// Event is one fact to notify people of. The stores record deployment,
// audit and flag events themselves, in the same transaction as the change
// they report (database triggers), so that a change is never committed
// without its event whatever happens to bascule afterwards.
type Event struct {
	ID      int64
	At      time.Time
	Source  string // one of the Event* constants
	Payload []byte // JSON, whose shape the Source names
}

// DeploymentEvent is the payload of an EventDeployment.
type DeploymentEvent struct {
	ID          int64  `json:"id"`
	App         string `json:"app"`
	Version     string `json:"version"`
	Color       string `json:"color"`
	From        State  `json:"from"` // the state before; "" when the deployment was created
	To          State  `json:"to"`
	Reason      string `json:"reason"`
	Error       string `json:"error"`
	RequestedBy string `json:"requested_by"`
}

// AuditEvent is the payload of an EventAudit: the audit entry as written.
type AuditEvent struct {
	ID      int64  `json:"id"`
	Actor   string `json:"actor"`
	Action  string `json:"action"`
	Target  string `json:"target"`
	Outcome string `json:"outcome"`
	Detail  string `json:"detail"`
}

// FlagEvent is the payload of an EventFlags.
type FlagEvent struct {
	Version int64  `json:"version"`
	Actor   string `json:"actor"`
	Summary string `json:"summary"`
}

// Delivery states.
const (
	DeliveryPending   = "pending"   // not delivered yet: an attempt is due at NextAt
	DeliveryDelivered = "delivered" // the receiver answered 2xx
	DeliveryFailed    = "failed"    // given up on; LastError says why
)

// Delivery is one event on its way to one webhook: the outbox row that is
// retried until the receiver accepts it.
type Delivery struct {
	ID      int64 `json:"id"`
	EventID int64 `json:"event_id"`
	// Endpoint names the webhook it goes to, without its secrets (see
	// package notify); Target is where it goes, fit to be shown.
	Endpoint string `json:"endpoint"`
	Target   string `json:"target"`
	// EventType is the event's type ("deployment.live") and Summary its
	// one line for people.
	EventType string `json:"event"`
	Summary   string `json:"summary"`
	// Body is the request body, rendered when the delivery was created.
	Body       []byte     `json:"-"`
	State      string     `json:"state"`
	Attempts   int        `json:"attempts"` // attempts started, including one in progress
	LastStatus int        `json:"last_status,omitempty"`
	LastError  string     `json:"last_error,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	LastAt     *time.Time `json:"last_attempt_at,omitempty"`
	NextAt     *time.Time `json:"next_attempt_at,omitempty"` // set while pending
	DoneAt     *time.Time `json:"done_at,omitempty"`         // set once delivered or failed
}

// Notifications is the outbox of webhook notifications: the events to
// tell, and their deliveries to each webhook.
type Notifications interface {
	// RecordEvent appends e (its Source is normally EventPublished) and
	// sets its ID.
	RecordEvent(ctx context.Context, e *Event) error
	// PendingEvents returns the events not dispatched yet, oldest first,
	// at most limit (<= 0: 100).
	PendingEvents(ctx context.Context, limit int) ([]Event, error)
	// DispatchEvents marks the events dispatched and inserts their
	// deliveries (setting their IDs), in one transaction. It returns
	// ErrConflict, writing nothing, when one of the events was dispatched
	// already (by another bascule sharing the store).
	DispatchEvents(ctx context.Context, eventIDs []int64, ds []Delivery) error
	// ClaimDeliveries returns up to limit pending deliveries due at now
	// (the most overdue chosen first), in ID order, each with its attempt
	// counted, its LastAt set to now and its next attempt moved to
	// now+lease: until then no other claim returns it, and if the claimer
	// dies it is retried after that.
	ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Delivery, error)
	// FinishDelivery records how attempt d.Attempts of delivery d.ID
	// ended: d.State, LastStatus, LastError, and NextAt (pending) or DoneAt
	// (delivered or failed). It returns ErrConflict when the delivery is no
	// longer pending at that attempt: its lease ran out and it was claimed
	// again.
	FinishDelivery(ctx context.Context, d Delivery) error
	// NextDeliveryAt returns when the earliest pending delivery is due, or
	// ErrNotFound when none is pending.
	NextDeliveryAt(ctx context.Context) (time.Time, error)
	// ListDeliveries returns deliveries newest first, those in state only
	// unless state is "", at most limit (<= 0: 100).
	ListDeliveries(ctx context.Context, state string, limit int) ([]Delivery, error)
	// PruneNotifications deletes the dispatched events recorded before
	// before, and the deliveries delivered or failed before before. Pending
	// deliveries are kept, however old.
	PruneNotifications(ctx context.Context, before time.Time) error
}
