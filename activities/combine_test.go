package activities

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/repository"
	"github.com/corso-temporal/corso/workflows"
)

// lostResult is a worker that finishes an activity's first attempt and is
// lost before reporting it, so Temporal runs the activity again.
type lostResult struct {
	interceptor.WorkerInterceptorBase
}

func (*lostResult) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	i := &lostActivityResult{}
	i.Next = next
	return i
}

type lostActivityResult struct {
	interceptor.ActivityInboundInterceptorBase
}

func (l *lostActivityResult) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	res, err := l.Next.ExecuteActivity(ctx, in)
	if err == nil && activity.GetInfo(ctx).Attempt == 1 {
		return nil, errors.New("worker lost before reporting the result")
	}
	return res, err
}

// combineRetried runs one combine activity from a workflow, losing its
// first attempt's result, and returns what the retry reported.
func combineRetried(t *testing.T, register any, name string, in any) (backup.Summary, int32) {
	t.Helper()
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{&lostResult{}}})
	env.RegisterActivity(register)
	var attempts int32
	env.SetOnActivityCompletedListener(func(info *activity.Info, _ converter.EncodedValue, _ error) { attempts = max(attempts, info.Attempt) })
	env.ExecuteWorkflow(func(ctx workflow.Context) (backup.Summary, error) {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: time.Minute,
			RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Millisecond, MaximumAttempts: 3},
		})
		var s backup.Summary
		err := workflow.ExecuteActivity(ctx, name, in).Get(ctx, &s)
		return s, err
	})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var s backup.Summary
	require.NoError(t, env.GetWorkflowResult(&s))
	return s, attempts
}

// recordsOf lists the backup records kept under one backup id.
func recordsOf(t *testing.T, repos *Repositories, ref workflows.RepoRef, id string) []repository.Backup {
	t.Helper()
	ctx := context.Background()
	r, err := repos.open(ctx, ref)
	require.NoError(t, err)
	defer r.Release(ctx)
	require.NoError(t, r.Refresh(ctx))
	bs, err := r.Backups(ctx, repository.BackupFilter{ID: id})
	require.NoError(t, err)
	return bs
}

func TestRetriedDriveCombineRecordsTheBackupOnce(t *testing.T) {
	f := newDriveFixture(t)
	in, err := f.combineInput("b1")
	require.NoError(t, err)
	s, attempts := combineRetried(t, f.d, "CombineDrives", in)
	require.Equal(t, int32(2), attempts, "the first attempt's result was lost")
	require.Equal(t, "b1", s.BackupID)
	require.Equal(t, int64(25), s.Items)
	require.Len(t, recordsOf(t, f.a.Repos, f.repo, "b1"), 1)
	require.Equal(t, f.drive.truth(), f.stored("b1"))
}

func TestRetriedExchangeCombineRecordsTheBackupOnce(t *testing.T) {
	f := newExchangeFixture(t, 0)
	src := newFakeFolders(map[string]int{"inbox": 9, "sent": 5})
	f.a.NewClient = func(string, string, string) (Client, error) { return src, nil }
	ids := []string{"inbox", "sent"}
	res, _, err := f.runTogether(plansOf(ids, nil, t), nil)
	require.NoError(t, err)
	var cs []workflows.CollectionResult
	for _, id := range ids {
		cs = append(cs, res[id])
	}
	s, attempts := combineRetried(t, f.a, "CombineBackup", workflows.CombineInput{
		Repo: f.repo, BackupID: "b1", TenantID: "tenant", Mailbox: m365.Mailbox{ID: "mbx", UPN: "ann@contoso.com"},
		Collections: cs, Workflow: "wf",
	})
	require.Equal(t, int32(2), attempts, "the first attempt's result was lost")
	require.Equal(t, int64(9+5), s.Items)
	require.Len(t, recordsOf(t, f.a.Repos, f.repo, "b1"), 1)
}
