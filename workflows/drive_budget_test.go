package workflows

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/corso-temporal/corso/m365"
)

// budgetRun drives a budget workflow with leases at given times into the
// run and keeps every answer.
type budgetRun struct {
	t        *testing.T
	env      *testsuite.TestWorkflowEnvironment
	rejected []error
}

func newBudgetRun(t *testing.T) *budgetRun {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(DriveBudgetWorkflow)
	return &budgetRun{t: t, env: env}
}

// lease sends req at `at` into the run; the grant lands in the returned
// pointer once the update completes.
func (r *budgetRun) lease(at time.Duration, req DriveBudgetLeaseRequest) *DriveBudgetGrant {
	g := new(DriveBudgetGrant)
	r.env.RegisterDelayedCallback(func() {
		r.env.UpdateWorkflow(UpdateDriveBudgetLease, "", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { r.rejected = append(r.rejected, err) },
			OnComplete: func(v any, err error) {
				if err != nil {
					r.t.Errorf("lease %+v at %v: %v", req, at, err)
					return
				}
				*g = v.(DriveBudgetGrant)
			},
		}, req)
	}, at)
	return g
}

func (r *budgetRun) run(st DriveBudgetState) {
	r.env.ExecuteWorkflow(DriveBudgetWorkflow, st)
	require.True(r.t, r.env.IsWorkflowCompleted())
}

func renew(worker string, ru int) DriveBudgetLeaseRequest {
	return DriveBudgetLeaseRequest{Worker: worker, RUPerMinute: ru}
}

func TestDriveBudgetSharesEvenlyAndAnExpiredLeaseGoesToTheOthers(t *testing.T) {
	r := newBudgetRun(t)
	a1 := r.lease(time.Second, renew("a", 1200))
	b1 := r.lease(2*time.Second, renew("b", 1200))
	a2 := r.lease(3*time.Second, renew("a", 1200))
	b2 := r.lease(4*time.Second, renew("b", 1200))
	// b stops renewing; its lease runs out at 34 s.
	a3 := r.lease(23*time.Second, renew("a", 1200))
	a4 := r.lease(35*time.Second, renew("a", 1200))
	r.run(DriveBudgetState{})
	require.NoError(t, r.env.GetWorkflowError())

	require.Equal(t, 1, a1.Workers)
	require.InDelta(t, 1080, a1.RUPerMinute, 1e-9, "alone, all but the headroom")
	require.Equal(t, DriveBudgetRenewEvery, a1.RenewEvery)
	// a spends 1080 until it renews: b starts with the least share and
	// comes back soon for more.
	require.Equal(t, 2, b1.Workers)
	require.InDelta(t, 54, b1.RUPerMinute, 1e-9)
	require.Equal(t, driveBudgetCatchUp, b1.RenewEvery)
	for _, g := range []*DriveBudgetGrant{a2, b2, a3} {
		require.Equal(t, 2, g.Workers)
		require.InDelta(t, 540, g.RUPerMinute, 1e-9)
		require.Equal(t, DriveBudgetRenewEvery, g.RenewEvery)
		require.Zero(t, g.PauseFor)
	}
	require.Equal(t, 1, a4.Workers, "b's lease expired")
	require.InDelta(t, 1080, a4.RUPerMinute, 1e-9)
}

// However workers come and go, the shares granted never add up to more
// than the budget.
func TestDriveBudgetNeverGrantsMoreThanTheBudget(t *testing.T) {
	r := newBudgetRun(t)
	type lease struct {
		worker string
		g      *DriveBudgetGrant
	}
	var leases []lease
	at := time.Second
	for i := range 120 {
		w := fmt.Sprint("w", (i*7)%5)
		req := renew(w, 1200)
		if i%11 == 10 {
			req = DriveBudgetLeaseRequest{Worker: w, Release: true}
		}
		leases = append(leases, lease{w, r.lease(at, req)})
		at += time.Duration(1+i%3) * time.Second
	}
	r.run(DriveBudgetState{})
	require.NoError(t, r.env.GetWorkflowError())
	held := map[string]float64{}
	for _, l := range leases {
		held[l.worker] = l.g.RUPerMinute
		var sum float64
		for _, v := range held {
			sum += v
		}
		require.LessOrEqual(t, sum, 1200+1e-6, "after %d leases: %v", len(held), held)
	}
}

func TestDriveBudgetReleaseFreesAShareAtOnce(t *testing.T) {
	r := newBudgetRun(t)
	r.lease(time.Second, renew("a", 1200))
	r.lease(2*time.Second, renew("b", 1200))
	rel := r.lease(3*time.Second, DriveBudgetLeaseRequest{Worker: "b", Release: true})
	a := r.lease(4*time.Second, renew("a", 1200))
	r.run(DriveBudgetState{})
	require.NoError(t, r.env.GetWorkflowError())

	require.Equal(t, 1, rel.Workers)
	require.Zero(t, rel.RUPerMinute, "a released worker holds no share")
	require.Equal(t, 1, a.Workers)
	require.InDelta(t, 1080, a.RUPerMinute, 1e-9)
}

func TestDriveBudgetThrottlingPausesTheWholeFleet(t *testing.T) {
	r := newBudgetRun(t)
	r.lease(time.Second, renew("a", 1200))
	r.lease(2*time.Second, renew("b", 1200))
	thr := r.lease(5*time.Second, DriveBudgetLeaseRequest{Worker: "a", RUPerMinute: 1200, ThrottledFor: 2 * time.Minute})
	b1 := r.lease(10*time.Second, renew("b", 1200))
	// A shorter Retry-After does not cut the pause short.
	r.lease(20*time.Second, DriveBudgetLeaseRequest{Worker: "b", RUPerMinute: 1200, ThrottledFor: 10 * time.Second})
	var bs []*DriveBudgetGrant
	for at := 30 * time.Second; at <= 130*time.Second; at += 10 * time.Second {
		r.lease(at, renew("a", 1200))
		bs = append(bs, r.lease(at, renew("b", 1200)))
	}
	r.run(DriveBudgetState{})
	require.NoError(t, r.env.GetWorkflowError())

	require.Equal(t, 2*time.Minute, thr.PauseFor)
	require.Equal(t, 2, thr.Workers, "throttling takes no one's lease")
	require.Equal(t, 115*time.Second, b1.PauseFor, "the other worker pauses until the same moment")
	require.Equal(t, 95*time.Second, bs[0].PauseFor)
	require.Equal(t, 5*time.Second, bs[9].PauseFor)
	require.Zero(t, bs[10].PauseFor, "the pause is over at 125 s")
	require.InDelta(t, 540, bs[10].RUPerMinute, 1e-9)
}

func TestDriveBudgetHoldsToTheSmallestConfiguredBudget(t *testing.T) {
	r := newBudgetRun(t)
	r.lease(time.Second, renew("a", 1200))
	b := r.lease(2*time.Second, renew("b", 600))
	a := r.lease(3*time.Second, renew("a", 1200))
	r.lease(4*time.Second, DriveBudgetLeaseRequest{Worker: "b", Release: true})
	alone := r.lease(5*time.Second, renew("a", 1200))
	r.run(DriveBudgetState{})
	require.NoError(t, r.env.GetWorkflowError())

	require.Zero(t, b.RUPerMinute, "a still spends 1080, more than b's budget: b waits")
	require.Equal(t, driveBudgetCatchUp, b.RenewEvery)
	require.InDelta(t, 270, a.RUPerMinute, 1e-9, "whoever asks, the smaller budget holds")
	require.InDelta(t, 1080, alone.RUPerMinute, 1e-9)
}

func TestDriveBudgetRejectsLeasesWithoutWorkerOrBudget(t *testing.T) {
	r := newBudgetRun(t)
	r.lease(time.Second, renew("", 1200))
	r.lease(time.Second, renew("a", 0))
	r.lease(time.Second, renew("a", -5))
	rel := r.lease(2*time.Second, DriveBudgetLeaseRequest{Worker: "z", Release: true})
	b := r.lease(3*time.Second, renew("b", 1200))
	r.run(DriveBudgetState{})
	require.NoError(t, r.env.GetWorkflowError())

	require.Len(t, r.rejected, 3)
	require.Zero(t, rel.Workers, "releasing needs no budget, nor a lease")
	require.Equal(t, 1, b.Workers, "rejected leases hold no share")
}

func TestDriveBudgetCompletesOnceIdle(t *testing.T) {
	r := newBudgetRun(t)
	start := r.env.Now()
	r.run(DriveBudgetState{})
	require.NoError(t, r.env.GetWorkflowError())
	require.Less(t, r.env.Now().Sub(start), 2*DriveBudgetLeaseTTL)

	r = newBudgetRun(t)
	start = r.env.Now()
	r.lease(10*time.Second, renew("a", 1200))
	r.run(DriveBudgetState{})
	require.NoError(t, r.env.GetWorkflowError())
	took := r.env.Now().Sub(start)
	require.GreaterOrEqual(t, took, 10*time.Second+DriveBudgetLeaseTTL, "not before the last lease expired")
	require.Less(t, took, 10*time.Second+3*DriveBudgetLeaseTTL)

	// A worker that just released may be back in a moment.
	r = newBudgetRun(t)
	start = r.env.Now()
	r.lease(time.Second, renew("a", 1200))
	r.lease(29*time.Second, DriveBudgetLeaseRequest{Worker: "a", Release: true})
	r.run(DriveBudgetState{})
	require.NoError(t, r.env.GetWorkflowError())
	require.GreaterOrEqual(t, r.env.Now().Sub(start), 29*time.Second+DriveBudgetLeaseTTL)
}

func TestDriveBudgetContinuesAsNewWithItsLeases(t *testing.T) {
	r := newBudgetRun(t)
	var last *DriveBudgetGrant
	for i := range driveBudgetUpdatesPerRun {
		req := renew(fmt.Sprint("w", i%3), 1200)
		if i == driveBudgetUpdatesPerRun-3 {
			req.ThrottledFor = 4 * time.Minute
		}
		last = r.lease(time.Duration(i+1)*time.Second, req)
	}
	r.run(DriveBudgetState{})
	var can *workflow.ContinueAsNewError
	require.True(t, errors.As(r.env.GetWorkflowError(), &can), "%v", r.env.GetWorkflowError())
	require.Equal(t, 3, last.Workers, "the last update before continuing is answered")

	var st DriveBudgetState
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &st))
	require.Len(t, st.Leases, 3)
	for i, l := range st.Leases {
		require.Equal(t, fmt.Sprint("w", i), l.Worker, "sorted by worker")
		require.Equal(t, 1200, l.RUPerMinute)
		require.True(t, l.Expires.After(r.env.Now()))
	}
	require.True(t, st.PausedUntil.After(r.env.Now()))

	// The next run picks up where this one stopped.
	next := newBudgetRun(t)
	next.env.SetStartTime(r.env.Now())
	g := next.lease(time.Second, renew("w3", 1200))
	next.run(st)
	require.NoError(t, next.env.GetWorkflowError())
	require.Equal(t, 4, g.Workers)
	require.InDelta(t, 27, g.RUPerMinute, 1e-9, "the others' shares came along: the newcomer catches up")
	require.Equal(t, driveBudgetCatchUp, g.RenewEvery)
	require.Greater(t, g.PauseFor, 3*time.Minute)
}

func TestDriveBudgetPauseIsCapped(t *testing.T) {
	r := newBudgetRun(t)
	r.lease(time.Second, renew("a", 1200))
	thr := r.lease(2*time.Second, DriveBudgetLeaseRequest{Worker: "b", RUPerMinute: 1200, ThrottledFor: 24 * time.Hour})
	// a keeps its lease; the pause ends at 2 s + the cap.
	grants := map[time.Duration]*DriveBudgetGrant{}
	for at := 3 * time.Second; at <= m365.MaxRetryAfter+23*time.Second; at += 20 * time.Second {
		grants[at] = r.lease(at, renew("a", 1200))
	}
	r.run(DriveBudgetState{})
	require.NoError(t, r.env.GetWorkflowError())

	require.Equal(t, m365.MaxRetryAfter, thr.PauseFor, "a day's Retry-After pauses the fleet for the cap")
	require.Equal(t, m365.MaxRetryAfter-time.Second, grants[3*time.Second].PauseFor)
	require.Equal(t, 19*time.Second, grants[283*time.Second].PauseFor)
	require.Zero(t, grants[303*time.Second].PauseFor, "the fleet spends again once the cap is over")
}
