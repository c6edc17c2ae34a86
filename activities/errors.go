package activities

import (
	"errors"

	"go.temporal.io/sdk/temporal"

	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/repository"
	"github.com/corso-temporal/corso/workflows"
)

// repositoryError turns a repository error into the workflow error the CLI
// will show: non-retryable when the user must change something.
func repositoryError(err error) error {
	if err == nil {
		return nil
	}
	err = repository.ExpiredSessionToken(err)
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
	if errors.Is(err, repository.ErrUnreadable) {
		return temporal.NewNonRetryableApplicationError(err.Error()+
			" (run `corso backup verify` to list what it affects)", workflows.ErrTypeDataUnreadable, nil)
	}
	if errors.Is(err, repository.ErrUnreachable) {
		return temporal.NewApplicationError(err.Error(), workflows.ErrTypeStorageUnreachable)
	}
	return err
}

func invalidInput(msg string) error {
	return temporal.NewNonRetryableApplicationError(msg, workflows.ErrTypeInvalidInput, nil)
}

// graphError turns a Graph client error into the workflow error, by its
// class (m365/faults.go): a refused app fails the run, a resource denied
// or unavailable fails that resource's backup alone, throttling retries
// after Graph's delay. None of the final ones is retried.
func graphError(err error) error {
	var throttled *m365.ThrottledError
	if err == nil {
		return nil
	}
	class, cause := m365.FaultOf(err)
	switch {
	case errors.Is(err, m365.ErrAuth):
		return temporal.NewNonRetryableApplicationError("Microsoft Graph refused the app: "+err.Error()+
			" (check AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET and the app's admin consent)", workflows.ErrTypeGraphAuth, nil)
	case class == m365.ResourceDenied:
		return temporal.NewNonRetryableApplicationError(cause.Describe()+": "+err.Error(), workflows.ErrTypeResourceDenied, nil)
	case class == m365.ResourceUnavailable:
		return temporal.NewNonRetryableApplicationError(cause.Describe()+": "+err.Error(), workflows.ErrTypeResourceUnavailable, nil)
	case errors.Is(err, m365.ErrUnknownResource):
		return temporal.NewNonRetryableApplicationError(err.Error(), workflows.ErrTypeUnknownMailbox, nil)
	case class == m365.ItemSkipped:
		return temporal.NewNonRetryableApplicationError(cause.Describe()+": "+err.Error(), workflows.ErrTypeItemFailed, nil)
	case errors.As(err, &throttled):
		return temporal.NewApplicationErrorWithOptions(err.Error(), workflows.ErrTypeThrottled,
			temporal.ApplicationErrorOptions{NextRetryDelay: throttled.RetryAfter})
	}
	return err
}
