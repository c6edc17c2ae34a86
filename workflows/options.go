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

// ShortHeartbeatTimeout is how soon a dead worker is noticed in a short
// activity. Short activities send no heartbeats of their own: the worker
// sends them while such an activity runs (activities.LivenessInterceptor),
// so this bounds a worker's death, not the activity's length.
const ShortHeartbeatTimeout = time.Minute

// shortActivityOptions suit quick Graph or repository reads (resolve,
// plan, list, details, delete, combine).
func shortActivityOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute,
		HeartbeatTimeout:    ShortHeartbeatTimeout,
		RetryPolicy:         shortRetryPolicy(),
	})
}

// planActivityOptions suit a backup's plan run as a local activity: a few
// reads, retried like the short activities.
func planActivityOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		ScheduleToCloseTimeout: 30 * time.Minute,
		RetryPolicy:            shortRetryPolicy(),
	})
}

// shortRetryPolicy retries quick reads a few times, never user errors.
func shortRetryPolicy() *temporal.RetryPolicy {
	return &temporal.RetryPolicy{
		InitialInterval:        time.Second,
		BackoffCoefficient:     2,
		MaximumInterval:        time.Minute,
		MaximumAttempts:        6,
		NonRetryableErrorTypes: backupNonRetryableTypes,
	}
}

// collectionActivityOptions suit one container's backup: long, so it
// heartbeats; a worker that dies is noticed within HeartbeatTimeout and the
// next attempt resumes from the last checkpoint. Throttling retries come
// with Graph's Retry-After as the next delay.
func collectionActivityOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 24 * time.Hour,
		// Collection activities heartbeat before every item and every few
		// MiB of a download, so a silent minute-half means a dead worker.
		HeartbeatTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        2 * time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        2 * time.Minute,
			MaximumAttempts:        25,
			NonRetryableErrorTypes: backupNonRetryableTypes,
		},
	})
}
