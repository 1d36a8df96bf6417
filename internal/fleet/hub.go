package fleet

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/bascule/bascule/internal/router"
	"github.com/bascule/bascule/internal/store"
)

// HubOptions configure a Hub.
type HubOptions struct {
	// Local is the router inside this process, which takes part as an
	// Agent reached by function calls. Required: it also checks what a
	// table may hold (a split) before the fleet is asked to install it.
	Local              *router.Router
	LocalID, LocalHost string
	LocalListen        string
	Store              store.Routers
	// Tables holds the fleet's routing table, shared by every control-
	// plane instance (docs/adr/0015-shared-routing-state.md). When set, the
	// hub starts from the stored table, Follow serves and installs each
	// table the leader stores, and the tables Install is given carry the
	// generation the store gave them. Nil: the table lives in this hub
	// alone, each Install numbered one above the last.
	Tables store.RoutingTables
	App    string // whose table Tables holds
	// PollInterval is how often Follow reads the stored table when the
	// store does not push changes, or its push broke; zero: 2s.
	PollInterval time.Duration
	// Upstream, when set, says where the local router's heartbeats go at
	// the moment: a function that sends one to the hub of the instance
	// that leads, or nil when this hub is the one to tell (this instance
	// leads, or none does). An instance that follows sends them to the
	// leader, which waits for them at each switch as for any router's.
	Upstream     func(context.Context) func(context.Context, Heartbeat) error
	Interval     time.Duration // the routers' heartbeat interval; zero: DefaultInterval
	DrainTimeout time.Duration // how long a switch waits for acknowledgements; zero: 30s
	Logger       *slog.Logger  // nil: discard
	Now          func() time.Time
	// Traffic keeps the routers' guard counters from their heartbeats;
	// nil: not kept (the guard is off).
	Traffic *Traffic
	// LocalCounts are the local router's guard counters. They go in its
	// heartbeats to another instance's hub (Upstream), so that the
	// leader's guard counts what a follower's router serves; never in
	// those to this hub, whose Traffic reads them live. Nil: none.
	LocalCounts Counter
}

// Hub is the control plane's side of the protocol. It holds the table the
// fleet must serve, numbers each change with a generation, publishes it to
// the routing stream's followers and to the local router, and waits for
// the routers' acknowledgements. It provides what the deploy pipeline
// needs of a router.
type Hub struct {
	opts  HubOptions
	log   *slog.Logger
	local *Agent

	pubMu   sync.Mutex // orders publications: the local router installs them in order
	writeMu sync.Mutex // orders registry writes and Forget: a forgotten router stays forgotten

	mu      sync.Mutex
	table   router.Table
	changed chan struct{} // closed at each publication
	acked   chan struct{} // closed at each heartbeat
	routers map[string]seen
	dirty   map[string]store.Router // heard, not yet written to the store
	persist chan struct{}           // wakes the store writer

	stop      context.CancelFunc
	wg        sync.WaitGroup
	stopLocal context.CancelFunc // the local router's heartbeats
	localDone chan struct{}
	leaveOnce sync.Once
}

// seen is the last heartbeat of a router and when it arrived.
type seen struct {
	hb Heartbeat
	at time.Time
}

// NewHub returns a hub serving the local router's table under a new
// generation, above every generation a registered router reports, so
// that a control plane that lost its own count still moves the fleet.
// With Tables, it serves the stored table instead (the local router's if
// none is stored yet), under the greatest of the stored generation, the
// local router's and the registry's, and publishes no new generation of
// its own: the leader does, in the store (a new leader first of all).
func NewHub(ctx context.Context, opts HubOptions) (*Hub, error) {
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.DrainTimeout <= 0 {
		opts.DrainTimeout = 30 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	h := &Hub{opts: opts, log: opts.Logger, changed: make(chan struct{}), acked: make(chan struct{}), routers: map[string]seen{},
		dirty: map[string]store.Router{}, persist: make(chan struct{}, 1)}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	list, err := opts.Store.ListRouters(ctx)
	if err != nil {
		return nil, fmt.Errorf("open router fleet: %w", err)
	}
	t := clone(opts.Local.Table())
	gen := t.Generation
	for _, r := range list {
		h.routers[r.ID] = seen{hb: Heartbeat{ID: r.ID, Host: r.Host, Listen: r.Listen, Installed: r.Installed, Drained: r.Drained}, at: r.LastSeen}
		gen = max(gen, r.Installed)
	}
	stored, found, err := h.stored(ctx)
	if err != nil {
		return nil, fmt.Errorf("open router fleet: %w", err)
	}
	if found {
		t, gen = stored, max(gen, stored.Generation)
	}
	h.table = t
	h.table.Generation = gen
	h.local = NewAgent(AgentOptions{ID: opts.LocalID, Host: opts.LocalHost, Listen: opts.LocalListen,
		Router: opts.Local, Counts: opts.LocalCounts, Logger: h.log.With("router", opts.LocalID)})
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	h.stop = cancel
	lctx, stopLocal := context.WithCancel(rctx)
	h.stopLocal, h.localDone = stopLocal, make(chan struct{})
	h.wg.Add(1)
	go func() {
		defer close(h.localDone)
		h.local.Report(lctx, opts.Interval, h.reportLocal)
	}()
	go func() {
		defer h.wg.Done()
		h.writeRegistry(rctx)
	}()
	if opts.Tables != nil {
		h.publishAt(t, gen)
	} else {
		h.publish(t)
	}
	return h, nil
}

// Close stops the local router's heartbeats and writes what the registry
// has not written yet.
func (h *Hub) Close() {
	h.Leave(context.Background())
	h.stop()
	h.wg.Wait()
	h.flush(context.Background())
}

// Leave stops the local router's heartbeats and says it leaves the fleet,
// to this hub or, while this instance follows, to the leader's: a clean
// stop is no reason for every later switch to wait for it or name it.
// Call it once the local router takes no more requests. Only the first
// call does anything.
func (h *Hub) Leave(ctx context.Context) {
	h.leaveOnce.Do(func() {
		h.stopLocal()
		<-h.localDone
		ctx, cancel := context.WithTimeout(ctx, 2*h.opts.Interval)
		defer cancel()
		hb := h.local.State()
		hb.Leaving = true
		if err := h.reportLocal(ctx, hb); err != nil {
			h.log.Warn("say the local router leaves the fleet", "router", hb.ID, "err", err)
		}
	})
}

// writeRegistry writes heartbeats to the store as they come, coalesced
// per router, until ctx ends. A heartbeat's answer never waits for the
// store: a slow disk must not make a router look stale.
func (h *Hub) writeRegistry(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.persist:
		}
		h.flush(ctx)
	}
}

func (h *Hub) flush(ctx context.Context) {
	h.writeMu.Lock()
	defer h.writeMu.Unlock()
	h.mu.Lock()
	batch := h.dirty
	h.dirty = map[string]store.Router{}
	h.mu.Unlock()
	for _, r := range batch {
		if err := h.opts.Store.PutRouter(ctx, r); err != nil {
			h.log.Error("record router heartbeat", "router", r.ID, "err", err)
		}
	}
}

// Table returns the table the fleet must serve, with its generation.
func (h *Hub) Table() router.Table {
	h.mu.Lock()
	defer h.mu.Unlock()
	return clone(h.table)
}

// Current returns the latest update, and a channel closed when a newer
// one is published: what the routing stream sends.
func (h *Hub) Current() (Update, <-chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	settings := h.opts.Local.Settings()
	return Update{Table: clone(h.table), DrainTimeoutMS: h.opts.DrainTimeout.Milliseconds(), Settings: &settings}, h.changed
}

// publish makes next the fleet's table under its own generation, when it
// is above the current one (the store gave it), else under the next one,
// installs it in the local router, and returns the generation with the
// routers live at that moment.
func (h *Hub) publish(next router.Table) (int64, map[string]bool) {
	return h.publishAt(next, 0)
}

// publishAt is publish, under generation gen when gen is not 0 (the
// stored table a follower or a starting hub serves as it is).
func (h *Hub) publishAt(next router.Table, gen int64) (int64, map[string]bool) {
	h.pubMu.Lock()
	defer h.pubMu.Unlock()
	h.mu.Lock()
	next = clone(next)
	switch {
	case gen != 0:
		next.Generation = gen
	case next.Generation <= h.table.Generation:
		next.Generation = h.table.Generation + 1
	}
	h.table = next
	close(h.changed)
	h.changed = make(chan struct{})
	live := h.liveLocked()
	h.mu.Unlock()
	if err := h.local.Apply(Update{Table: clone(next), DrainTimeoutMS: h.opts.DrainTimeout.Milliseconds()}); err != nil {
		h.log.Error("install in the local router", "generation", next.Generation, "err", err)
	}
	live[h.opts.LocalID] = true
	return next.Generation, live
}

// reportLocal sends the local router's heartbeat where Upstream says.
func (h *Hub) reportLocal(ctx context.Context, hb Heartbeat) error {
	if h.opts.Upstream != nil {
		if send := h.opts.Upstream(ctx); send != nil {
			return send(ctx, hb)
		}
	}
	hb.Traffic = nil // this hub's Traffic reads the local router's counters live
	return h.Heartbeat(ctx, hb)
}

// liveLocked returns the routers heard from within StaleAfter intervals.
func (h *Hub) liveLocked() map[string]bool {
	out := map[string]bool{}
	for id, s := range h.routers {
		if !h.staleAt(s.at) {
			out[id] = true
		}
	}
	return out
}

func (h *Hub) staleAt(last time.Time) bool {
	return h.opts.Now().Sub(last) > StaleAfter*h.opts.Interval
}

// Heartbeat records what a router reports; its generations are the
// acknowledgements a switch waits for, its counters go to the Traffic. A
// heartbeat a router could not have sent gives an *InputError and changes
// nothing.
func (h *Hub) Heartbeat(ctx context.Context, hb Heartbeat) error {
	if err := validHeartbeat(hb); err != nil {
		return err
	}
	colors, err := encodeColors(hb.Colors)
	if err != nil {
		return err
	}
	if hb.Leaving {
		if h.opts.Traffic != nil {
			h.opts.Traffic.heard(hb, h.opts.Now()) // its last counts still count
		}
		h.log.Info("router left the fleet", "router", hb.ID, "generation", hb.Installed)
		return h.Forget(ctx, hb.ID)
	}
	now := h.opts.Now()
	h.mu.Lock()
	h.routers[hb.ID] = seen{hb: hb, at: now}
	h.dirty[hb.ID] = store.Router{ID: hb.ID, Host: hb.Host, Listen: hb.Listen,
		Installed: hb.Installed, Drained: hb.Drained, Colors: colors, LastSeen: now.UTC()}
	close(h.acked)
	h.acked = make(chan struct{})
	h.mu.Unlock()
	if h.opts.Traffic != nil {
		h.opts.Traffic.heard(hb, now)
	}
	select {
	case h.persist <- struct{}{}:
	default:
	}
	return nil
}

// Forget removes a router from the registry: one gone for good, which
// would otherwise be named in every switch's answer.
func (h *Hub) Forget(ctx context.Context, id string) error {
	h.writeMu.Lock()
	defer h.writeMu.Unlock()
	if err := h.opts.Store.DeleteRouter(ctx, id); err != nil {
		return err
	}
	h.mu.Lock()
	delete(h.routers, id)
	delete(h.dirty, id)
	h.mu.Unlock()
	return nil
}

// InputError is a request the hub refuses as malformed.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

// validID checks a router's id: what people read in lists and type to
// forget it, so short and printable.
func validID(id string) error {
	if id == "" || len(id) > 128 {
		return &InputError{Msg: fmt.Sprintf("heartbeat: id: want 1 to 128 characters, got %d", len(id))}
	}
	for _, r := range id {
		if r <= ' ' || r == 0x7f || r == '/' {
			return &InputError{Msg: fmt.Sprintf("heartbeat: id %q: want printable characters, no spaces or slashes", id)}
		}
	}
	return nil
}
