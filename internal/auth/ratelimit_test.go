package auth_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/auth"
	"github.com/google/go-cmp/cmp"
)

func TestLimiterBlocksAfterMaxFailures(t *testing.T) {
	clk := newClock()
	l := auth.NewLimiter(auth.Limit{}, 0, clk.Now) // defaults: 5 per 15 minutes
	for i := 0; i < 5; i++ {
		if _, ok := l.Check("alice"); !ok {
			t.Fatalf("Check(alice) after %d failures = blocked, want allowed", i)
		}
		l.Fail("alice")
		clk.Advance(time.Minute)
	}
	wait, ok := l.Check("alice")
	if ok || wait != 10*time.Minute {
		t.Fatalf("Check(alice) after 5 failures in 5 min = %v, %v; want blocked for 10m (15m after the first)", wait, ok)
	}
	if _, ok := l.Check("bob"); !ok {
		t.Errorf("Check(bob) = blocked by alice's failures")
	}
	clk.Advance(10 * time.Minute)
	if _, ok := l.Check("alice"); !ok {
		t.Errorf("Check(alice) 15 min after the first failure = blocked, want one more try")
	}
	l.Fail("alice")
	if wait, ok := l.Check("alice"); ok || wait != time.Minute {
		t.Errorf("Check(alice) after a 6th failure = %v, %v; want blocked until the 2nd failure expires (1m)", wait, ok)
	}
	l.Reset("alice")
	if _, ok := l.Check("alice"); !ok {
		t.Errorf("Check(alice) after Reset = blocked")
	}
}

// TestLimiterIsBounded: a flood of made-up names cannot grow the map past
// its bound, expired keys are dropped, and the newest failures are kept.
func TestLimiterIsBounded(t *testing.T) {
	clk := newClock()
	l := auth.NewLimiter(auth.Limit{Max: 2, Window: time.Minute}, 100, clk.Now)
	for i := 0; i < 1000; i++ {
		l.Fail(fmt.Sprintf("user%d", i))
		clk.Advance(time.Millisecond)
	}
	if n := l.Len(); n > 100 {
		t.Errorf("Len after 1000 distinct keys = %d, want at most 100", n)
	}
	l.Fail("user999")
	if _, ok := l.Check("user999"); ok {
		t.Errorf("Check(user999) after 2 failures = allowed: the newest key was evicted")
	}
	clk.Advance(2 * time.Minute)
	l.Fail("late")
	if n := l.Len(); n > 100 {
		t.Errorf("Len = %d, want at most 100", n)
	}
	for i := 0; i < 99; i++ { // the map is full of expired keys: they go first
		l.Fail(fmt.Sprintf("new%d", i))
	}
	if _, ok := l.Check("late"); !ok {
		// "late" has one failure of two: allowed, but it must still be counted.
		t.Errorf("Check(late) = blocked after one failure")
	}
	l.Fail("late")
	if _, ok := l.Check("late"); ok {
		t.Errorf("Check(late) after 2 failures = allowed: its first failure was evicted, though expired keys were there to drop")
	}
}

func TestBackoffWait(t *testing.T) {
	var got []time.Duration
	for n := range 15 {
		got = append(got, auth.Backoff{}.Wait(n))
	}
	s := time.Second
	want := []time.Duration{0, 0, 0, s, 2 * s, 4 * s, 8 * s, 16 * s, 32 * s, 64 * s, 128 * s, 256 * s, 512 * s, 900 * s, 900 * s}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Backoff{}.Wait(0…14) (-want +got):\n%s", diff)
	}
	if w := (auth.Backoff{Free: 1, Base: time.Minute, Max: time.Hour}).Wait(1 << 20); w != time.Hour {
		t.Errorf("Wait after a million failures = %s, want the 1h cap", w)
	}
}

// TestPacerForgetsAndForgives: a key quiet for Forget starts afresh, and
// Reset forgives at once.
func TestPacerForgetsAndForgives(t *testing.T) {
	clk := newClock()
	p := auth.NewPacer(auth.Backoff{Free: 1, Forget: time.Hour}, 0, clk.Now)
	if _, ok := p.Try("a"); !ok {
		t.Fatal("first Try = refused")
	}
	if wait, ok := p.Try("a"); ok || wait != time.Second {
		t.Fatalf("Try after one failure = %s, %v; want refused for 1s", wait, ok)
	}
	clk.Advance(time.Second)
	p.Try("a") // a second failure: the next wait is 2s
	if n, wait := p.Failures("a"); n != 2 || wait != 2*time.Second {
		t.Errorf("Failures(a) = %d, %s; want 2, 2s", n, wait)
	}
	clk.Advance(time.Hour)
	if n, _ := p.Failures("a"); n != 0 {
		t.Errorf("Failures(a) after an hour's quiet = %d, want 0", n)
	}
	p.Try("b")
	p.Reset("b")
	if _, ok := p.Try("b"); !ok {
		t.Errorf("Try(b) after Reset = refused")
	}
}

// TestPacerIsBounded: made-up keys cannot grow the map past its bound, and
// the stalest key goes first, not a guesser who keeps trying.
func TestPacerIsBounded(t *testing.T) {
	clk := newClock()
	p := auth.NewPacer(auth.Backoff{Free: 100}, 100, clk.Now) // no waits: every Try counts
	for i := range 1000 {
		clk.Advance(time.Millisecond)
		p.Try(fmt.Sprintf("key%d", i))
		if i%50 == 0 {
			p.Try("guesser")
		}
	}
	if n := p.Len(); n > 100 {
		t.Errorf("Len after 1000 keys = %d, want at most 100", n)
	}
	if n, _ := p.Failures("guesser"); n != 20 {
		t.Errorf("Failures(guesser) = %d, want 20: a key failing every 50 keys was evicted before staler ones", n)
	}
}

func TestLimiterFailSaysWhenLocked(t *testing.T) {
	clk := newClock()
	l := auth.NewLimiter(auth.Limit{Max: 2, Window: time.Minute}, 0, clk.Now)
	if l.Fail("a") {
		t.Error("Fail #1 of 2 = locked")
	}
	if !l.Fail("a") {
		t.Error("Fail #2 of 2 = not locked")
	}
	if l.Fail("a") {
		t.Error("Fail #3 of 2 = locked again: the lockout began at #2")
	}
	if n, clear := l.Recent("a"); n != 2 || clear != time.Minute {
		t.Errorf("Recent(a) = %d, %s; want 2, 1m", n, clear)
	}
	clk.Advance(time.Minute)
	if n, _ := l.Recent("a"); n != 0 {
		t.Errorf("Recent(a) a minute later = %d, want 0", n)
	}
}
