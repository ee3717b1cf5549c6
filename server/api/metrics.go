package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is the server's Prometheus registry and the instruments the API
// updates. Each Server has its own (never the process-wide default
// registry), so two servers in one test binary do not share counters and a
// package cannot publish a metric without being handed the registry.
//
// Other packages add their collectors with Registry.MustRegister; /metrics
// serves exactly what the registry holds.
type Metrics struct {
	Registry *prometheus.Registry

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec

	// Sync instruments: updated by the push handler from the results the
	// sync engine returns, so sync/ and server/syncdb stay free of metrics.
	syncChanges   *prometheus.CounterVec
	syncPushBatch prometheus.Histogram
}

// NewMetrics builds a registry holding the Go runtime and process
// collectors and the API's own instruments.
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dicoso_http_requests_total",
			Help: "HTTP requests answered, by method, route pattern and status.",
		}, []string{"method", "route", "status"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "dicoso_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by method, route pattern and status.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "route", "status"}),
		syncChanges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dicoso_sync_changes_total",
			Help: "Pushed changes by result (applied, duplicate, rejected) and rejection code (empty unless rejected).",
		}, []string{"result", "code"}),
		syncPushBatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "dicoso_sync_push_batch_size",
			Help:    "Number of changes in one push request.",
			Buckets: []float64{1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500},
		}),
	}
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.httpRequests,
		m.httpDuration,
		m.syncChanges,
		m.syncPushBatch,
	)
	return m
}

// SyncChange counts one pushed change. result is "applied", "duplicate" or
// "rejected"; code is the rejection code (docs/protocol.md), empty otherwise. Both
// come from fixed sets, never from client input, so the series stay few.
func (m *Metrics) SyncChange(result, code string) {
	m.syncChanges.WithLabelValues(result, code).Inc()
}

// SyncPush records the size of one accepted push batch.
func (m *Metrics) SyncPush(changes int) {
	m.syncPushBatch.Observe(float64(changes))
}

// handler serves the registry in the Prometheus text format.
func (m *Metrics) handler() echo.HandlerFunc {
	return echo.WrapHandler(promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{
		Registry: m.Registry, // also counts its own scrape errors
	}))
}

// routeUnmatched labels requests no route matched, so that probing random
// URLs cannot create new series.
const routeUnmatched = "unmatched"

// instrument counts and times every request by method, route pattern and
// final status. It answers a handler's error itself (as accessLog does) so
// that the status it records is the one the client got.
func (m *Metrics) instrument(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		route := c.Path() // the pattern ("/api/v1/units/:id"), never the raw URL
		if route == "" || errors.Is(err, echo.ErrNotFound) {
			route = routeUnmatched
		}
		labels := []string{methodLabel(c.Request().Method), route, strconv.Itoa(c.Response().Status)}
		m.httpRequests.WithLabelValues(labels...).Inc()
		m.httpDuration.WithLabelValues(labels...).Observe(time.Since(start).Seconds())
		return nil
	}
}

// methodLabel keeps the method label to the standard set: net/http accepts
// any token as a method, and each would otherwise be a new series.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
		http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return method
	}
	return "OTHER"
}
