package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// ExchangeExportWorkflow writes the selected items of one Exchange backup
// as standard files (.eml, .vcf, .ics) on the requesting machine. The one
// activity runs on the requester's own task queue; if the requester is gone
// it is not picked up and the export fails instead of writing elsewhere.
func ExchangeExportWorkflow(ctx workflow.Context, in ExportInput) (ExportResult, error) {
	var res ExportResult
	err := workflow.ExecuteActivity(exportActivityOptions(ctx, in.TaskQueue), ActivityExportExchange, in).Get(ctx, &res)
	return res, err
}

// DriveExportWorkflow writes the selected files of a OneDrive or
// SharePoint backup on the requesting machine, the same way.
func DriveExportWorkflow(ctx workflow.Context, in ExportInput) (ExportResult, error) {
	var res ExportResult
	err := workflow.ExecuteActivity(exportActivityOptions(ctx, in.TaskQueue), ActivityExportDrive, in).Get(ctx, &res)
	return res, err
}

// exportRetriesChange marks exports retried: before it, one attempt.
const exportRetriesChange = "export-retries"

// exportActivityOptions run the export on the requester's queue. A failed
// attempt (Temporal unreachable past the heartbeat timeout, storage
// trouble) is retried there: a folder export goes on from the files the
// earlier attempt finished, and a zip starts again (activities.Exporter).
func exportActivityOptions(ctx workflow.Context, queue string) workflow.Context {
	retry := &temporal.RetryPolicy{MaximumAttempts: 1}
	if workflow.GetVersion(ctx, exportRetriesChange, workflow.DefaultVersion, 1) >= 1 {
		retry = &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        30 * time.Second,
			MaximumAttempts:        5,
			NonRetryableErrorTypes: nonRetryableTypes,
		}
	}
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:              queue,
		ScheduleToStartTimeout: time.Minute,
		StartToCloseTimeout:    24 * time.Hour,
		// The requester's process heartbeats while it exports, however
		// long one file takes to stream (activities.LivenessInterceptor).
		HeartbeatTimeout: ShortHeartbeatTimeout,
		RetryPolicy:      retry,
	})
}
