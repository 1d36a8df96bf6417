package fleet

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/bascule/bascule/internal/router"
)

// Target is the data plane an Agent drives; *router.Router provides it.
type Target interface {
	Table() router.Table
	CheckTable(t router.Table) error
	Install(t router.Table)
	InFlight(addr string) int64
	Upgraded(addr string) int64
	Queued(addr string) int64
}

var _ Target = (*router.Router)(nil)

// configurable is a Target that takes the control plane's router settings
// (preview, cohort keys, concurrency limit); *router.Router is one.
type configurable interface {
	Settings() router.Settings
	Configure(router.Settings)
}

var _ configurable = (*router.Router)(nil)

// AgentOptions configure an Agent.
type AgentOptions struct {
	ID     string // unique in the fleet and stable across restarts
	Host   string // the machine, as people name it
	Listen string // the address production reaches it on
	Router Target
	// Path is where each table is persisted before it is installed, so a
	// restart serves it at once; "" does not persist (the control plane
	// of `bascule serve` persists the table itself).
	Path string
	// SettingsPath is where the control plane's router settings are
	// persisted before they are applied, for the same reason; "" does
	// not persist them.
	SettingsPath string
	// Counts are the router's per-color guard counters, reported in each
	// heartbeat for the control plane's guard; nil: none reported.
	Counts Counter
	Logger *slog.Logger // nil: discard
}

// Agent is a router's side of the protocol: it installs what it is given,
// drains, and says so.
type Agent struct {
	opts AgentOptions
	log  *slog.Logger
	poke chan struct{} // tells Report to send now
	boot bootID        // names this process's counters

	mu        sync.Mutex
	installed int64
	drained   int64
	pending   map[string]bool    // addresses still to drain
	stopDrain context.CancelFunc // the drain under way, if any
}

// NewAgent returns an agent for the table its router serves now (the one
// persisted before a restart, say), which counts as installed and drained.
func NewAgent(opts AgentOptions) *Agent {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	g := opts.Router.Table().Generation
	return &Agent{opts: opts, log: log, poke: make(chan struct{}, 1), boot: newBootID(), installed: g, drained: g}
}

// Apply makes u the router's table: persisted, installed, acknowledged,
// then drained in the background and acknowledged again. A generation
// already installed changes nothing; an older one is refused with an
// *OlderTableError, neither installed nor acknowledged. It returns an
// error, and persists and installs nothing, when the router would not
// serve the table exactly as sent (an unknown color, a split it cannot
// apply) or the table cannot be persisted: checked, persisted, installed,
// as the control plane does.
func (a *Agent) Apply(u Update) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.configure(u.Settings); err != nil {
		return err
	}
	// Persisted as the router will hold it, so that a restart serves the
	// same table.
	next := u.Table.Normalized()
	if next.Generation == a.installed {
		a.wake() // a reconnect: say where we stand
		return nil
	}
	if next.Generation < a.installed {
		// A control plane behind the fleet (one that lost its store, say)
		// must not move this router back.
		a.log.Warn("routing table refused: older than the one installed", "generation", next.Generation, "installed", a.installed)
		return &OlderTableError{Generation: next.Generation, Installed: a.installed}
	}
	if err := a.opts.Router.CheckTable(next); err != nil {
		return fmt.Errorf("install generation %d: %w", next.Generation, err)
	}
	if a.opts.Path != "" {
		if err := router.SaveTable(a.opts.Path, next); err != nil {
			return fmt.Errorf("install generation %d: %w", next.Generation, err)
		}
	}
	prev := a.opts.Router.Table()
	a.opts.Router.Install(next)
	a.installed = next.Generation
	a.pending = toDrain(a.pending, prev, next)
	if a.stopDrain != nil {
		a.stopDrain()
		a.stopDrain = nil
	}
	if len(a.pending) == 0 {
		a.drained = next.Generation
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), u.drainTimeout())
		a.stopDrain = cancel
		go a.drain(ctx, next.Generation, a.pending)
	}
	a.log.Info("routing table installed", "generation", next.Generation, "live", next.Live, "draining", len(a.pending))
	a.wake()
	return nil
}

// configure applies the control plane's router settings when they differ
// from the router's, persisted first. nil (a control plane that sends
// none) changes nothing.
func (a *Agent) configure(s *router.Settings) error {
	c, ok := a.opts.Router.(configurable)
	if s == nil || !ok || c.Settings().Equal(*s) {
		return nil
	}
	if a.opts.SettingsPath != "" {
		if err := SaveSettings(a.opts.SettingsPath, *s); err != nil {
			return err
		}
	}
	c.Configure(*s)
	a.log.Info("router settings applied", "preview", s.PreviewToken != "", "preview_hosts", s.PreviewHosts,
		"concurrency", s.Concurrency)
	return nil
}

// drain waits until nothing but upgraded connections (which may last for
// hours, and keep their color) is in flight to any of addrs, then records
// generation gen as drained, unless a newer one was installed meanwhile:
// that one's drain takes over what is left.
func (a *Agent) drain(ctx context.Context, gen int64, addrs map[string]bool) {
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !a.empty(addrs) {
		select {
		case <-ctx.Done():
			a.mu.Lock()
			if ctx.Err() == context.DeadlineExceeded && a.installed == gen {
				// Give up on what is stuck, so the next generation's
				// drain does not wait for it too; gen stays unacknowledged.
				a.log.Warn("drain timed out: requests still in flight", "generation", gen)
				a.pending = nil
			}
			a.mu.Unlock()
			return
		case <-tick.C:
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.installed == gen {
		a.drained, a.pending = gen, nil
		a.wake()
	}
}

func (a *Agent) empty(addrs map[string]bool) bool {
	for addr := range addrs {
		if a.opts.Router.InFlight(addr)-a.opts.Router.Upgraded(addr) > 0 {
			return false
		}
	}
	return true
}

func (a *Agent) wake() {
	select {
	case a.poke <- struct{}{}:
	default:
	}
}

// State is the heartbeat the agent would send now.
func (a *Agent) State() Heartbeat {
	a.mu.Lock()
	installed, drained := a.installed, a.drained
	a.mu.Unlock()
	return Heartbeat{ID: a.opts.ID, Host: a.opts.Host, Listen: a.opts.Listen, Installed: installed, Drained: drained,
		Colors: loads(a.opts.Router.Table(), a.opts.Router), Traffic: a.traffic()}
}

// Report sends the agent's state through send every interval, and at once
// after each install and drain, until ctx ends. A failed send is retried
// at the next beat with the state of then: acknowledgements are states,
// not messages, so none is lost by a partition.
func (a *Agent) Report(ctx context.Context, interval time.Duration, send func(context.Context, Heartbeat) error) {
	if interval <= 0 {
		interval = DefaultInterval
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	failing := false
	for {
		// Two intervals: a slow answer is still worth having, and a
		// third missed beat would make the router stale anyway.
		sctx, cancel := context.WithTimeout(ctx, 2*interval)
		err := send(sctx, a.State())
		cancel()
		switch {
		case err != nil && !failing && ctx.Err() == nil:
			a.log.Warn("heartbeat not delivered; retrying every interval", "err", err)
			failing = true
		case err == nil && failing:
			a.log.Info("heartbeat delivered again")
			failing = false
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-a.poke:
		}
	}
}

// OlderTableError is a table refused because its generation is older than
// the one the router serves. Generations only grow in the store, so a
// control plane that sends one is behind; an operator who truly reset
// everything starts the routers afresh (their data directories emptied),
// or lets the control plane start above the generations the routers
// report (see docs/adr/0015-shared-routing-state.md).
type OlderTableError struct {
	Generation, Installed int64
}

func (e *OlderTableError) Error() string {
	return fmt.Sprintf("routing table of generation %d refused: generation %d, newer, is installed", e.Generation, e.Installed)
}
