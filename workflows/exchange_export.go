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
func ExchangeExportWorkflow(ctx workflow.Context, in ExchangeExportInput) (ExchangeExportResult, error) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:              in.TaskQueue,
		ScheduleToStartTimeout: time.Minute,
		StartToCloseTimeout:    24 * time.Hour,
		HeartbeatTimeout:       time.Minute,
		// One attempt: files already written are never overwritten, so a
		// second attempt would number its copies beside them. A failed
		// export is reported and the admin runs it again.
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1},
	})
	var res ExchangeExportResult
	err := workflow.ExecuteActivity(actx, ActivityExportExchange, in).Get(ctx, &res)
	return res, err
}
