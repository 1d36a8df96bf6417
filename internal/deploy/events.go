package deploy

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/bascule/bascule/internal/store"
)

// broker fans deployment updates out to subscribers (SSE streams, the CLI,
// tests). A slow subscriber loses intermediate updates, never the latest:
// each update carries the whole deployment.
type broker struct {
	mu   sync.Mutex
	subs map[int64]map[chan store.Deployment]struct{}
}

func newBroker() *broker {
	return &broker{subs: map[int64]map[chan store.Deployment]struct{}{}}
}

func (b *broker) subscribe(id int64) (<-chan store.Deployment, func()) {
	ch := make(chan store.Deployment, 1)
	b.mu.Lock()
	if b.subs[id] == nil {
		b.subs[id] = map[chan store.Deployment]struct{}{}
	}
	b.subs[id][ch] = struct{}{}
	b.mu.Unlock()
	return ch, func() {
		b.mu.Lock()
		delete(b.subs[id], ch)
		if len(b.subs[id]) == 0 {
			delete(b.subs, id)
		}
		b.mu.Unlock()
	}
}

func (b *broker) publish(d store.Deployment) {
	// The pipeline keeps appending to and ending its steps in place, so
	// subscribers get their own copy of them, not a view of its array.
	d.Steps = slices.Clone(d.Steps)
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs[d.ID] {
		select {
		case <-ch: // drop the stale update, keep the newest
		default:
		}
		ch <- d
	}
}

// Subscribe returns a channel of updates to deployment id and a function
// that ends the subscription. Read the deployment once after subscribing to
// not miss an update made in between.
//
// On an instance that shares its store and does not lead, the pipeline
// runs elsewhere: the updates come from reading the store every
// followPoll.
func (s *Service) Subscribe(id int64) (<-chan store.Deployment, func()) {
	ch, cancel := s.events.subscribe(id)
	if !s.opts.Standby {
		return ch, cancel
	}
	ctx, stop := context.WithCancel(context.Background())
	var last time.Time
	if d, err := s.opts.Store.Deployment(ctx, id); err == nil {
		last = d.UpdatedAt
	}
	go s.followStore(ctx, id, last)
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			stop()
			cancel()
		})
	}
}

// followPoll is how often a follower reads a deployment it streams.
const followPoll = 250 * time.Millisecond

// followStore publishes deployment id each time the store has a newer
// version of it, while this instance does not lead, until ctx ends.
func (s *Service) followStore(ctx context.Context, id int64, last time.Time) {
	t := time.NewTicker(followPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if s.Leading() {
			continue // the pipeline publishes here
		}
		d, err := s.opts.Store.Deployment(ctx, id)
		if err != nil || d.UpdatedAt.Equal(last) {
			continue
		}
		last = d.UpdatedAt
		s.events.publish(d)
	}
}
