package kubernetes

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/bascule/bascule/internal/runtime"
)

// Stop scales the color to zero at once. Its Deployment and Service stay,
// labelled, so that the next Start on the color only updates them. Stop of
// a color with no Deployment returns nil.
func (d *Driver) Stop(ctx context.Context, color string) error {
	if err := checkColor(color); err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	if _, err := d.scale(ctx, color, 0); err != nil {
		return fmt.Errorf("stop %s: %w", color, err)
	}
	return nil
}

// ScaleDownLater promises the idle color a scale-to-zero after
// Options.IdleScaleDown (at once when that is zero). The promise is an
// annotation on its Deployment, so a restarted bascule keeps it; Start on
// the color withdraws it, and it is never kept while the color is the one
// Options.Live names (a forced rollback went there meanwhile). The deploy
// pipeline calls it when the live release is finalized: the release on the
// idle color is then no longer a safe rollback target, and the delay keeps
// a forced rollback instant for a while.
func (d *Driver) ScaleDownLater(ctx context.Context, color string) error {
	if err := checkColor(color); err != nil {
		return fmt.Errorf("scale down: %w", err)
	}
	if d.opts.IdleScaleDown <= 0 {
		return d.Stop(ctx, color)
	}
	dep := d.deployment(color)
	if dep == nil || !running(dep) {
		return nil
	}
	at := time.Now().Add(d.opts.IdleScaleDown).UTC().Format(time.RFC3339Nano)
	if _, err := d.patch(ctx, color, map[string]any{"metadata": map[string]any{"annotations": map[string]any{AnnotationScaleDownAt: at}}}); err != nil {
		return fmt.Errorf("schedule scale-down of %s: %w", color, err)
	}
	return nil
}

// scale sets the color's replicas and drops any promised scale-down. It
// returns the Deployment's generation after the change; a missing
// Deployment is not an error (generation 0).
func (d *Driver) scale(ctx context.Context, color string, replicas int32) (int64, error) {
	gen, err := d.patch(ctx, color, map[string]any{
		"metadata": map[string]any{"annotations": map[string]any{AnnotationScaleDownAt: nil}},
		"spec":     map[string]any{"replicas": replicas},
	})
	if apierrors.IsNotFound(err) {
		return 0, nil
	}
	return gen, err
}

// patch merges change into the color's Deployment and returns its
// generation after the change. A missing Deployment's error matches
// apierrors.IsNotFound.
func (d *Driver) patch(ctx context.Context, color string, change map[string]any) (int64, error) {
	body, err := json.Marshal(change)
	if err != nil {
		return 0, fmt.Errorf("encode patch: %w", err)
	}
	dep, err := d.client.AppsV1().Deployments(d.opts.Namespace).Patch(ctx, d.name(color), types.MergePatchType, body, metav1.PatchOptions{})
	if apierrors.IsNotFound(err) {
		return 0, err
	}
	if err != nil {
		return 0, fmt.Errorf("patch deployment %s: %w", d.name(color), err)
	}
	return dep.Generation, nil
}

// retryIdle is when a scale-down the API server refused is tried again.
const retryIdle = 10 * time.Second

// reconcileIdle keeps the scale-down promises: at every watched change
// (and when a promise falls due) it compares each color's annotation with
// the clock, level-triggered, so a missed event or a restart loses none.
func (d *Driver) reconcileIdle(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.kick:
		}
		for _, color := range runtime.Colors() {
			d.reconcileColor(ctx, color)
		}
	}
}

func (d *Driver) reconcileColor(ctx context.Context, color string) {
	dep := d.deployment(color)
	var at time.Time
	if dep != nil && running(dep) {
		at, _ = time.Parse(time.RFC3339, dep.Annotations[AnnotationScaleDownAt])
	}
	d.mu.Lock()
	if t := d.timers[color]; t != nil {
		t.Stop()
		delete(d.timers, color)
	}
	if wait := time.Until(at); !at.IsZero() && wait > 0 {
		d.timers[color] = time.AfterFunc(wait, d.wake)
	}
	d.mu.Unlock()
	if at.IsZero() || time.Until(at) > 0 {
		return
	}
	if d.opts.Live != nil && d.opts.Live() == color {
		d.log.Info("idle scale-down withdrawn: the color serves production", "color", color)
		if _, err := d.patch(ctx, color, map[string]any{"metadata": map[string]any{"annotations": map[string]any{AnnotationScaleDownAt: nil}}}); err != nil && !apierrors.IsNotFound(err) {
			d.log.Error("withdraw idle scale-down", "color", color, "err", err)
		}
		return
	}
	d.log.Info("scaling the idle color to zero", "color", color, "release", dep.Annotations[AnnotationRelease])
	if _, err := d.scale(ctx, color, 0); err != nil && ctx.Err() == nil {
		d.log.Error("idle scale-down; retrying", "color", color, "err", err, "in", retryIdle)
		d.mu.Lock()
		d.timers[color] = time.AfterFunc(retryIdle, d.wake)
		d.mu.Unlock()
	}
}

// wake runs the reconciler without a watched change (a timer fired).
func (d *Driver) wake() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}
