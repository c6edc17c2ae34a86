package graph

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/corso-temporal/corso/budget"
	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/workflows"
)

// teamRun backs up teams' channels against a simulator that keeps Teams'
// limits on the wall clock, the way mailbox backups' activities would:
// one collection per channel, listed, its threads fetched `share` at a
// time, the shares of a team's collections adding up to the team's budget
// of 4. Each collection runs on a client of its own, as on a worker of
// its own.
type teamRun struct {
	// scale multiplies Teams' documented rates, in the simulator and the
	// client alike, so that a run takes seconds.
	scale float64
	// paced gives each collection its share (m365.WithRequestShare);
	// without it, the collections run as they did before pacing.
	paced bool
	// itemsPerSite sizes the teams (a quarter of it is top-level messages).
	itemsPerSite int
	// teams is how many teams are backed up at once (default 1), those
	// with the most channels first.
	teams int
	// tenantBudget shares the tenant's channel message reads among the
	// clients, as the fleet does (budget.Fleet): the pool a fleet's
	// leases share out, here all to one worker.
	tenantBudget bool
}

type teamRunResult struct {
	teams, channels, threads int
	// gaveUp counts the calls the client handed back as throttled, which
	// the run retried after their Retry-After as a workflow would.
	gaveUp    int64
	requests  int64 // Graph requests on the teams, 429s included
	throttled int64
	elapsed   time.Duration
	// peak is the most requests one team received in any one second.
	peak int
	// reads are the channel message reads over all teams; readPeak the
	// most of them in any one second.
	reads    int64
	readPeak int
}

// perSecond is the requests a second on each team.
func (r teamRunResult) perSecond() float64 {
	return float64(r.requests) / float64(r.teams) / r.elapsed.Seconds()
}

// readsPerSecond is the channel message reads a second in the tenant.
func (r teamRunResult) readsPerSecond() float64 { return float64(r.reads) / r.elapsed.Seconds() }

// peakPerSecond is the most of the sorted times in any one second.
func peakPerSecond(ts []time.Time) int {
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	peak := 0
	for i, j := 0, 0; j < len(ts); j++ {
		for ts[j].Sub(ts[i]) >= time.Second {
			i++
		}
		peak = max(peak, j-i+1)
	}
	return peak
}

func runTeamBackup(tb testing.TB, run teamRun) teamRunResult {
	tb.Helper()
	run.teams = max(1, run.teams)
	perTeam := DefaultTeamRequestsPerSecond * run.scale
	sim := graphsim.New(graphsim.Options{
		Tenant:       graphsim.TenantOptions{Seed: 10, Users: 3, Groups: 2 + 2*run.teams, ItemsPerSite: run.itemsPerSite, Clean: true},
		ClientID:     simClient,
		ClientSecret: simSecret,
		Throttle: graphsim.ThrottleOptions{Teams: graphsim.TeamsLimits{
			PerTeam: perTeam, ChannelMessages: 20 * run.scale, Channels: 60 * run.scale, TeamGets: 30 * run.scale}},
	})
	var (
		mu       sync.Mutex
		counting bool
		arrivals = map[string][]time.Time{} // team → its requests
		reads    []time.Time
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		segs := strings.Split(strings.ToLower(strings.Trim(r.URL.Path, "/")), "/")
		mu.Lock()
		if counting && len(segs) >= 3 && segs[1] == "teams" {
			now := time.Now()
			arrivals[segs[2]] = append(arrivals[segs[2]], now)
			if len(segs) >= 6 && segs[5] == "messages" {
				reads = append(reads, now)
			}
		}
		mu.Unlock()
		sim.Handler().ServeHTTP(w, r)
	}))
	defer func() {
		srv.Close()
		_ = sim.Close()
	}()
	cfg := Config{TenantID: sim.TenantID(), ClientID: simClient, ClientSecret: simSecret, Endpoint: srv.URL, TeamRequestsPerSecond: perTeam}
	if run.tenantBudget {
		fleet := budget.New(poolLeaser{}, "worker", int(workflows.TeamsMessageReadsPerMinute*run.scale), nil)
		defer fleet.Close()
		cfg.TeamsBudget = fleet.Tenant(cfg.TenantID, cfg.ClientID)
	}
	client := func() *Client {
		c, err := New(cfg)
		if err != nil {
			tb.Fatal(err)
		}
		return c
	}
	ctx := context.Background()
	planner := client()
	groups, err := planner.ResolveGroups(ctx, []string{"*"}, true)
	if err != nil {
		tb.Fatal(err)
	}
	type team struct {
		id       string
		channels []Container
	}
	var teams []team
	for _, g := range groups {
		if g.Unavailable != "" {
			continue
		}
		cs, err := planner.Containers(ctx, g.ID, m365.ChannelMessages)
		if err != nil {
			tb.Fatal(err)
		}
		teams = append(teams, team{strings.ToLower(g.ID), cs})
	}
	sort.SliceStable(teams, func(i, j int) bool { return len(teams[i].channels) > len(teams[j].channels) })
	if len(teams) < run.teams {
		tb.Fatalf("%d teams, want %d", len(teams), run.teams)
	}
	teams = teams[:run.teams]
	time.Sleep(time.Second) // the planning's requests out of the teams' second
	throttledBefore := sim.Stats().Throttled429
	mu.Lock()
	counting = true
	mu.Unlock()

	res := teamRunResult{teams: len(teams)}
	var threads, gaveUp atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for _, tm := range teams {
		res.channels += len(tm.channels)
		for i, ch := range tm.channels {
			share := budgetShare(i, len(tm.channels))
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, ctx := client(), ctx
				if run.paced {
					ctx = m365.WithRequestShare(ctx, share, 4)
				}
				n, err := backUpChannel(ctx, c, tm.id, ch.ID, share, &gaveUp)
				threads.Add(int64(n))
				if err != nil {
					errs <- err
				}
			}()
		}
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	close(errs)
	for err := range errs {
		tb.Fatal(err)
	}
	res.threads, res.gaveUp = int(threads.Load()), gaveUp.Load()
	res.throttled = sim.Stats().Throttled429 - throttledBefore
	mu.Lock()
	defer mu.Unlock()
	for _, ts := range arrivals {
		res.requests += int64(len(ts))
		res.peak = max(res.peak, peakPerSecond(ts))
	}
	res.reads, res.readPeak = int64(len(reads)), peakPerSecond(reads)
	return res
}

// poolLeaser grants a worker what a tenant's budget workflow shares out
// among all workers: the budget less its headroom.
type poolLeaser struct{}

func (poolLeaser) Lease(_ context.Context, _, _ string, req workflows.DriveBudgetLeaseRequest) (workflows.DriveBudgetGrant, error) {
	return workflows.DriveBudgetGrant{RUPerMinute: 0.9 * float64(req.RUPerMinute), Workers: 1, RenewEvery: workflows.DriveBudgetRenewEvery}, nil
}

// budgetShare is the share of the i-th of n collections started at once,
// as a mailbox backup's workflow gives them when their sizes are unknown,
// as channels' are: one each, and whatever is left to the last.
func budgetShare(i, n int) int {
	if i < n-1 {
		return 1
	}
	return max(1, 4-(n-1))
}

// backUpChannel lists a channel (as the first backup of a channel does
// for the messages its delta round leaves out) and reads every thread,
// `share` at a time, and returns how many it read.
func backUpChannel(ctx context.Context, c *Client, team, channel string, share int, gaveUp *atomic.Int64) (int, error) {
	// Throttling the client does not wait out fails the activity, and
	// Temporal retries it after the Retry-After: here, the call.
	retried := func(call func() error) error {
		for {
			err := call()
			var te *m365.ThrottledError
			if !errors.As(err, &te) {
				return err
			}
			gaveUp.Add(1)
			time.Sleep(te.RetryAfter)
		}
	}
	var ids []string
	for link := ""; ; {
		var p Page
		err := retried(func() (err error) {
			p, err = c.ListPage(ctx, team, m365.ChannelMessages, channel, link)
			return err
		})
		if err != nil {
			return 0, err
		}
		for _, ch := range p.Changes {
			if !ch.Removed {
				ids = append(ids, ch.ID)
			}
		}
		if p.NextLink == "" {
			break
		}
		link = p.NextLink
	}
	var (
		next  atomic.Int64
		first error
		once  sync.Once
		wg    sync.WaitGroup
	)
	for range share {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < len(ids); i = int(next.Add(1)) - 1 {
				err := retried(func() error {
					rc, err := c.FetchItemIn(ctx, team, m365.ChannelMessages, channel, ids[i])
					if err == nil {
						_, err = io.Copy(io.Discard, rc)
						_ = rc.Close()
					}
					return err
				})
				if err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	return len(ids), first
}

// The collections of a team running at once, each on a client of its own,
// are paced by their shares to the team's rate: Teams never throttles
// them. Rates are ten times Teams' so that the test takes seconds; the
// shares, not the rate, are what is tested.
func TestTeamSharesKeepConcurrentCollectionsUnderTheTeamsRate(t *testing.T) {
	res := runTeamBackup(t, teamRun{scale: 10, paced: true, itemsPerSite: 160})
	t.Logf("%d channels, %d threads: %d requests in %v (%.1f/s, peak %d in a second, limit %d), %d throttled",
		res.channels, res.threads, res.requests, res.elapsed.Round(time.Millisecond), res.perSecond(), res.peak, DefaultTeamRequestsPerSecond*10, res.throttled)
	if res.channels < 2 || res.threads < 20 {
		t.Fatalf("%d channels, %d threads: the team is too small to tell", res.channels, res.threads)
	}
	if res.throttled != 0 {
		t.Fatalf("Teams throttled %d of %d requests of a paced backup", res.throttled, res.requests)
	}
	// Paced, not stalled: a share of one runs at a quarter of the rate.
	if rate := res.perSecond(); rate < 0.25*DefaultTeamRequestsPerSecond*10 {
		t.Fatalf("%.1f requests a second, under a quarter of the team's rate", rate)
	}
}

// countingBudget is a TeamsBudget that counts what is spent.
type countingBudget struct {
	spent     atomic.Int64
	throttled atomic.Int64
}

func (b *countingBudget) Spend(context.Context, int) error { b.spent.Add(1); return nil }
func (b *countingBudget) Throttled(time.Duration)          { b.throttled.Add(1) }

// Every read of a channel message spends the tenant's Teams budget, other
// Teams requests and mailbox requests do not, and a throttled read is
// reported to it after the client waited it out.
func TestChannelMessageReadsSpendTheTenantsTeamsBudget(t *testing.T) {
	e := newEnv(t, nil)
	e.sim.SetThrottle(graphsim.ThrottleOptions{Teams: graphsim.TeamsLimits{Disabled: true}})
	b := &countingBudget{}
	c := e.client(func(cfg *Config) { cfg.TeamsBudget = b })
	ctx := context.Background()
	var team string
	for _, g := range e.info.Groups {
		if cs, err := c.Containers(ctx, g.ID, m365.ChannelMessages); err == nil && len(cs) > 0 {
			team = g.ID
			break
		}
	}
	if team == "" {
		t.Fatal("no team")
	}
	cs, _ := c.Containers(ctx, team, m365.ChannelMessages)
	if _, err := c.Containers(ctx, e.user(0).ID, Email); err != nil {
		t.Fatal(err)
	}
	if n := b.spent.Load(); n != 0 {
		t.Fatalf("listing channels and folders spent %d", n)
	}
	reads := func() int64 {
		st := c.Stats().Requests
		return st["teams.messages.delta"] + st["teams.messages.list"] + st["teams.message"] + st["teams.replies"]
	}
	if _, err := c.DeltaPage(ctx, team, m365.ChannelMessages, cs[0].ID, ""); err != nil {
		t.Fatal(err)
	}
	p, err := c.ListPage(ctx, team, m365.ChannelMessages, cs[0].ID, "")
	if err != nil || len(p.Changes) == 0 {
		t.Fatalf("listing: %v, %d messages", err, len(p.Changes))
	}
	rc, err := c.FetchItemIn(ctx, team, m365.ChannelMessages, cs[0].ID, p.Changes[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	_ = rc.Close()
	if n := reads(); b.spent.Load() != n || n < 3 {
		t.Fatalf("%d channel message reads spent %d", n, b.spent.Load())
	}
	// The thread's message came with the listing; its replies are read.
	if st := c.Stats().Requests; st["teams.messages.delta"] != 1 || st["teams.messages.list"] == 0 || st["teams.message"] != 0 || st["teams.replies"] == 0 {
		t.Fatalf("requests %v", st)
	}

	e.sim.SetThrottle(graphsim.ThrottleOptions{Teams: graphsim.TeamsLimits{PerTeam: -1, ChannelMessages: 1}})
	// The simulator's clock moves only when told to: a second of it
	// every 200 ms, so the reads the client waits out pass on a retry.
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(200 * time.Millisecond):
				e.clock.Advance(time.Second)
			}
		}
	}()
	for range 2 {
		rc, err := c.FetchItemIn(ctx, team, m365.ChannelMessages, cs[0].ID, p.Changes[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		_ = rc.Close()
	}
	if b.throttled.Load() == 0 || e.simStats().Throttled429 == 0 {
		t.Fatalf("reads throttled %d times, %d reported to the budget", e.simStats().Throttled429, b.throttled.Load())
	}
}

// BenchmarkTeamBackup backs up teams, each team's channels' collections
// at once, at Teams' documented rates: one team before pacing ("unpaced",
// the collections bounded by concurrency alone) and with it; then eight
// teams at once, paced, without and with the tenant's budget of channel
// message reads. It reports the requests a second on each team, the most
// one team got in any one second, the tenant's channel message reads a
// second and their peak, the 429s Teams answered and the calls the client
// gave up on.
//
//	go test -run '^$' -bench BenchmarkTeamBackup -benchtime 1x ./graph
func BenchmarkTeamBackup(b *testing.B) {
	for _, v := range []struct {
		name string
		run  teamRun
	}{
		{"team/unpaced", teamRun{scale: 1, itemsPerSite: 160}},
		{"team/paced", teamRun{scale: 1, itemsPerSite: 160, paced: true}},
		{"8teams/paced", teamRun{scale: 1, itemsPerSite: 80, paced: true, teams: 8}},
		{"8teams/paced+tenantBudget", teamRun{scale: 1, itemsPerSite: 80, paced: true, teams: 8, tenantBudget: true}},
	} {
		b.Run(v.name, func(b *testing.B) {
			var res teamRunResult
			for range b.N {
				res = runTeamBackup(b, v.run)
			}
			b.ReportMetric(res.perSecond(), "req/s/team")
			b.ReportMetric(float64(res.peak), "peak_req/s/team")
			b.ReportMetric(res.readsPerSecond(), "reads/s")
			b.ReportMetric(float64(res.readPeak), "peak_reads/s")
			b.ReportMetric(float64(res.throttled), "429s")
			b.ReportMetric(float64(res.gaveUp), "gave_up")
			b.ReportMetric(float64(res.requests), "requests")
			b.Log(fmt.Sprintf("%d teams, %d channels, %d threads in %v", res.teams, res.channels, res.threads, res.elapsed.Round(time.Millisecond)))
		})
	}
}
