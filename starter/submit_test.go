package main

import (
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
)

func TestPickedUpMeansAWorkerStartedTheFirstTask(t *testing.T) {
	describe := func(status enumspb.WorkflowExecutionStatus, events int64, task enumspb.PendingWorkflowTaskState) *workflowservice.DescribeWorkflowExecutionResponse {
		d := &workflowservice.DescribeWorkflowExecutionResponse{
			WorkflowExecutionInfo: &workflowpb.WorkflowExecutionInfo{Status: status, HistoryLength: events},
		}
		if task != enumspb.PENDING_WORKFLOW_TASK_STATE_UNSPECIFIED {
			d.PendingWorkflowTask = &workflowpb.PendingWorkflowTaskInfo{State: task, Attempt: 1}
		}
		return d
	}
	running := enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
	for _, c := range []struct {
		name string
		d    *workflowservice.DescribeWorkflowExecutionResponse
		want bool
	}{
		{"first task waiting in the queue", describe(running, 2, enumspb.PENDING_WORKFLOW_TASK_STATE_SCHEDULED), false},
		{"first task being run", describe(running, 3, enumspb.PENDING_WORKFLOW_TASK_STATE_STARTED), true},
		{"first task started, history not yet longer", describe(running, 2, enumspb.PENDING_WORKFLOW_TASK_STATE_STARTED), true},
		{"first task done, activities running", describe(running, 5, enumspb.PENDING_WORKFLOW_TASK_STATE_UNSPECIFIED), true},
		{"first task timed out on a dead worker, rescheduled", describe(running, 5, enumspb.PENDING_WORKFLOW_TASK_STATE_SCHEDULED), true},
		{"already completed", describe(enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, 10, enumspb.PENDING_WORKFLOW_TASK_STATE_UNSPECIFIED), true},
	} {
		if got := pickedUp(c.d); got != c.want {
			t.Errorf("%s: pickedUp = %v, want %v", c.name, got, c.want)
		}
	}
}
