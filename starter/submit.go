package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// request is one workflow the CLI submits and waits for.
type request struct {
	idPrefix string
	workflow any
	input    any
	attrs    []temporal.SearchAttributeUpdate
	// progress, if set, tells where the run stands, for the progress
	// line on a terminal; false when it cannot tell now.
	progress func(context.Context, submitted) (progressReport, bool)

	// workflowID, if set, is the workflow's id instead of one made from
	// idPrefix: a request that runs once at a time (maintenance).
	workflowID string
}

// submitted names a started workflow.
type submitted struct {
	WorkflowID string `json:"workflowID"`
	RunID      string `json:"runID"`
}

func newWorkflowID(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

// execute starts the workflow and waits for its result. If no worker has
// started the run's first workflow task within workerWait it terminates the
// run, so the request does not surprise anyone by running later, and says
// what to start. Pollers Temporal lists do not count: it remembers those of
// stopped workers for minutes.
func execute(ctx context.Context, c client.Client, g *globals, req request, result any) (submitted, error) {
	run, err := startRun(ctx, c, g, req)
	if err != nil {
		return submitted{}, err
	}
	s := submitted{WorkflowID: run.GetID(), RunID: run.GetRunID()}
	if req.progress != nil {
		// Stopped, and the line cleared, before the caller prints results.
		stop := newProgressLine(g, os.Stderr).watch(ctx, func(ctx context.Context) (progressReport, bool) {
			return req.progress(ctx, s)
		})
		defer stop()
	}

	done := make(chan error, 1)
	go func() { done <- awaitResult(ctx, run, result) }()

	deadline := time.NewTimer(g.workerWait)
	defer deadline.Stop()
	var unreachableSince time.Time
	for {
		select {
		case err := <-done:
			return s, err
		case <-deadline.C:
			desc, err := c.DescribeWorkflowExecution(ctx, s.WorkflowID, s.RunID)
			if err != nil && temporalUnreachable(ctx, err) {
				// Temporal restarting: ask again, while the result is
				// still awaited, for as long as a restart takes.
				if unreachableSince.IsZero() {
					unreachableSince = time.Now()
				}
				if time.Since(unreachableSince) < maxTemporalUnreachable {
					deadline.Reset(askAgainEvery)
					continue
				}
			}
			if err != nil {
				return s, fmt.Errorf("could not tell whether a corso-worker picked up %s (it may still run; see the Web UI): %w", s.WorkflowID, err)
			}
			if pickedUp(desc) {
				return s, <-done
			}
			_ = c.TerminateWorkflow(context.WithoutCancel(ctx), s.WorkflowID, s.RunID, "no corso-worker picked it up within --worker-wait")
			return s, fmt.Errorf("no corso-worker picked up %s from task queue %q on %s (namespace %s) within --worker-wait %s; it was withdrawn: start one with `corso-worker`",
				s.WorkflowID, g.taskQueue, g.temporal.Address, g.temporal.Namespace, g.workerWait)
		}
	}
}

// How long the CLI keeps asking a Temporal it cannot reach whether a
// worker picked the run up, and how often: a restart of the server takes
// a minute or two.
const (
	maxTemporalUnreachable = 5 * time.Minute
	askAgainEvery          = 5 * time.Second
)

// awaitResult waits for the run's result, through Temporal restarting:
// the wait is taken up again while the server cannot be reached, for up
// to maxTemporalUnreachable at a time.
func awaitResult(ctx context.Context, run client.WorkflowRun, result any) error {
	var unreachableSince time.Time
	for {
		err := run.Get(ctx, result)
		if err == nil || !temporalUnreachable(ctx, err) {
			return err
		}
		if unreachableSince.IsZero() {
			unreachableSince = time.Now()
		}
		if time.Since(unreachableSince) >= maxTemporalUnreachable {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(askAgainEvery):
		}
	}
}

// temporalUnreachable reports an error of a call that did not reach
// Temporal (the server down or restarting), not one of the CLI's own end.
func temporalUnreachable(ctx context.Context, err error) bool {
	var unavailable *serviceerror.Unavailable
	var timedOut *serviceerror.DeadlineExceeded
	return ctx.Err() == nil && (errors.As(err, &unavailable) || errors.As(err, &timedOut) || errors.Is(err, context.DeadlineExceeded))
}

// start submits the workflow without waiting for it.
func start(ctx context.Context, c client.Client, g *globals, req request) (submitted, error) {
	run, err := startRun(ctx, c, g, req)
	if err != nil {
		return submitted{}, err
	}
	return submitted{WorkflowID: run.GetID(), RunID: run.GetRunID()}, nil
}

func startRun(ctx context.Context, c client.Client, g *globals, req request) (client.WorkflowRun, error) {
	id := req.workflowID
	if id == "" {
		id = newWorkflowID(req.idPrefix)
	}
	input := req.input
	if build, ok := input.(sealedInput); ok {
		// Secrets are sealed for this request alone.
		b, err := g.binding(id, req.workflow)
		if err != nil {
			return nil, err
		}
		if input, err = build(b); err != nil {
			return nil, err
		}
	}
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                    id,
		TaskQueue:             g.taskQueue,
		TypedSearchAttributes: temporal.NewSearchAttributes(req.attrs...),
	}, req.workflow, input)
	if err != nil {
		return nil, fmt.Errorf("submit workflow: %w", err)
	}
	return run, nil
}

// pickedUp reports whether a worker has started the run's first workflow
// task: the task is running, or the history has more than the run's start
// and that task's scheduling (a worker started it, whatever came of it), or
// the run is over.
func pickedUp(d *workflowservice.DescribeWorkflowExecutionResponse) bool {
	info := d.GetWorkflowExecutionInfo()
	return info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING ||
		d.GetPendingWorkflowTask().GetState() == enumspb.PENDING_WORKFLOW_TASK_STATE_STARTED ||
		info.GetHistoryLength() > 2
}

// oneLine reduces an error to the message a user needs: for a failed
// workflow, the application error an activity raised.
func oneLine(err error) string {
	msg := err.Error()
	var appErr *temporal.ApplicationError
	var timeoutErr *temporal.TimeoutError
	switch {
	case errors.As(err, &appErr):
		msg = appErr.Message()
	case errors.As(err, &timeoutErr):
		msg = "timed out: " + timeoutErr.Error()
	}
	// Messages from SDKs can span lines; a CLI error is one. They quote
	// names from the tenant, so they go out neutralised (output.go).
	return printable(strings.Join(strings.Fields(msg), " "))
}
