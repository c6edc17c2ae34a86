package main

import (
	"context"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/corso-temporal/corso/codec"
)

// describedReport maps a run as Temporal describes it to where it stands.
// dc decodes the payloads of the description.
type describedReport func(d *workflowservice.DescribeWorkflowExecutionResponse, dc converter.DataConverter) progressReport

// heartbeatProgress is the progress of a run whose one long activity
// heartbeats its counts, which its workflow never sees (verify, delete,
// maintenance): Temporal's description of the run carries the pending
// activity's last heartbeat, and report reads it. Nil, showing no
// progress, when the payloads cannot be decoded here.
func heartbeatProgress(g *globals, c client.Client, report describedReport) func(context.Context, submitted) (progressReport, bool) {
	dc, err := codec.NewDataConverter(g.temporal.CodecKey, codec.AcceptUnencrypted(g.temporal.AcceptUnencrypted))
	if err != nil {
		return nil
	}
	return func(ctx context.Context, sub submitted) (progressReport, bool) {
		d, err := c.DescribeWorkflowExecution(ctx, sub.WorkflowID, sub.RunID)
		if err != nil {
			return progressReport{}, false
		}
		return report(d, dc), true
	}
}

// pendingHeartbeat decodes into what the run's pending activity of
// activityType last heartbeated; false when no such activity is pending or
// it has not heartbeated details yet.
func pendingHeartbeat(d *workflowservice.DescribeWorkflowExecutionResponse, dc converter.DataConverter, activityType string, into any) bool {
	for _, a := range d.GetPendingActivities() {
		if a.GetActivityType().GetName() != activityType || len(a.GetHeartbeatDetails().GetPayloads()) == 0 {
			continue
		}
		return dc.FromPayloads(a.GetHeartbeatDetails(), into) == nil
	}
	return false
}

// pendingActivity reports whether an activity of activityType is pending.
func pendingActivity(d *workflowservice.DescribeWorkflowExecutionResponse, activityType string) bool {
	for _, a := range d.GetPendingActivities() {
		if a.GetActivityType().GetName() == activityType {
			return true
		}
	}
	return false
}
