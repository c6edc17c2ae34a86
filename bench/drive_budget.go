package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/localstack"
	"github.com/corso-temporal/corso/workflows"
)

// The drive-budget section: SharePoint meters an app per tenant in
// resource units a minute (1,250 up to 1,000 licences; "Avoid getting
// throttled or blocked in SharePoint Online", learn.microsoft.com), and
// the simulator does the same in fixed one-minute windows. 4 workers,
// each told that budget (--drive-ru-per-minute), back up every site of a
// tenant of many small files. P3 for SharePoint: the share of the
// budget the fleet used in the minutes it had work for every site, and
// the share of drive requests answered 429.
var (
	budgetSites = flag.Int("budget-sites", 12, "drive-budget: sites in the tenant")
	budgetFiles = flag.Int("budget-files", 500, "drive-budget: files in each site's library")
	budgetRU    = flag.Int("budget-ru-per-minute", 1250, "drive-budget: the tenant's resource units a minute, SharePoint's and the fleet's --drive-ru-per-minute")
	budgetLimit = flag.Duration("budget-limit", 15*time.Minute, "drive-budget: stop the request after this long and report what it measured")
)

// budgetFleet is the drive-budget section's workers.
const budgetFleet = 4

func driveBudgetRun(rep *report, stack *localstack.Stack) error {
	ctx := context.Background()
	t, err := localstack.StartTenant(graphsim.Options{
		Tenant: graphsim.TenantOptions{Seed: 91, Users: 1, ItemsPerUser: 1, Groups: -1, Sites: *budgetSites, ItemsPerSite: *budgetFiles,
			Mix: graphsim.ItemMix{Mail: 1}, MaxFileSize: 16 << 10, Clean: true},
		Throttle: graphsim.ThrottleOptions{DriveResourceUnits: *budgetRU, DriveWindow: time.Minute},
	})
	if err != nil {
		return err
	}
	defer t.Close()
	const queue = "bench-drive-budget"
	for w := range budgetFleet {
		p, err := stack.StartWorker(fmt.Sprintf("%s-%d", queue, w), t.WorkerEnv(), "--task-queue", queue,
			"--drive-ru-per-minute", strconv.Itoa(*budgetRU))
		if err != nil {
			return err
		}
		defer localstack.Terminate(p)
	}
	fmt.Fprintf(os.Stderr, "drive budget: %d sites x %d files, %d RU a minute, %d workers\n", *budgetSites, *budgetFiles, *budgetRU, budgetFleet)
	a, err := newAdmin(stack, t, queue, "--task-queue", queue)
	if err != nil {
		return err
	}
	tc, err := dialTemporal(stack)
	if err != nil {
		return err
	}
	defer tc.Close()

	before := t.Stats()
	started := time.Now()
	id, err := a.submit("backup", "create", "sharepoint", "--site", "*", "--wait=false", "--json")
	if err != nil {
		return err
	}
	var res workflows.DriveBackupResult
	cutShort, err := waitWithin(ctx, tc, id, *budgetLimit, &res)
	took := time.Since(started)
	switch {
	case cutShort:
		_ = stopRequest(ctx, tc, id)
		return fmt.Errorf("backup of %d sites not done after %s (-budget-limit)", *budgetSites, *budgetLimit)
	case err != nil:
		return fmt.Errorf("backup of %d sites: %w", *budgetSites, err)
	}
	after := t.Stats()
	var tot workflows.BackupTotals
	if res.Totals != nil {
		tot = *res.Totals
	}
	rep.add("drive budget run", fmt.Sprintf("%d sites x %d files, %d workers told %d RU a minute: %d completed, %d failed, %d items in %s",
		*budgetSites, *budgetFiles, budgetFleet, *budgetRU, tot.Completed, tot.Failed, tot.Items, took.Round(time.Second)))
	rep.check("drive budget request completes", fmt.Sprintf("%d of %d sites backed up", tot.Completed, *budgetSites), "all",
		tot.Failed == 0 && tot.Completed == *budgetSites)

	// The windows of the run: those the run spans whole are the minutes
	// the budget could be used in full.
	ws := windowsSince(after.DriveWindows, before.DriveWindows)
	var whole []graphsim.DriveWindow
	var requests, refused int
	var per []string
	for _, w := range ws {
		requests += w.Requests + w.Refused
		refused += w.Refused
		if !w.Open && !w.Start.Before(started) && !w.Start.Add(time.Minute).After(started.Add(took)) {
			whole = append(whole, w)
			per = append(per, fmt.Sprintf("%d", w.Units))
		}
	}
	share := float64(refused) / float64(max(requests, 1))
	rep.check("drive requests answered 429 (P3, SharePoint)", fmt.Sprintf("%.4f (%d of %d)", share, refused, requests), "<= 0.01", share <= fleetThrottleTarget)
	if len(whole) == 0 {
		rep.check("drive budget used (P3, SharePoint)", fmt.Sprintf("no whole minute in a run of %s", took.Round(time.Second)), ">= 0.9", false)
		return nil
	}
	// The minutes every site still had work in are the steady state;
	// after the first site is done, the others may not keep the budget
	// busy.
	firstDone, err := firstSiteDone(ctx, tc, queue)
	if err != nil {
		return err
	}
	units, minutes := 0, 0
	for _, w := range whole {
		if !w.Start.Add(time.Minute).After(firstDone) {
			units += w.Units
			minutes++
		}
	}
	rep.add("drive budget by minute", fmt.Sprintf("RU let through in each whole minute of the run: %s, of %d; the first site was done after %s",
		strings.Join(per, ", "), *budgetRU, firstDone.Sub(started).Round(time.Second)))
	if minutes == 0 {
		rep.check("drive budget used (P3, SharePoint)", "no whole minute before the first site was done", ">= 0.9", false)
		return nil
	}
	used := float64(units) / float64(minutes**budgetRU)
	rep.check("drive budget used (P3, SharePoint)", fmt.Sprintf("%.3f (%d RU in the %d whole minutes before the first site was done)", used, units, minutes),
		">= 0.9", used >= fleetBudgetTarget)
	return nil
}

// firstSiteDone is when the first site's backup on queue ended.
func firstSiteDone(ctx context.Context, c client.Client, queue string) (time.Time, error) {
	var first time.Time
	var token []byte
	for {
		r, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: "default", NextPageToken: token,
			Query: "WorkflowType = 'ResourceDrivesBackupWorkflow' AND TaskQueue = '" + queue + "' AND ExecutionStatus != 'Running'"})
		if err != nil {
			return time.Time{}, fmt.Errorf("site backups: %w", err)
		}
		for _, e := range r.GetExecutions() {
			if ct := e.GetCloseTime().AsTime(); first.IsZero() || ct.Before(first) {
				first = ct
			}
		}
		if token = r.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	if first.IsZero() {
		return first, fmt.Errorf("no site backup on %s has ended", queue)
	}
	return first, nil
}

// windowsSince are the drive windows of after that before does not hold
// closed: the ones that opened, or were still open, since.
func windowsSince(after, before []graphsim.DriveWindow) []graphsim.DriveWindow {
	var last time.Time
	for _, w := range before {
		if !w.Open {
			last = w.Start
		}
	}
	var out []graphsim.DriveWindow
	for _, w := range after {
		if w.Start.After(last) {
			out = append(out, w)
		}
	}
	return out
}
