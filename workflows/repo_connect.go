package workflows

import (
	"go.temporal.io/sdk/workflow"
)

// RepoConnectWorkflow checks that a repository exists at a location and
// that the passphrase opens it.
func RepoConnectWorkflow(ctx workflow.Context, in RepoConnectInput) (RepoResult, error) {
	var res RepoResult
	err := workflow.ExecuteActivity(repoActivityOptions(ctx), ActivityConnectRepository, in).Get(ctx, &res)
	return res, err
}
