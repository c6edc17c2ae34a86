package workflows

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/m365"
)

// fakeRestoreActivities plans a restore of mail and events folders and
// records how the workflow schedules them.
type fakeRestoreActivities struct {
	mu          sync.Mutex
	inFlight    int
	maxInFlight int
	running     int // collection activities in flight
	maxRunning  int
	started     []time.Time
	failPath    string
}

func (f *fakeRestoreActivities) register(env *testsuite.TestWorkflowEnvironment) {
	env.RegisterActivityWithOptions(func(_ context.Context, in PlanRestoreInput) (RestorePlan, error) {
		p := RestorePlan{Target: m365.Mailbox{ID: "bob-id", UPN: "bob@x"}}
		for i := range 7 {
			cat := m365.Email
			if i%3 == 2 {
				cat = m365.Events
			}
			p.Collections = append(p.Collections, RestoreCollectionPlan{Category: cat, Path: []string{fmt.Sprint("f", i)},
				TargetID: fmt.Sprint("t", i), Selected: int64(70 - 10*i)})
		}
		return p, nil
	}, activity.RegisterOptions{Name: ActivityPlanRestore})
	env.RegisterActivityWithOptions(func(_ context.Context, in RestoreCollectionInput) (RestoreCollectionResult, error) {
		f.mu.Lock()
		f.inFlight += in.Concurrency
		f.maxInFlight = max(f.maxInFlight, f.inFlight)
		f.running++
		f.maxRunning = max(f.maxRunning, f.running)
		f.started = append(f.started, in.Started)
		f.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		f.mu.Lock()
		f.inFlight -= in.Concurrency
		f.running--
		f.mu.Unlock()
		if in.Plan.Path[0] == f.failPath {
			return RestoreCollectionResult{}, temporal.NewNonRetryableApplicationError("item y cannot be restored", ErrTypeItemFailed, nil)
		}
		return RestoreCollectionResult{
			RestoreCounts: RestoreCounts{Restored: in.Plan.Selected - 1, Failed: 1, Bytes: 10 * in.Plan.Selected},
			Errors:        []backup.ItemError{{Category: string(in.Plan.Category), ItemID: "bad-" + in.Plan.Path[0], Reason: "refused"}},
		}, nil
	}, activity.RegisterOptions{Name: ActivityRestoreCollection})
}

func TestExchangeRestoreSharesTheBudgetAndCountsByCategory(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	f := &fakeRestoreActivities{}
	f.register(env)
	env.RegisterWorkflow(ExchangeRestoreWorkflow)
	env.ExecuteWorkflow(ExchangeRestoreWorkflow, ExchangeRestoreInput{BackupID: "b1", Destination: "R", Collisions: CollisionSkip})
	require.NoError(t, env.GetWorkflowError())
	var res RestoreResult
	require.NoError(t, env.GetWorkflowResult(&res))

	require.LessOrEqual(t, f.maxInFlight, MailboxRequestBudget, "never more requests than Exchange allows per mailbox")
	require.Equal(t, MailboxRequestBudget, f.maxInFlight, "the whole budget in use while collections remain")
	require.GreaterOrEqual(t, f.maxRunning, 2, "collections restored at once")
	require.Len(t, f.started, 7)
	for _, s := range f.started {
		require.Equal(t, f.started[0], s, "every collection knows when the restore started")
		require.False(t, s.IsZero())
	}
	// Email: folders 0,1,3,4,6 (70+60+40+30+10 selected); events: 2,5 (50+20).
	require.Equal(t, []CategoryCounts{
		{Category: m365.Email, RestoreCounts: RestoreCounts{Restored: 205, Failed: 5, Bytes: 2100}},
		{Category: m365.Events, RestoreCounts: RestoreCounts{Restored: 68, Failed: 2, Bytes: 700}},
	}, res.Categories)
	require.Equal(t, RestoreCounts{Restored: 273, Failed: 7, Bytes: 2800}, res.Total)
	require.Len(t, res.Errors, 7)
	require.Equal(t, "bob@x", res.Mailbox.UPN)

	v, err := env.QueryWorkflow(ProgressQuery)
	require.NoError(t, err)
	var p RestoreProgress
	require.NoError(t, v.Get(&p))
	require.Equal(t, RestoreProgress{Stage: "done", CollectionsTotal: 7, CollectionsDone: 7, Selected: 280, Done: res.Total}, p)
}

func TestExchangeRestoreStopsOnAFinalError(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	f := &fakeRestoreActivities{failPath: "f0"}
	f.register(env)
	env.RegisterWorkflow(ExchangeRestoreWorkflow)
	env.ExecuteWorkflow(ExchangeRestoreWorkflow, ExchangeRestoreInput{BackupID: "b1", Destination: "R", Collisions: CollisionSkip, FailFast: true})
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(env.GetWorkflowError(), &appErr))
	require.Equal(t, ErrTypeItemFailed, appErr.Type())
	require.Less(t, len(f.started), 7, "no collection starts after the failure")
}
