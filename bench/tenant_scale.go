package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/proto"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/localstack"
	"github.com/corso-temporal/corso/workflows"
)

// Targets of the tenant-scale run: far below Temporal's 2 MiB payload and
// 51,200-event history limits.
const (
	scalePayloadTarget = 512 << 10
	scaleHistoryTarget = 10000
	scaleRateWindow    = 1000
)

// tenantScaleRun backs up every mailbox of a tenant of c.tenantUsers users
// of two small items each with two workers, and reports the wall time, the
// rate over the first and the last 1,000 mailboxes, and the largest
// payload and history of any run of the request or of its children.
func tenantScaleRun(rep *report, stack *localstack.Stack, c config) error {
	ctx := context.Background()
	fmt.Fprintf(os.Stderr, "tenant scale: %d users x 2 items, 2 workers\n", c.tenantUsers)
	t, err := localstack.StartTenant(graphsim.Options{Tenant: graphsim.TenantOptions{
		Seed: 50, Users: c.tenantUsers, ItemsPerUser: 2, Groups: -1, Mix: graphsim.ItemMix{Mail: 1}, Clean: true,
	}})
	if err != nil {
		return err
	}
	defer t.Close()
	const queue = "bench-tenant-scale"
	for w := range 2 {
		p, err := stack.StartWorker(fmt.Sprintf("%s-%d", queue, w), t.WorkerEnv(), "--task-queue", queue)
		if err != nil {
			return err
		}
		defer localstack.Terminate(p)
	}
	a, err := newAdmin(stack, t, queue, "--task-queue", queue)
	if err != nil {
		return err
	}
	tc, err := dialTemporal(stack)
	if err != nil {
		return err
	}
	defer tc.Close()

	// The CLI submits; the bench waits, since the CLI's own wait would
	// outlast the harness's command timeout.
	started := time.Now()
	workflowID, err := a.submit("backup", "create", "exchange", "--mailbox", "*", "--wait=false", "--json")
	if err != nil {
		return err
	}
	stop := make(chan struct{})
	var polls sync.WaitGroup
	var done int
	polls.Go(func() { done = reportScaleProgress(ctx, tc, workflowID, started, stop) })
	var res workflows.ExchangeBackupResult
	cutShort, err := waitWithin(ctx, tc, workflowID, c.tenantLimit, &res)
	took := time.Since(started)
	close(stop)
	polls.Wait()
	if cutShort {
		// Cut short: what the request did so far, and its histories.
		rep.add("tenant scale backup (cut short)", fmt.Sprintf("%d mailboxes backed up in %s of %d users x 2 items, 2 workers: %.2f mailboxes/s",
			done, took.Round(time.Second), c.tenantUsers, float64(done)/took.Seconds()))
		rep.check("tenant scale request completes", fmt.Sprintf("stopped after %s (-tenant-limit)", took.Round(time.Second)), "all", false)
		if err := stopRequest(ctx, tc, workflowID); err != nil {
			return err
		}
		if err := reportScaleList(rep, a, started, took); err != nil {
			return err
		}
		return reportScaleHistories(ctx, rep, stack, started)
	}
	if err != nil {
		return fmt.Errorf("backup of %d users: %w", c.tenantUsers, err)
	}
	if res.Totals == nil {
		return fmt.Errorf("the request's result has no totals")
	}
	tot := *res.Totals
	rep.add("tenant scale backup", fmt.Sprintf("%d mailboxes (%d users, %d left out) x 2 items, 2 workers: %d completed, %d failed, %d items in %s; result lists %d",
		tot.Backups, c.tenantUsers, tot.LeftOut, tot.Completed, tot.Failed, tot.Items, took.Round(time.Second), len(res.Backups)))
	rep.check("tenant scale request completes", fmt.Sprintf("%d of %d mailboxes backed up", tot.Completed, tot.Backups), "all", tot.Failed == 0 && tot.Backups > 0)

	if err := reportScaleList(rep, a, started, took); err != nil {
		return err
	}
	return reportScaleHistories(ctx, rep, stack, started)
}

// reportScaleList lists every backup's record through `backup list`'s
// pages, and reports the rate over the first and the last 1,000.
func reportScaleList(rep *report, a *admin, started time.Time, took time.Duration) error {
	lr, err := a.run("backup", "list", "exchange", "--json")
	if err != nil {
		return err
	}
	var listed []backup.Summary
	if err := json.Unmarshal([]byte(lr.Stdout), &listed); err != nil {
		return fmt.Errorf("read backup list: %w", err)
	}
	rep.add("backup list at tenant scale", fmt.Sprintf("%d backups listed in %s", len(listed), lr.Took.Round(time.Millisecond)))
	if first, last, ok := windowRates(listed, started, scaleRateWindow); ok {
		rep.add("mailboxes/s, first vs last 1,000", fmt.Sprintf("%.2f vs %.2f (over the run %.2f)", first, last, float64(len(listed))/took.Seconds()))
	}
	return nil
}

// reportScaleHistories reports the largest payload and history of the
// runs started since then.
func reportScaleHistories(ctx context.Context, rep *report, stack *localstack.Stack, started time.Time) error {
	runs, largestPayload, payloadAt, largestHistory, historyAt, err := scanHistories(ctx, stack, started)
	if err != nil {
		return err
	}
	rep.check("largest payload at tenant scale", fmt.Sprintf("%.1f KiB (%s; %d runs scanned)", float64(largestPayload)/1024, payloadAt, runs),
		"<= 512 KiB", largestPayload <= scalePayloadTarget)
	rep.check("largest history at tenant scale", fmt.Sprintf("%d events (%s)", largestHistory, historyAt),
		"<= 10000", largestHistory <= scaleHistoryTarget)
	return nil
}

// reportScaleProgress prints how many mailboxes are backed up every 30
// seconds, so that a run cut short still shows its rate, and returns the
// last count.
func reportScaleProgress(ctx context.Context, c client.Client, id string, started time.Time, stop <-chan struct{}) (last int) {
	tick := time.NewTicker(30 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return last
		case <-tick.C:
		}
		var before workflows.RequestProgress
		var page []workflows.BackupProgress
		if v, err := c.QueryWorkflow(ctx, id, "", workflows.RequestProgressQuery); err != nil || v.Get(&before) != nil {
			continue
		}
		if v, err := c.QueryWorkflow(ctx, id, "", workflows.ProgressQuery); err != nil || v.Get(&page) != nil {
			continue
		}
		done := before.Done
		for _, p := range page {
			if p.Stage == "done" {
				done++
			}
		}
		last = done
		fmt.Fprintf(os.Stderr, "  %s: %d/%d mailboxes backed up\n", time.Since(started).Round(time.Second), done, before.Resources)
	}
}

// windowRates are the mailboxes per second of the first and the last n
// backups to complete.
func windowRates(bs []backup.Summary, started time.Time, n int) (first, last float64, ok bool) {
	var done []time.Time
	for _, b := range bs {
		if b.Status == backup.StatusCompleted && !b.Completed.Before(started) {
			done = append(done, b.Completed)
		}
	}
	if len(done) < 2*n {
		n = len(done) / 2
	}
	if n < 2 {
		return 0, 0, false
	}
	slices.SortFunc(done, func(a, b time.Time) int { return a.Compare(b) })
	first = float64(n) / done[n-1].Sub(started).Seconds()
	last = float64(n) / done[len(done)-1].Sub(done[len(done)-1-n]).Seconds()
	return first, last, true
}

// scanHistories reads the history of every workflow run started since
// then, and returns how many it read, the largest event (payloads and
// all, as stored) and the longest history, and where each was.
func scanHistories(ctx context.Context, stack *localstack.Stack, since time.Time) (runs, largestEvent int, eventAt string, largestHistory int, historyAt string, err error) {
	c, err := client.Dial(client.Options{HostPort: stack.Env["TEMPORAL_ADDRESS"], Namespace: "default"})
	if err != nil {
		return 0, 0, "", 0, "", err
	}
	defer c.Close()
	type execution struct{ id, run, typ string }
	var execs []execution
	var token []byte
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: "default", NextPageToken: token,
			Query: "StartTime >= '" + since.UTC().Format(time.RFC3339) + "'"})
		if err != nil {
			return 0, 0, "", 0, "", err
		}
		for _, e := range resp.Executions {
			execs = append(execs, execution{e.Execution.WorkflowId, e.Execution.RunId, e.Type.GetName()})
		}
		if token = resp.NextPageToken; len(token) == 0 {
			break
		}
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var firstErr error
	next := make(chan execution)
	for range 4 {
		wg.Go(func() {
			for e := range next {
				it := c.GetWorkflowHistory(ctx, e.id, e.run, false, 0)
				n, biggest, what := 0, 0, ""
				for it.HasNext() {
					ev, err := it.Next()
					if err != nil {
						mu.Lock()
						firstErr = cmp.Or(firstErr, fmt.Errorf("history of %s: %w", e.id, err))
						mu.Unlock()
						break
					}
					n++
					if s := eventSize(ev); s > biggest {
						biggest, what = s, ev.GetEventType().String()
					}
				}
				mu.Lock()
				if biggest > largestEvent {
					largestEvent, eventAt = biggest, e.typ+" "+what
				}
				if n > largestHistory {
					largestHistory, historyAt = n, e.typ
				}
				mu.Unlock()
			}
		})
	}
	for _, e := range execs {
		next <- e
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return 0, 0, "", 0, "", firstErr
	}
	return len(execs), largestEvent, eventAt, largestHistory, historyAt, nil
}

// eventSize is an event's size as stored, its payloads included: an upper
// bound on any payload in it.
func eventSize(e *historypb.HistoryEvent) int { return proto.Size(e) }
