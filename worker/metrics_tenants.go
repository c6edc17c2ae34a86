package main

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/corso-temporal/corso/budget"
	"github.com/corso-temporal/corso/graph"
)

// tenantMeters reports, per tenant, what the worker's Graph clients sent
// and how much of each tenant's drive budget it spent. It reads the
// clients' own counters at scrape time; clients live as long as the
// worker, so the sums only grow.
type tenantMeters struct {
	mu      sync.Mutex
	clients []watchedClient
	budgets []*meteredBudget
}

// tenantBudget is a tenant's drive budget as budget.Tenant implements it.
type tenantBudget interface {
	graph.DriveBudget
	Share() float64
}

var _ tenantBudget = (*budget.Tenant)(nil)

// statsSource is what tenantMeters reads of a Graph client.
type statsSource interface{ Stats() graph.Stats }

var _ statsSource = (*graph.Client)(nil)

type watchedClient struct {
	tenant string
	src    statsSource
}

var (
	graphRequestsDesc = prometheus.NewDesc("corso_graph_requests_total",
		"HTTP attempts sent to Microsoft Graph and its sign-in endpoint, retries included, by tenant and service (exchange, drive, directory, auth, other).",
		[]string{"tenant", "service"}, nil)
	graphThrottledDesc = prometheus.NewDesc("corso_graph_throttled_total",
		"Answers from Microsoft Graph with status 429 or 503 (throttling; the worker waits out their Retry-After), by tenant and service.",
		[]string{"tenant", "service"}, nil)
	graphRetriesDesc = prometheus.NewDesc("corso_graph_retries_total",
		"HTTP attempts that repeated a failed or throttled one, by tenant.",
		[]string{"tenant"}, nil)
	graphFailedDesc = prometheus.NewDesc("corso_graph_failed_requests_total",
		"HTTP attempts to Microsoft Graph that got no answer (reset, refused, timed out), by tenant.",
		[]string{"tenant"}, nil)
	budgetSpentDesc = prometheus.NewDesc("corso_drive_budget_spent_resource_units_total",
		"SharePoint and OneDrive resource units this worker spent of the tenant's budget.",
		[]string{"tenant"}, nil)
	budgetThrottlesDesc = prometheus.NewDesc("corso_drive_budget_throttles_total",
		"Drive requests SharePoint throttled, each pausing the fleet's spending on the tenant.",
		[]string{"tenant"}, nil)
	budgetShareDesc = prometheus.NewDesc("corso_drive_budget_share_resource_units_per_minute",
		"This worker's current share of the tenant's drive budget (0: unmetered).",
		[]string{"tenant"}, nil)
)

func (m *tenantMeters) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{graphRequestsDesc, graphThrottledDesc, graphRetriesDesc, graphFailedDesc,
		budgetSpentDesc, budgetThrottlesDesc, budgetShareDesc} {
		ch <- d
	}
}

func (m *tenantMeters) Collect(ch chan<- prometheus.Metric) {
	m.mu.Lock()
	clients := append([]watchedClient(nil), m.clients...)
	budgets := append([]*meteredBudget(nil), m.budgets...)
	m.mu.Unlock()

	type key struct{ tenant, service string }
	requests, throttled := map[key]int64{}, map[key]int64{}
	retries, failed := map[string]int64{}, map[string]int64{}
	for _, c := range clients {
		s := c.src.Stats()
		for kind, n := range s.Requests {
			requests[key{c.tenant, graph.ServiceOf(kind)}] += n
		}
		for kind, n := range s.Throttles {
			throttled[key{c.tenant, graph.ServiceOf(kind)}] += n
		}
		retries[c.tenant] += s.Retries
		failed[c.tenant] += s.Failed
	}
	for k, n := range requests {
		ch <- prometheus.MustNewConstMetric(graphRequestsDesc, prometheus.CounterValue, float64(n), k.tenant, k.service)
	}
	for k, n := range throttled {
		ch <- prometheus.MustNewConstMetric(graphThrottledDesc, prometheus.CounterValue, float64(n), k.tenant, k.service)
	}
	for t, n := range retries {
		ch <- prometheus.MustNewConstMetric(graphRetriesDesc, prometheus.CounterValue, float64(n), t)
	}
	for t, n := range failed {
		ch <- prometheus.MustNewConstMetric(graphFailedDesc, prometheus.CounterValue, float64(n), t)
	}

	spent, throttles, share := map[string]int64{}, map[string]int64{}, map[string]float64{}
	for _, b := range budgets {
		spent[b.tenant] += b.spent.Load()
		throttles[b.tenant] += b.throttles.Load()
		share[b.tenant] += b.b.Share()
	}
	for t := range spent {
		ch <- prometheus.MustNewConstMetric(budgetSpentDesc, prometheus.CounterValue, float64(spent[t]), t)
		ch <- prometheus.MustNewConstMetric(budgetThrottlesDesc, prometheus.CounterValue, float64(throttles[t]), t)
		ch <- prometheus.MustNewConstMetric(budgetShareDesc, prometheus.GaugeValue, share[t], t)
	}
}

// watchGraph counts c's requests under tenant.
func (m *tenantMeters) watchGraph(tenant string, c statsSource) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.clients = append(m.clients, watchedClient{tenant: tenant, src: c})
}

// meterBudget returns b counting what is spent through it under tenant;
// the same for the same budget (a client made anew for a changed secret
// shares its app's budget).
func (m *tenantMeters) meterBudget(tenant string, b tenantBudget) graph.DriveBudget {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, mb := range m.budgets {
		if mb.b == b {
			return mb
		}
	}
	mb := &meteredBudget{tenant: tenant, b: b}
	m.budgets = append(m.budgets, mb)
	return mb
}

// meteredBudget is a tenant's drive budget that counts its use.
type meteredBudget struct {
	tenant           string
	b                tenantBudget
	spent, throttles atomic.Int64
}

func (m *meteredBudget) Spend(ctx context.Context, units int) error {
	if err := m.b.Spend(ctx, units); err != nil {
		return err
	}
	m.spent.Add(int64(units))
	return nil
}

func (m *meteredBudget) Throttled(d time.Duration) {
	m.throttles.Add(1)
	m.b.Throttled(d)
}
