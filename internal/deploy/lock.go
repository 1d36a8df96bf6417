package deploy

import (
	"context"
	"time"
)

// switchLock is a mutex that can also be waited for with a deadline or a
// context: a buffered channel of one, full while held. Waiting is a
// select, not a poll.
type switchLock chan struct{}

func newSwitchLock() switchLock { return make(switchLock, 1) }

// Lock waits for the lock.
func (l switchLock) Lock() { l <- struct{}{} }

// Unlock releases the lock; it must be held.
func (l switchLock) Unlock() { <-l }

// TryLock takes the lock if it is free, at once.
func (l switchLock) TryLock() bool {
	select {
	case l <- struct{}{}:
		return true
	default:
		return false
	}
}

// LockContext waits for the lock until ctx is done; it reports whether it
// holds it.
func (l switchLock) LockContext(ctx context.Context) bool {
	select {
	case l <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

// LockWithin waits for the lock for at most d, or until ctx is done.
func (l switchLock) LockWithin(ctx context.Context, d time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return l.LockContext(ctx)
}
