package server

import (
	"context"

	"github.com/bascule/bascule/internal/config"
	"github.com/bascule/bascule/internal/notify"
)

// startNotifier runs the webhook notifier until shutdown. It runs even with
// no webhook configured: events are recorded in any case, and it is what
// marks them done and prunes them.
func (s *Server) startNotifier() {
	s.notify = notify.New(notify.Options{Store: s.store, App: s.cfg.App, Endpoints: endpoints(s.cfg.Notify),
		Logger: s.log.With("component", "notify")})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.notify.Run(ctx)
	}()
	s.stopNotifier = func() {
		cancel()
		<-done
	}
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
