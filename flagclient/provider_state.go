package flagclient

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"

	"github.com/open-feature/go-sdk/openfeature"

	"github.com/bascule/bascule/feature"
)

// Init waits until the client holds a snapshot; see InitWithContext.
func (p *Provider) Init(ec openfeature.EvaluationContext) error {
	return p.InitWithContext(context.Background(), ec)
}

// InitWithContext waits until the client holds a snapshot (from the server or
// its cache file), or until ctx ends. In the second case the SDK marks the
// provider as in error, and a PROVIDER_READY event follows once the client
// gets its first snapshot.
func (p *Provider) InitWithContext(ctx context.Context, _ openfeature.EvaluationContext) error {
	p.shutdown.Store(false)
	select {
	case <-p.c.Ready():
		return nil
	case <-p.c.done:
		return fmt.Errorf("initialize bascule provider: client closed before its first snapshot")
	case <-ctx.Done():
		p.initFailed.Store(true)
		// Readiness may have come in between; announce it rather than lose it.
		select {
		case <-p.c.Ready():
			if p.initFailed.CompareAndSwap(true, false) {
				p.emit(openfeature.ProviderReady, "flag snapshot received", nil, p.c.Version())
			}
		default:
		}
		return fmt.Errorf("initialize bascule provider: %w", context.Cause(ctx))
	}
}

// Shutdown stops the provider's events. It does not close the client.
func (p *Provider) Shutdown() { p.shutdown.Store(true) }

// ShutdownWithContext is Shutdown; it does not block.
func (p *Provider) ShutdownWithContext(context.Context) error {
	p.Shutdown()
	return nil
}

// EventChannel returns the provider's events for the SDK.
func (p *Provider) EventChannel() <-chan openfeature.Event { return p.events }

// changed is the client's OnChange callback.
func (p *Provider) changed(version int64) {
	cur := p.c.snap.Load()
	prev := p.last.Swap(cur)
	if p.initFailed.CompareAndSwap(true, false) {
		p.emit(openfeature.ProviderReady, "flag snapshot received", nil, version)
	}
	p.emit(openfeature.ProviderConfigChange, fmt.Sprintf("flag snapshot version %d", version), changedFlags(prev, cur), version)
}

// emit sends an event without ever blocking the client's sync goroutine.
func (p *Provider) emit(t openfeature.EventType, msg string, flags []string, version int64) {
	if p.shutdown.Load() {
		return
	}
	ev := openfeature.Event{
		ProviderName: ProviderName,
		EventType:    t,
		ProviderEventDetails: openfeature.ProviderEventDetails{
			Message:       msg,
			FlagChanges:   flags,
			EventMetadata: map[string]any{"version": version},
		},
	}
	select {
	case p.events <- ev:
	default:
		p.c.log.Debug("openfeature event dropped: the SDK has not taken the previous ones", "type", t)
	}
}

// changedFlags lists the keys of flags whose evaluation may differ between
// two snapshots: flags added, removed or changed, and flags whose rules use a
// segment that changed. The server keeps a flag's UpdatedAt unless the flag
// changed, so comparing whole flags compares what they serve.
func changedFlags(prev, cur *feature.Snapshot) []string {
	if prev == nil {
		prev = &feature.Snapshot{}
	}
	keys := changedKeys(prev.Flags, cur.Flags)
	segs := changedKeys(prev.Segments, cur.Segments)
	if len(segs) > 0 {
		for k, f := range cur.Flags {
			for _, r := range f.Rules {
				if segs[r.Segment] {
					keys[k] = true
				}
			}
		}
	}
	return slices.Sorted(maps.Keys(keys))
}

// changedKeys returns the keys present in only one of a and b, or in both
// with different contents.
func changedKeys[T any](a, b map[string]*T) map[string]bool {
	out := map[string]bool{}
	for k, x := range a {
		if y, ok := b[k]; !ok || !reflect.DeepEqual(x, y) {
			out[k] = true
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out[k] = true
		}
	}
	return out
}
