package e2e

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/workflows"
)

// refetched counts downloads beyond the first of each message.
func refetched(sim *simTenant) int64 {
	var n int64
	for _, c := range sim.Stats().Fetched["message.mime"] {
		n += c - 1
	}
	return n
}

func TestExchangeBackupSurvivesAKilledWorker(t *testing.T) {
	// A tenant of its own, slow enough to kill a worker mid-backup, and two
	// workers of its own on their own task queue.
	sim := ownTenant(t, graphsim.TenantOptions{
		Seed: 9, Users: 1, ItemsPerUser: 1600, Mix: graphsim.ItemMix{Mail: 1},
	})
	sim.SetFaults(graphsim.FaultOptions{Latency: 8 * time.Millisecond})
	queue := "e2e-kill"
	victim, err := dev.StartWorker("e2e-kill-victim", sim.WorkerEnv(), "--task-queue", queue)
	if err != nil {
		t.Fatal(err)
	}
	a := newExchangeAdmin(t, sim, "exchange-kill", "--task-queue", queue)
	if _, err := dev.StartWorker("e2e-kill-survivor", sim.WorkerEnv(), "--task-queue", queue); err != nil {
		t.Fatal(err)
	}
	user := mailboxes(t, sim)[0]

	done := make(chan []backup.Summary, 1)
	go func() { done <- a.backup(t, user) }()
	// Kill once the backup is well under way.
	deadline := time.Now().Add(2 * time.Minute)
	for len(sim.Stats().Fetched["message.mime"]) < 400 {
		if time.Now().After(deadline) {
			t.Fatal("backup did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := victim.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	fetchedAtKill := len(sim.Stats().Fetched["message.mime"])

	var bs []backup.Summary
	select {
	case bs = <-done:
	case <-time.After(3 * time.Minute):
		t.Fatal("backup did not finish after the kill")
	}
	if len(bs) != 1 || bs[0].Status != backup.StatusCompleted {
		t.Fatalf("backup after kill: %+v", bs)
	}
	assertSameItems(t, a.stored(t, bs[0].BackupID), truth(t, sim, user))
	again := refetched(sim)
	t.Logf("killed a worker after %d messages were fetched; %d messages fetched twice", fetchedAtKill, again)
	if again > 1000 {
		t.Errorf("%d messages fetched twice after a kill, want at most 1000", again)
	}
}

func TestExchangeBackupThroughThrottlingAndFaults(t *testing.T) {
	a := newExchangeAdmin(t, tenant, "exchange-faults")
	user := mailboxes(t, tenant)[1]
	tenant.SetFaults(graphsim.FaultOptions{Seed: 3, Rate429: 0.05, Rate503: 0.05, ResetRate: 0.03, DropRate: 0.03})
	tenant.SetThrottle(graphsim.ThrottleOptions{MailboxRequests: 15, MailboxWindow: time.Second})
	defer func() {
		tenant.SetFaults(graphsim.FaultOptions{})
		tenant.SetThrottle(graphsim.ThrottleOptions{})
	}()
	before := tenant.Stats()
	bs := a.backup(t, user)
	after := tenant.Stats()
	if bs[0].Status != backup.StatusCompleted || bs[0].Errors != 0 {
		t.Fatalf("backup under faults: %+v", bs[0])
	}
	assertSameItems(t, a.stored(t, bs[0].BackupID), truth(t, tenant, user))
	injected := map[string]int64{}
	for k, v := range after.Faults {
		injected[k] = v - before.Faults[k]
	}
	injected["429 over budget"] = after.Throttled429 - before.Throttled429
	for _, k := range []string{"429", "503", "reset", "drop", "429 over budget"} {
		if injected[k] == 0 {
			t.Fatalf("the simulator injected no %s (%v); the test proves nothing", k, injected)
		}
	}
	t.Log(fmt.Sprintf("completed through injected faults %v", injected))
}

func TestExchangeRestoreSurvivesAKilledWorker(t *testing.T) {
	sim := ownTenant(t, graphsim.TenantOptions{
		Seed: 11, Users: 2, ItemsPerUser: 1200, Mix: graphsim.ItemMix{Mail: 1},
	})
	queue := "e2e-restore-kill"
	victim, err := dev.StartWorker("e2e-restore-kill-victim", sim.WorkerEnv(), "--task-queue", queue)
	if err != nil {
		t.Fatal(err)
	}
	a := newExchangeAdmin(t, sim, "exchange-restore-kill", "--task-queue", queue)
	if _, err := dev.StartWorker("e2e-restore-kill-survivor", sim.WorkerEnv(), "--task-queue", queue); err != nil {
		t.Fatal(err)
	}
	users := mailboxes(t, sim)
	id := a.backup(t, users[0])[0].BackupID
	c := &simClient{sim: sim}
	original := c.contents(t, users[0], restoredPath)

	sim.SetFaults(graphsim.FaultOptions{Latency: 8 * time.Millisecond})
	done := make(chan workflows.RestoreResult, 1)
	go func() { done <- a.restore(t, "--backup", id, "--to-resource", users[1], "--destination", "AfterKill") }()
	restored := func() int {
		st, err := sim.State(graphsim.StateFilter{User: users[1], Category: "mail", NoHashes: true})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, it := range st.Items {
			if it.Kind == "message" && strings.HasPrefix(it.Path, "AfterKill/") {
				n++
			}
		}
		return n
	}
	deadline := time.Now().Add(2 * time.Minute)
	for restored() < 300 {
		if time.Now().After(deadline) {
			t.Fatal("restore did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := victim.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed a worker after %d messages were restored", restored())
	select {
	case res := <-done:
		if res.Total.Restored != int64(len(original)) {
			t.Fatalf("restore after kill: %+v, want %d restored", res.Total, len(original))
		}
	case <-time.After(4 * time.Minute):
		t.Fatal("restore did not finish after the kill")
	}
	sim.SetFaults(graphsim.FaultOptions{})
	assertSameContents(t, "restore after a kill", c.contents(t, users[1], under("AfterKill")), original)
}

func TestOneDriveBackupSurvivesAKilledWorkerAndDroppedDownloads(t *testing.T) {
	// Files only, a few of them large; downloads are cut off mid-body at
	// random and a worker is killed mid-backup.
	sim := ownTenant(t, graphsim.TenantOptions{
		Seed: 13, Users: 1, ItemsPerUser: 600, Mix: graphsim.ItemMix{Files: 1}, MaxFileSize: 48 << 20,
	})
	queue := "e2e-drive-kill"
	victim, err := dev.StartWorker("e2e-drive-kill-victim", sim.WorkerEnv(), "--task-queue", queue)
	if err != nil {
		t.Fatal(err)
	}
	a := newExchangeAdmin(t, sim, "onedrive-kill", "--task-queue", queue)
	if _, err := dev.StartWorker("e2e-drive-kill-survivor", sim.WorkerEnv(), "--task-queue", queue); err != nil {
		t.Fatal(err)
	}
	u := userWithDrive(t, sim)
	sim.SetFaults(graphsim.FaultOptions{Seed: 5, Latency: 5 * time.Millisecond, DropRate: 0.05, Classes: []string{"download"}})

	done := make(chan []backup.Summary, 1)
	go func() { done <- a.driveBackup(t, "onedrive", "user", u.UPN) }()
	deadline := time.Now().Add(2 * time.Minute)
	for len(sim.Stats().Fetched["driveItem.content"]) < 150 {
		if time.Now().After(deadline) {
			t.Fatal("backup did not start downloading")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := victim.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var bs []backup.Summary
	select {
	case bs = <-done:
	case <-time.After(4 * time.Minute):
		t.Fatal("backup did not finish after the kill")
	}
	sim.SetFaults(graphsim.FaultOptions{})
	assertSameItems(t, a.storedFiles(t, bs[0].BackupID), driveTruth(t, sim, u.ID, "OneDrive"))
	var again int
	for _, n := range sim.Stats().Fetched["driveItem.content"] {
		again += max(0, int(n)-1)
	}
	t.Logf("%d files, %d downloaded more than once (drops and the kill)", bs[0].Items, again)
}
