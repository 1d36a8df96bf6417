package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/bascule/bascule/internal/store"
)

// Store is what a Notifier keeps its outbox in.
type Store interface {
	store.Notifications
}

// Options configure a Notifier. Store is required; the zero value of every
// other field works.
type Options struct {
	Store     Store
	App       string     // the app events are about
	Endpoints []Endpoint // none: events are recorded and dropped
	// Client sends the deliveries; nil: a client with a 10s timeout that
	// does not follow redirects (a 3xx is a failed attempt).
	Client *http.Client
	// Poll is how often the store is checked for new events; default 500ms.
	// Events recorded by this process through Publish wake it at once.
	Poll time.Duration
	// MinBackoff is the wait after a first failed attempt, doubled after
	// each further one up to MaxBackoff; defaults 1s and 1h.
	MinBackoff, MaxBackoff time.Duration
	// GiveUpAfter is how long a delivery is retried before it is marked
	// failed; default 72h.
	GiveUpAfter time.Duration
	// Keep is how long delivered and failed deliveries stay listed;
	// default 7 days.
	Keep time.Duration
	// Parallel bounds the deliveries in flight at once; default 4.
	Parallel int
	Logger   *slog.Logger     // nil: discard
	Now      func() time.Time // nil: time.Now
}

// Notifier turns recorded events into webhook deliveries and sends them.
// Run does the work; Publish records an event from bascule's own code.
type Notifier struct {
	opts   Options
	log    *slog.Logger
	client *http.Client
	byKey  map[string]Endpoint
	wake   chan struct{}
	slots  chan struct{} // one token per delivery in flight
	wg     sync.WaitGroup
}

// New returns a Notifier; call Run to start it.
func New(opts Options) *Notifier {
	if opts.Poll <= 0 {
		opts.Poll = 500 * time.Millisecond
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = time.Hour
	}
	if opts.GiveUpAfter <= 0 {
		opts.GiveUpAfter = 72 * time.Hour
	}
	if opts.Keep <= 0 {
		opts.Keep = 7 * 24 * time.Hour
	}
	if opts.Parallel <= 0 {
		opts.Parallel = 4
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	n := &Notifier{opts: opts, log: opts.Logger, client: opts.Client, byKey: map[string]Endpoint{},
		wake: make(chan struct{}, 1), slots: make(chan struct{}, opts.Parallel)}
	if n.log == nil {
		n.log = slog.New(slog.DiscardHandler)
	}
	if n.client == nil {
		n.client = &http.Client{Timeout: 10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	for _, e := range opts.Endpoints {
		n.byKey[e.key()] = e
	}
	return n
}

// Endpoints describes the configured webhooks, without their secrets.
func (n *Notifier) Endpoints() []EndpointInfo {
	out := make([]EndpointInfo, 0, len(n.opts.Endpoints))
	for _, e := range n.opts.Endpoints {
		out = append(out, e.info())
	}
	return out
}

// Deliveries returns recent deliveries, newest first, those in state only
// unless state is "", at most limit.
func (n *Notifier) Deliveries(ctx context.Context, state string, limit int) ([]store.Delivery, error) {
	return n.opts.Store.ListDeliveries(ctx, state, limit)
}

// Publish records e to be sent to the webhooks that want its kind, and
// returns once it is stored: from then on it survives a crash. Kind and
// Type are required (Type starting with Kind and "."), and so is Text; ID
// and At are set here, App when empty. Publish never waits for a delivery.
func (n *Notifier) Publish(ctx context.Context, e Event) error {
	switch e.Kind {
	case KindDeployment, KindGuard, KindFlag:
	default:
		return fmt.Errorf("publish event: unknown kind %q", e.Kind)
	}
	if !strings.HasPrefix(e.Type, e.Kind+".") || e.Text == "" {
		return fmt.Errorf("publish %s event: want a type %q… and a text", e.Kind, e.Kind+".")
	}
	e.ID, e.At = 0, n.opts.Now().UTC()
	if e.App == "" {
		e.App = n.opts.App
	}
	payload, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("publish %s: %w", e.Type, err)
	}
	if err := n.opts.Store.RecordEvent(ctx, &store.Event{At: e.At, Source: store.EventPublished, Payload: payload}); err != nil {
		return fmt.Errorf("publish %s: %w", e.Type, err)
	}
	n.poke()
	return nil
}

func (n *Notifier) poke() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// Run dispatches and delivers until ctx ends, then waits for the
// deliveries in flight (cancelled with ctx) to be recorded. Store errors
// are logged and retried at the next poll; Run returns nil.
func (n *Notifier) Run(ctx context.Context) error {
	defer n.wg.Wait()
	var lastPrune time.Time
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		if err := n.dispatch(ctx); err != nil && ctx.Err() == nil {
			n.log.Error("dispatch notification events", "err", err)
		}
		if err := n.deliverDue(ctx); err != nil && ctx.Err() == nil {
			n.log.Error("claim webhook deliveries", "err", err)
		}
		if now := n.opts.Now(); now.Sub(lastPrune) > time.Hour {
			if err := n.opts.Store.PruneNotifications(ctx, now.Add(-n.opts.Keep)); err != nil && ctx.Err() == nil {
				n.log.Error("prune notifications", "err", err)
			}
			lastPrune = now
		}
		timer.Reset(n.nextWait(ctx))
		select {
		case <-ctx.Done():
			return nil
		case <-n.wake:
		case <-timer.C:
		}
	}
}

// nextWait is how long Run may sleep: until the next delivery is due, at
// most Poll, since other instances and the store's triggers record events
// this process is not told of. With every slot busy, a delivery ending
// wakes Run.
func (n *Notifier) nextWait(ctx context.Context) time.Duration {
	if len(n.slots) == cap(n.slots) {
		return n.opts.Poll
	}
	next, err := n.opts.Store.NextDeliveryAt(ctx)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) && ctx.Err() == nil {
			n.log.Error("find next webhook delivery", "err", err)
		}
		return n.opts.Poll
	}
	// At least a few milliseconds, so that a store that keeps failing to
	// claim a due delivery cannot spin this loop.
	return max(5*time.Millisecond, min(n.opts.Poll, next.Sub(n.opts.Now())))
}
