package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/store"
)

// fenceTTL is the lease the first leader of a fencing test takes, short
// so that the test's second leader soon takes over.
const fenceTTL = 100 * time.Millisecond

// leads takes the free control lease for holder, for ttl, and returns it
// with the context its writes carry.
func leads(t *testing.T, leases store.Leases, holder string, ttl time.Duration) (store.Lease, context.Context) {
	t.Helper()
	l, taken, err := leases.AcquireLease(context.Background(), store.LeaseControl, holder, "http://"+holder, ttl)
	if err != nil || !taken {
		t.Fatalf("AcquireLease(%s) = %+v, %v, %v", holder, l, taken, err)
	}
	return l, store.WithFence(context.Background(), store.Fence{Lease: store.LeaseControl, Token: l.Token})
}

// takesOver waits until holder takes the control lease, for a minute,
// once the current one expires, and returns it with the context its
// writes carry.
func takesOver(t *testing.T, leases store.Leases, holder string) (store.Lease, context.Context) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		l, taken, err := leases.AcquireLease(context.Background(), store.LeaseControl, holder, "http://"+holder, time.Minute)
		if err != nil {
			t.Fatalf("AcquireLease(%s) = %v", holder, err)
		}
		if taken && l.Holder == holder {
			return l, store.WithFence(context.Background(), store.Fence{Lease: store.LeaseControl, Token: l.Token})
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s could not take the expired lease within 10s", holder)
		}
		time.Sleep(fenceTTL / 4)
	}
}
