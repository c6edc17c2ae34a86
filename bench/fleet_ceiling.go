package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/localstack"
	"github.com/corso-temporal/corso/workflows"
)

// The fleet-ceiling section: a tenant whose every mailbox is limited as
// Exchange limits one (4 requests at once, a budget of requests per
// window), time-scaled so that the sum of the mailboxes' ceilings stays
// well below what the workers can do on this machine; 4 workers back up
// `--mailbox '*'`. The scaling: 4 workers reached 33 mailbox requests/s
// unthrottled here (-fleet-unthrottled, 180 mailboxes of 60 items, the
// machine shared), and a mailbox of 2 items in its folders takes about 13
// requests (folder deltas, items, the plan). 4 requests per 160 s per
// mailbox (1 per 40 s) makes the ~900 mailboxes of 1,000 users sum to ~22
// requests/s, two thirds of that, and takes a mailbox about 9 minutes,
// 3 to 4 windows of its budget; 4 per window lets each of a mailbox's
// collections, holding 1 to 4 of its 4 requests, take a whole number of
// requests a window.
var (
	fleetMailboxes       = flag.Int("fleet-mailboxes", 1000, "fleet-ceiling: users (mailboxes) in the tenant")
	fleetItems           = flag.Int("fleet-items", 2, "fleet-ceiling: mail items per mailbox")
	fleetMailboxRequests = flag.Int("fleet-mailbox-requests", 4, "fleet-ceiling: each mailbox's request budget per -fleet-mailbox-window (Exchange: 10,000 per 10 minutes, time-scaled)")
	fleetMailboxWindow   = flag.Duration("fleet-mailbox-window", 160*time.Second, "fleet-ceiling: the window of -fleet-mailbox-requests")
	fleetInFlight        = flag.Int("fleet-in-flight", workflows.MaxResourcesInFlight, "fleet-ceiling: the request's --resources-in-flight (0: the CLI's default)")
	fleetWorkers         = flag.Int("fleet-workers", 4, "fleet-ceiling: workers")
	fleetPacing          = flag.Bool("fleet-pacing", true, "fleet-ceiling: tell the workers each mailbox's request budget (CORSO_MAILBOX_REQUESTS_PER_MINUTE) so they pace to it")
	fleetUnthrottled     = flag.Bool("fleet-unthrottled", false, "fleet-ceiling: no per-mailbox limits, to measure what the workers can do")
	fleetLimit           = flag.Duration("fleet-limit", 14*time.Minute, "fleet-ceiling: stop the request after this long and report what it measured")
)

// Targets: P9, the fleet's throughput against the sum of the mailboxes'
// ceilings; P3, the budget used and the requests throttled.
const (
	fleetCeilingTarget  = 0.9
	fleetBudgetTarget   = 0.9
	fleetThrottleTarget = 0.01
	fleetSampleEvery    = 2 * time.Second
)

// fleetSample is where the run stood at one moment: the mailbox requests
// the simulator answered and throttled so far, and the mailboxes in flight.
type fleetSample struct {
	at            time.Duration
	ok, throttled int64
	inFlight      int
}

func fleetCeilingRun(rep *report, stack *localstack.Stack, c config) error {
	ctx := context.Background()
	throttle := graphsim.ThrottleOptions{MailboxConcurrency: 4, MailboxRequests: *fleetMailboxRequests, MailboxWindow: *fleetMailboxWindow}
	if *fleetUnthrottled {
		throttle = graphsim.ThrottleOptions{MailboxConcurrency: -1}
	}
	t, err := localstack.StartTenant(graphsim.Options{
		Tenant: graphsim.TenantOptions{Seed: 90, Users: *fleetMailboxes, ItemsPerUser: *fleetItems, Groups: -1,
			Mix: graphsim.ItemMix{Mail: 1}, MailFolders: 1, Clean: true},
		Throttle: throttle,
	})
	if err != nil {
		return err
	}
	defer t.Close()
	mailboxes := len(t.Mailboxes())
	perMailbox := float64(*fleetMailboxRequests) / fleetMailboxWindow.Seconds() // requests/s
	ceilings := float64(mailboxes) * perMailbox

	// A mailbox in flight runs up to one activity per request of its
	// budget, each holding a slot while it waits on its share: give the
	// workers that many slots for every mailbox in flight.
	inFlight := *fleetInFlight
	if inFlight == 0 {
		inFlight = workflows.DefaultResourcesInFlight
	}
	slots := (inFlight*workflows.MailboxRequestBudget + *fleetWorkers - 1) / *fleetWorkers
	env := t.WorkerEnv()
	if *fleetPacing && !*fleetUnthrottled {
		env["CORSO_MAILBOX_REQUESTS_PER_MINUTE"] = strconv.FormatFloat(perMailbox*60, 'f', -1, 64)
	}
	const queue = "bench-fleet-ceiling"
	var workers []int
	for w := range *fleetWorkers {
		p, err := stack.StartWorker(fmt.Sprintf("%s-%d", queue, w), env, "--task-queue", queue, "--log-level", "info",
			"--max-concurrent-activities", strconv.Itoa(slots))
		if err != nil {
			return err
		}
		defer localstack.Terminate(p)
		workers = append(workers, p.Process.Pid)
	}
	fmt.Fprintf(os.Stderr, "fleet ceiling: %d mailboxes x %d items, %d per %s each (sum %.0f requests/s), %d workers of %d activity slots, %d in flight, pacing %v, unthrottled %v\n",
		mailboxes, *fleetItems, *fleetMailboxRequests, *fleetMailboxWindow, ceilings, *fleetWorkers, slots, inFlight, *fleetPacing, *fleetUnthrottled)

	a, err := newAdmin(stack, t, queue, "--task-queue", queue)
	if err != nil {
		return err
	}
	tc, err := dialTemporal(stack)
	if err != nil {
		return err
	}
	defer tc.Close()

	args := []string{"backup", "create", "exchange", "--mailbox", "*", "--data", "email", "--wait=false", "--json"}
	if *fleetInFlight > 0 {
		args = append(args, "--resources-in-flight", strconv.Itoa(*fleetInFlight))
	}
	before := t.Stats()
	started := time.Now()
	workflowID, err := a.submit(args...)
	if err != nil {
		return err
	}
	stop := make(chan struct{})
	var samples []fleetSample
	var sampling sync.WaitGroup
	sampling.Go(func() { samples = sampleFleet(ctx, t, tc, started, before, stop) })

	var res workflows.ExchangeBackupResult
	cutShort, err := waitWithin(ctx, tc, workflowID, *fleetLimit, &res)
	took := time.Since(started)
	close(stop)
	sampling.Wait()
	if cutShort {
		if err := stopRequest(ctx, tc, workflowID); err != nil {
			return err
		}
	} else if err != nil {
		return fmt.Errorf("backup of %d mailboxes: %w", mailboxes, err)
	}
	after := t.Stats()
	fmt.Fprintf(os.Stderr, "  requests by class: %v\n", classDelta(before, after))
	repeated, err := scanRepeatedWork(ctx, tc, "MailboxBackupWorkflow", started.Add(-time.Second))
	if err != nil {
		return err
	}
	rep.add("fleet work Temporal repeated", repeated.String())
	var peakRSS []string
	for _, pid := range workers {
		if b, err := localstack.PeakRSS(pid); err == nil {
			peakRSS = append(peakRSS, fmt.Sprintf("%.0f", mib(b)))
		}
	}
	ok, throttled := mailboxRequests(after)
	ok0, throttled0 := mailboxRequests(before)
	ok, throttled = ok-ok0, throttled-throttled0

	run := fmt.Sprintf("%d mailboxes x %d items, %d workers, --resources-in-flight %d", mailboxes, *fleetItems, *fleetWorkers, inFlight)
	if cutShort {
		rep.add("fleet ceiling run (cut short)", fmt.Sprintf("%s: stopped after %s (-fleet-limit)", run, took.Round(time.Second)))
	} else {
		var tot workflows.BackupTotals
		if res.Totals != nil {
			tot = *res.Totals
		}
		rep.add("fleet ceiling run", fmt.Sprintf("%s: %d completed, %d failed, %d items in %s", run, tot.Completed, tot.Failed, tot.Items, took.Round(time.Second)))
		rep.check("fleet ceiling request completes", fmt.Sprintf("%d of %d mailboxes backed up", tot.Completed, mailboxes), "all", tot.Failed == 0 && tot.Completed == mailboxes)
	}
	rep.add("fleet workers' peak memory", fmt.Sprintf("%s MiB (%d activity slots each)", strings.Join(peakRSS, ", "), slots))
	if *fleetUnthrottled {
		rep.add("fleet unthrottled throughput", fmt.Sprintf("%.0f mailbox requests/s over the run (%d in %s)", float64(ok)/took.Seconds(), ok, took.Round(time.Second)))
		if s, ok := steadyState(samples); ok {
			rep.add("fleet unthrottled steady state", s.describe())
		}
		return nil
	}
	rep.add("sum of the mailboxes' ceilings", fmt.Sprintf("%.1f requests/s (%d mailboxes x %d requests per %s)", ceilings, mailboxes, *fleetMailboxRequests, *fleetMailboxWindow))
	rep.add("fleet throughput over the run", fmt.Sprintf("%.1f requests/s answered (%d in %s): %.3f of the ceilings", float64(ok)/took.Seconds(), ok, took.Round(time.Second), float64(ok)/took.Seconds()/ceilings))
	s, found := steadyState(samples)
	if !found {
		rep.check("fleet throughput / sum of ceilings (P9)", "no steady state sampled", ">= 0.9", false)
		return nil
	}
	rep.add("fleet steady state", s.describe())
	rate := s.rate()
	rep.check("fleet throughput / sum of ceilings (P9)", fmt.Sprintf("%.3f (%.1f of %.1f requests/s, steady state)", rate/ceilings, rate, ceilings), ">= 0.9", rate/ceilings >= fleetCeilingTarget)
	// The budget of the mailboxes in flight is what the fleet was allowed
	// to spend in the steady state.
	allowed := float64(s.inFlight) * perMailbox
	rep.check("budget of the mailboxes in flight used (P3)", fmt.Sprintf("%.3f (%.1f of %.1f requests/s, steady state)", rate/allowed, rate, allowed), ">= 0.9", rate/allowed >= fleetBudgetTarget)
	share := float64(throttled) / float64(max(ok+throttled, 1))
	steadyThrottled := s.to.throttled - s.from.throttled
	steadyShare := float64(steadyThrottled) / float64(max(s.to.ok-s.from.ok+steadyThrottled, 1))
	rep.check("mailbox requests answered 429 (P3)", fmt.Sprintf("%.4f (%d of %d over the run; %.4f in the steady state)", share, throttled, ok+throttled, steadyShare),
		"<= 0.01", share <= fleetThrottleTarget)
	return reportRequestHistory(ctx, rep, tc, workflowID)
}

// reportRequestHistory reports the length of the request's last run's
// history: a run holds every resource in flight among its children.
func reportRequestHistory(ctx context.Context, rep *report, c client.Client, id string) error {
	it := c.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	n := 0
	for it.HasNext() {
		if _, err := it.Next(); err != nil {
			return fmt.Errorf("history of %s: %w", id, err)
		}
		n++
	}
	rep.check("history of the request's last run", fmt.Sprintf("%d events", n), "<= 10000", n <= scaleHistoryTarget)
	return nil
}

// mailboxRequests counts the requests on mailboxes the simulator
// answered, and those it throttled.
func mailboxRequests(st graphsim.Stats) (ok, throttled int64) {
	for class, byStatus := range st.Requests {
		if !mailboxClass(class) {
			continue
		}
		for status, n := range byStatus {
			if status == "429" {
				throttled += n
			} else {
				ok += n
			}
		}
	}
	return ok, throttled
}

// mailboxClass tells the request classes of a mailbox's contents.
func mailboxClass(class string) bool {
	return !strings.HasPrefix(class, "auth.") && !strings.HasPrefix(class, "users.") && class != "unknown"
}

// sampleFleet records, every fleetSampleEvery until stop, the mailbox
// requests answered and throttled since before and the mailboxes in
// flight: the mailbox backups (child workflows) Temporal has started and
// that have not ended. (The request's progress counts a child as running
// once it asks for it, which Temporal may start minutes later.)
func sampleFleet(ctx context.Context, t *localstack.Tenant, c client.Client, started time.Time, before graphsim.Stats, stop <-chan struct{}) []fleetSample {
	ok0, thr0 := mailboxRequests(before)
	startedAt := started.Add(-time.Second)
	var out []fleetSample
	tick := time.NewTicker(fleetSampleEvery)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return out
		case <-tick.C:
		}
		s := fleetSample{at: time.Since(started), inFlight: -1}
		n, err := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: "default",
			Query: "WorkflowType = 'MailboxBackupWorkflow' AND ExecutionStatus = 'Running' AND StartTime >= '" + startedAt.UTC().Format(time.RFC3339) + "'"})
		if err == nil {
			s.inFlight = int(n.GetCount())
		}
		ok, thr := mailboxRequests(t.Stats())
		s.ok, s.throttled = ok-ok0, thr-thr0
		out = append(out, s)
		if len(out)%15 == 0 {
			fmt.Fprintf(os.Stderr, "  %s: %d mailboxes in flight, %d requests answered, %d throttled\n", s.at.Round(time.Second), s.inFlight, s.ok, s.throttled)
		}
	}
}

// fleetSteady is the run's steady state: from the first sample at which
// the most mailboxes were in flight to the last such sample.
type fleetSteady struct {
	from, to fleetSample
	inFlight int
}

func steadyState(samples []fleetSample) (fleetSteady, bool) {
	most := 0
	for _, s := range samples {
		most = max(most, s.inFlight)
	}
	var st fleetSteady
	first := -1
	for i, s := range samples {
		if s.inFlight == most {
			if first < 0 {
				first = i
			}
			st.to = s
		}
	}
	if most <= 0 || first < 0 || st.to.at <= samples[first].at {
		return st, false
	}
	st.from, st.inFlight = samples[first], most
	return st, true
}

func (s fleetSteady) rate() float64 {
	return float64(s.to.ok-s.from.ok) / (s.to.at - s.from.at).Seconds()
}

func (s fleetSteady) describe() string {
	return fmt.Sprintf("from %s to %s of the run, the interval from the first to the last sample (every %s) with the most mailboxes in flight, %d: %.1f requests/s answered, %d throttled",
		s.from.at.Round(time.Second), s.to.at.Round(time.Second), fleetSampleEvery, s.inFlight, s.rate(), s.to.throttled-s.from.throttled)
}

// classDelta is the requests of each class between two snapshots.
func classDelta(before, after graphsim.Stats) map[string]int64 {
	out := map[string]int64{}
	for class, byStatus := range after.Requests {
		for status, n := range byStatus {
			out[class+" "+status] += n - before.Requests[class][status]
		}
	}
	return out
}
