package server

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/bascule/bascule/internal/config"
	endpointslices "github.com/bascule/bascule/internal/endpoints"
	"github.com/bascule/bascule/internal/migrate"
	"github.com/bascule/bascule/internal/router"
	"github.com/bascule/bascule/internal/runtime/kubernetes"
	"github.com/bascule/bascule/internal/store"
)

// newResolver returns, with the kubernetes driver, the watch of the
// namespace's EndpointSlices that expands the colors' references for the
// router inside bascule serve, as for every bascule router in the cluster
// (ADR 0017); nil with another driver. It does not wait for the watch's
// first listing: the router serves at once, and each color gets its pods
// when the listing arrives (followResolver).
func newResolver(cfg config.Config, log *slog.Logger) (*endpointslices.Watcher, error) {
	if cfg.Runtime.Driver != config.DriverKube {
		return nil, nil
	}
	kc := cfg.Runtime.Kubernetes
	client, err := kubernetes.NewClient(kc.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("runtime.kubernetes: %w", err)
	}
	w, err := endpointslices.Start(endpointslices.Options{Client: client, Namespace: kc.Namespace, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("runtime.kubernetes: %w", err)
	}
	return w, nil
}

// followResolver keeps r's references expanded until the returned stop is
// called; stop waits for it and closes the watch. A nil w follows nothing.
func followResolver(w *endpointslices.Watcher, r *router.Router) (stop func()) {
	if w == nil {
		return func() {}
	}
	following := background(func(ctx context.Context) { w.Run(ctx, r.Refresh) })
	return func() { following(); w.Close() }
}

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

// jobCommands runs the users' migration commands (migrate.expand_command,
// contract_command, compat_command) as Kubernetes Jobs of the release's
// image, where the tool is: an image release's directory holds only its
// migration files.
type jobCommands struct {
	driver   *kubernetes.Driver
	releases interface {
		Release(ctx context.Context, version string) (store.Release, error)
	}
}

var _ migrate.CommandRunner = jobCommands{}

// RunCommand runs c as a Job of c.Version's image, with DATABASE_URL in
// a Secret of the Job's own.
func (j jobCommands) RunCommand(ctx context.Context, c migrate.Command, progress func(string)) (string, error) {
	rel, err := j.releases.Release(ctx, c.Version)
	if err != nil {
		return "", fmt.Errorf("%s: read release %s: %w", c.Label, c.Version, err)
	}
	return j.driver.RunJob(ctx, kubernetes.Job{Purpose: "migrate", Release: c.Version, Image: rel.Image, Command: c.Argv,
		SecretEnv: map[string]string{"DATABASE_URL": c.DatabaseURL}, Label: c.Label}, progress)
}

// migrationCommands is where the users' migration commands run: as Jobs
// with the kubernetes driver, else (nil) in bascule's process.
func migrationCommands(d driver, releases store.Store) migrate.CommandRunner {
	if kd, ok := d.(*kubernetes.Driver); ok {
		return jobCommands{driver: kd, releases: releases}
	}
	return nil
}
