package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/localstack"
)

var enumerationFiles = flag.Int("drive-enumeration-files", 200_000,
	"files in the library the drive-enumeration section enumerates (1000000 for the figure of the performance targets; the enumeration takes 2 to 3 minutes per 200,000 here)")

// workerMemoryTarget is the worker's RSS target (ARCHITECTURE.md,
// performance targets).
const workerMemoryTarget = 300 << 20

// enumerationCheckpointPages is the enumeration's checkpoint interval
// (activities.enumerationCheckpointPages).
const enumerationCheckpointPages = 50

// driveEnumerationRun enumerates one SharePoint library of tiny files
// twice: once on one worker, for its peak RSS and the enumeration's time,
// and once with that worker killed halfway, for the delta pages the
// worker that takes over reads again. Each backup is stopped once its
// first download starts: only the enumeration is measured.
func driveEnumerationRun(rep *report, stack *localstack.Stack, c config) error {
	n := *enumerationFiles
	if n <= 0 {
		return fmt.Errorf("-drive-enumeration-files must be positive")
	}
	fmt.Fprintf(os.Stderr, "drive enumeration: one library of %d files\n", n)
	t, err := localstack.StartTenant(graphsim.Options{Tenant: graphsim.TenantOptions{
		Seed: 41, Users: 1, ItemsPerUser: 1, Sites: 1, ItemsPerSite: n, Mix: graphsim.ItemMix{Files: 1}, MaxFileSize: 1024, Clean: true,
	}})
	if err != nil {
		return err
	}
	defer t.Close()
	tc, err := client.Dial(client.Options{HostPort: stack.Env["TEMPORAL_ADDRESS"], Namespace: "default"})
	if err != nil {
		return err
	}
	defer tc.Close()

	// Uninterrupted, on one worker.
	q := "bench-enumeration"
	w, err := stack.StartWorker(q, t.WorkerEnv(), "--task-queue", q, "--drive-ru-per-minute", "0")
	if err != nil {
		return err
	}
	defer localstack.Terminate(w)
	simBefore, _ := localstack.PeakRSS(os.Getpid()) // the simulator runs in this process
	a, err := newAdmin(stack, t, q, "--task-queue", q)
	if err != nil {
		return err
	}
	idle, _ := localstack.PeakRSS(w.Process.Pid)
	before := deltaPages(t)
	took, err := enumerateLibrary(tc, a, t, nil)
	if err != nil {
		return err
	}
	pages := deltaPages(t) - before
	peak, _ := localstack.PeakRSS(w.Process.Pid)
	simAfter, _ := localstack.PeakRSS(os.Getpid())
	localstack.Terminate(w)
	rep.add("library enumeration", fmt.Sprintf("%d files, %d delta pages in %s (%.0f files/s), one worker", n, pages, took.Round(time.Second), float64(n)/took.Seconds()))
	rep.add("simulator's peak RSS (bench process)", fmt.Sprintf("%.0f MiB before, %.0f MiB after serving the library's enumeration", mib(simBefore), mib(simAfter)))
	rep.check(fmt.Sprintf("worker peak RSS, enumerating %d files", n), fmt.Sprintf("%.0f MiB (%.0f MiB before the backup)", mib(peak), mib(idle)),
		fmt.Sprintf("<= %d MiB", workerMemoryTarget>>20), peak <= workerMemoryTarget)

	// Killed halfway; another worker takes over from the checkpoint.
	kq := "bench-enumeration-kill"
	victim, err := stack.StartWorker(kq+"-victim", t.WorkerEnv(), "--task-queue", kq, "--drive-ru-per-minute", "0")
	if err != nil {
		return err
	}
	defer localstack.Terminate(victim)
	ka, err := newAdmin(stack, t, kq, "--task-queue", kq)
	if err != nil {
		return err
	}
	before = deltaPages(t)
	var survivor *os.Process
	_, err = enumerateLibrary(tc, ka, t, func() error {
		if deltaPages(t)-before < pages/2 || survivor != nil {
			return nil
		}
		s, err := stack.StartWorker(kq+"-survivor", t.WorkerEnv(), "--task-queue", kq, "--drive-ru-per-minute", "0")
		if err != nil {
			return err
		}
		survivor = s.Process
		return victim.Process.Signal(syscall.SIGKILL)
	})
	if survivor != nil {
		defer func() { _ = survivor.Signal(syscall.SIGTERM) }()
	}
	if err != nil {
		return err
	}
	if survivor == nil {
		return fmt.Errorf("the enumeration ended before the worker could be killed")
	}
	again := deltaPages(t) - before - pages
	// Temporal sends an activity's heartbeats at most every 0.8 × its
	// heartbeat timeout (24 s), so the last checkpoint recorded can be
	// that much older than the last one taken.
	window := int64(24 * float64(pages) / took.Seconds())
	rep.check("delta pages read again after the worker was killed mid-enumeration",
		fmt.Sprintf("%d of %d", again, pages), fmt.Sprintf("<= %d (a checkpoint's %d pages + %d in one 24 s heartbeat window)", enumerationCheckpointPages+window, enumerationCheckpointPages, window),
		again <= enumerationCheckpointPages+window)
	return nil
}

// enumerateLibrary starts a backup of the tenant's sites and waits until
// its first file download, which follows the enumeration; then stops the
// backup. during runs every 50 ms meanwhile.
func enumerateLibrary(tc client.Client, a *admin, t *localstack.Tenant, during func() error) (time.Duration, error) {
	start := time.Now()
	workflowID, err := a.submit("backup", "create", "sharepoint", "--site", "*", "--wait=false", "--json")
	if err != nil {
		return 0, err
	}
	defer func() {
		_ = tc.TerminateWorkflow(context.Background(), workflowID, "", "bench: enumeration measured")
	}()
	downloads := func() int64 {
		st := t.Stats()
		var n int64
		for _, c := range st.Requests["download"] {
			n += c
		}
		return n + int64(len(st.Fetched["driveItem.content"]))
	}
	first := downloads()
	for downloads() == first {
		if during != nil {
			if err := during(); err != nil {
				return 0, err
			}
		}
		if time.Since(start) > 2*time.Hour {
			return 0, fmt.Errorf("no download 2 hours into the backup")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start), nil
}

// deltaPages is the number of drive delta pages the tenant served.
func deltaPages(t *localstack.Tenant) int64 {
	var n int64
	for status, c := range t.Stats().Requests["drive.delta"] {
		if status == "200" {
			n += c
		}
	}
	return n
}
