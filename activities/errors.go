package activities

import (
	"errors"

	"go.temporal.io/sdk/temporal"

	"github.com/corso-temporal/corso/repository"
	"github.com/corso-temporal/corso/workflows"
)

// repositoryError turns a repository error into the workflow error the CLI
// will show: non-retryable when the user must change something.
func repositoryError(err error) error {
	if err == nil {
		return nil
	}
	for _, m := range []struct {
		target error
		typ    string
	}{
		{repository.ErrBucketNotFound, workflows.ErrTypeBucketNotFound},
		{repository.ErrAccessDenied, workflows.ErrTypeAccessDenied},
		{repository.ErrInvalidCredentials, workflows.ErrTypeAccessDenied},
		{repository.ErrWrongPassphrase, workflows.ErrTypeWrongPassphrase},
		{repository.ErrNotInitialized, workflows.ErrTypeRepositoryNotFound},
		{repository.ErrInvalidLocation, workflows.ErrTypeInvalidInput},
	} {
		if errors.Is(err, m.target) {
			return temporal.NewNonRetryableApplicationError(err.Error(), m.typ, nil)
		}
	}
	if errors.Is(err, repository.ErrUnreachable) {
		return temporal.NewApplicationError(err.Error(), workflows.ErrTypeStorageUnreachable)
	}
	return err
}

func invalidInput(msg string) error {
	return temporal.NewNonRetryableApplicationError(msg, workflows.ErrTypeInvalidInput, nil)
}
