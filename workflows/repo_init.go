package workflows

import (
	"go.temporal.io/sdk/workflow"
)

// RepoInitWorkflow creates a repository, or confirms that one already
// exists at that location and opens with the given passphrase.
func RepoInitWorkflow(ctx workflow.Context, in RepoInitInput) (RepoResult, error) {
	var res RepoResult
	err := workflow.ExecuteActivity(repoActivityOptions(ctx), ActivityInitRepository, in).Get(ctx, &res)
	return res, err
}
