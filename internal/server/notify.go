package server

import (
	"context"
	"time"

	"github.com/bascule/bascule/internal/config"
	"github.com/bascule/bascule/internal/notify"
)

// startNotifier makes the webhook notifier. Its worker runs only while
// this instance leads (runNotifier): one worker for the whole cluster,
// under the term's context. With no webhook configured it still runs, to
// mark the events the store records as dispatched and prune them, but
// polls once a minute instead of twice a second.
func (s *Server) startNotifier() {
	opts := notify.Options{Store: s.store, App: s.cfg.App, Endpoints: endpoints(s.cfg.Notify),
		Logger: s.log.With("component", "notify")}
	if len(opts.Endpoints) == 0 {
		opts.Poll = time.Minute
	}
	s.notify = notify.New(opts)
}

// runNotifier runs the webhook worker in the background until stopNotifier.
func (s *Server) runNotifier() {
	s.stopNotifier = background(func(ctx context.Context) { s.notify.Run(ctx) })
}

// Notifier records and sends webhook notifications, for in-process callers
// (the guard publishes through it).
func (s *Server) Notifier() *notify.Notifier { return s.notify }

func endpoints(hooks []config.Webhook) []notify.Endpoint {
	out := make([]notify.Endpoint, 0, len(hooks))
	for _, h := range hooks {
		out = append(out, notify.Endpoint{URL: h.URL, Secret: h.Secret, Events: h.Events, Format: h.Format})
	}
	return out
}
