package e2e

// The fault matrix: each TestFault... row breaks one thing an operator
// meets and checks the product fails clearly and promptly, or recovers.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/localstack"
	"github.com/corso-temporal/corso/workflows"
)

// After every worker of a task queue stopped, Temporal still lists their
// pollers for minutes. A request submitted then is withdrawn after
// --worker-wait, with a one-line error, instead of waiting for ever.
func TestFaultNoLiveWorkerWithdrawsTheRequest(t *testing.T) {
	const queue = "e2e-fault-workers-gone"
	w, err := dev.StartWorker(queue, nil, "--task-queue", queue)
	if err != nil {
		t.Fatal(err)
	}
	c := rawClient(t)
	pollers := func() int {
		tq, err := c.DescribeTaskQueue(context.Background(), queue, enumspb.TASK_QUEUE_TYPE_WORKFLOW)
		if err != nil {
			t.Fatal(err)
		}
		return len(tq.GetPollers())
	}
	for deadline := time.Now().Add(15 * time.Second); pollers() == 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the worker on %s never polled", queue)
		}
	}
	// A crash: nothing tells Temporal the worker is gone.
	_ = w.Process.Kill()
	_ = w.Wait()
	if pollers() == 0 {
		t.Fatalf("Temporal forgot the stopped worker's poller on %s: the case this row checks did not arise", queue)
	}

	a := newAdmin(t, "workers-gone-passphrase")
	env := map[string]string{"CORSO_PASSPHRASE": a.passphrase}
	args := append(repoCmd("connect", "fault-workers-gone"), "--task-queue", queue, "--worker-wait", "3s", "--config-file", a.config)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	r, err := dev.Corso(ctx, env, args...)
	if err != nil {
		t.Fatal(err)
	}
	recordCLI(env, args, r)
	mustFail(t, r, 30*time.Second, "no corso-worker picked up", "within --worker-wait 3s", "withdrawn")
	for _, e := range waitExecutions(t, fmt.Sprintf("TaskQueue = '%s' AND ExecutionStatus != 'Running'", queue), 1) {
		if st := e.describe.GetWorkflowExecutionInfo().GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED {
			t.Errorf("workflow %s left %s, want terminated", e.id, st)
		}
	}
}

// kopia allows one writer per config and cache folder: a second worker on
// a --data-dir in use refuses to start and names the one holding it.
func TestFaultSecondWorkerOnADataDirIsRefused(t *testing.T) {
	const name = "e2e-fault-data-dir"
	first, err := dev.StartWorker(name, nil, "--task-queue", name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { localstack.Terminate(first) })
	dir := filepath.Join(dev.Dir, name) // StartWorker's --data-dir

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	second := exec.CommandContext(ctx, filepath.Join(dev.BinDir, "corso-worker"),
		"--identity", name+"-second", "--data-dir", dir, "--task-queue", name)
	second.Env = dev.Environ(nil)
	var stderr bytes.Buffer
	second.Stderr = &stderr
	start := time.Now()
	err = second.Run()
	took := time.Since(start)
	if err == nil || ctx.Err() != nil {
		t.Fatalf("second worker on %s: %v after %s, want a refusal\n%s", dir, err, took, stderr.String())
	}
	msg := strings.TrimSpace(stderr.String())
	if strings.Contains(msg, "\n") {
		t.Errorf("error is not one line:\n%s", msg)
	}
	for _, want := range []string{dir, fmt.Sprintf("pid %d", first.Process.Pid)} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not name %q", msg, want)
		}
	}
	if took > 10*time.Second {
		t.Errorf("took %s to refuse", took)
	}
}

// A Graph download that stalls mid-body (the connection open, nothing
// sent) is cut by the worker's idle timeout, shortened here to 2 s through
// CORSO_TEST_GRAPH_IDLE_TIMEOUT, and resumed: the backup completes, equal
// to the tenant, instead of waiting out the activity's day-long timeout
// behind its keep-alive heartbeats.
func TestFaultStalledGraphDownloadIsCutAndResumed(t *testing.T) {
	sim := ownTenant(t, graphsim.TenantOptions{Seed: 17, Users: 1, ItemsPerUser: 60, Mix: graphsim.ItemMix{Files: 1}, MaxFileSize: 2 << 20})
	const queue = "e2e-fault-graph-stall"
	env := sim.WorkerEnv()
	env["CORSO_TEST_GRAPH_IDLE_TIMEOUT"] = "2s"
	w, err := dev.StartWorker(queue, env, "--task-queue", queue)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { localstack.Terminate(w) })
	a := newExchangeAdmin(t, sim, "fault-graph-stall", "--task-queue", queue)
	u := userWithDrive(t, sim)
	sim.SetFaults(graphsim.FaultOptions{Seed: 7, StallRate: 0.2, Classes: []string{"download"}})
	defer sim.SetFaults(graphsim.FaultOptions{})

	start := time.Now()
	done := make(chan []backup.Summary, 1)
	go func() { done <- a.driveBackup(t, "onedrive", "user", u.UPN) }()
	var bs []backup.Summary
	select {
	case bs = <-done:
	case <-time.After(2 * time.Minute):
		t.Fatalf("backup still running after 2m with %d stalled downloads: they were not cut", sim.Stats().Faults["stall"])
	}
	stalls := sim.Stats().Faults["stall"]
	sim.SetFaults(graphsim.FaultOptions{})
	if stalls == 0 {
		t.Fatal("no download stalled; the row proves nothing")
	}
	assertSameItems(t, a.storedFiles(t, bs[0].BackupID), driveTruth(t, sim, u.ID, "OneDrive"))
	t.Logf("%d files backed up through %d stalled downloads in %s", bs[0].Items, stalls, time.Since(start).Round(time.Second))
}

// S3 faults between the workers and storage, injected by a proxy the
// repository's --endpoint points at: bursts of 5xx answers, an outage with
// connections refused, and requests never answered. Each backup completes
// equal to the tenant within a bound. Times are scaled down: the outage
// stands for two minutes at 1/8 (15 s), and the workers' S3 operation
// bound (repository.DefaultS3OperationTimeout, 10 min) is 5 s through
// CORSO_TEST_S3_OPERATION_TIMEOUT, so that a stalled request is let go
// after seconds; each stalled request must be abandoned within that bound,
// not kept alive behind an activity's heartbeats.
func TestFaultS3ErrorsOutageAndStallsAreSurvived(t *testing.T) {
	const (
		queue   = "e2e-fault-s3"
		s3Bound = 5 * time.Second
	)
	sim := ownTenant(t, graphsim.TenantOptions{Seed: 23, Users: 1, ItemsPerUser: 60, Mix: graphsim.ItemMix{Files: 1}, MaxFileSize: 1 << 20})
	env := sim.WorkerEnv()
	env["CORSO_TEST_S3_OPERATION_TIMEOUT"] = s3Bound.String()
	w, err := dev.StartWorker(queue, env, "--task-queue", queue)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { localstack.Terminate(w) })
	proxy := newS3Proxy(t)
	u := userWithDrive(t, sim)
	want := driveTruth(t, sim, u.ID, "OneDrive")

	for _, row := range []struct {
		name   string
		faults s3Faults
		check  func(*testing.T, s3Injected)
	}{
		{"5xx-bursts", s3Faults{BurstEvery: 12, BurstLen: 4}, func(t *testing.T, in s3Injected) {
			if in.Errors == 0 {
				t.Error("the proxy answered no request with a 5xx")
			}
		}},
		{"outage", s3Faults{OutageAfter: 40, Outage: 15 * time.Second}, func(t *testing.T, in s3Injected) {
			if in.Outages != 1 {
				t.Errorf("%d outages, want 1", in.Outages)
			}
		}},
		{"stalls", s3Faults{StallEvery: 20, StallMax: 3}, func(t *testing.T, in s3Injected) {
			if len(in.Stalls) == 0 {
				t.Error("the proxy stalled no request")
			}
			for i, d := range in.Stalls {
				if d < 0 || d > s3Bound+10*time.Second {
					t.Errorf("stalled request %d held %s (negative: still held), want it abandoned within the %s bound", i, d, s3Bound)
				}
			}
		}},
	} {
		t.Run(row.name, func(t *testing.T) {
			a := exchangeAdmin{admin: newAdmin(t, "exchange-fault-s3-"+row.name), prefix: "fault-s3-" + row.name, sim: sim, extra: []string{"--task-queue", queue}}
			mustSucceed(t, a.run(t, "repo", "init", "s3", "--bucket", bucket, "--prefix", a.prefix, "--endpoint", proxy.addr, "--disable-tls"))
			proxy.set(row.faults)
			defer proxy.set(s3Faults{})
			start := time.Now()
			done := make(chan []backup.Summary, 1)
			go func() { done <- a.driveBackup(t, "onedrive", "user", u.UPN) }()
			var bs []backup.Summary
			select {
			case bs = <-done:
			case <-time.After(4 * time.Minute):
				t.Fatalf("backup still running after 4m through S3 faults %+v (injected %+v)", row.faults, proxy.injected())
			}
			in := proxy.injected()
			proxy.set(s3Faults{})
			row.check(t, in)
			assertSameItems(t, a.storedFiles(t, bs[0].BackupID), want)
			t.Logf("%d files backed up in %s through %d S3 requests with %d 5xx, %d outages, stalls held %v",
				bs[0].Items, time.Since(start).Round(time.Second), in.Requests, in.Errors, in.Outages, in.Stalls)
		})
	}
}

// Temporal restarted in the middle of a backup and of an export, on a
// stack of the test's own (the restart stops corso-dev: Temporal, the Web
// UI and S3 alike, on the same ports and data dir). Workers and the CLI
// reconnect: the backup completes, and the export of it completes equal to
// the tenant. During the export Temporal stays down longer than the
// export's heartbeat timeout, so that attempt is lost: the retry goes on
// from the files it finished, none written twice.
func TestFaultTemporalRestartedMidBackupAndMidExport(t *testing.T) {
	sim := ownTenant(t, graphsim.TenantOptions{Seed: 29, Users: 1, ItemsPerUser: 300, Mix: graphsim.ItemMix{Files: 1}, MaxFileSize: 512 << 10})
	st, err := localstack.Start(dev.BinDir, t.TempDir(), "--users", "1", "--items-per-user", "1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Stop)
	if _, err := st.StartWorker("restart-worker", sim.WorkerEnv()); err != nil {
		t.Fatal(err)
	}
	const passphrase = "exchange-fault-temporal-restart"
	cfg := filepath.Join(t.TempDir(), "corso.toml")
	corsoOn := func(args ...string) result {
		r, err := st.Corso(context.Background(), sim.CLIEnv(passphrase), append(args, "--config-file", cfg)...)
		if err != nil {
			t.Errorf("run corso %v: %v", args, err)
		}
		recordCLI(sim.CLIEnv(passphrase), args, r)
		return r
	}
	mustSucceed(t, corsoOn("repo", "init", "s3", "--bucket", bucket, "--prefix", "restart", "--endpoint", st.Env["CORSO_S3_ENDPOINT"], "--disable-tls"))
	u := userWithDrive(t, sim)
	restartWhen := func(what string, down time.Duration, ready func() bool) {
		t.Helper()
		for deadline := time.Now().Add(2 * time.Minute); !ready(); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the %s never got under way", what)
			}
		}
		if err := st.Restart(down); err != nil {
			t.Fatal(err)
		}
	}

	// Files are served slowly enough for the restart to land mid-backup.
	sim.SetFaults(graphsim.FaultOptions{Latency: 30 * time.Millisecond, Classes: []string{"download"}})
	backupDone := make(chan result, 1)
	go func() { backupDone <- corsoOn("backup", "create", "onedrive", "--user", u.UPN, "--json") }()
	var downloadedAtRestart int
	restartWhen("backup", 5*time.Second, func() bool {
		downloadedAtRestart = len(fetchCounts(sim, "driveItem.content"))
		return downloadedAtRestart >= 30
	})
	var r result
	select {
	case r = <-backupDone:
	case <-time.After(5 * time.Minute):
		t.Fatal("backup still running 5m after Temporal restarted")
	}
	sim.SetFaults(graphsim.FaultOptions{})
	mustSucceed(t, r)
	var out createJSON
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil || len(out.Backups) != 1 || out.Backups[0].Status != backup.StatusCompleted {
		t.Fatalf("backup across a Temporal restart: %v %+v\n%s", err, out.Backups, r.Stdout)
	}
	if downloadedAtRestart >= len(driveTruth(t, sim, u.ID, "OneDrive")) {
		t.Fatalf("every file was downloaded before the restart: it did not land mid-backup")
	}

	dir := t.TempDir()
	exportDone := make(chan result, 1)
	go func() { exportDone <- corsoOn("export", "onedrive", dir, "--backup", out.Backups[0].BackupID) }()
	exported := func() int {
		n := 0
		_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && !strings.HasPrefix(d.Name(), ".") {
				n++
			}
			return nil
		})
		return n
	}
	var exportedAtRestart int
	restartWhen("export", workflows.ShortHeartbeatTimeout+10*time.Second, func() bool {
		exportedAtRestart = exported()
		return exportedAtRestart >= 20
	})
	select {
	case r = <-exportDone:
	case <-time.After(5 * time.Minute):
		t.Fatal("export still running 5m after Temporal restarted")
	}
	mustSucceed(t, r)
	want := map[string]string{}
	for k, h := range driveTruth(t, sim, u.ID, "") {
		want[strings.TrimPrefix(k, "/")] = h
	}
	assertSameItems(t, exportedHashes(t, dir), safeKeys(want))
	if exportedAtRestart >= len(want) {
		t.Fatal("every file was exported before the restart: it did not land mid-export")
	}
	if attempt := exportAttempt(t, st); attempt < 2 {
		t.Errorf("the export finished in attempt %d: Temporal's absence did not cost the first, the retry was not exercised", attempt)
	}
	t.Logf("Temporal restarted after %d of %d files were downloaded and after %d were exported; both completed",
		downloadedAtRestart, len(want), exportedAtRestart)
}

// exportAttempt is the attempt in which the stack's one export activity
// finished.
func exportAttempt(t *testing.T, st *localstack.Stack) int32 {
	t.Helper()
	c, err := client.Dial(client.Options{HostPort: st.Env["TEMPORAL_ADDRESS"], Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: "default", Query: "WorkflowType = 'DriveExportWorkflow'"})
	if err != nil || len(resp.Executions) != 1 {
		t.Fatalf("the export's workflow: %v, %d found", err, len(resp.GetExecutions()))
	}
	e := resp.Executions[0].Execution
	it := c.GetWorkflowHistory(ctx, e.WorkflowId, e.RunId, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var attempt int32
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if a := ev.GetActivityTaskStartedEventAttributes(); a != nil {
			attempt = a.GetAttempt()
		}
	}
	return attempt
}
