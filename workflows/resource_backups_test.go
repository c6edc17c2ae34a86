package workflows

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/corso-temporal/corso/backup"
)

func TestBackUpEachBoundsChildrenInFlightAndIsolatesFailures(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	inFlight, most := 0, 0
	child := func(ctx workflow.Context, resource string) (backup.Summary, error) {
		inFlight++
		most = max(most, inFlight)
		defer func() { inFlight-- }()
		if err := workflow.Sleep(ctx, time.Minute); err != nil {
			return backup.Summary{}, err
		}
		if resource == "r3" {
			return backup.Summary{}, errors.New("the resource's backup failed")
		}
		return backup.Summary{BackupID: workflow.GetInfo(ctx).WorkflowExecution.ID, Resource: resource, Items: 1, Status: backup.StatusCompleted}, nil
	}
	env.RegisterWorkflowWithOptions(child, workflow.RegisterOptions{Name: "child"})
	env.ExecuteWorkflow(func(ctx workflow.Context) ([]backup.Summary, error) {
		var rs []resourceBackup
		for i := range 7 {
			r := fmt.Sprint("r", i)
			rs = append(rs, resourceBackup{label: r + "@x", resource: r, name: "R " + r,
				child: func(ctx workflow.Context, _ string) workflow.ChildWorkflowFuture {
					return workflow.ExecuteChildWorkflow(ctx, "child", r)
				}})
		}
		return backUpEach(ctx, backupRequest{service: "svc", graph: GraphRef{TenantID: "t"}}, 3, rs)
	})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var got []backup.Summary
	require.NoError(t, env.GetWorkflowResult(&got))
	require.Len(t, got, 7)
	require.Equal(t, 3, most)
	for i, s := range got {
		require.Equal(t, fmt.Sprint("r", i), s.Resource, "results in the order of the resources")
		if i != 3 {
			require.Regexp(t, "^corso-backup-[0-9a-f]{16}$", s.BackupID, "each child is its backup's workflow")
		}
	}
	require.Regexp(t, "^[0-9a-f]{16}$", got[3].BackupID, "a failed backup keeps its id")
	require.Equal(t, backup.StatusFailed, got[3].Status)
	require.Equal(t, "R r3", got[3].ResourceName)
	require.Equal(t, "svc", got[3].Service)
	require.Contains(t, got[3].Error, "the resource's backup failed")
}
