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

// mountFlags serves OFREP under /ofrep/v1/ for API keys, and the flag
// stream for API keys (an X-API-Key as OFREP providers send it is taken
// too) or for the stream credential that the OFREP bulk answer puts in the
// stream URL it announces. Both answer browsers of ofrep.cors_origins.
//
// Neither is for http.CrossOriginProtection (see crossOriginExempt): they
// authenticate with a key or credential a request carries explicitly, never
// with a cookie, so a forged cross-site request has nothing to act with, and
// CORS decides which pages may read the answers.
func (s *Server) mountFlags(mux *http.ServeMux, apiH http.Handler, m *metrics) {
	keys := newKeyCache(s.auth.Tokens())
	tokens := newStreamTokens()
	ofrep := flag.NewOFREPHandler(s.flags, flag.OFREPOptions{Logger: s.log.With("component", "ofrep"),
		EventStreamURL: flagStreamPath + "?format=ofrep", EventStreamToken: tokens.issue, Observe: s.flags.Observe})
	origins := newCORS(s.cfg.OFREP.CORSOrigins)
	mux.Handle(ofrepPath, origins.handle("POST", apiKeyAuth(keys, s.rateLimit(ofrep, keys, m))))
	stream := origins.handle("GET", s.tokenStream(tokens, apiKeyAsBearer(apiH)))
	mux.Handle("GET "+flagStreamPath, stream)
	mux.Handle("OPTIONS "+flagStreamPath, origins.handle("GET", http.HandlerFunc(notAllowed)))
}

// ofrepPath is where OFREP is served.
const ofrepPath = "/ofrep/v1/"

// crossOriginExempt are the patterns of the control plane that
// http.CrossOriginProtection must let through (AddInsecureBypassPattern):
// a browser app on another origin POSTs OFREP evaluations with its API key.
// See mountFlags for why that is safe.
var crossOriginExempt = []string{ofrepPath}

func notAllowed(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Allow", "GET")
	ofrepError(w, http.StatusMethodNotAllowed, r.Method+" is not allowed here")
}

// tokenStream serves the OFREP change notifications to a request carrying
// a valid stream credential (?token=), whatever else it asks for: the
// credential reads that stream and nothing else. Requests without one go to
// next, which wants an API key.
func (s *Server) tokenStream(tokens *streamTokens, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := r.URL.Query().Get("token")
		switch {
		case tok == "":
			next.ServeHTTP(w, r)
		case !tokens.valid(tok):
			ofrepError(w, http.StatusUnauthorized,
				"the stream credential is invalid or expired: evaluate the flags again (POST /ofrep/v1/evaluate/flags) for a fresh stream URL")
		default:
			s.flags.ServeStream(w, r, flag.StreamOFREP)
		}
	})
}

// rateLimit applies ofrep.rate_limit per API key, and shows it: the
// bascule_ofrep_rate_limit gauge (0: no limit), the refusals per key in
// bascule_ofrep_rate_limited_total, and a log line per key at most once a
// minute.
func (s *Server) rateLimit(next http.Handler, keys *keyCache, m *metrics) http.Handler {
	cfg := s.cfg.OFREP
	burst := cfg.RateBurst
	if burst == 0 {
		burst = 2 * cfg.RateLimit
	}
	limit := prometheus.NewGauge(prometheus.GaugeOpts{Name: "bascule_ofrep_rate_limit",
		Help: "OFREP requests per second each API key may make (ofrep.rate_limit); 0 means no limit."})
	limit.Set(float64(cfg.RateLimit))
	refused := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bascule_ofrep_rate_limited_total",
		Help: "OFREP requests refused with 429 by ofrep.rate_limit, by API key name."}, []string{"key"})
	m.reg.MustRegister(limit, refused)
	if cfg.RateLimit <= 0 {
		return next
	}
	logs := &limitLog{log: s.log.With("component", "ofrep"), now: time.Now, rate: cfg.RateLimit, burst: burst,
		keys: map[string]*limitLogKey{}}
	onRefused := func(r *http.Request) {
		// The key authenticated just before, so this is a cache hit.
		p, _ := keys.Authenticate(r.Context(), apiKey(r))
		refused.WithLabelValues(p.Name).Inc()
		logs.refused(p.Name)
	}
	return rateLimited(newKeyLimiter(float64(cfg.RateLimit), burst), onRefused, next)
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
