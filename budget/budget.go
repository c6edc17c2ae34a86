// Package budget shares a tenant's per-app Graph budgets among the workers
// of a fleet: SharePoint/OneDrive resource units, and Teams' channel
// message reads.
//
// SharePoint Online meters each app per tenant in resource units (RU) per
// minute, whichever process spends them. Every worker spending on a tenant
// leases an equal share of the budget from the tenant's
// workflows.DriveBudgetWorkflow and paces its Graph requests with a token
// bucket at that share; when Graph throttles one worker, the whole fleet
// pauses. Teams limits an app's channel message reads per tenant the same
// way, in requests (one unit each): the same workflow under another id
// shares that budget (TemporalTeamsLeaser).
package budget

import (
	"context"
	"log/slog"
	"math"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"golang.org/x/time/rate"

	"github.com/corso-temporal/corso/workflows"
)

const (
	// maxCost is the largest cost of a single request (a permission
	// call): the bucket always holds at least that much.
	maxCost = 5
	// firstGrantWait bounds how long the first Spend of a tenant waits
	// for its share before spending as if alone.
	firstGrantWait = 5 * time.Second
	// leaseTimeout bounds one lease round trip; a budget workflow that no
	// worker polls for would otherwise hold the renewal forever.
	leaseTimeout = 10 * time.Second
	// releaseTimeout bounds the release of a lease on shutdown.
	releaseTimeout = 2 * time.Second
	// maxReservation is the longest Spend waits on tokens reserved at one
	// rate: the share may grow meanwhile.
	maxReservation = 250 * time.Millisecond
)

// Leaser renews or releases a worker's lease in a tenant's budget.
type Leaser interface {
	Lease(ctx context.Context, tenantID, clientID string, req workflows.DriveBudgetLeaseRequest) (workflows.DriveBudgetGrant, error)
}

// TemporalLeaser leases from the tenant's drive budget workflow, starting
// it on taskQueue if no run is open.
func TemporalLeaser(c client.Client, taskQueue string) Leaser {
	return temporalLeaser{c: c, taskQueue: taskQueue, workflowID: workflows.DriveBudgetWorkflowID, operation: "drive budget"}
}

// TemporalTeamsLeaser leases from the tenant's budget of Teams channel
// message reads, likewise.
func TemporalTeamsLeaser(c client.Client, taskQueue string) Leaser {
	return temporalLeaser{c: c, taskQueue: taskQueue, workflowID: workflows.TeamsBudgetWorkflowID, operation: "teams budget"}
}

type temporalLeaser struct {
	c          client.Client
	taskQueue  string
	workflowID func(tenantID, clientID string) string
	operation  string
}

func (l temporalLeaser) Lease(ctx context.Context, tenantID, clientID string, req workflows.DriveBudgetLeaseRequest) (workflows.DriveBudgetGrant, error) {
	start := l.c.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID:                       l.workflowID(tenantID, clientID),
		TaskQueue:                l.taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.AttrOperation.ValueSet(l.operation),
			workflows.AttrTenant.ValueSet(tenantID),
		),
	}, workflows.DriveBudgetWorkflow, workflows.DriveBudgetState{})
	h, err := l.c.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: start,
		UpdateOptions: client.UpdateWorkflowOptions{
			UpdateName:   workflows.UpdateDriveBudgetLease,
			Args:         []any{req},
			WaitForStage: client.WorkflowUpdateStageCompleted,
		},
	})
	if err != nil {
		return workflows.DriveBudgetGrant{}, err
	}
	var g workflows.DriveBudgetGrant
	err = h.Get(ctx, &g)
	return g, err
}

// Fleet is one worker's side of the budgets of every tenant it backs up
// drives of.
type Fleet struct {
	leaser      Leaser
	worker      string
	ruPerMinute int
	log         *slog.Logger
	// renewEvery paces leasing until a grant says otherwise.
	renewEvery time.Duration

	mu      sync.Mutex
	tenants map[[2]string]*Tenant
	closed  bool
	// stop ends the renewals and cancels the leases in flight.
	stop   context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New returns the budgets of the worker named worker, configured with a
// tenant budget of ruPerMinute; 0 or less leaves drive requests unmetered.
func New(l Leaser, worker string, ruPerMinute int, log *slog.Logger) *Fleet {
	if log == nil {
		log = slog.Default()
	}
	stop, cancel := context.WithCancel(context.Background())
	return &Fleet{
		leaser: l, worker: worker, ruPerMinute: ruPerMinute, log: log,
		renewEvery: workflows.DriveBudgetRenewEvery,
		tenants:    map[[2]string]*Tenant{}, stop: stop, cancel: cancel,
	}
}

// Tenant returns the budget of an app in a tenant, the same for the same
// pair.
func (f *Fleet) Tenant(tenantID, clientID string) *Tenant {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := [2]string{tenantID, clientID}
	if t, ok := f.tenants[k]; ok {
		return t
	}
	t := &Tenant{f: f, tenantID: tenantID, clientID: clientID, wake: make(chan struct{}, 1), turn: make(chan struct{}, 1)}
	if f.ruPerMinute > 0 {
		// Until the first grant, as if alone.
		t.lim = rate.NewLimiter(0, maxCost)
		t.setShare(f.alone())
	}
	f.tenants[k] = t
	return t
}

// Close releases every lease the worker holds and stops renewing. Spend
// goes on pacing at the last share.
func (f *Fleet) Close() {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	f.cancel()
	f.wg.Wait()
}

// alone is the share of a worker that cannot reach the budget workflow:
// the whole budget but the headroom the workflow keeps.
func (f *Fleet) alone() float64 {
	return float64(f.ruPerMinute) * 0.9
}

// Tenant paces one worker's drive requests to an app in a tenant at its
// share of the tenant's budget.
type Tenant struct {
	f                  *Fleet
	tenantID, clientID string
	lim                *rate.Limiter // nil when unmetered
	// wake asks the renewal for an immediate lease.
	wake chan struct{}
	// turn is held by the Spend taking tokens.
	turn chan struct{}

	mu sync.Mutex
	// spending counts the Spends under way, lastSpend is when the last
	// one ended: a worker waiting out a pause still needs its share.
	spending    int
	lastSpend   time.Time
	pausedUntil time.Time
	// report is set while a throttling is to be told to the fleet;
	// reported counts them, so a renewal only clears what it sent.
	report   bool
	reported int
	// leasing is set while a renewal runs; granted closes once it has
	// the first share (or gave up on it), done once it has stopped.
	leasing bool
	granted chan struct{}
	done    chan struct{}
	// unshared is open while the last grant was nothing: Spend waits
	// for it to close, which a grant of a share (or giving up leasing)
	// does.
	unshared chan struct{}
}

// Spend blocks until units resource units may be spent, or ctx ends.
func (t *Tenant) Spend(ctx context.Context, units int) error {
	if t.lim == nil {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	granted := t.touch()
	defer t.spent()
	// One Spend at a time takes tokens, in turn: a dear request must not
	// starve behind cheap ones that keep taking what accumulates.
	select {
	case t.turn <- struct{}{}:
		defer func() { <-t.turn }()
	case <-ctx.Done():
		return ctx.Err()
	}
	if granted != nil {
		wait := time.NewTimer(firstGrantWait)
		select {
		case <-granted:
		case <-wait.C:
		case <-ctx.Done():
			wait.Stop()
			return ctx.Err()
		}
		wait.Stop()
	}
	for units > 0 {
		if err := t.waitPause(ctx); err != nil {
			return err
		}
		n := min(units, t.lim.Burst())
		r := t.lim.ReserveN(time.Now(), n)
		if !r.OK() {
			continue // the burst shrank meanwhile
		}
		d := r.Delay()
		if d > maxReservation {
			// Reservations keep the rate they were made at: waiting out
			// one made while the share was small would outlast the share.
			// Give the tokens back and look again shortly; Spends take
			// turns, so nobody takes them meanwhile.
			r.Cancel()
			d = maxReservation
			n = 0
		}
		if d > 0 {
			wait := time.NewTimer(d)
			select {
			case <-wait.C:
			case <-ctx.Done():
				wait.Stop()
				r.Cancel()
				return ctx.Err()
			}
		}
		units -= n
	}
	return nil
}

// Throttled tells the budget that Graph throttled one of the worker's
// drive requests for d: the worker pauses at once, and the rest of the
// fleet after its next renewal.
func (t *Tenant) Throttled(d time.Duration) {
	if t.lim == nil || d <= 0 {
		return
	}
	t.mu.Lock()
	if until := time.Now().Add(d); until.After(t.pausedUntil) {
		t.pausedUntil = until
	}
	t.report = true
	t.reported++
	t.mu.Unlock()
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

func (t *Tenant) spent() {
	t.mu.Lock()
	t.spending--
	t.lastSpend = time.Now()
	t.mu.Unlock()
}

// touch records a spend and starts the renewal if none runs; it returns
// what to wait on for the first share, nil if there is none to wait for.
func (t *Tenant) touch() <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.spending++
	if !t.leasing {
		f := t.f
		f.mu.Lock()
		closed := f.closed
		if !closed {
			f.wg.Add(1)
		}
		f.mu.Unlock()
		if closed {
			return nil
		}
		t.leasing = true
		t.granted = make(chan struct{})
		prev := t.done
		t.done = make(chan struct{})
		go t.renew(prev, t.granted, t.done)
	}
	select {
	case <-t.granted:
		return nil
	default:
		return t.granted
	}
}

func (t *Tenant) waitPause(ctx context.Context) error {
	for {
		t.mu.Lock()
		d, unshared := time.Until(t.pausedUntil), t.unshared
		t.mu.Unlock()
		if unshared != nil {
			select {
			case <-unshared:
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if d <= 0 {
			return nil
		}
		wait := time.NewTimer(d)
		select {
		case <-wait.C:
		case <-ctx.Done():
			wait.Stop()
			return ctx.Err()
		}
	}
}

// renew holds the worker's lease while it spends: at once, then as often
// as the grants ask, and at once after a throttling. It releases the lease
// once the worker has not spent for two renewals, or the fleet closes.
func (t *Tenant) renew(prev <-chan struct{}, granted, done chan struct{}) {
	f := t.f
	defer f.wg.Done()
	defer close(done)
	defer func() {
		if granted != nil {
			close(granted)
		}
	}()
	// A release of the previous renewal must not land after this lease.
	if prev != nil {
		<-prev
	}
	log := f.log.With("tenant", t.tenantID, "client", t.clientID)
	every := f.renewEvery
	var leased, gotShare, failing bool
	for f.stop.Err() == nil {
		req := workflows.DriveBudgetLeaseRequest{Worker: f.worker, RUPerMinute: f.ruPerMinute}
		t.mu.Lock()
		report, reported := t.report, t.reported
		if report {
			req.ThrottledFor = max(0, time.Until(t.pausedUntil))
		}
		t.mu.Unlock()

		leased = true
		ctx, cancel := context.WithTimeout(f.stop, leaseTimeout)
		g, err := f.leaser.Lease(ctx, t.tenantID, t.clientID, req)
		cancel()
		switch {
		case f.stop.Err() != nil:
			// Closing: release below.
		case err != nil:
			if !gotShare {
				t.setShare(f.alone())
			}
			// Waiting for a share that cannot come would stop every
			// download: pace at the last share instead.
			t.setUnshared(false)
			if !failing {
				if gotShare {
					log.Warn("budget: cannot renew the lease; pacing at the last share", "err", err)
				} else {
					log.Warn("budget: cannot lease a share; pacing as if alone", "ru_per_minute", f.alone(), "err", err)
				}
				failing = true
			}
		default:
			if failing {
				log.Info("budget: leasing again", "workers", g.Workers)
				failing = false
			}
			gotShare = true
			t.apply(g)
			if g.RenewEvery > 0 {
				every = g.RenewEvery
			}
			t.mu.Lock()
			if report && t.reported == reported {
				t.report = false
			}
			t.mu.Unlock()
		}
		if granted != nil {
			close(granted)
			granted = nil
		}

		wait := time.NewTimer(every)
		select {
		case <-wait.C:
		case <-t.wake:
			wait.Stop()
		case <-f.stop.Done():
			wait.Stop()
			continue
		}
		t.mu.Lock()
		idle := t.spending == 0 && time.Since(t.lastSpend) >= 2*every
		if idle {
			t.leasing = false
		}
		t.mu.Unlock()
		if idle {
			t.setUnshared(false)
			t.release(log)
			return
		}
	}
	t.stopLeasing()
	if leased {
		t.release(log)
	}
}

func (t *Tenant) stopLeasing() {
	t.mu.Lock()
	t.leasing = false
	t.mu.Unlock()
	t.setUnshared(false)
}

// release gives the worker's share back to the fleet, best effort: an
// unreleased lease expires on its own.
func (t *Tenant) release(log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	_, err := t.f.leaser.Lease(ctx, t.tenantID, t.clientID, workflows.DriveBudgetLeaseRequest{Worker: t.f.worker, Release: true})
	if err != nil {
		log.Debug("budget: release", "err", err)
	}
}

// apply paces the worker at its grant and pauses it as the fleet does. A
// grant of nothing (the others still spend the whole budget) pauses the
// worker until it asks again.
func (t *Tenant) apply(g workflows.DriveBudgetGrant) {
	if g.RUPerMinute > 0 {
		t.setShare(g.RUPerMinute)
	}
	t.setUnshared(g.RUPerMinute <= 0 && g.Workers > 0)
	if g.PauseFor > 0 {
		t.mu.Lock()
		if until := time.Now().Add(g.PauseFor); until.After(t.pausedUntil) {
			t.pausedUntil = until
		}
		t.mu.Unlock()
	}
}

// setUnshared stops spending until a share is granted, or lets it go on.
func (t *Tenant) setUnshared(unshared bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case unshared && t.unshared == nil:
		t.unshared = make(chan struct{})
	case !unshared && t.unshared != nil:
		close(t.unshared)
		t.unshared = nil
	}
}

// Share is the resource units per minute the worker may spend now: its
// share of the tenant's budget, 0 when unmetered.
func (t *Tenant) Share() float64 {
	if t.lim == nil {
		return 0
	}
	return float64(t.lim.Limit()) * 60
}

// setShare paces at ruPerMinute with about a second's worth of burst, never
// less than the dearest request.
func (t *Tenant) setShare(ruPerMinute float64) {
	perSecond := ruPerMinute / 60
	t.lim.SetLimit(rate.Limit(perSecond))
	t.lim.SetBurst(max(maxCost, int(math.Ceil(perSecond))))
}
