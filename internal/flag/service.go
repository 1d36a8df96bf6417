package flag

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bascule/bascule/internal/store"

	"github.com/bascule/bascule/feature"
)

// Store is what a Service persists: the versions of the configuration and
// the audit log.
type Store interface {
	store.Flags
	store.Audit
}

// ServiceOptions configure a Service. Store is required; the zero value of
// every other field works.
type ServiceOptions struct {
	Store  Store
	Logger *slog.Logger     // nil: discard
	Now    func() time.Time // nil: time.Now; stamps changes and judges staleness
}

// Service holds the current snapshot for evaluation and changes it. Readers
// (Snapshot, Current) take no lock: the snapshot sits behind an atomic
// pointer and is replaced whole. A change is validated as a whole new
// snapshot before anything is written, written as a new version, and only
// then served, so a refused or failed change leaves nothing behind.
//
// Changes made through one Service are serialised. Two bascule instances
// sharing a store are kept apart by the store's optimistic version check.
type Service struct {
	opts   ServiceOptions
	log    *slog.Logger
	state  atomic.Pointer[serviceState]
	mu     sync.Mutex // serialises changes and reloads
	counts evalCounts
	closed chan struct{}
	close  sync.Once
}

// serviceState is one served version and the channel that is closed when a
// newer one replaces it, which is how streams learn of changes.
type serviceState struct {
	snap     *Snapshot
	wire     []byte
	at       time.Time
	replaced chan struct{}
}

// Served is one version as it is served.
type Served struct {
	Snapshot *Snapshot
	// JSON is the snapshot's Wire JSON, on one line, encoded once for every
	// client of the version. It is shared: do not modify it.
	JSON []byte
	// At is when the version was written; zero for the empty version 0.
	At time.Time
	// Replaced is closed as soon as a newer version replaces this one.
	Replaced <-chan struct{}
}

// NewService loads the latest version from the store (an empty, version 0
// configuration when there is none) and returns a Service serving it.
func NewService(ctx context.Context, opts ServiceOptions) (*Service, error) {
	s := &Service{opts: opts, log: opts.Logger, closed: make(chan struct{})}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.opts.Now == nil {
		s.opts.Now = time.Now
	}
	if err := s.reload(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Snapshot returns the snapshot being served; it is never nil. It makes the
// Service a SnapshotSource for the OFREP handler.
func (s *Service) Snapshot() *Snapshot { return s.state.Load().snap }

// Current returns the version being served.
func (s *Service) Current() Served {
	st := s.state.Load()
	return Served{Snapshot: st.snap, JSON: st.wire, At: st.at, Replaced: st.replaced}
}

// Close tells streams following the Service to end (see Closed), so that
// a server shutting down is not held open by its subscribers. The Service
// still serves and changes flags.
func (s *Service) Close() { s.close.Do(func() { close(s.closed) }) }

// Closed is closed by Close.
func (s *Service) Closed() <-chan struct{} { return s.closed }

// Refresh serves the store's latest version if it is newer than the one
// served: another bascule instance sharing the store changed the flags.
func (s *Service) Refresh(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reload(ctx)
}

// reload reads the latest version; the caller holds mu, or is NewService.
func (s *Service) reload(ctx context.Context) error {
	v, err := s.opts.Store.LatestFlags(ctx)
	if errors.Is(err, store.ErrNotFound) {
		if s.state.Load() != nil {
			return nil
		}
		empty, _ := feature.NewSnapshot(0, nil, nil)
		wire, err := json.Marshal(empty)
		if err != nil {
			return fmt.Errorf("encode flags: %w", err)
		}
		s.install(empty, wire, time.Time{})
		return nil
	}
	if err != nil {
		return fmt.Errorf("load flags: %w", err)
	}
	if cur := s.state.Load(); cur != nil && cur.snap.Version >= v.Version {
		return nil
	}
	snap, err := feature.DecodeSnapshot(v.Doc)
	if err != nil {
		return fmt.Errorf("load flags version %d: %w", v.Version, err)
	}
	if snap.Version != v.Version {
		return fmt.Errorf("load flags version %d: the document says version %d", v.Version, snap.Version)
	}
	s.install(snap, v.Doc, v.CreatedAt)
	return nil
}

// install serves snap, whose Wire JSON is wire, written at, and wakes
// everyone waiting for a change.
func (s *Service) install(snap *Snapshot, wire []byte, at time.Time) {
	s.counts.track(snap)
	old := s.state.Swap(&serviceState{snap: snap, wire: wire, at: at, replaced: make(chan struct{})})
	if old != nil {
		close(old.replaced)
	}
}

// Edit describes a change for Update.
type Edit struct {
	Actor  string // who asks, as the audit log names them
	Action string // audit action, e.g. "flag.enable"
	Target string // audit target, e.g. the flag key
	// IfVersion, when set, refuses the change with a *ConflictError unless
	// the version served is this one: the caller's view is stale. Without
	// it a change that loses a race with another instance is redone on the
	// newer version, as a change that does not depend on what it read.
	IfVersion *int64
	// DryRun validates and diffs the change without making it.
	DryRun bool
}

// Outcome is what Update did.
type Outcome struct {
	// Version is the version served after the call: the new one when the
	// change was applied, else the one the change was compared with.
	Version int64 `json:"version"`
	// Applied is false for a dry run and for a change that changes nothing.
	Applied bool `json:"applied"`
	// Changes lists each flag or segment changed, as Change.String.
	Changes []string `json:"changes"`
}

// ConflictError says the flags changed since the version a caller based its
// change on. It matches store.ErrConflict with errors.Is.
type ConflictError struct {
	Base    int64 // the version the change was based on
	Current int64 // the version now served
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("the flags changed since version %d (now version %d): reload and make the change again", e.Base, e.Current)
}

// Unwrap makes errors.Is(err, store.ErrConflict) true.
func (e *ConflictError) Unwrap() error { return store.ErrConflict }

// maxAttempts bounds how often a change without IfVersion is redone after
// losing a race with another instance.
const maxAttempts = 3

// Update applies edit to a copy of the configuration, validates the result
// as a whole (a *ValidationError lists every problem), writes it as the next
// version, serves it and records it in the audit log. A change that changes
// nothing writes nothing. Errors returned by edit are returned as they are.
func (s *Service) Update(ctx context.Context, e Edit, edit func(*Draft) error) (Outcome, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for attempt := 1; ; attempt++ {
		out, err := s.update(ctx, e, edit)
		var ce *ConflictError
		if !errors.As(err, &ce) || e.IfVersion != nil || attempt == maxAttempts {
			if err != nil && !e.DryRun {
				s.audit(ctx, e, "refused", err.Error())
			}
			return out, err
		}
	}
}

func (s *Service) update(ctx context.Context, e Edit, edit func(*Draft) error) (Outcome, error) {
	cur := s.Snapshot()
	out := Outcome{Version: cur.Version, Changes: []string{}}
	if e.IfVersion != nil && *e.IfVersion != cur.Version {
		return out, &ConflictError{Base: *e.IfVersion, Current: cur.Version}
	}
	d := newDraft(cur)
	if err := edit(d); err != nil {
		return out, err
	}
	next, err := d.snapshot(cur.Version + 1)
	if err != nil {
		return out, err
	}
	changes := Diff(cur, next)
	for _, c := range changes {
		out.Changes = append(out.Changes, c.String())
	}
	if len(changes) == 0 || e.DryRun {
		return out, nil
	}
	now := s.opts.Now().UTC()
	stamp(cur, next, now)
	wire, err := s.save(ctx, e, next, out.Changes, now)
	if err != nil {
		return out, err
	}
	s.install(next, wire, now)
	s.audit(ctx, e, "ok", fmt.Sprintf("version %d → %d\n%s", cur.Version, next.Version, strings.Join(out.Changes, "\n")))
	out.Version, out.Applied = next.Version, true
	return out, nil
}

// save writes next as the version after the one served. When another
// instance wrote first, it catches up with the store and reports a conflict.
// It returns the Wire JSON written.
func (s *Service) save(ctx context.Context, e Edit, next *Snapshot, changes []string, now time.Time) ([]byte, error) {
	doc, err := json.Marshal(next)
	if err != nil {
		return nil, fmt.Errorf("encode flags: %w", err)
	}
	base := next.Version - 1
	err = s.opts.Store.PutFlags(ctx, base, store.FlagVersion{Version: next.Version, Doc: doc,
		Actor: e.Actor, Summary: strings.Join(changes, "\n"), CreatedAt: now})
	if errors.Is(err, store.ErrConflict) {
		if rerr := s.reload(ctx); rerr != nil {
			return nil, fmt.Errorf("save flags: %w (and reload: %v)", err, rerr)
		}
		return nil, &ConflictError{Base: base, Current: s.Snapshot().Version}
	}
	if err != nil {
		return nil, fmt.Errorf("save flags: %w", err)
	}
	return doc, nil
}

// stamp sets the store-managed times of next's flags: kept from cur for a
// flag that did not change, so that UpdatedAt says since when a flag has
// served what it serves (see Stale).
func stamp(cur, next *Snapshot, now time.Time) {
	for k, f := range next.Flags {
		old, ok := cur.Flags[k]
		switch {
		case !ok:
			f.CreatedAt, f.UpdatedAt = now, now
		case len(diffFlag(old, f)) > 0:
			f.CreatedAt, f.UpdatedAt = old.CreatedAt, now
		default:
			f.CreatedAt, f.UpdatedAt = old.CreatedAt, old.UpdatedAt
		}
	}
}

func (s *Service) audit(ctx context.Context, e Edit, outcome, detail string) {
	entry := &store.AuditEntry{At: s.opts.Now().UTC(), Actor: e.Actor, Action: e.Action, Target: e.Target,
		Outcome: outcome, Detail: detail}
	if err := s.opts.Store.AppendAudit(ctx, entry); err != nil {
		s.log.Error("append audit", "action", e.Action, "target", e.Target, "err", err)
	}
}

// History returns the versions that changed the flag key, newest first, at
// most limit.
func (s *Service) History(ctx context.Context, key string, limit int) ([]store.FlagVersion, error) {
	list, err := s.opts.Store.FlagHistory(ctx, HistoryMention(key), limit)
	if err != nil {
		return nil, fmt.Errorf("flag %q history: %w", key, err)
	}
	return list, nil
}

// HistoryMention is how a version's summary names a change to the flag key
// (see Change.String).
func HistoryMention(key string) string { return fmt.Sprintf("flag %q", key) }

// Stale lists the release flags ready to remove as of the Service's clock.
func (s *Service) Stale() []StaleFlag { return Stale(s.Snapshot(), s.opts.Now()) }

// Observe counts one evaluation result for EvalCounts. It takes no lock and
// does not allocate, so it can run on every evaluation (OFREPOptions.Observe).
func (s *Service) Observe(r Result) { s.counts.observe(r) }

// EvalCounts calls fn with the number of evaluations of each flag and
// variant since start, in key order; see EvalCount.
func (s *Service) EvalCounts(fn func(EvalCount)) { s.counts.each(fn) }
