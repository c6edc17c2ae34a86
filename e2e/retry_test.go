package e2e

import (
	"testing"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/localstack"
)

// An item Graph refused once, for no reason it names, is backed up by the
// next incremental backup although nothing about it changed, so delta
// does not list it again: mail and files alike.
func TestIncrementalBackupTakesWhatTheLastOneFailedToRead(t *testing.T) {
	sim := ownTenant(t, graphsim.TenantOptions{Seed: 23, Users: 2, ItemsPerUser: 12, Groups: -1, Sites: -1})
	queue := "e2e-retry-failed"
	w, err := dev.StartWorker(queue, sim.WorkerEnv(), "--task-queue", queue)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { localstack.Terminate(w) })
	a := newExchangeAdmin(t, sim, "retry-failed", "--task-queue", queue)
	mbx := mailboxes(t, sim)[0]
	u := userWithDrive(t, sim)

	// Every message and file download refused: the backups complete with
	// those items failed.
	sim.SetFaults(graphsim.FaultOptions{ErrorRate: 1, ErrorStatuses: []int{400}, Classes: []string{"mail.message.mime", "download"}})
	first := a.backup(t, mbx)[0]
	firstDrive := a.driveBackup(t, "onedrive", "user", u.UPN)[0]
	for _, b := range []backup.Summary{first, firstDrive} {
		if b.Status != backup.StatusCompleted || b.Errors == 0 {
			t.Fatalf("want a completed backup with failed items: %+v", b)
		}
	}
	sim.SetFaults(graphsim.FaultOptions{})

	next := a.backup(t, mbx)[0]
	nextDrive := a.driveBackup(t, "onedrive", "user", u.UPN)[0]
	for _, b := range []backup.Summary{next, nextDrive} {
		if b.Status != backup.StatusCompleted || b.Errors != 0 {
			t.Fatalf("want a complete backup: %+v", b)
		}
	}
	assertSameItems(t, a.stored(t, next.BackupID), truth(t, sim, mbx))
	assertSameItems(t, a.storedFiles(t, nextDrive.BackupID), driveTruth(t, sim, u.ID, "OneDrive"))
}
