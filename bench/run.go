package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/localstack"
	"github.com/corso-temporal/corso/repository"
)

// figure is one printed measurement, with its target when it has one.
type figure struct {
	name, value, target string
	ok                  *bool
}

type report struct{ figures []figure }

func (r *report) add(name, value string) {
	r.figures = append(r.figures, figure{name: name, value: value})
}
func (r *report) check(name, value, target string, ok bool) {
	r.figures = append(r.figures, figure{name: name, value: value, target: target, ok: &ok})
	fmt.Fprintf(os.Stderr, "  %s: %s\n", name, value)
}

// missed names every checked figure whose target was not met.
func (r *report) missed() []string {
	var out []string
	for _, f := range r.figures {
		if f.ok != nil && !*f.ok {
			out = append(out, fmt.Sprintf("%s: %s, target %s", f.name, f.value, f.target))
		}
	}
	return out
}

// outcome is what the bench ends with: the error that stopped it, else
// every target it missed. It returns the exit status and the message for
// standard error, empty when every target was met.
func outcome(r *report, err error) (int, string) {
	if err != nil {
		return 1, "bench: " + err.Error()
	}
	if m := r.missed(); len(m) > 0 {
		return 1, fmt.Sprintf("bench: %d target(s) NOT MET:\n  %s", len(m), strings.Join(m, "\n  "))
	}
	return 0, ""
}

func (r *report) print() {
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MEASURE\tVALUE\tTARGET\t")
	for _, f := range r.figures {
		mark := ""
		if f.ok != nil {
			mark = map[bool]string{true: "met", false: "NOT MET"}[*f.ok]
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.name, f.value, f.target, mark)
	}
	_ = tw.Flush()
}

func totals(bs []backup.Summary) (items, bytes int64) {
	for _, b := range bs {
		items += b.Items
		bytes += b.Bytes
	}
	return items, bytes
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

func run(c config, rep *report) error {
	ctx := context.Background()
	tmp, err := os.MkdirTemp("", "corso-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin, err := localstack.BuildBinaries(tmp)
	if err != nil {
		return err
	}
	stack, err := localstack.Start(bin, tmp, "--users", "1", "--items-per-user", "1")
	if err != nil {
		return err
	}
	defer stack.Stop()
	conns, err := repository.NewConnections(repository.ClientOptions{Hostname: "bench", Username: "corso", Dir: tmp + "/bench-repos"})
	if err != nil {
		return err
	}
	defer conns.Close(ctx)
	switch c.only {
	case onlyDrive:
		if err := driveRun(ctx, rep, stack, conns, c); err != nil {
			return err
		}
		return largeFileRun(rep, stack, c)
	case onlyMemory:
		return memoryRun(rep, stack, c)
	case onlyScale:
		return scaleReport(rep, stack, c)
	case onlyRealTenant:
		return realTenantRun(rep, stack, c)
	case onlyTenantScale:
		return tenantScaleRun(rep, stack, c)
	case onlyMaintenance:
		return maintenanceRun(rep, stack, c)
	case onlyPostgres:
		return postgresRun(ctx, rep, stack, conns, c)
	case onlyGroups:
		return groupsRun(rep, stack, c)
	case onlyFolders:
		return foldersRun(rep, stack, c)
	case onlyDriveEnumeration:
		return driveEnumerationRun(rep, stack, c)
	case onlyFleetCeiling:
		return fleetCeilingRun(rep, stack, c)
	case onlyDriveBudget:
		return driveBudgetRun(rep, stack)
	}

	// 1. Full backup throughput against raw kopia ingest of the same items.
	fmt.Fprintf(os.Stderr, "full backup: %d mailboxes x %d items, 1 worker\n", c.users, c.items)
	t1, err := localstack.StartTenant(graphsim.Options{Tenant: graphsim.TenantOptions{
		Seed: 1, Users: c.users, ItemsPerUser: c.items, Mix: graphsim.ItemMix{Mail: 0.7, Contacts: 0.15, Events: 0.15}, Clean: true,
	}})
	if err != nil {
		return err
	}
	defer t1.Close()
	w1, err := stack.StartWorker("bench-throughput", t1.WorkerEnv(), "--task-queue", "bench-throughput")
	if err != nil {
		return err
	}
	a1, err := newAdmin(stack, t1, "bench-full", "--task-queue", "bench-throughput")
	if err != nil {
		return err
	}
	statsBefore := t1.Stats().TotalRequests
	meter := meterCPU(process{procWorker, w1.Process.Pid}, process{procSimulator, os.Getpid()}, process{procServers, stack.DevPID()})
	full, fullTook, err := a1.backup("*")
	if err != nil {
		return err
	}
	fullCPU := meter.stop()
	fullRequests := t1.Stats().TotalRequests - statsBefore
	items, bytes := totals(full)
	backupRate := float64(items) / fullTook.Seconds()
	rep.add("full backup", fmt.Sprintf("%d items, %.1f MiB in %s", items, mib(bytes), fullTook.Round(time.Millisecond)))
	rep.add("full backup rate", fmt.Sprintf("%.0f items/s, %.2f MiB/s, %.2f Graph requests/item", backupRate, mib(bytes)/fullTook.Seconds(), float64(fullRequests)/float64(items)))
	rep.add("processor use, full backup", fullCPU.String())

	peak, _ := localstack.PeakRSS(w1.Process.Pid)
	rep.add("worker peak RSS, full backup", fmt.Sprintf("%.0f MiB", mib(peak)))
	if c.only == "" || c.only == onlyPerItem {
		if err := rawComparison(ctx, rep, stack, conns, t1, a1, full, backupRate, fullCPU, bytes); err != nil {
			return err
		}
	}
	if c.only == onlyPerItem {
		localstack.Terminate(w1)
		return nil
	}

	// 2. Incremental after 1% churn.
	res := t1.Mutate([]graphsim.MutateOp{{Op: "churn", Seed: 7, Rate: 0.01}})
	changes := 0
	for _, r := range res {
		if r.Error == "" && r.Op != "churn" {
			changes++
		}
	}
	statsBefore = t1.Stats().TotalRequests
	inc, incTook, err := a1.backup("*")
	if err != nil {
		return err
	}
	incRequests := t1.Stats().TotalRequests - statsBefore
	var fetched int64
	for _, b := range inc {
		fetched += b.Fetched
	}
	rep.add("incremental after 1% churn", fmt.Sprintf("%d changes, %d items fetched, %d Graph requests, %s", changes, fetched, incRequests, incTook.Round(time.Millisecond)))
	if changes > 0 {
		per := float64(incRequests) / float64(changes)
		rep.check("Graph requests per changed item", fmt.Sprintf("%.2f", per), "<= 1.2", per <= 1.2)
	}
	ratio := incTook.Seconds() / fullTook.Seconds()
	rep.check("incremental time / full time", fmt.Sprintf("%.3f", ratio), "<= 0.1", ratio <= 0.1)
	if c.only == onlyExchangeIncremental {
		localstack.Terminate(w1)
		return nil
	}
	if err := restoreAndExport(rep, a1, full, tmp); err != nil {
		return err
	}
	localstack.Terminate(w1)

	if err := driveRun(ctx, rep, stack, conns, c); err != nil {
		return err
	}
	if err := largeFileRun(rep, stack, c); err != nil {
		return err
	}

	// 3. Worker memory as one mailbox grows 4x.
	if err := memoryRun(rep, stack, c); err != nil {
		return err
	}

	// 4. A worker killed mid-backup.
	again, err := killRun(stack, c)
	if err != nil {
		return err
	}
	rep.check("items fetched twice after a worker kill", fmt.Sprint(again), "<= 1000", again <= 1000)

	// 5. Scaling under Graph latency: one worker, then four.
	if err := scaleReport(rep, stack, c); err != nil {
		return err
	}

	// 6. A real tenant's persistent faults against a clean tenant.
	if err := realTenantRun(rep, stack, c); err != nil {
		return err
	}

	// 7. History size of every workflow run.
	largest, which, err := largestHistory(ctx, stack)
	if err != nil {
		return err
	}
	rep.check("largest workflow history", fmt.Sprintf("%d events (%s)", largest, which), "<= 10000", largest <= 10000)

	// 8. A year of incremental backups, with and without maintenance.
	if err := maintenanceRun(rep, stack, c); err != nil {
		return err
	}

	// 9. A team's channel messages under Teams' rate limits.
	if err := groupsRun(rep, stack, c); err != nil {
		return err
	}

	// 10. One mailbox of many folders: payloads and histories.
	if err := foldersRun(rep, stack, c); err != nil {
		return err
	}

	// 11. One library of many files: enumeration memory and resumption.
	if err := driveEnumerationRun(rep, stack, c); err != nil {
		return err
	}

	// 12. A tenant under per-mailbox limits: the fleet against their sum.
	if err := fleetCeilingRun(rep, stack, c); err != nil {
		return err
	}

	// 13. Every site of a tenant under SharePoint's budget: budget used,
	// requests throttled.
	if err := driveBudgetRun(rep, stack); err != nil {
		return err
	}

	// 14. Every mailbox of a large tenant: payloads and histories.
	return tenantScaleRun(rep, stack, c)
}

// Processes the bench measures the processor time of.
const (
	procWorker    = "worker"
	procSimulator = "simulated tenant"
	procRaw       = "raw ingest"
	procServers   = "S3 + Temporal"
)

func killRun(stack *localstack.Stack, c config) (int64, error) {
	t, err := localstack.StartTenant(graphsim.Options{Tenant: graphsim.TenantOptions{Seed: 20, Users: 1, ItemsPerUser: 4000, Mix: graphsim.ItemMix{Mail: 1}, Clean: true}})
	if err != nil {
		return 0, err
	}
	defer t.Close()
	t.SetFaults(graphsim.FaultOptions{Latency: 5 * time.Millisecond})
	q := "bench-kill"
	// The victim starts alone, so the first activities run on it; the
	// survivor joins just before the kill and takes over from checkpoints.
	victim, err := stack.StartWorker("bench-kill-victim", t.WorkerEnv(), "--task-queue", q)
	if err != nil {
		return 0, err
	}
	a, err := newAdmin(stack, t, q, "--task-queue", q)
	if err != nil {
		return 0, err
	}
	done := make(chan error, 1)
	go func() { _, _, err := a.backup("*"); done <- err }()
	for len(t.Stats().Fetched["message.mime"]) < 1500 {
		time.Sleep(20 * time.Millisecond)
	}
	survivor, err := stack.StartWorker("bench-kill-survivor", t.WorkerEnv(), "--task-queue", q)
	if err != nil {
		return 0, err
	}
	defer localstack.Terminate(survivor)
	_ = victim.Process.Signal(syscall.SIGKILL)
	if err := <-done; err != nil {
		return 0, err
	}
	var again int64
	for _, n := range t.Stats().Fetched["message.mime"] {
		again += n - 1
	}
	return again, nil
}

func scaleRun(stack *localstack.Stack, c config) ([2]float64, error) {
	var rates [2]float64
	t, err := localstack.StartTenant(graphsim.Options{Tenant: graphsim.TenantOptions{Seed: 30, Users: c.scaleUser, ItemsPerUser: c.scaleItems, Mix: graphsim.ItemMix{Mail: 1}, Clean: true}})
	if err != nil {
		return rates, err
	}
	defer t.Close()
	t.SetFaults(graphsim.FaultOptions{Latency: c.latency})
	for i, workers := range []int{1, 4} {
		q := fmt.Sprintf("bench-scale-%d", workers)
		for w := range workers {
			// Each worker runs four activities at once, so the fleet, not
			// Graph's per-mailbox limit, bounds the run.
			p, err := stack.StartWorker(fmt.Sprintf("%s-%d", q, w), t.WorkerEnv(), "--task-queue", q, "--max-concurrent-activities", "4")
			if err != nil {
				return rates, err
			}
			defer localstack.Terminate(p)
		}
		a, err := newAdmin(stack, t, q, "--task-queue", q)
		if err != nil {
			return rates, err
		}
		bs, took, err := a.backup("*")
		if err != nil {
			return rates, err
		}
		n, _ := totals(bs)
		rates[i] = float64(n) / took.Seconds()
		fmt.Fprintf(os.Stderr, "  %d worker(s): %d items in %s\n", workers, n, took.Round(time.Millisecond))
	}
	return rates, nil
}

func largestHistory(ctx context.Context, stack *localstack.Stack) (int, string, error) {
	c, err := client.Dial(client.Options{HostPort: stack.Env["TEMPORAL_ADDRESS"], Namespace: "default"})
	if err != nil {
		return 0, "", err
	}
	defer c.Close()
	largest, which := 0, ""
	var token []byte
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: "default", NextPageToken: token})
		if err != nil {
			return 0, "", err
		}
		for _, e := range resp.Executions {
			if e.HistoryLength > int64(largest) {
				largest, which = int(e.HistoryLength), e.Type.GetName()
			}
			if e.HistoryLength == 0 { // older servers leave it out of visibility
				it := c.GetWorkflowHistory(ctx, e.Execution.WorkflowId, e.Execution.RunId, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
				n := 0
				for it.HasNext() {
					if _, err := it.Next(); err != nil {
						return 0, "", err
					}
					n++
				}
				if n > largest {
					largest, which = n, e.Type.GetName()
				}
			}
		}
		token = resp.NextPageToken
		if len(token) == 0 {
			return largest, strings.TrimSpace(which), nil
		}
	}
}

// restoreAndExport restores the first backup into the second mailbox and
// exports it, beside the backup's own figures.
func restoreAndExport(rep *report, a *admin, full []backup.Summary, tmp string) error {
	if len(full) < 2 {
		return nil
	}
	src, dst := full[0], full[1]
	res, took, err := a.restore("--backup", src.BackupID, "--to-resource", dst.Resource, "--destination", "BenchRestore")
	if err != nil {
		return err
	}
	rep.add("restore to another mailbox", fmt.Sprintf("%d items, %.1f MiB in %s: %.0f items/s, %.2f MiB/s",
		res.Total.Restored, mib(res.Total.Bytes), took.Round(time.Millisecond),
		float64(res.Total.Restored)/took.Seconds(), mib(res.Total.Bytes)/took.Seconds()))
	ex, took, err := a.export(tmp+"/bench-export", "--backup", src.BackupID)
	if err != nil {
		return err
	}
	rep.add("export to files", fmt.Sprintf("%d files, %.1f MiB in %s: %.0f files/s, %.2f MiB/s",
		ex.Files, mib(ex.Bytes), took.Round(time.Millisecond), float64(ex.Files)/took.Seconds(), mib(ex.Bytes)/took.Seconds()))
	return nil
}

// rawComparison writes the items the full backup stored with the shortest
// loop kopia allows and compares the backup's rate with it.
func rawComparison(ctx context.Context, rep *report, stack *localstack.Stack, conns *repository.Connections,
	t1 *localstack.Tenant, a1 *admin, full []backup.Summary, backupRate float64, fullCPU cpuUse, bytes int64,
) error {
	stored, err := a1.items(ctx, conns, full)
	if err != nil {
		return err
	}
	// The comparison is only fair on the same items: every one the
	// backups count, no more.
	items, _ := totals(full)
	if int64(len(stored)) != items {
		return fmt.Errorf("raw ingest: the backups count %d items but their snapshots hold %d", items, len(stored))
	}
	aRaw, err := newAdmin(stack, t1, "bench-raw", "--task-queue", "bench-throughput")
	if err != nil {
		return err
	}
	meter := meterCPU(process{procRaw, os.Getpid()}, process{procServers, stack.DevPID()})
	rawTook, err := rawIngest(ctx, conns, aRaw, stored, 4)
	if err != nil {
		return err
	}
	rawCPU := meter.stop()
	rawRate := float64(len(stored)) / rawTook.Seconds()
	rep.add("raw kopia ingest, same items", fmt.Sprintf("%.0f items/s, %.2f MiB/s", rawRate, mib(bytes)/rawTook.Seconds()))
	rep.add("processor use, raw ingest", rawCPU.String())
	rep.check("backup / raw ingest", fmt.Sprintf("%.2f", backupRate/rawRate), ">= 0.8", backupRate/rawRate >= 0.8)
	// The simulated tenant runs on the same cores as the backup and takes
	// its share of them; Microsoft's Graph would not. Processor time per
	// item without it tells what the machine's cores would allow.
	n := float64(len(stored))
	backupPer := (fullCPU.of(procWorker, procServers)).Seconds() / n
	rawPer := rawCPU.of(procRaw, procServers).Seconds() / n
	rep.add("processor time per item, without the simulated tenant's",
		fmt.Sprintf("backup %.2f ms (worker %.2f, servers %.2f), raw ingest %.2f ms (ingest %.2f, servers %.2f)", backupPer*1e3,
			fullCPU.of(procWorker).Seconds()/n*1e3, fullCPU.of(procServers).Seconds()/n*1e3,
			rawPer*1e3, rawCPU.of(procRaw).Seconds()/n*1e3, rawCPU.of(procServers).Seconds()/n*1e3))
	rep.check("P1: processor time per item, backup / raw ingest", fmt.Sprintf("%.2f", backupPer/rawPer), "<= 1.25", backupPer <= 1.25*rawPer)
	return nil
}

// memoryRun measures a worker's peak RSS backing up one mailbox of N
// items, then one of 4N.
func memoryRun(rep *report, stack *localstack.Stack, c config) error {
	var rss []int64
	for i, n := range []int{c.items, 4 * c.items} {
		t, err := localstack.StartTenant(graphsim.Options{Tenant: graphsim.TenantOptions{Seed: int64(10 + i), Users: 1, ItemsPerUser: n, Mix: graphsim.ItemMix{Mail: 1}, Clean: true}})
		if err != nil {
			return err
		}
		q := fmt.Sprintf("bench-rss-%d", i)
		w, err := stack.StartWorker(q, t.WorkerEnv(), "--task-queue", q)
		if err != nil {
			return err
		}
		a, err := newAdmin(stack, t, q, "--task-queue", q)
		if err != nil {
			return err
		}
		if _, _, err := a.backup("*"); err != nil {
			return err
		}
		p, err := localstack.PeakRSS(w.Process.Pid)
		if err != nil {
			return err
		}
		rss = append(rss, p)
		localstack.Terminate(w)
		t.Close()
	}
	rep.check("worker peak RSS, mailbox of N and 4N items", fmt.Sprintf("%.0f MiB, %.0f MiB (N=%d)", mib(rss[0]), mib(rss[1]), c.items),
		"flat, <= 300 MiB", rss[1] <= 300<<20 && float64(rss[1]) <= 1.5*float64(rss[0]))
	return nil
}

// scaleReport compares the throughput of four workers with one's.
func scaleReport(rep *report, stack *localstack.Stack, c config) error {
	rates, err := scaleRun(stack, c)
	if err != nil {
		return err
	}
	rep.add("throughput at "+c.latency.String()+" Graph latency", fmt.Sprintf("1 worker %.0f items/s, 4 workers %.0f items/s (4 activities per worker, %d mailboxes of %d items)",
		rates[0], rates[1], c.scaleUser, c.scaleItems))
	rep.check("4 workers / 1 worker", fmt.Sprintf("%.2f", rates[1]/rates[0]), ">= 3.5", rates[1]/rates[0] >= 3.5)
	return nil
}
