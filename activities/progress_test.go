package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/kopia/kopia/snapshot"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/repository"
	"github.com/corso-temporal/corso/workflows"
)

// heartbeatRecorder keeps the details of every heartbeat an activity
// records, in order, as the activity records them: before the SDK
// throttles what it sends.
type heartbeatRecorder struct {
	interceptor.WorkerInterceptorBase
	mu      sync.Mutex
	details []any
	// each, if set, is called at every heartbeat.
	each func()
}

func (h *heartbeatRecorder) InterceptActivity(_ context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	return &recordingInbound{ActivityInboundInterceptorBase: interceptor.ActivityInboundInterceptorBase{Next: next}, h: h}
}

func (h *heartbeatRecorder) recorded() []any {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]any(nil), h.details...)
}

type recordingInbound struct {
	interceptor.ActivityInboundInterceptorBase
	h *heartbeatRecorder
}

func (r *recordingInbound) Init(out interceptor.ActivityOutboundInterceptor) error {
	return r.Next.Init(&recordingOutbound{ActivityOutboundInterceptorBase: interceptor.ActivityOutboundInterceptorBase{Next: out}, h: r.h})
}

type recordingOutbound struct {
	interceptor.ActivityOutboundInterceptorBase
	h *heartbeatRecorder
}

func (o *recordingOutbound) RecordHeartbeat(ctx context.Context, details ...any) {
	if o.h.each != nil {
		o.h.each()
	}
	if len(details) > 0 {
		o.h.mu.Lock()
		o.h.details = append(o.h.details, details[0])
		o.h.mu.Unlock()
	}
	o.Next.RecordHeartbeat(ctx, details...)
}

func recordingEnv(a any, h *heartbeatRecorder) *testsuite.TestActivityEnvironment {
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{h}})
	env.RegisterActivity(a)
	return env
}

// mailBackups backs up a mail folder of n messages and records it as each
// of ids, an index of one collection with its items and bytes; it returns
// those totals.
func mailBackups(t *testing.T, n int, ids ...string) (f *exchangeFixture, items, bytes int64) {
	t.Helper()
	f = newExchangeFixture(t, 0)
	sent := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for i := range n {
		f.src.put(fmt.Sprintf("msg-%02d", i), message(fmt.Sprintf("report %d", i), sent.Add(time.Duration(i)*time.Hour)))
	}
	res, _, err := f.run(nil, nil)
	require.NoError(t, err)
	prev := previousOf(t, res)
	ctx := context.Background()
	r, err := f.a.Repos.open(ctx, f.repo)
	require.NoError(t, err)
	defer r.Release(ctx)
	var entries []backup.Entry
	require.NoError(t, r.ReadJSON(ctx, prev.DetailsID, &entries))
	for _, e := range entries {
		items++
		bytes += e.Size
	}
	require.Equal(t, int64(n), items)
	var de snapshot.DirEntry
	require.NoError(t, json.Unmarshal(res.DirEntry, &de))
	wctx, sess, err := r.NewSession(ctx, "test backups")
	require.NoError(t, err)
	defer sess.Close(wctx)
	email, err := sess.WriteDir(wctx, "email", "email", []*snapshot.DirEntry{&de})
	require.NoError(t, err)
	root, err := sess.WriteDir(wctx, "", "", []*snapshot.DirEntry{email})
	require.NoError(t, err)
	for _, id := range ids {
		now := time.Now().UTC()
		b := &repository.Backup{Summary: backup.Summary{BackupID: id, Tenant: "tenant", Service: "exchange", Resource: "mbx",
			Status: backup.StatusCompleted, Started: now, Completed: now, Items: items, Bytes: bytes}}
		require.NoError(t, sess.PutBackup(wctx, b, root, repository.BackupIndex{Collections: []repository.Collection{{
			Category: string(m365.Email), ContainerID: "inbox", Path: prev.Path, DirID: prev.DirID, DetailsID: prev.DetailsID,
			Items: items, Bytes: bytes,
		}}}))
	}
	require.NoError(t, sess.Flush(wctx))
	return f, items, bytes
}

// A verify heartbeats, with its checkpoint, the backup's totals from its
// index and how much of them it checked and read.
func TestVerifyHeartbeatsItsCountsOfTheBackupsTotals(t *testing.T) {
	f, items, bytes := mailBackups(t, 6, "b1")
	h := &heartbeatRecorder{}
	env := recordingEnv(f.a.Repos, h)
	_, err := env.ExecuteActivity(f.a.Repos.VerifyBackup, workflows.VerifyInput{Repo: f.repo, Service: "exchange", BackupID: "b1", ReadData: true})
	require.NoError(t, err)

	beats := h.recorded()
	require.NotEmpty(t, beats)
	last, ok := beats[len(beats)-1].(workflows.VerifyProgress)
	require.True(t, ok, "a verify heartbeats workflows.VerifyProgress, not %T", beats[len(beats)-1])
	require.Equal(t, 1, last.Done)
	require.Equal(t, 1, last.CollectionsTotal)
	require.Equal(t, items, last.ItemsTotal)
	require.Equal(t, bytes, last.BytesTotal)
	require.Equal(t, items, last.Result.Items, "every item checked")
	require.Equal(t, bytes, last.Result.Bytes, "every byte read back")

	// Without reading data no bytes are read: none are expected.
	h = &heartbeatRecorder{}
	env = recordingEnv(f.a.Repos, h)
	_, err = env.ExecuteActivity(f.a.Repos.VerifyBackup, workflows.VerifyInput{Repo: f.repo, Service: "exchange", BackupID: "b1"})
	require.NoError(t, err)
	beats = h.recorded()
	last = beats[len(beats)-1].(workflows.VerifyProgress)
	require.Equal(t, items, last.ItemsTotal)
	require.Zero(t, last.BytesTotal)
}

// A delete heartbeats how many of its backups it deleted, one by one.
func TestDeleteBackupsHeartbeatsTheBackupsDeleted(t *testing.T) {
	f, _, _ := mailBackups(t, 2, "b1", "b2", "b3")
	h := &heartbeatRecorder{}
	env := recordingEnv(f.a.Repos, h)
	_, err := env.ExecuteActivity(f.a.Repos.DeleteBackups, workflows.BackupDeleteInput{Repo: f.repo, Service: "exchange", BackupIDs: []string{"b1", "b2", "b3"}})
	require.NoError(t, err)
	var got []workflows.BackupDeleteProgress
	for _, d := range h.recorded() {
		got = append(got, d.(workflows.BackupDeleteProgress))
	}
	require.Equal(t, []workflows.BackupDeleteProgress{{Total: 3}, {Deleted: 1, Total: 3}, {Deleted: 2, Total: 3}, {Deleted: 3, Total: 3}}, got)
}

// An export knows the selection's size before it writes the first file,
// and counts each item as it goes.
func TestExportCountsTheSelectionThenEachItemHandled(t *testing.T) {
	f, items, bytes := mailBackups(t, 5, "b1")
	x := &Exporter{Repos: f.a.Repos, Progress: &ExportProgress{}}
	var seen []ExportCounts
	h := &heartbeatRecorder{each: func() { seen = append(seen, x.Progress.Counts()) }}
	env := recordingEnv(x, h)
	_, err := env.ExecuteActivity(x.ExportExchange, workflows.ExportInput{Repo: f.repo, Service: "exchange", BackupID: "b1",
		Dir: filepath.Join(t.TempDir(), "export")})
	require.NoError(t, err)

	// The export heartbeats before each item.
	require.Len(t, seen, int(items))
	for i, c := range seen {
		require.True(t, c.Planned, "before item %d", i)
		require.Equal(t, int64(i), c.Items, "before item %d", i)
		require.Equal(t, items, c.ItemsTotal, "before item %d", i)
		require.Equal(t, bytes, c.BytesTotal, "before item %d", i)
		if i > 0 {
			require.Greater(t, c.Bytes, seen[i-1].Bytes, "bytes of item %d", i-1)
		}
	}
	require.Equal(t, ExportCounts{Planned: true, Items: items, ItemsTotal: items, Bytes: bytes, BytesTotal: bytes}, x.Progress.Counts())
}

// Maintenance heartbeats each step as it starts, in its mode.
func TestMaintenanceHeartbeatsTheStepUnderWay(t *testing.T) {
	repos, sealer := newRepositories(t)
	path := filepath.Join(t.TempDir(), "repo")
	repo := ref(t, sealer, path, "pw")
	loc, creds, err := repos.resolve(context.Background(), repo)
	require.NoError(t, err)
	r, _, err := repos.Connections.Initialize(context.Background(), loc, creds)
	require.NoError(t, err)
	id := r.ID
	r.Release(context.Background())

	m := &RepoMaintenance{Repos: repos, Safety: repository.SafetyShortened,
		runningBackups: func(context.Context) (time.Time, int, error) { return time.Time{}, 0, nil }}
	h := &heartbeatRecorder{}
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{h}})
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: workflows.MaintenanceWorkflowID(id)})
	env.RegisterWorkflow(workflows.RepoMaintenanceWorkflow)
	env.RegisterActivityWithOptions(m.MaintainRepository, activity.RegisterOptions{Name: workflows.ActivityMaintainRepository})
	env.ExecuteWorkflow(workflows.RepoMaintenanceWorkflow, workflows.RepoMaintenanceInput{Repo: repo, RepositoryID: id, Mode: workflows.MaintenanceFull})
	require.NoError(t, env.GetWorkflowError())

	var stages []string
	for _, d := range h.recorded() {
		p := d.(workflows.MaintenanceProgress)
		require.Equal(t, workflows.MaintenanceFull, p.Mode)
		if len(stages) == 0 || stages[len(stages)-1] != p.Stage {
			stages = append(stages, p.Stage)
		}
	}
	var want []string
	for _, s := range []repository.MaintenanceStage{repository.StageRefreshing, repository.StageMeasuring, repository.StageClaiming,
		repository.StagePinning, repository.StageCollecting, repository.StageKopiaTasks, repository.StageMeasuringEnd} {
		want = append(want, string(s))
	}
	require.Equal(t, want, stages)
}
