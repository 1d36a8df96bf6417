package leader_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/leader"
	"github.com/bascule/bascule/internal/pgtest"
	"github.com/bascule/bascule/internal/store"
	"github.com/bascule/bascule/internal/store/postgres"
)

var pg pgtest.Shared

func TestMain(m *testing.M) { os.Exit(pg.Run(m)) }

func openStore(t *testing.T) *postgres.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := postgres.Open(ctx, pg.NewDatabase(t))
	if err != nil {
		t.Fatalf("postgres.Open = %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// partition stands between one elector and the real store: once cut, every
// call fails as if the network to the database were down, the way an
// instance that froze or lost its network looks to the others. It is the
// only stand-in here; the store behind it is a real PostgreSQL.
type partition struct {
	store.Leases
	cut atomic.Bool
}

var errCut = errors.New("partition: database unreachable")

func (p *partition) AcquireLease(ctx context.Context, name, holder, url string, ttl time.Duration) (store.Lease, bool, error) {
	if p.cut.Load() {
		return store.Lease{}, false, errCut
	}
	return p.Leases.AcquireLease(ctx, name, holder, url, ttl)
}

func (p *partition) RenewLease(ctx context.Context, name, holder string, token int64, ttl time.Duration) (store.Lease, error) {
	if p.cut.Load() {
		return store.Lease{}, errCut
	}
	return p.Leases.RenewLease(ctx, name, holder, token, ttl)
}

func (p *partition) ReleaseLease(ctx context.Context, name, holder string, token int64) error {
	if p.cut.Load() {
		return errCut
	}
	return p.Leases.ReleaseLease(ctx, name, holder, token)
}

// instance is one elector running as bascule runs it, recording its terms.
type instance struct {
	e     *leader.Elector
	link  *partition
	stop  context.CancelFunc
	done  chan struct{}
	mu    sync.Mutex
	terms []term
}

type term struct {
	token int64
	fence store.Fence
	ended chan struct{} // closed when the term's context ended
}

func start(t *testing.T, db store.Leases, name string, ttl time.Duration) *instance {
	t.Helper()
	in := &instance{link: &partition{Leases: db}, done: make(chan struct{})}
	in.e = leader.New(leader.Options{Leases: in.link, Holder: name, URL: "http://" + name, TTL: ttl})
	ctx, cancel := context.WithCancel(context.Background())
	in.stop = cancel
	go func() {
		defer close(in.done)
		in.e.Run(ctx, func(ctx context.Context) {
			f, _ := store.FenceFrom(ctx)
			tm := term{token: f.Token, fence: f, ended: make(chan struct{})}
			in.mu.Lock()
			in.terms = append(in.terms, tm)
			in.mu.Unlock()
			<-ctx.Done()
			close(tm.ended)
		})
	}()
	t.Cleanup(func() { in.close() })
	return in
}

func (in *instance) close() {
	in.stop()
	<-in.done
}

func (in *instance) lastTerm() (term, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.terms) == 0 {
		return term{}, false
	}
	return in.terms[len(in.terms)-1], true
}

// waitTerm waits until in's lead function has recorded its term: the
// elector says it leads, and settles, just before it calls lead.
func waitTerm(t *testing.T, in *instance, within time.Duration) term {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if tm, ok := in.lastTerm(); ok {
			return tm
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s's lead was not called within %s", in.e.Holder(), within)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitLeading waits until in leads, and returns its token.
func waitLeading(t *testing.T, in *instance, within time.Duration) int64 {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if tok, ok := in.e.Leading(); ok {
			return tok
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not lead within %s", in.e.Holder(), within)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestFirstInstanceLeadsAndCarriesItsFence(t *testing.T) {
	db := openStore(t)
	a := start(t, db, "a", time.Second)
	tok := waitLeading(t, a, 5*time.Second)
	tm := waitTerm(t, a, 5*time.Second)
	if tm.fence != (store.Fence{Lease: store.LeaseControl, Token: tok}) {
		t.Fatalf("lead's context carries fence %+v, want the lease's with token %d", tm.fence, tok)
	}
	l, err := a.e.Current(context.Background())
	if err != nil || l.Holder != "a" || l.URL != "http://a" || l.Token != tok {
		t.Fatalf("Current = %+v, %v; want held by a at http://a with token %d", l, err, tok)
	}
}

func TestRenewalKeepsLeadership(t *testing.T) {
	db := openStore(t)
	ttl := 600 * time.Millisecond
	a := start(t, db, "a", ttl)
	tok := waitLeading(t, a, 5*time.Second)
	b := start(t, db, "b", ttl)
	<-b.e.Settled()
	// Five times the TTL: the lease would have expired four times over
	// without renewals.
	end := time.Now().Add(5 * ttl)
	for time.Now().Before(end) {
		if got, ok := a.e.Leading(); !ok || got != tok {
			t.Fatalf("a.Leading() = %d, %v during renewals; want %d, true", got, ok, tok)
		}
		if _, ok := b.e.Leading(); ok {
			t.Fatal("b leads while a renews its lease")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestTakeoverAfterTTLWithAHigherToken(t *testing.T) {
	db := openStore(t)
	ttl := time.Second
	a := start(t, db, "a", ttl)
	tokA := waitLeading(t, a, 5*time.Second)
	b := start(t, db, "b", ttl)
	<-b.e.Settled()
	tmA := waitTerm(t, a, 5*time.Second)

	a.link.cut.Store(true) // a froze: no renewal, no release
	cut := time.Now()
	tokB := waitLeading(t, b, 3*ttl)
	took := time.Since(cut)
	t.Logf("takeover %s after the leader stopped renewing (TTL %s)", took.Round(time.Millisecond), ttl)
	if took > ttl+ttl/2 {
		t.Errorf("takeover took %s; want within the TTL (%s) and a retry", took, ttl)
	}
	if tokB <= tokA {
		t.Errorf("new leader's token %d, want above the old one's %d", tokB, tokA)
	}
	select {
	case <-tmA.ended:
	case <-time.After(ttl):
		t.Fatal("the deposed leader's term context was not cancelled")
	}
	if _, ok := a.e.Leading(); ok {
		t.Error("a still says it leads after b took over")
	}
	// a comes back: it follows, and takes over again only when b stops.
	a.link.cut.Store(false)
	b.close()
	tokA2 := waitLeading(t, a, 3*ttl)
	if tokA2 <= tokB {
		t.Errorf("a's new term has token %d, want above %d", tokA2, tokB)
	}
}

func TestStopReleasesTheLeaseAtOnce(t *testing.T) {
	db := openStore(t)
	ttl := 5 * time.Second
	a := start(t, db, "a", ttl)
	waitLeading(t, a, 5*time.Second)
	b := start(t, db, "b", ttl)
	<-b.e.Settled()
	a.close()
	stopped := time.Now()
	waitLeading(t, b, ttl)
	if took := time.Since(stopped); took > ttl/2 {
		t.Errorf("takeover after a clean stop took %s; want well under the TTL (%s): the lease is released", took, ttl)
	}
}

// TestNeverTwoLeaders runs three electors with a short TTL and freezes the
// leader again and again, checking in a tight loop that no two ever say
// they lead at once (all three observed at one instant), and that each
// new term has a higher token.
func TestNeverTwoLeaders(t *testing.T) {
	db := openStore(t)
	ttl := 300 * time.Millisecond
	ins := []*instance{start(t, db, "a", ttl), start(t, db, "b", ttl), start(t, db, "c", ttl)}
	end := time.Now().Add(4 * time.Second)
	var lastToken int64
	takeovers := 0
	var frozen *instance
	frozenAt := time.Now()
	electors := make([]*leader.Elector, len(ins))
	for i, in := range ins {
		electors[i] = in.e
	}
	for time.Now().Before(end) {
		var leaders []string
		for i, tok := range leader.LeadersAtOnce(electors) {
			if in := ins[i]; tok != 0 {
				leaders = append(leaders, fmt.Sprintf("%s(token %d)", in.e.Holder(), tok))
				if tok < lastToken {
					t.Fatalf("%s leads with token %d after token %d was given", in.e.Holder(), tok, lastToken)
				}
				if tok > lastToken {
					lastToken = tok
					takeovers++
					// Freeze the new leader, thaw the one frozen before.
					if frozen != nil {
						frozen.link.cut.Store(false)
					}
					frozen, frozenAt = in, time.Now()
					go func() {
						time.Sleep(ttl / 2)
						in.link.cut.Store(true)
					}()
				}
			}
		}
		if len(leaders) > 1 {
			t.Fatalf("two leaders at once: %v", leaders)
		}
		if frozen != nil && time.Since(frozenAt) > 5*ttl {
			t.Fatalf("no takeover %s after %s froze", time.Since(frozenAt), frozen.e.Holder())
		}
	}
	if takeovers < 3 {
		t.Errorf("%d terms in 4s; want several takeovers to have been checked", takeovers)
	}
}
