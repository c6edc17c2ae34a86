package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/corso-temporal/corso/activities"
	"github.com/corso-temporal/corso/budget"
	"github.com/corso-temporal/corso/graph"
	"github.com/corso-temporal/corso/workflows"
)

// scrape fetches /metrics from h and returns its series lines.
func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %s: %s", resp.Status, b)
	}
	return string(b)
}

// value returns the value of the series whose line matches the pattern
// (name and labels, as a regular expression), or "" when there is none.
func value(t *testing.T, text, series string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + series + ` (\S+)$`).FindStringSubmatch(text)
	if m == nil {
		return ""
	}
	return m[1]
}

// The Temporal SDK's metrics and those activities record reach the
// endpoint with Prometheus names; corso's carry only their service and
// tenant, whatever routing tags the SDK adds.
func TestMetricsServeTheSDKsAndActivitiesSeries(t *testing.T) {
	m := newWorkerMetrics()
	root := m.sdkHandler().WithTags(map[string]string{"namespace": "default", "task_queue": "corso", "activity_type": "BackupDriveBatch"})
	root.Counter("temporal_request").Inc(2)
	root.WithTags(map[string]string{"operation": "PollActivityTaskQueue"}).Counter("temporal_request").Inc(1)
	root.Timer("temporal_activity_execution_latency").Record(1500 * time.Millisecond)
	root.Gauge("temporal_worker_task_slots_available").Update(5)
	act := root.WithTags(map[string]string{"service": "onedrive", "tenant": "t1"})
	act.Counter(activities.MetricBackupItems).Inc(3)
	act.Counter(activities.MetricBackupBytes).Inc(4096)

	text := scrape(t, m.handler())
	for series, want := range map[string]string{
		`corso_backup_items_total\{service="onedrive",tenant="t1"\}`:                                                                          "3",
		`corso_backup_bytes_total\{service="onedrive",tenant="t1"\}`:                                                                          "4096",
		`temporal_request_total\{activity_type="BackupDriveBatch",namespace="default",task_queue="corso"\}`:                                   "2",
		`temporal_request_total\{activity_type="BackupDriveBatch",namespace="default",operation="PollActivityTaskQueue",task_queue="corso"\}`: "1",
		`temporal_activity_execution_latency_seconds_sum\{[^}]*\}`:                                                                            "1.5",
		`temporal_worker_task_slots_available\{[^}]*\}`:                                                                                       "5",
	} {
		if got := value(t, text, series); got != want {
			t.Errorf("%s = %q, want %s", series, got, want)
		}
	}
	if !strings.Contains(text, "go_goroutines ") {
		t.Error("no Go runtime metrics")
	}
	srv := httptest.NewServer(m.handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("/debug/pprof/ on the metrics listener: %s", resp.Status)
	}
}

// fakeStats stands in for a Graph client's counters.
type fakeStats struct {
	mu sync.Mutex
	s  graph.Stats
}

func (f *fakeStats) Stats() graph.Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.s
}

func (f *fakeStats) set(s graph.Stats) {
	f.mu.Lock()
	f.s = s
	f.mu.Unlock()
}

// grantLeaser grants a fixed share of every budget.
type grantLeaser struct{ ru float64 }

func (g grantLeaser) Lease(context.Context, string, string, workflows.DriveBudgetLeaseRequest) (workflows.DriveBudgetGrant, error) {
	return workflows.DriveBudgetGrant{RUPerMinute: g.ru, Workers: 2, RenewEvery: time.Minute}, nil
}

// Graph requests and throttled answers are counted per tenant and
// service, summed over the tenant's clients, and move as the clients
// work; drive budget use is counted per tenant.
func TestMetricsCountGraphTrafficAndBudgetUsePerTenant(t *testing.T) {
	m := newWorkerMetrics()
	a1, a2, b := &fakeStats{}, &fakeStats{}, &fakeStats{}
	m.watchGraph("tenant-a", a1)
	m.watchGraph("tenant-a", a2)
	m.watchGraph("tenant-b", b)
	a1.set(graph.Stats{Requests: map[string]int64{"messages.delta": 4, "message.mime": 10, "auth.token": 1}, Throttles: map[string]int64{"message.mime": 2}, Retries: 2})
	a2.set(graph.Stats{Requests: map[string]int64{"drive.download": 7, "users.get": 1}, Throttles: map[string]int64{"drive.download": 1}, Failed: 1})
	b.set(graph.Stats{Requests: map[string]int64{"event.get": 3}})

	fleet := budget.New(grantLeaser{ru: 600}, "w1", 1250, nil)
	defer fleet.Close()
	spend := m.meterBudget("tenant-a", fleet.Tenant("tenant-a", "app"))
	if again := m.meterBudget("tenant-a", fleet.Tenant("tenant-a", "app")); again != spend {
		t.Error("the same budget is metered twice")
	}
	for range 3 {
		if err := spend.Spend(context.Background(), 2); err != nil {
			t.Fatal(err)
		}
	}
	spend.Throttled(time.Millisecond)

	text := scrape(t, m.handler())
	for series, want := range map[string]string{
		`corso_graph_requests_total\{service="exchange",tenant="tenant-a"\}`:      "14",
		`corso_graph_requests_total\{service="drive",tenant="tenant-a"\}`:         "7",
		`corso_graph_requests_total\{service="directory",tenant="tenant-a"\}`:     "1",
		`corso_graph_requests_total\{service="auth",tenant="tenant-a"\}`:          "1",
		`corso_graph_requests_total\{service="exchange",tenant="tenant-b"\}`:      "3",
		`corso_graph_throttled_total\{service="exchange",tenant="tenant-a"\}`:     "2",
		`corso_graph_throttled_total\{service="drive",tenant="tenant-a"\}`:        "1",
		`corso_graph_retries_total\{tenant="tenant-a"\}`:                          "2",
		`corso_graph_failed_requests_total\{tenant="tenant-a"\}`:                  "1",
		`corso_drive_budget_spent_resource_units_total\{tenant="tenant-a"\}`:      "6",
		`corso_drive_budget_throttles_total\{tenant="tenant-a"\}`:                 "1",
		`corso_drive_budget_share_resource_units_per_minute\{tenant="tenant-a"\}`: "600",
	} {
		if got := value(t, text, series); got != want {
			t.Errorf("%s = %q, want %s", series, got, want)
		}
	}

	b.set(graph.Stats{Requests: map[string]int64{"event.get": 5}, Throttles: map[string]int64{"event.get": 1}})
	text = scrape(t, m.handler())
	if got := value(t, text, `corso_graph_requests_total\{service="exchange",tenant="tenant-b"\}`); got != "5" {
		t.Errorf("tenant-b's exchange requests after more work = %q, want 5", got)
	}
	if got := value(t, text, `corso_graph_throttled_total\{service="exchange",tenant="tenant-b"\}`); got != "1" {
		t.Errorf("tenant-b's throttled answers after a 429 = %q, want 1", got)
	}
}

// --metrics-listen binds loopback unless --metrics-listen-public says
// otherwise.
func TestMetricsListenerBindsLoopbackUnlessTold(t *testing.T) {
	if l, err := localListener("metrics-listen", "0.0.0.0:0", false, "serve metrics there"); err == nil {
		l.Close()
		t.Fatal("0.0.0.0 was bound without --metrics-listen-public")
	} else if !strings.Contains(err.Error(), "--metrics-listen-public") {
		t.Errorf("%v does not say how to allow it", err)
	}
	err := run(context.Background(), options{logLevel: "info", metrics: "0.0.0.0:0"})
	if err == nil || !strings.Contains(err.Error(), "--metrics-listen-public") {
		t.Errorf("run with --metrics-listen 0.0.0.0:0: %v", err)
	}
}
