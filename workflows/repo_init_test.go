package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
)

func s3Input() RepoInitInput {
	return RepoInitInput{Repo: RepoRef{
		Storage:     Storage{Provider: ProviderS3, Bucket: "corso-test", Prefix: "t1"},
		Credentials: []byte("sealed"),
	}}
}

// newRepoEnv registers fn as the InitRepository activity and counts calls.
func newRepoEnv(t *testing.T, fn func(context.Context, RepoInitInput) (RepoResult, error)) (*testsuite.TestWorkflowEnvironment, *int) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	calls := new(int)
	env.RegisterWorkflow(RepoInitWorkflow)
	env.RegisterActivityWithOptions(func(ctx context.Context, in RepoInitInput) (RepoResult, error) {
		*calls++
		return fn(ctx, in)
	}, activity.RegisterOptions{Name: ActivityInitRepository})
	return env, calls
}

func TestRepoInitReturnsActivityResult(t *testing.T) {
	env, calls := newRepoEnv(t, func(_ context.Context, in RepoInitInput) (RepoResult, error) {
		return RepoResult{RepositoryID: "abc", Storage: in.Repo.Storage, Created: true}, nil
	})
	env.ExecuteWorkflow(RepoInitWorkflow, s3Input())
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res RepoResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, "abc", res.RepositoryID)
	require.Equal(t, "corso-test", res.Storage.Bucket)
	require.Equal(t, 1, *calls)
}

func TestRepoInitDoesNotRetryUserErrors(t *testing.T) {
	for _, typ := range nonRetryableTypes {
		t.Run(typ, func(t *testing.T) {
			env, calls := newRepoEnv(t, func(context.Context, RepoInitInput) (RepoResult, error) {
				// Retryable as raised: the workflow's policy must still stop it.
				return RepoResult{}, temporal.NewApplicationError("nope", typ)
			})
			env.ExecuteWorkflow(RepoInitWorkflow, s3Input())
			err := env.GetWorkflowError()
			var appErr *temporal.ApplicationError
			require.True(t, errors.As(err, &appErr), "want application error, got %v", err)
			require.Equal(t, typ, appErr.Type())
			require.Equal(t, 1, *calls)
		})
	}
}

func TestRepoInitGivesUpAfterMaximumAttempts(t *testing.T) {
	env, calls := newRepoEnv(t, func(context.Context, RepoInitInput) (RepoResult, error) {
		return RepoResult{}, errors.New("connection reset by peer")
	})
	env.ExecuteWorkflow(RepoInitWorkflow, s3Input())
	require.Error(t, env.GetWorkflowError())
	require.Equal(t, 4, *calls, "transient errors are retried up to MaximumAttempts")
}

func TestRepoInitRecoversAfterTransientErrors(t *testing.T) {
	n := 0
	env, calls := newRepoEnv(t, func(context.Context, RepoInitInput) (RepoResult, error) {
		n++
		if n < 3 {
			return RepoResult{}, errors.New("503 slow down")
		}
		return RepoResult{RepositoryID: "r"}, nil
	})
	env.ExecuteWorkflow(RepoInitWorkflow, s3Input())
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, 3, *calls)
}

func TestRepoInitBoundsActivityRuntime(t *testing.T) {
	var got time.Duration
	env, _ := newRepoEnv(t, func(ctx context.Context, _ RepoInitInput) (RepoResult, error) {
		got = activity.GetInfo(ctx).StartToCloseTimeout
		return RepoResult{}, nil
	})
	env.ExecuteWorkflow(RepoInitWorkflow, s3Input())
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, 2*time.Minute, got, "a hung storage call must not block the CLI forever")
}
