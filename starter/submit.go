package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// request is one workflow the CLI submits and waits for.
type request struct {
	idPrefix string
	workflow any
	input    any
	attrs    []temporal.SearchAttributeUpdate
	// onWait, if set, runs while the CLI waits (progress display); it
	// must return when its context ends.
	onWait func(context.Context, submitted)
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

// execute starts the workflow and waits for its result. If no worker polls
// the task queue within workerWait it terminates the run, so the request
// does not surprise anyone by running later, and says what to start.
func execute(ctx context.Context, c client.Client, g *globals, req request, result any) (submitted, error) {
	run, err := startRun(ctx, c, g, req)
	if err != nil {
		return submitted{}, err
	}
	s := submitted{WorkflowID: run.GetID(), RunID: run.GetRunID()}
	if req.onWait != nil {
		wctx, stop := context.WithCancel(ctx)
		defer stop()
		go req.onWait(wctx, s)
	}

	done := make(chan error, 1)
	go func() { done <- run.Get(ctx, result) }()

	deadline := time.NewTimer(g.workerWait)
	defer deadline.Stop()
	for {
		select {
		case err := <-done:
			return s, err
		case <-deadline.C:
			if hasPollers(ctx, c, g.taskQueue) {
				return s, <-done
			}
			_ = c.TerminateWorkflow(context.WithoutCancel(ctx), s.WorkflowID, s.RunID, "no corso-worker picked it up")
			return s, fmt.Errorf("no corso-worker is polling task queue %q on %s (namespace %s) after %s: start one with `corso-worker`",
				g.taskQueue, g.temporal.Address, g.temporal.Namespace, g.workerWait)
		}
	}
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
	id := newWorkflowID(req.idPrefix)
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

func hasPollers(ctx context.Context, c client.Client, queue string) bool {
	resp, err := c.DescribeTaskQueue(ctx, queue, enumspb.TASK_QUEUE_TYPE_WORKFLOW)
	return err == nil && len(resp.GetPollers()) > 0
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
	// Messages from SDKs can span lines; a CLI error is one.
	return strings.Join(strings.Fields(msg), " ")
}
