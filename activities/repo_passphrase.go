package activities

import (
	"context"
	"errors"

	"go.temporal.io/sdk/activity"

	"github.com/corso-temporal/corso/repository"
	"github.com/corso-temporal/corso/workflows"
)

// ChangePassphrase replaces the repository's passphrase with the sealed
// new one. A retried attempt whose predecessor already made the change
// finds the new passphrase opens the repository, and succeeds.
func (a *Repositories) ChangePassphrase(ctx context.Context, in workflows.RepoPassphraseInput) (workflows.RepoPassphraseResult, error) {
	loc, creds, err := a.resolve(ctx, in.Repo)
	if err != nil {
		return workflows.RepoPassphraseResult{}, err
	}
	var np workflows.NewPassphrase
	if err := a.openCredentials(ctx, in.NewPassphrase, "new passphrase", &np); err != nil {
		return workflows.RepoPassphraseResult{}, err
	}
	if np.NewPassphrase == "" {
		return workflows.RepoPassphraseResult{}, invalidInput("the new passphrase is empty")
	}
	r, err := a.Connections.Open(ctx, loc, creds)
	if errors.Is(err, repository.ErrWrongPassphrase) && activity.GetInfo(ctx).Attempt > 1 {
		next := creds
		next.Passphrase = np.NewPassphrase
		if done, derr := a.Connections.Open(ctx, loc, next); derr == nil {
			defer done.Release(ctx)
			return workflows.RepoPassphraseResult{RepositoryID: done.ID, Storage: in.Repo.Storage}, nil
		}
	}
	if err != nil {
		return workflows.RepoPassphraseResult{}, repositoryError(err)
	}
	defer r.Release(ctx)
	if err := r.ChangePassphrase(ctx, creds.Passphrase, np.NewPassphrase); err != nil {
		if errors.Is(err, repository.ErrSamePassphrase) {
			return workflows.RepoPassphraseResult{}, invalidInput("the new passphrase is the current one; nothing changed")
		}
		return workflows.RepoPassphraseResult{}, repositoryError(err)
	}
	return workflows.RepoPassphraseResult{RepositoryID: r.ID, Storage: in.Repo.Storage}, nil
}
