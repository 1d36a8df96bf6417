package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/config"
	"github.com/bascule/bascule/internal/flag"
	"github.com/bascule/bascule/internal/store"
	"github.com/prometheus/client_golang/prometheus"
)

// flagStreamPath is where flag changes are announced, to the Go SDK as
// snapshots and, with ?format=ofrep, to OFREP providers as re-fetch notices.
const flagStreamPath = "/api/v1/flags/stream"

// Flags is the flag service, for in-process callers (tests, the demo).
func (s *Server) Flags() *flag.Service { return s.flags }

func (s *Server) openFlags(ctx context.Context, m *metrics) (err error) {
	s.flags, err = flag.NewService(ctx, flag.ServiceOptions{Store: s.store, Logger: s.log.With("component", "flags")})
	if err != nil {
		return err
	}
	m.reg.MustRegister(newFlagCollector(s.flags))
	if s.cfg.Store.Driver == config.DriverPostgres {
		go s.refreshFlags(flagRefreshInterval)
	}
	return nil
}

// flagRefreshInterval is how soon a flag change made through another
// instance sharing the PostgreSQL store is served (and streamed) here.
const flagRefreshInterval = 2 * time.Second

// refreshFlags picks up flag versions written by other instances until the
// flag service closes at shutdown.
func (s *Server) refreshFlags(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-s.flags.Closed()
		cancel()
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.flags.Refresh(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("refresh flags from the shared store", "err", err)
			}
		}
	}
}

// mountFlags serves OFREP under /ofrep/v1/ for API keys, and lets the flag
// stream take an X-API-Key as OFREP providers send it.
func (s *Server) mountFlags(mux *http.ServeMux, apiH http.Handler) {
	ofrep := flag.NewOFREPHandler(s.flags, flag.OFREPOptions{Logger: s.log.With("component", "ofrep"),
		EventStreamURL: flagStreamPath + "?format=ofrep", Observe: s.flags.Observe})
	limit := newKeyLimiter(ofrepRate, ofrepBurst)
	mux.Handle("/ofrep/v1/", apiKeyAuth(newKeyCache(s.auth.Tokens()), rateLimited(limit, ofrep)))
	mux.Handle("GET "+flagStreamPath, apiKeyAsBearer(apiH))
}

// apiKeyAuth admits requests with a bascule API token whose role may
// evaluate flags, given as `Authorization: Bearer KEY` or `X-API-Key: KEY`.
// Refusals use OFREP's error shape: 401 without a valid key, 403 for a key
// whose role does not include evaluation. Rate limiting (429) comes after
// authentication, so unknown keys cannot fill the limiter.
func apiKeyAuth(tokens *keyCache, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := apiKey(r)
		if key == "" {
			ofrepError(w, http.StatusUnauthorized, "an API key is required: Authorization: Bearer KEY or X-API-Key: KEY")
			return
		}
		p, err := tokens.Authenticate(r.Context(), key)
		switch {
		case errors.Is(err, auth.ErrUnauthenticated):
			ofrepError(w, http.StatusUnauthorized, "the API key is unknown, revoked or expired")
		case err != nil:
			ofrepError(w, http.StatusInternalServerError, "internal error")
		case !p.Can(store.RoleEvaluator):
			ofrepError(w, http.StatusForbidden, "the API key "+p.Name+" (role "+p.Role+") may not evaluate flags")
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// apiKey returns the key of a Bearer Authorization header, else of X-API-Key.
func apiKey(r *http.Request) string {
	if scheme, secret, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(secret)
	}
	return strings.TrimSpace(r.Header.Get("X-API-Key"))
}

func ofrepError(w http.ResponseWriter, status int, details string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="bascule"`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"errorDetails": details})
}

// apiKeyAsBearer turns an X-API-Key header into the Bearer header the API
// reads, for clients that know only OFREP's way of sending a key.
func apiKeyAsBearer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if key := r.Header.Get("X-API-Key"); key != "" && r.Header.Get("Authorization") == "" {
			r = r.Clone(r.Context())
			r.Header.Set("Authorization", "Bearer "+key)
		}
		next.ServeHTTP(w, r)
	})
}

// flagCollector exports the flag service's evaluation counts. Counting is
// the service's (lock-free, on the hot path); this only reads at scrape.
type flagCollector struct {
	svc           *flag.Service
	evals, errors *prometheus.Desc
}

func newFlagCollector(svc *flag.Service) *flagCollector {
	return &flagCollector{svc: svc,
		evals: prometheus.NewDesc("bascule_flag_evaluations_total",
			"Flag evaluations served over OFREP, by flag and variant.", []string{"flag", "variant"}, nil),
		errors: prometheus.NewDesc("bascule_flag_evaluation_errors_total",
			`Flag evaluations over OFREP that failed, by flag; flag="" counts unknown flags.`, []string{"flag"}, nil),
	}
}

func (c *flagCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.evals
	ch <- c.errors
}

func (c *flagCollector) Collect(ch chan<- prometheus.Metric) {
	c.svc.EvalCounts(func(e flag.EvalCount) {
		if e.Variant == "" {
			ch <- prometheus.MustNewConstMetric(c.errors, prometheus.CounterValue, float64(e.N), e.Flag)
			return
		}
		ch <- prometheus.MustNewConstMetric(c.evals, prometheus.CounterValue, float64(e.N), e.Flag, e.Variant)
	})
}
