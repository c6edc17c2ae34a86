package activities

import (
	"maps"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/workflows"
)

// countingHandler sums the counters activities record, by name and
// service.
type countingHandler struct {
	mu   *sync.Mutex
	sums map[[2]string]int64
	tags map[string]string
}

func newCountingHandler() countingHandler {
	return countingHandler{mu: &sync.Mutex{}, sums: map[[2]string]int64{}}
}

func (h countingHandler) WithTags(tags map[string]string) client.MetricsHandler {
	merged := maps.Clone(h.tags)
	if merged == nil {
		merged = map[string]string{}
	}
	maps.Copy(merged, tags)
	return countingHandler{mu: h.mu, sums: h.sums, tags: merged}
}

func (h countingHandler) Counter(name string) client.MetricsCounter {
	return counterFn(func(d int64) {
		h.mu.Lock()
		h.sums[[2]string{name, h.tags["service"] + "/" + h.tags["tenant"]}] += d
		h.mu.Unlock()
	})
}

func (h countingHandler) sum(name, service string) int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sums[[2]string{name, service + "/tenant"}]
}

func (countingHandler) Gauge(string) client.MetricsGauge { return client.MetricsNopHandler.Gauge("") }
func (countingHandler) Timer(string) client.MetricsTimer { return client.MetricsNopHandler.Timer("") }

type counterFn func(int64)

func (f counterFn) Inc(d int64) { f(d) }

func meteredEnv(h client.MetricsHandler, a any) *testsuite.TestActivityEnvironment {
	var ts testsuite.WorkflowTestSuite
	ts.SetMetricsHandler(h)
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	return env
}

// Backups count the items they download and store, with their bytes, by
// service and tenant; unchanged items an incremental keeps are not
// counted again.
func TestBackupsCountStoredItemsAndBytesByService(t *testing.T) {
	f := newExchangeFixture(t, 10)
	h := newCountingHandler()
	env := meteredEnv(h, f.a)
	cont := m365.Container{ID: "inbox", DisplayName: "Inbox", Path: []string{"Inbox"}, Category: m365.Email}
	in := workflows.BackupCollectionInput{Repo: f.repo, Graph: f.gr, BackupID: "b", MailboxID: "mbx", Concurrency: 3,
		Plan: workflows.CollectionPlan{Container: cont}}
	val, err := env.ExecuteActivity(f.a.BackupCollection, in)
	require.NoError(t, err)
	var full workflows.CollectionResult
	require.NoError(t, val.Get(&full))
	require.Equal(t, int64(10), h.sum(MetricBackupItems, "exchange"))
	require.Equal(t, full.Bytes, h.sum(MetricBackupBytes, "exchange"))

	f.src.put("item-03", "edited body")
	in.Plan.Previous = previousOf(t, full)
	_, err = env.ExecuteActivity(f.a.BackupCollection, in)
	require.NoError(t, err)
	require.Equal(t, int64(11), h.sum(MetricBackupItems, "exchange"), "only the edited item is counted again")
	require.Equal(t, full.Bytes+int64(len("edited body")), h.sum(MetricBackupBytes, "exchange"))

	d := newDriveFixture(t)
	env = meteredEnv(h, d.d)
	drive := m365.Drive{ID: "drive", Name: "OneDrive", Service: m365.OneDrive, Owner: "u", OwnerName: "ann@x"}
	val, err = env.ExecuteActivity(d.d.EnumerateDrive, workflows.EnumerateDriveInput{Repo: d.repo, Graph: d.gr, BackupID: "d1", Drive: drive})
	require.NoError(t, err)
	var en workflows.DriveEnumeration
	require.NoError(t, val.Get(&en))
	var files, bytes int64
	for _, b := range en.Batches {
		val, err := env.ExecuteActivity(d.d.BackupDriveBatch, workflows.BackupDriveBatchInput{Repo: d.repo, Graph: d.gr, BackupID: "d1", Drive: drive, Batch: b, Concurrency: 2})
		require.NoError(t, err)
		var r workflows.DriveBatchResult
		require.NoError(t, val.Get(&r))
		files, bytes = files+r.Files, bytes+r.Bytes
	}
	require.Equal(t, int64(25), files)
	require.Equal(t, files, h.sum(MetricBackupItems, m365.OneDrive))
	require.Equal(t, bytes, h.sum(MetricBackupBytes, m365.OneDrive))
	require.Equal(t, int64(11), h.sum(MetricBackupItems, "exchange"), "drives count under their own service")
}
