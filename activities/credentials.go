package activities

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/corso-temporal/corso/codec"
	"github.com/corso-temporal/corso/workflows"
)

// openCredentials opens sealed credentials into v if they were sealed for
// the request this activity works for (its root workflow's id and purpose)
// and have not expired. A schedule's credentials open in a request that
// schedule started, which Temporal's own record of the schedule proves.
// Credentials copied from another request are refused, never retried.
func (a *Repositories) openCredentials(ctx context.Context, sealed codec.Sealed, what string, v any) error {
	requestOf := a.requestOf
	if requestOf == nil {
		requestOf = workflows.RequestOfActivity
	}
	req := requestOf(ctx)
	want := codec.Binding{WorkflowID: req.WorkflowID, Purpose: req.Purpose()}
	if b, err := codec.BindingOf(sealed); err == nil && b.Schedule != "" {
		started, err := a.schedules.started(ctx, b.Schedule, req)
		if err != nil {
			return temporal.NewApplicationError("check that schedule "+b.Schedule+" started this request: "+err.Error(), "ScheduleUnavailable")
		}
		if started {
			want.Schedule = b.Schedule
		}
	}
	err := a.Sealer.Open(sealed, want, time.Now(), v)
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

// scheduleRecordWait is how long a request is given to appear in its
// schedule's record: the schedule notes a run it started only after the
// start returns, and the run's first activity can come sooner.
const scheduleRecordWait = 10 * time.Second

// scheduleRuns proves that a schedule started a request, by asking
// Temporal for the runs the schedule has running and recently started
// (workflow id and first run id). Its search attributes would not do:
// clients may set TemporalScheduledById on any start. The last run proven
// for each schedule is remembered, so a run's many activities ask once.
type scheduleRuns struct {
	mu     sync.Mutex
	proven map[string]workflows.Request
	// describe lists what Temporal records of a schedule's runs; nil asks
	// the activity's Temporal client. Tests set it.
	describe func(ctx context.Context, scheduleID string) ([]client.ScheduleWorkflowExecution, error)
	// wait replaces scheduleRecordWait when set.
	wait time.Duration
}

// started reports whether schedule scheduleID started req.
func (s *scheduleRuns) started(ctx context.Context, scheduleID string, req workflows.Request) (bool, error) {
	if req.WorkflowID == "" || req.RunID == "" {
		return false, nil
	}
	s.mu.Lock()
	known := s.proven[scheduleID] == req
	s.mu.Unlock()
	if known {
		return true, nil
	}
	describe := s.describe
	if describe == nil {
		describe = describeScheduleRuns
	}
	deadline := time.Now().Add(cmp.Or(s.wait, scheduleRecordWait))
	for {
		runs, err := describe(ctx, scheduleID)
		var notFound *serviceerror.NotFound
		switch {
		case errors.As(err, &notFound):
			return false, nil
		case err != nil:
			return false, err
		}
		for _, r := range runs {
			if r.WorkflowID == req.WorkflowID && r.FirstExecutionRunID == req.RunID {
				s.mu.Lock()
				if s.proven == nil {
					s.proven = map[string]workflows.Request{}
				}
				s.proven[scheduleID] = req
				s.mu.Unlock()
				return true, nil
			}
		}
		if time.Now().After(deadline) {
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// describeScheduleRuns lists the runs a schedule has running and those it
// started recently.
func describeScheduleRuns(ctx context.Context, scheduleID string) ([]client.ScheduleWorkflowExecution, error) {
	c := activity.GetClient(ctx)
	if c == nil {
		return nil, fmt.Errorf("this worker has no Temporal client to ask")
	}
	d, err := c.ScheduleClient().GetHandle(ctx, scheduleID).Describe(ctx)
	if err != nil {
		return nil, err
	}
	runs := append([]client.ScheduleWorkflowExecution(nil), d.Info.RunningWorkflows...)
	for _, a := range d.Info.RecentActions {
		if a.StartWorkflowResult != nil {
			runs = append(runs, *a.StartWorkflowResult)
		}
	}
	return runs, nil
}
