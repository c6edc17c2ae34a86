package budget

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/corso-temporal/corso/workflows"
)

// fakeLeaser is an in-memory budget workflow with the same share rule,
// renewals every 50 ms and leases of a second.
type fakeLeaser struct {
	mu          sync.Mutex
	renewEvery  time.Duration
	fail        bool
	leases      map[string]map[string]fakeLease // tenant/client -> worker
	pausedUntil map[string]time.Time
	requests    []fakeRequest
	failures    int
}

type fakeLease struct {
	ru      int
	expires time.Time
}

type fakeRequest struct {
	req   workflows.DriveBudgetLeaseRequest
	grant workflows.DriveBudgetGrant
}

const (
	fakeRenewEvery = 50 * time.Millisecond
	fakeTTL        = time.Second
)

func newFakeLeaser() *fakeLeaser {
	return &fakeLeaser{renewEvery: fakeRenewEvery, leases: map[string]map[string]fakeLease{}, pausedUntil: map[string]time.Time{}}
}

func (l *fakeLeaser) Lease(ctx context.Context, tenantID, clientID string, req workflows.DriveBudgetLeaseRequest) (workflows.DriveBudgetGrant, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail {
		l.failures++
		return workflows.DriveBudgetGrant{}, errors.New("budget workflow unreachable")
	}
	k, now := tenantID+"/"+clientID, time.Now()
	ls := l.leases[k]
	if ls == nil {
		ls = map[string]fakeLease{}
		l.leases[k] = ls
	}
	for w, le := range ls {
		if !le.expires.After(now) {
			delete(ls, w)
		}
	}
	if req.Release {
		delete(ls, req.Worker)
	} else {
		ls[req.Worker] = fakeLease{ru: req.RUPerMinute, expires: now.Add(fakeTTL)}
	}
	if until := now.Add(req.ThrottledFor); until.After(l.pausedUntil[k]) {
		l.pausedUntil[k] = until
	}
	g := workflows.DriveBudgetGrant{Workers: len(ls), RenewEvery: l.renewEvery, PauseFor: max(0, l.pausedUntil[k].Sub(now))}
	if !req.Release {
		budget := req.RUPerMinute
		for _, le := range ls {
			budget = min(budget, le.ru)
		}
		g.RUPerMinute = float64(budget) * 0.9 / float64(len(ls))
	}
	l.requests = append(l.requests, fakeRequest{req, g})
	return g, nil
}

func (l *fakeLeaser) setFail(fail bool) {
	l.mu.Lock()
	l.fail = fail
	l.mu.Unlock()
}

// holds reports whether worker holds a lease in tenant t/c.
func (l *fakeLeaser) holds(worker string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.leases["t/c"][worker]
	return ok
}

func (l *fakeLeaser) count(match func(fakeRequest) bool) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.requests {
		if match(r) {
			n++
		}
	}
	return n
}

func newFleet(t *testing.T, l Leaser, worker string, ru int, log *slog.Logger) *Fleet {
	f := New(l, worker, ru, log)
	f.renewEvery = fakeRenewEvery
	t.Cleanup(f.Close)
	return f
}

// eventually polls cond for up to 10 s: long enough for a loaded machine,
// and a failure is not a matter of timing.
func eventually(t *testing.T, cond func() bool, msg string) {
	t.Helper()
	require.Eventually(t, cond, 10*time.Second, 5*time.Millisecond, msg)
}

func perSecond(tn *Tenant) float64 { return float64(tn.lim.Limit()) }

// spender spends one unit at a time until stopped, counting.
type spender struct {
	n      atomic.Int64
	cancel context.CancelFunc
	done   chan struct{}
}

func spend(tn *Tenant) *spender {
	ctx, cancel := context.WithCancel(context.Background())
	s := &spender{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for tn.Spend(ctx, 1) == nil {
			s.n.Add(1)
		}
	}()
	return s
}

func (s *spender) stop() int64 {
	s.cancel()
	<-s.done
	return s.n.Load()
}

func TestTwoWorkersShareTheTenantsBudget(t *testing.T) {
	l := newFakeLeaser()
	const ru = 6000 // 100 RU/s
	a := newFleet(t, l, "a", ru, nil).Tenant("t", "c")
	b := newFleet(t, l, "b", ru, nil).Tenant("t", "c")
	require.NoError(t, a.Spend(context.Background(), 1))
	require.InDelta(t, 90, perSecond(a), 1e-9, "alone, the whole budget but the headroom")
	sa, sb := spend(a), spend(b)
	eventually(t, func() bool { return perSecond(a) == 45 && perSecond(b) == 45 }, "each paces at half")

	startA, startB, start := sa.n.Load(), sb.n.Load(), time.Now()
	time.Sleep(2 * time.Second)
	na, nb := sa.stop()-startA, sb.stop()-startB
	elapsed := time.Since(start)

	total := float64(na + nb)
	// Both buckets may start full: a second's worth each.
	require.LessOrEqual(t, total, 90*elapsed.Seconds()+2*45+5, "within the tenant's budget")
	require.GreaterOrEqual(t, total, 0.5*90*2, "and spending it")
	require.InDelta(t, 0.5, float64(na)/total, 0.15, "about half each: a=%d b=%d", na, nb)
}

func TestFirstSpendWaitsForItsShare(t *testing.T) {
	l := newFakeLeaser()
	other := newFleet(t, l, "other", 6000, nil).Tenant("t", "c")
	s := spend(other)
	defer s.stop()
	eventually(t, func() bool { return l.holds("other") }, "the other worker leases")

	tn := newFleet(t, l, "w", 6000, nil).Tenant("t", "c")
	require.NoError(t, tn.Spend(context.Background(), 1))
	require.Equal(t, 45.0, perSecond(tn), "the first request is already paced at the share")
	require.Equal(t, 45, tn.lim.Burst())
	require.NoError(t, tn.Spend(context.Background(), 50), "more than a burst at once")
}

func TestThrottlingPausesTheFleet(t *testing.T) {
	l := newFakeLeaser()
	a := newFleet(t, l, "a", 6000, nil).Tenant("t", "c")
	b := newFleet(t, l, "b", 6000, nil).Tenant("t", "c")
	sa, sb := spend(a), spend(b)
	defer sb.stop()
	eventually(t, func() bool { return perSecond(a) == 45 && perSecond(b) == 45 }, "both lease")

	thrown := time.Now()
	b.Throttled(5 * time.Second)
	eventually(t, func() bool {
		return l.count(func(r fakeRequest) bool { return r.req.Worker == "b" && r.req.ThrottledFor > 0 }) > 0
	}, "b tells the fleet at once")
	eventually(t, func() bool {
		return l.count(func(r fakeRequest) bool { return r.req.Worker == "a" && r.grant.PauseFor > 0 }) > 0
	}, "a hears of it at its next renewal")
	time.Sleep(50 * time.Millisecond) // a applies the grant
	paused := sa.n.Load()
	time.Sleep(300 * time.Millisecond)
	if time.Since(thrown) < 4*time.Second {
		require.LessOrEqual(t, sa.n.Load()-paused, int64(1), "a spends nothing while paused")
	}
	require.True(t, l.holds("a"), "a worker waiting out a pause keeps its lease")

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, b.Spend(ctx, 1), context.DeadlineExceeded, "b is paused too")
	sa.stop()
}

func TestThrottlingIsReportedAtOnce(t *testing.T) {
	l := newFakeLeaser()
	l.renewEvery = time.Hour
	tn := newFleet(t, l, "w", 6000, nil).Tenant("t", "c")
	require.NoError(t, tn.Spend(context.Background(), 1))
	tn.Throttled(time.Minute)
	eventually(t, func() bool {
		return l.count(func(r fakeRequest) bool { return r.req.ThrottledFor > 50*time.Second }) == 1
	}, "reported without waiting for the renewal")
	require.Equal(t, 2, l.count(func(fakeRequest) bool { return true }))
}

func TestIdleTenantReleasesItsLease(t *testing.T) {
	l := newFakeLeaser()
	tn := newFleet(t, l, "w", 6000, nil).Tenant("t", "c")
	require.NoError(t, tn.Spend(context.Background(), 1))
	require.True(t, l.holds("w"))
	isRelease := func(r fakeRequest) bool { return r.req.Worker == "w" && r.req.Release }
	eventually(t, func() bool { return l.count(isRelease) == 1 }, "released after two renewals without spending")
	require.False(t, l.holds("w"))
	eventually(t, func() bool { tn.mu.Lock(); defer tn.mu.Unlock(); return !tn.leasing }, "renewal stopped")

	leases := l.count(func(r fakeRequest) bool { return r.req.Worker == "w" && !r.req.Release })
	require.NoError(t, tn.Spend(context.Background(), 1))
	require.True(t, l.holds("w"), "spending again leases again")
	require.Greater(t, l.count(func(r fakeRequest) bool { return r.req.Worker == "w" && !r.req.Release }), leases)
}

func TestLeaserErrorsFallBackAndRecover(t *testing.T) {
	l := newFakeLeaser()
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	l.setFail(true)
	tn := newFleet(t, l, "w", 6000, log).Tenant("t", "c")
	s := spend(tn)
	defer s.stop()
	eventually(t, func() bool { l.mu.Lock(); defer l.mu.Unlock(); return l.failures >= 5 }, "keeps retrying")
	require.Equal(t, 90.0, perSecond(tn), "as if alone")
	require.Positive(t, s.n.Load(), "spending goes on")
	require.Equal(t, 1, strings.Count(logs.String(), "level=WARN"), "one warning per streak")

	// Another worker joins while the workflow is unreachable to this one.
	other := newFleet(t, l, "other", 6000, slog.New(slog.DiscardHandler)).Tenant("t", "c")
	l.setFail(false)
	so := spend(other)
	defer so.stop()
	eventually(t, func() bool { return perSecond(tn) == 45 }, "recovers its share")
	require.Contains(t, logs.String(), "leasing again")

	l.setFail(true)
	eventually(t, func() bool { return strings.Count(logs.String(), "level=WARN") == 2 }, "a new streak warns again")
	require.Equal(t, 45.0, perSecond(tn), "keeps the last share, not as if alone")
}

func TestUnmeteredNeverWaits(t *testing.T) {
	l := newFakeLeaser()
	f := newFleet(t, l, "w", 0, nil)
	tn := f.Tenant("t", "c")
	tn.Throttled(time.Hour)
	for range 1000 {
		require.NoError(t, tn.Spend(context.Background(), 1000))
	}
	require.Zero(t, l.count(func(fakeRequest) bool { return true }), "no leases")
}

func TestSpendReturnsWhenCtxEnds(t *testing.T) {
	l := newFakeLeaser()
	tn := newFleet(t, l, "w", 60, nil).Tenant("t", "c") // 0.9 RU a second
	require.NoError(t, tn.Spend(context.Background(), 5), "the burst")

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	require.ErrorIs(t, tn.Spend(ctx, 5), context.Canceled, "the next five would take seconds")

	tn.setShare(6000)
	tn.Throttled(time.Hour)
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, tn.Spend(ctx, 1), context.DeadlineExceeded, "paused")

	// A budget workflow that does not answer.
	stuck := newFleet(t, blockingLeaser{}, "w", 6000, nil).Tenant("t", "c")
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, stuck.Spend(ctx, 1), context.DeadlineExceeded, "waiting for the first share")
}

type blockingLeaser struct{}

func (blockingLeaser) Lease(ctx context.Context, _, _ string, req workflows.DriveBudgetLeaseRequest) (workflows.DriveBudgetGrant, error) {
	if req.Release {
		return workflows.DriveBudgetGrant{}, errors.New("unreachable")
	}
	<-ctx.Done()
	return workflows.DriveBudgetGrant{}, ctx.Err()
}

func TestFleetKeepsOneTenantPerPairAndReleasesOnClose(t *testing.T) {
	l := newFakeLeaser()
	f := New(l, "w", 6000, nil)
	f.renewEvery = time.Hour
	a := f.Tenant("t", "c")
	require.Same(t, a, f.Tenant("t", "c"))
	other := f.Tenant("t", "c2")
	require.NotSame(t, a, other)

	s := spend(a)
	require.NoError(t, other.Spend(context.Background(), 1))
	eventually(t, func() bool { return l.holds("w") }, "leased")
	f.Close()
	require.False(t, l.holds("w"))
	l.mu.Lock()
	require.Empty(t, l.leases["t/c2"])
	l.mu.Unlock()
	s.stop()

	n := l.count(func(fakeRequest) bool { return true })
	require.NoError(t, a.Spend(context.Background(), 1), "spending goes on after Close")
	require.Equal(t, n, l.count(func(fakeRequest) bool { return true }), "without leasing")
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// grantSequence answers leases with nothing until opened, then with a
// share.
type grantSequence struct {
	open  atomic.Bool
	asked atomic.Int64
}

func (g *grantSequence) Lease(context.Context, string, string, workflows.DriveBudgetLeaseRequest) (workflows.DriveBudgetGrant, error) {
	g.asked.Add(1)
	if !g.open.Load() {
		return workflows.DriveBudgetGrant{Workers: 2, RenewEvery: 20 * time.Millisecond}, nil
	}
	return workflows.DriveBudgetGrant{Workers: 2, RUPerMinute: 6000, RenewEvery: time.Hour}, nil
}

// While the others still spend the whole budget a newcomer is granted
// nothing: it spends nothing, and asks again until it has a share.
func TestNothingGrantedMeansWaiting(t *testing.T) {
	l := &grantSequence{}
	tn := newFleet(t, l, "w1", 1200, nil).Tenant("t", "c")
	s := spend(tn)
	eventually(t, func() bool { return l.asked.Load() >= 5 }, "the newcomer asks again")
	require.Zero(t, s.n.Load(), "nothing spent without a share")
	l.open.Store(true)
	eventually(t, func() bool { return s.n.Load() > 0 }, "spends once granted")
	s.stop()
}

// growingShare grants a trickle until opened, then plenty.
type growingShare struct{ open atomic.Bool }

func (g *growingShare) Lease(context.Context, string, string, workflows.DriveBudgetLeaseRequest) (workflows.DriveBudgetGrant, error) {
	if !g.open.Load() {
		return workflows.DriveBudgetGrant{Workers: 2, RUPerMinute: 6, RenewEvery: 20 * time.Millisecond}, nil
	}
	return workflows.DriveBudgetGrant{Workers: 2, RUPerMinute: 60000, RenewEvery: time.Hour}, nil
}

// Requests queued behind a small share go as soon as the share grows, not
// at the pace the small share would have allowed (here minutes).
func TestQueuedSpendsSpeedUpWithTheShare(t *testing.T) {
	l := &growingShare{}
	tn := newFleet(t, l, "w1", 1200, nil).Tenant("t", "c")
	var done atomic.Int64
	for range 8 {
		go func() {
			if tn.Spend(context.Background(), 5) == nil {
				done.Add(1)
			}
		}()
	}
	eventually(t, func() bool { return done.Load() >= 1 }, "the first spends go from the initial tokens")
	l.open.Store(true)
	eventually(t, func() bool { return done.Load() == 8 }, "the rest go once the share grows")
}
