package server

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/bascule/bascule/internal/api"
	"github.com/bascule/bascule/internal/guard"
	"github.com/bascule/bascule/internal/router"
	"github.com/bascule/bascule/internal/store"
	"github.com/bascule/bascule/internal/web"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are bascule's Prometheus series. The per-request ones are
// resolved once per color and status class, so the router's hot path does
// no label lookups.
type metrics struct {
	reg       *prometheus.Registry
	requests  map[router.Color]*[6]prometheus.Counter
	latency   map[router.Color]prometheus.Observer
	deploys   *prometheus.CounterVec
	deployDur *prometheus.HistogramVec
	// counts are the same requests as plain atomics, which the web UI's
	// charts read every second without gathering the registry.
	counts map[router.Color]*colorCounts
	// meter counts them once more for the guard, with a latency histogram
	// and a recent past; nil when the guard is off.
	meter *guard.Meter
}

type colorCounts struct{ requests, errors atomic.Uint64 }

func newMetrics() *metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	req := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bascule_requests_total",
		Help: "Requests routed, by color and status class (1xx-5xx; 0 when no response)."}, []string{"color", "code"})
	lat := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "bascule_request_duration_seconds",
		Help: "Time to serve routed requests, by color.", Buckets: prometheus.DefBuckets}, []string{"color"})
	m := &metrics{reg: reg, requests: map[router.Color]*[6]prometheus.Counter{}, latency: map[router.Color]prometheus.Observer{},
		counts: map[router.Color]*colorCounts{},
		deploys: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bascule_deployments_total",
			Help: "Deployments finished, by outcome."}, []string{"outcome"}),
		deployDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "bascule_deployment_duration_seconds",
			Help: "From deploy to ready or failed.", Buckets: []float64{0.5, 1, 2, 5, 10, 30, 60, 120, 300}}, []string{"outcome"}),
	}
	reg.MustRegister(req, lat, m.deploys, m.deployDur)
	for _, c := range []router.Color{router.Blue, router.Green} {
		var byClass [6]prometheus.Counter
		for class := range byClass {
			label := "0"
			if class > 0 {
				label = strconv.Itoa(class) + "xx"
			}
			byClass[class] = req.WithLabelValues(string(c), label)
		}
		m.requests[c] = &byClass
		m.counts[c] = &colorCounts{}
		m.latency[c] = lat.WithLabelValues(string(c))
	}
	return m
}

func (m *metrics) observe(c router.Color, status int, d time.Duration) {
	byClass, ok := m.requests[c]
	if !ok {
		return
	}
	class := status / 100
	if class < 0 || class > 5 {
		class = 0
	}
	byClass[class].Inc()
	m.latency[c].Observe(d.Seconds())
	n := m.counts[c]
	n.requests.Add(1)
	if class == 5 || class == 0 {
		n.errors.Add(1)
	}
	if m.meter != nil {
		m.meter.Observe(string(c), status, d)
	}
}

// watchQueues exports how many requests wait for a slot at each color's
// app (config key concurrency), read from r at each scrape.
func (m *metrics) watchQueues(r *router.Router) {
	for _, c := range []router.Color{router.Blue, router.Green} {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "bascule_queued_requests",
			Help:        "Requests waiting in the router for a slot at the color's app (concurrency.limit).",
			ConstLabels: prometheus.Labels{"color": string(c)}},
			func() float64 { return float64(r.Queued(r.Table().Upstreams[c])) }))
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "bascule_ejected_instances",
			Help:        "Instances of the color the router sends no new requests to, after failures (runtime.static lists, runtime.process.instances).",
			ConstLabels: prometheus.Labels{"color": string(c)}},
			func() float64 { return float64(r.Ejected(r.Table().Upstreams[c])) }))
	}
}

// colorStats reads the per-color counters for the web UI.
func (m *metrics) colorStats() map[string]web.ColorStats {
	out := make(map[string]web.ColorStats, len(m.counts))
	for c, n := range m.counts {
		out[string(c)] = web.ColorStats{Requests: n.requests.Load(), Errors: n.errors.Load()}
	}
	return out
}

// DeploymentFinished records a deployment's outcome and duration.
func (m *metrics) DeploymentFinished(outcome string, d time.Duration) {
	m.deploys.WithLabelValues(outcome).Inc()
	m.deployDur.WithLabelValues(outcome).Observe(d.Seconds())
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// metricsHandler serves /metrics to API tokens and sessions with at least
// the viewer role, answering like the API otherwise (401, 403): the series
// name flags and deployment outcomes. metrics.public serves it to anyone.
func (s *Server) metricsHandler(apiH *api.Handler, m *metrics) http.Handler {
	if s.cfg.Metrics.Public {
		return m.handler()
	}
	return apiH.Protect("GET /metrics", store.RoleViewer, m.handler())
}
