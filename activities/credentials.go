package activities

import (
	"context"
	"errors"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/corso-temporal/corso/codec"
	"github.com/corso-temporal/corso/workflows"
)

// openCredentials opens sealed credentials into v if they were sealed for
// the request this activity works for (its root workflow's id and purpose)
// and have not expired. Credentials copied from another request are
// refused, never retried.
func (a *Repositories) openCredentials(ctx context.Context, sealed codec.Sealed, what string, v any) error {
	requestOf := a.requestOf
	if requestOf == nil {
		requestOf = workflows.RequestOfActivity
	}
	req := requestOf(ctx)
	err := a.Sealer.Open(sealed, codec.Binding{WorkflowID: req.WorkflowID, Purpose: req.Purpose()}, time.Now(), v)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, codec.ErrRefused):
		return temporal.NewNonRetryableApplicationError("refused the request's "+what+": "+
			strings.TrimPrefix(err.Error(), codec.ErrRefused.Error()+": "), workflows.ErrTypeCredentialsRefused, nil)
	default:
		return invalidInput("cannot read the request's " + what + ": " + err.Error())
	}
}
