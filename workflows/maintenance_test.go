package workflows

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
)

const testRepoID = "0123456789abcdef0123456789abcdef"

func maintenanceInput() RepoMaintenanceInput {
	return RepoMaintenanceInput{
		Repo:         RepoRef{Storage: Storage{Provider: ProviderS3, Bucket: "corso-test", Prefix: "t1"}, Credentials: []byte("sealed")},
		RepositoryID: testRepoID, Mode: MaintenanceFull,
	}
}

// newMaintenanceEnv runs RepoMaintenanceWorkflow under workflow id id with
// a maintenance activity that records the workflow it ran in.
func newMaintenanceEnv(id string, fn func(context.Context, RepoMaintenanceInput) (RepoMaintenanceResult, error)) (*testsuite.TestWorkflowEnvironment, *[]string) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: id})
	ranIn := &[]string{}
	env.RegisterWorkflow(RepoMaintenanceWorkflow)
	env.RegisterActivityWithOptions(func(ctx context.Context, in RepoMaintenanceInput) (RepoMaintenanceResult, error) {
		*ranIn = append(*ranIn, activity.GetInfo(ctx).WorkflowExecution.ID)
		return fn(ctx, in)
	}, activity.RegisterOptions{Name: ActivityMaintainRepository})
	return env, ranIn
}

func done(_ context.Context, in RepoMaintenanceInput) (RepoMaintenanceResult, error) {
	return RepoMaintenanceResult{RepositoryID: in.RepositoryID, Mode: in.Mode, Owner: "maintenance@corso-" + in.RepositoryID}, nil
}

func TestMaintenanceRunsUnderTheRepositorysID(t *testing.T) {
	env, ranIn := newMaintenanceEnv(MaintenanceWorkflowID(testRepoID), done)
	env.ExecuteWorkflow(RepoMaintenanceWorkflow, maintenanceInput())
	require.NoError(t, env.GetWorkflowError())
	var res RepoMaintenanceResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, MaintenanceFull, res.Mode)
	require.Equal(t, []string{"corso-maintenance-" + testRepoID}, *ranIn)
}

// A run under another id (as a schedule starts it) runs the repository's
// maintenance as a child under the repository's id, never itself.
func TestMaintenanceStartingTheSingletonRunsItAsAChild(t *testing.T) {
	env, ranIn := newMaintenanceEnv("schedule-run-2026-12-07T00:00:00Z", done)
	in := maintenanceInput()
	in.StartSingleton = true
	env.ExecuteWorkflow(RepoMaintenanceWorkflow, in)
	require.NoError(t, env.GetWorkflowError())
	var res RepoMaintenanceResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.False(t, res.AlreadyRunning)
	require.Equal(t, "maintenance@corso-"+testRepoID, res.Owner)
	require.Equal(t, []string{MaintenanceWorkflowID(testRepoID)}, *ranIn)
}

func TestMaintenanceRefusesBadInputWithoutRunning(t *testing.T) {
	for name, mutate := range map[string]func(*RepoMaintenanceInput){
		"mode":          func(in *RepoMaintenanceInput) { in.Mode = "complete" },
		"repository id": func(in *RepoMaintenanceInput) { in.RepositoryID = "../x" },
		"storage":       func(in *RepoMaintenanceInput) { in.Repo.Storage.Bucket = "" },
	} {
		t.Run(name, func(t *testing.T) {
			in := maintenanceInput()
			mutate(&in)
			env, ranIn := newMaintenanceEnv(MaintenanceWorkflowID(testRepoID), done)
			env.ExecuteWorkflow(RepoMaintenanceWorkflow, in)
			var appErr *temporal.ApplicationError
			require.True(t, errors.As(env.GetWorkflowError(), &appErr), "want an application error, got %v", env.GetWorkflowError())
			require.Equal(t, ErrTypeInvalidInput, appErr.Type())
			require.True(t, appErr.NonRetryable())
			require.Empty(t, *ranIn)
		})
	}
}

func TestMaintenanceOwnedElsewhereIsNotRetried(t *testing.T) {
	env, ranIn := newMaintenanceEnv(MaintenanceWorkflowID(testRepoID), func(context.Context, RepoMaintenanceInput) (RepoMaintenanceResult, error) {
		return RepoMaintenanceResult{}, temporal.NewApplicationError("owned by kopia@laptop", ErrTypeMaintenanceOwned)
	})
	env.ExecuteWorkflow(RepoMaintenanceWorkflow, maintenanceInput())
	require.Error(t, env.GetWorkflowError())
	require.True(t, strings.Contains(env.GetWorkflowError().Error(), "owned by kopia@laptop"))
	require.Len(t, *ranIn, 1)
}

func TestBackupRequestTypesAreTheBackupRequests(t *testing.T) {
	require.Equal(t, []string{"ContainersBackupWorkflow", "DriveBackupWorkflow", "ExchangeBackupWorkflow"}, BackupRequestTypes())
}
