package workflows

import (
	"errors"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/corso-temporal/corso/m365"
)

// SharePoint Online and OneDrive meter each app per tenant in resource
// units (RU) per minute, whichever worker spends them. Every worker
// backing up drives of a tenant holds a lease in the tenant's budget
// workflow and spends an equal share of the budget; a worker that stops
// renewing loses its lease after DriveBudgetLeaseTTL and its share goes
// to the others.
const (
	DriveBudgetLeaseTTL   = 30 * time.Second
	DriveBudgetRenewEvery = 3 * time.Second

	// UpdateDriveBudgetLease renews or releases a worker's lease and
	// answers with its share.
	UpdateDriveBudgetLease = "lease"
)

// driveBudgetHeadroom is the part of the budget the leases share out; the
// rest covers the workers' bursts and the least shares below.
const driveBudgetHeadroom = 0.9

// The shares granted never add up to more than the budget: a worker that
// joins while the others still spend their larger shares gets what they
// leave (up to a tenth of its fair share from the headroom; nothing, that
// is a pause, when even that is taken) and renews every driveBudgetCatchUp
// until it has its fair share; the others give theirs up at their next
// renewal.
const (
	driveBudgetLeastShare = 0.1
	driveBudgetCatchUp    = time.Second
)

// driveBudgetUpdatesPerRun bounds the history of a run: a renewal every
// DriveBudgetRenewEvery from each of a few dozen workers fills it within
// minutes, so the run continues as new well before the server asks.
const driveBudgetUpdatesPerRun = 500

// DriveBudgetWorkflowID names the budget workflow of an app in a tenant:
// the one every worker spending that app's resource units there leases
// from.
func DriveBudgetWorkflowID(tenantID, clientID string) string {
	return "corso-drive-budget-" + tenantID + "-" + clientID
}

// DriveBudgetLeaseRequest renews, or releases, a worker's lease.
type DriveBudgetLeaseRequest struct {
	// Worker identifies the worker process, the same on every renewal.
	Worker string
	// RUPerMinute is the tenant's budget as the worker is configured.
	RUPerMinute int
	// Release gives the worker's share back to the others at once.
	Release bool
	// ThrottledFor, when positive, is the Retry-After Graph answered to
	// one of the worker's drive requests: the whole fleet pauses for it.
	ThrottledFor time.Duration
}

// DriveBudgetGrant is a worker's share of the budget until its next
// renewal.
type DriveBudgetGrant struct {
	RUPerMinute float64
	// Workers is how many workers share the budget.
	Workers int
	// PauseFor is how long every worker waits before spending again, 0 if
	// Graph has not throttled any of them lately.
	PauseFor time.Duration
	// RenewEvery is when to renew the lease.
	RenewEvery time.Duration
}

// DriveBudgetLease is a worker's share in a budget workflow.
type DriveBudgetLease struct {
	Worker      string
	RUPerMinute int
	Expires     time.Time
	// Granted is the share the worker was last given: what it spends
	// until it renews.
	Granted float64
}

// DriveBudgetState is what a budget workflow knows, carried over when it
// continues as new.
type DriveBudgetState struct {
	// Leases are sorted by Worker.
	Leases      []DriveBudgetLease
	PausedUntil time.Time
}

// DriveBudgetWorkflow shares a tenant's SharePoint and OneDrive budget
// among the workers spending it; under TeamsBudgetWorkflowID, the same
// workflow shares the tenant's Teams channel message reads. Workers start it with their first lease
// (update-with-start); it completes once no lease is held and none has
// come for DriveBudgetLeaseTTL.
func DriveBudgetWorkflow(ctx workflow.Context, st DriveBudgetState) error {
	slices.SortFunc(st.Leases, func(a, b DriveBudgetLease) int { return strings.Compare(a.Worker, b.Worker) })
	b := &driveBudget{state: st}
	handled, last := 0, workflow.Now(ctx)
	err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateDriveBudgetLease,
		func(ctx workflow.Context, req DriveBudgetLeaseRequest) (DriveBudgetGrant, error) {
			handled++
			last = workflow.Now(ctx)
			req.ThrottledFor = cappedPause(ctx, req.ThrottledFor)
			return b.lease(last, req), nil
		},
		workflow.UpdateHandlerOptions{Validator: validateDriveBudgetLease})
	if err != nil {
		return err
	}
	longHistory := func() bool {
		return handled >= driveBudgetUpdatesPerRun || workflow.GetInfo(ctx).GetContinueAsNewSuggested()
	}
	// One timer per TTL rather than one per renewal keeps the history
	// short: renewals prune the leases themselves.
	for {
		if _, err := workflow.AwaitWithTimeout(ctx, DriveBudgetLeaseTTL, longHistory); err != nil {
			return err
		}
		if longHistory() {
			if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
				return err
			}
			b.prune(workflow.Now(ctx))
			return workflow.NewContinueAsNewError(ctx, DriveBudgetWorkflow, b.state)
		}
		now := workflow.Now(ctx)
		b.prune(now)
		if len(b.state.Leases) == 0 && now.Sub(last) >= DriveBudgetLeaseTTL {
			// Idle for a whole TTL: the next lease starts a new run.
			return workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
		}
	}
}

// drivePauseCapChange cut the fleet's pauses to m365.MaxRetryAfter: a
// lease naming a longer one (a broken Graph answer, or anyone allowed to
// send updates) would otherwise stop every worker of the tenant for as long
// as it says.
const drivePauseCapChange = "drive-budget-pause-cap"

// cappedPause bounds the pause a lease asks the fleet for. Runs that took
// a longer one before the change replay it uncut.
func cappedPause(ctx workflow.Context, d time.Duration) time.Duration {
	if d <= m365.MaxRetryAfter || workflow.GetVersion(ctx, drivePauseCapChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return d
	}
	return m365.MaxRetryAfter
}

func validateDriveBudgetLease(req DriveBudgetLeaseRequest) error {
	if req.Worker == "" {
		return errors.New("lease without a worker")
	}
	if !req.Release && req.RUPerMinute <= 0 {
		return errors.New("lease without a budget")
	}
	return nil
}

type driveBudget struct {
	state DriveBudgetState
}

// prune drops the leases of workers that stopped renewing.
func (b *driveBudget) prune(now time.Time) {
	b.state.Leases = slices.DeleteFunc(b.state.Leases, func(l DriveBudgetLease) bool { return !l.Expires.After(now) })
	if !b.state.PausedUntil.After(now) {
		b.state.PausedUntil = time.Time{}
	}
}

// lease applies a worker's renewal and returns its share: the smallest
// budget any worker is configured with, less the headroom, split evenly,
// as far as the others' current shares leave room. A released worker
// holds no share.
func (b *driveBudget) lease(now time.Time, req DriveBudgetLeaseRequest) DriveBudgetGrant {
	b.prune(now)
	i, found := slices.BinarySearchFunc(b.state.Leases, req.Worker, func(l DriveBudgetLease, w string) int { return strings.Compare(l.Worker, w) })
	switch {
	case req.Release && found:
		b.state.Leases = slices.Delete(b.state.Leases, i, i+1)
	case req.Release:
	case found:
		b.state.Leases[i].RUPerMinute, b.state.Leases[i].Expires = req.RUPerMinute, now.Add(DriveBudgetLeaseTTL)
	default:
		b.state.Leases = slices.Insert(b.state.Leases, i, DriveBudgetLease{Worker: req.Worker, RUPerMinute: req.RUPerMinute, Expires: now.Add(DriveBudgetLeaseTTL)})
	}
	if req.ThrottledFor > 0 {
		if until := now.Add(req.ThrottledFor); until.After(b.state.PausedUntil) {
			b.state.PausedUntil = until
		}
	}

	g := DriveBudgetGrant{Workers: len(b.state.Leases), RenewEvery: DriveBudgetRenewEvery}
	if b.state.PausedUntil.After(now) {
		g.PauseFor = b.state.PausedUntil.Sub(now)
	}
	if req.Release || g.Workers == 0 {
		return g
	}
	budget := b.state.Leases[0].RUPerMinute
	var others float64
	for j, l := range b.state.Leases {
		budget = min(budget, l.RUPerMinute)
		if j != i {
			others += l.Granted
		}
	}
	pool := float64(budget) * driveBudgetHeadroom
	fair := pool / float64(g.Workers)
	avail := pool - others
	if avail < fair*driveBudgetLeastShare {
		// Into the headroom, never beyond the budget.
		avail = min(fair*driveBudgetLeastShare, float64(budget)-others)
	}
	g.RUPerMinute = max(0, min(fair, avail))
	if g.RUPerMinute < fair {
		g.RenewEvery = driveBudgetCatchUp
	}
	b.state.Leases[i].Granted = g.RUPerMinute
	return g
}
