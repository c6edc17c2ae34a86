package main

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.temporal.io/sdk/client"

	"github.com/corso-temporal/corso/graph"
)

// workerMetrics is what --metrics-listen serves at /metrics, in
// Prometheus' text format: the Temporal SDK's metrics (temporal_*), the
// items and bytes activities back up (corso_backup_*), Graph traffic and
// drive budget use per tenant (corso_graph_*, corso_drive_budget_*), and
// the Go runtime's and process's (go_*, process_*). Labels name a tenant
// id and a service, never a user or a site.
type workerMetrics struct {
	registry *prometheus.Registry
	sdk      *sdkSeries
	tenants  *tenantMeters
}

func newWorkerMetrics() *workerMetrics {
	m := &workerMetrics{registry: prometheus.NewRegistry(), sdk: newSDKSeries(), tenants: &tenantMeters{}}
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.sdk, m.tenants,
	)
	return m
}

// sdkHandler is the handler the Temporal client reports through; nil
// (the SDK's no-op) without --metrics-listen.
func (m *workerMetrics) sdkHandler() client.MetricsHandler {
	if m == nil {
		return nil
	}
	return m.sdk.handler()
}

// handler serves /metrics and nothing else: the process's default mux
// carries pprof, which --debug-listen guards on its own.
func (m *workerMetrics) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{}))
	return mux
}

// serve answers scrapes on l until it is closed.
func (m *workerMetrics) serve(l net.Listener, log *slog.Logger) {
	srv := &http.Server{Handler: m.handler(), ReadHeaderTimeout: 10 * time.Second}
	if err := srv.Serve(l); err != nil && !errors.Is(err, net.ErrClosed) {
		log.Error("metrics listener stopped", "error", err)
	}
}

// watchGraph counts c's requests under tenant.
func (m *workerMetrics) watchGraph(tenant string, c statsSource) {
	if m != nil {
		m.tenants.watchGraph(tenant, c)
	}
}

// meterBudget returns b, counting its use under tenant.
func (m *workerMetrics) meterBudget(tenant string, b tenantBudget) graph.DriveBudget {
	if m == nil {
		return b
	}
	return m.tenants.meterBudget(tenant, b)
}
