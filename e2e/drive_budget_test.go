package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/workflows"
)

// Two workers backing up every OneDrive of a tenant together, both
// downloading, share its SharePoint budget: simulated SharePoint allows 120 resource units per
// 10 s and the fleet is told 600 a minute (100 per 10 s). Either worker
// spending the whole budget on its own would be throttled within the
// first window; sharing it, neither is. The tenant is clean: its
// persistent faults (realtenant_test.go) would blur what is measured.
func TestDriveBackupFleetSharesTheTenantBudget(t *testing.T) {
	sim := ownTenant(t, graphsim.TenantOptions{
		Seed: 21, Users: 4, ItemsPerUser: 60, Mix: graphsim.ItemMix{Files: 1}, MaxFileSize: 64 << 10, Clean: true,
	})
	sim.SetThrottle(graphsim.ThrottleOptions{DriveResourceUnits: 120, DriveWindow: 10 * time.Second})
	queue := "e2e-drive-budget"
	for i := 1; i <= 2; i++ {
		if _, err := dev.StartWorker(fmt.Sprintf("e2e-budget-%d", i), sim.WorkerEnv(), "--task-queue", queue, "--drive-ru-per-minute", "600"); err != nil {
			t.Fatal(err)
		}
	}
	a := newExchangeAdmin(t, sim, "drive-budget", "--task-queue", queue)
	start := time.Now()
	bs := a.driveBackup(t, "onedrive", "user", "*")
	elapsed := time.Since(start)
	if len(bs) != len(usersWithDrive(sim)) || len(bs) < 2 {
		t.Fatalf("%d backups for %d users with a drive", len(bs), len(usersWithDrive(sim)))
	}
	var files int64
	for _, b := range bs {
		files += b.Items
		assertSameItems(t, a.storedFiles(t, b.BackupID), driveTruth(t, sim, b.Resource, "OneDrive"))
	}
	st := sim.Stats()
	if n := st.Throttled429 + st.Throttled503; n != 0 {
		t.Errorf("SharePoint throttled %d requests of the fleet", n)
	}
	// Every file costs at least a unit: at 90 units per 10 s the backup
	// cannot have been faster than this.
	if least := time.Duration(files) * time.Second / 9; elapsed < least {
		t.Errorf("%d files backed up in %s: faster than the budget allows (%s)", files, elapsed, least)
	}
	// Both workers downloaded: a fleet where one worker does all the work
	// shares nothing.
	batches := map[string]int{}
	for _, e := range waitExecutions(t, "TaskQueue = '"+queue+"' AND ExecutionStatus != 'Running'", len(bs)+1) {
		types := map[int64]string{}
		for _, ev := range e.events {
			if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil {
				types[ev.EventId] = a.GetActivityType().GetName()
			}
			if a := ev.GetActivityTaskCompletedEventAttributes(); a != nil && types[a.ScheduledEventId] == workflows.ActivityBackupDriveBatch {
				batches[a.Identity]++
			}
		}
	}
	for i := 1; i <= 2; i++ {
		if id := fmt.Sprintf("corso-worker@e2e-budget-%d", i); batches[id] == 0 {
			t.Errorf("worker %s downloaded no batch; batches by worker: %v", id, batches)
		}
	}
	t.Logf("%d files of %d users in %s, no request throttled; batches by worker %v", files, len(bs), elapsed.Round(time.Second), batches)
}
