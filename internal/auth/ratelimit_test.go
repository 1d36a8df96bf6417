package auth_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/auth"
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
