package server

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/bascule/bascule/internal/config"
	"github.com/bascule/bascule/internal/runtime/kubernetes"
)

// kubeSyncTimeout bounds the first listing of the namespace at start.
const kubeSyncTimeout = time.Minute

// newKubeDriver connects to the cluster runtime.kubernetes names and adopts
// the colors a previous run left there. live names the color that serves
// production, which an idle scale-down never takes.
func newKubeDriver(ctx context.Context, cfg config.Config, live func() string, log *slog.Logger) (driver, error) {
	kc := cfg.Runtime.Kubernetes
	client, err := kubernetes.NewClient(kc.Kubeconfig)
	if err != nil {
		return nil, err
	}
	sctx, cancel := context.WithTimeout(ctx, kubeSyncTimeout)
	defer cancel()
	d, err := kubernetes.New(sctx, kubernetes.Options{Client: client, Namespace: kc.Namespace, App: cfg.App,
		Replicas: int32(kc.Replicas), Port: int32(kc.Container.Port),
		Requests: kc.Container.Requests, Limits: kc.Container.Limits, Health: healthCheck(cfg),
		StartTimeout: cfg.HealthCheck.StartTimeout, StopTimeout: cfg.StopTimeout, IdleScaleDown: kc.IdleScaleDown,
		Live: live, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("runtime.kubernetes: %w", err)
	}
	adopted, err := d.Adopt(ctx)
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("adopt running colors: %w", err)
	}
	for _, inst := range adopted {
		log.Info("adopted running color", "color", inst.Color, "version", inst.Version, "addrs", d.Addrs(inst.Color))
	}
	return d, nil
}
