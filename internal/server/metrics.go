package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/bascule/bascule/internal/router"
	"github.com/prometheus/client_golang/prometheus"
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
}

func newMetrics() *metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	req := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bascule_requests_total",
		Help: "Requests routed, by color and status class (1xx-5xx; 0 when no response)."}, []string{"color", "code"})
	lat := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "bascule_request_duration_seconds",
		Help: "Time to serve routed requests, by color.", Buckets: prometheus.DefBuckets}, []string{"color"})
	m := &metrics{reg: reg, requests: map[router.Color]*[6]prometheus.Counter{}, latency: map[router.Color]prometheus.Observer{},
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
}

// DeploymentFinished records a deployment's outcome and duration.
func (m *metrics) DeploymentFinished(outcome string, d time.Duration) {
	m.deploys.WithLabelValues(outcome).Inc()
	m.deployDur.WithLabelValues(outcome).Observe(d.Seconds())
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
