package deploy_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/bascule/bascule/internal/deploy"
	"github.com/bascule/bascule/internal/guard"
	"github.com/bascule/bascule/internal/runtime/static"
)

// idleScaling is the static driver plus the kubernetes driver's
// ScaleDownLater, recording the colors it was asked to scale down.
type idleScaling struct {
	*static.Driver
	mu    sync.Mutex
	asked []string
}

func (d *idleScaling) ScaleDownLater(_ context.Context, color string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.asked = append(d.asked, color)
	return nil
}

// Finalizing the live release tells a driver that can scale the idle color
// down that its release is no longer the rollback target; going live alone
// does not.
func TestFinalizeScalesDownTheIdleColor(t *testing.T) {
	drv := &idleScaling{}
	s := newGuardStackWith(t, guard.Config{}, func(sd *static.Driver) deploy.Driver { drv.Driver = sd; return drv })
	s.v1LiveV2Ready()
	if _, err := s.svc.GoLive(context.Background(), "alice", "ship"); err != nil {
		t.Fatal(err)
	}
	if len(drv.asked) != 0 {
		t.Fatalf("ScaleDownLater after go-live = %v, want no call: the idle blue is the rollback target", drv.asked)
	}
	if _, err := s.svc.Finalize(context.Background(), "bob", "looks good"); err != nil {
		t.Fatal(err)
	}
	if want := []string{"blue"}; !slices.Equal(drv.asked, want) {
		t.Errorf("ScaleDownLater after finalize = %v, want %v (the idle color)", drv.asked, want)
	}
}
