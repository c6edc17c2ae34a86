package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/corso-temporal/corso/codec"
)

// ActivityChangePassphrase changes a repository's passphrase.
const ActivityChangePassphrase = "ChangePassphrase"

// NewPassphrase is the secret a passphrase change sets. It travels only
// sealed, like RepoCredentials.
type NewPassphrase struct {
	NewPassphrase string `json:"newPassphrase"`
}

// RepoPassphraseInput is the input of RepoPassphraseWorkflow.
type RepoPassphraseInput struct {
	Repo RepoRef `json:"repo"`
	// NewPassphrase is a sealed NewPassphrase.
	NewPassphrase codec.Sealed `json:"newPassphrase"`
}

// RepoPassphraseResult is what a passphrase change returns.
type RepoPassphraseResult struct {
	RepositoryID string  `json:"repositoryID"`
	Storage      Storage `json:"storage"`
}

// RepoPassphraseWorkflow changes a repository's passphrase. A retried
// attempt whose predecessor made the change succeeds: the activity then
// finds the new passphrase opens the repository.
func RepoPassphraseWorkflow(ctx workflow.Context, in RepoPassphraseInput) (RepoPassphraseResult, error) {
	var res RepoPassphraseResult
	err := workflow.ExecuteActivity(repoActivityOptions(ctx), ActivityChangePassphrase, in).Get(ctx, &res)
	return res, err
}
