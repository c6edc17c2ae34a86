package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
)

// repeatedWork is what Temporal ran more than once in a request's
// resource workflows: each repeat may send a resource's requests a second
// time, on top of its budget. A workflow task that timed out or failed is
// run again, with every local activity it had not recorded (a mailbox's
// plan); an activity started for its n-th attempt was run n-1 times
// before, and an attempt that timed out may still be sending when the
// next starts.
type repeatedWork struct {
	workflows       int
	taskTimeouts    int
	taskFailures    int
	retriedAttempts map[string]int // by activity type: attempts beyond the first
	attemptTimeouts map[string]int // by activity type and timeout kind
	// retriedAfter counts the failures retried attempts followed, by
	// activity type and the failure's message.
	retriedAfter     map[string]int
	workflowsRepeats int // workflows with any of the above
}

// scanRepeatedWork reads the history of every workflow of type wfType
// started since `since` and counts the work Temporal repeated in them.
func scanRepeatedWork(ctx context.Context, c client.Client, wfType string, since time.Time) (repeatedWork, error) {
	rw := repeatedWork{retriedAttempts: map[string]int{}, attemptTimeouts: map[string]int{}, retriedAfter: map[string]int{}}
	query := "WorkflowType = '" + wfType + "' AND StartTime >= '" + since.UTC().Format(time.RFC3339) + "'"
	var token []byte
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: "default", Query: query, NextPageToken: token})
		if err != nil {
			return rw, err
		}
		for _, e := range resp.Executions {
			repeated, err := rw.scan(ctx, c, e.Execution.WorkflowId, e.Execution.RunId)
			if err != nil {
				return rw, err
			}
			rw.workflows++
			if repeated {
				rw.workflowsRepeats++
			}
		}
		if token = resp.NextPageToken; len(token) == 0 {
			return rw, nil
		}
	}
}

// scan counts the repeated work of one run and tells whether it had any.
func (rw *repeatedWork) scan(ctx context.Context, c client.Client, id, runID string) (bool, error) {
	scheduled := map[int64]string{} // scheduled event id: activity type
	repeated := false
	it := c.GetWorkflowHistory(ctx, id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return false, fmt.Errorf("history of %s: %w", id, err)
		}
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
			rw.taskTimeouts++
			repeated = true
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED:
			rw.taskFailures++
			repeated = true
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			scheduled[ev.GetEventId()] = ev.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName()
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
			a := ev.GetActivityTaskStartedEventAttributes()
			if n := a.GetAttempt(); n > 1 {
				rw.retriedAttempts[scheduled[a.GetScheduledEventId()]] += int(n) - 1
				rw.retriedAfter[scheduled[a.GetScheduledEventId()]+": "+failureLine(a.GetLastFailure().GetMessage())]++
				repeated = true
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
			a := ev.GetActivityTaskTimedOutEventAttributes()
			kind := strings.ToLower(strings.TrimPrefix(a.GetFailure().GetTimeoutFailureInfo().GetTimeoutType().String(), "TIMEOUT_TYPE_"))
			rw.attemptTimeouts[scheduled[a.GetScheduledEventId()]+" "+kind]++
			repeated = true
		}
	}
	return repeated, nil
}

func (rw repeatedWork) String() string {
	counts := func(m map[string]int) string {
		if len(m) == 0 {
			return "none"
		}
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(m)) {
			parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
		}
		return strings.Join(parts, ", ")
	}
	return fmt.Sprintf("%d of %d workflows: %d workflow tasks timed out, %d failed; activity attempts retried: %s; last attempts timed out: %s; retried after: %s",
		rw.workflowsRepeats, rw.workflows, rw.taskTimeouts, rw.taskFailures, counts(rw.retriedAttempts), counts(rw.attemptTimeouts), counts(rw.retriedAfter))
}

// failureLine is a failure's message cut to its first 120 characters.
func failureLine(msg string) string {
	if msg == "" {
		return "(no failure)"
	}
	if r := []rune(msg); len(r) > 120 {
		return string(r[:120]) + "…"
	}
	return msg
}
