package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Lease is who leads the control plane when several bascule instances
// share one store: the holder runs pipelines, go-live, rollback, finalize,
// the guard and the webhooks; the others serve reads and forward changes
// to URL.
type Lease struct {
	Name   string `json:"name"`   // which lease; bascule has one, LeaseControl
	Holder string `json:"holder"` // the instance that holds it
	URL    string `json:"url"`    // where the holder's control plane answers
	// Token is the fencing token: it grows by one at each takeover, never
	// at a renewal, and every write the leader makes carries it.
	Token      int64     `json:"token"`
	AcquiredAt time.Time `json:"acquired_at"` // when the holder took it (its term began)
	RenewedAt  time.Time `json:"renewed_at"`
	ExpiresAt  time.Time `json:"expires_at"` // by the database's clock
	// Remaining is how long the lease had to run when it was read, by the
	// database's clock: the only clock every instance shares. Zero or less
	// means expired, and anyone may take it.
	Remaining time.Duration `json:"-"`
}

// LeaseControl names the control plane's lease.
const LeaseControl = "control"

// Leases keeps leases with fencing tokens. Every operation reads the time
// from the database, so that instances whose clocks disagree still agree
// on whether a lease has expired.
type Leases interface {
	// AcquireLease takes the lease for holder, for ttl, when nobody holds it
	// or it has expired (whoever held it, holder itself included: that is a
	// new term), with a token one above the last, and reports taken.
	// Otherwise it changes nothing and returns the lease as it stands.
	AcquireLease(ctx context.Context, name, holder, url string, ttl time.Duration) (l Lease, taken bool, err error)
	// RenewLease extends holder's lease by ttl from now if holder still
	// holds it with that token and it has not expired. It returns
	// ErrLeaseLost otherwise: the term is over.
	RenewLease(ctx context.Context, name, holder string, token int64, ttl time.Duration) (Lease, error)
	// ReleaseLease ends holder's term at once (a clean shutdown), so that
	// another instance need not wait for the ttl. Releasing a lease that
	// holder no longer holds changes nothing and is not an error.
	ReleaseLease(ctx context.Context, name, holder string, token int64) error
	// CurrentLease returns the lease as it stands, or ErrNotFound if it was
	// never taken.
	CurrentLease(ctx context.Context, name string) (Lease, error)
}

// ErrLeaseLost is returned by RenewLease when the term it would extend is
// over.
var ErrLeaseLost = errors.New("lease lost")

// Fence is what a leader's write carries: the lease it holds and the token
// of its term.
type Fence struct {
	Lease string
	Token int64
}

type fenceKey struct{}

// WithFence returns ctx whose writes are fenced: a store that shares
// leases (PostgreSQL) makes each write it does under ctx in a transaction
// that first locks the lease row and refuses to go on, with a
// *FencedError, unless the lease still has f's token. The lock holds until
// the write commits, so a takeover waits for the write to end, and every
// write of a deposed leader after it is refused. A store with one instance
// only (SQLite) has nothing to fence and ignores it.
func WithFence(ctx context.Context, f Fence) context.Context {
	return context.WithValue(ctx, fenceKey{}, f)
}

// FenceFrom returns what WithFence put in ctx.
func FenceFrom(ctx context.Context) (Fence, bool) {
	f, ok := ctx.Value(fenceKey{}).(Fence)
	return f, ok
}

// ErrFenced is what a FencedError is: errors.Is(err, ErrFenced) tells a
// write refused because its instance no longer leads.
var ErrFenced = errors.New("fenced: this instance no longer leads the control plane")

// FencedError is a write refused because the fencing token it carried is
// not the lease's any more: another instance took over.
type FencedError struct {
	Lease   string
	Token   int64 // the writer's
	Current int64 // the lease's now; 0 if it was never taken
}

func (e *FencedError) Error() string {
	return fmt.Sprintf("fenced: write with token %d of lease %q refused, the lease has token %d: another instance leads now",
		e.Token, e.Lease, e.Current)
}

// Is makes errors.Is(err, ErrFenced) true.
func (e *FencedError) Is(target error) bool { return target == ErrFenced }
