package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/config"
)

// TestRestartOnAnotherPortForgetsTheEarlierRouter: bascule serve started
// again on the same data with its router on another port registers anew;
// the entry of its earlier start, stale for good, is forgotten instead of
// making every later switch incomplete.
func TestRestartOnAnotherPortForgetsTheEarlierRouter(t *testing.T) {
	first := startServer(t)
	f, err := first.admin.Routers(context.Background())
	if err != nil || len(f.Routers) != 1 || !f.Routers[0].Embedded {
		t.Fatalf("Routers() on a first start = %+v, %v; want the embedded router alone", f, err)
	}
	was := f.Routers[0].ID
	first.stop(t)
	second := startServerWith(t, func(c *config.Config) { c.DataDir = first.dir })
	deadline := time.Now().Add(15 * time.Second)
	for {
		f, err = second.admin.Routers(context.Background())
		if err == nil && len(f.Routers) == 1 && f.Routers[0].ID != was && !f.Routers[0].Stale {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Routers() after a restart on another port = %+v, %v; want only the new embedded router (not %s)", f.Routers, err, was)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := second.admin.Status(context.Background()); err != nil {
		t.Fatal(err)
	}
}
