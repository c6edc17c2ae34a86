package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// repoActivityOptions suit short repository operations (init, connect):
// a few retries for transient storage trouble, none for user errors, so a
// wrong passphrase comes back in seconds.
func repoActivityOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		// Key derivation (scrypt) plus a handful of round trips to storage.
		StartToCloseTimeout: 2 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        15 * time.Second,
			MaximumAttempts:        4,
			NonRetryableErrorTypes: nonRetryableTypes,
		},
	})
}
