package e2e

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/workflows"
)

func TestExchangeBackupSurvivesAKilledWorker(t *testing.T) {
	// A tenant of its own whose mailbox has a folder of over a thousand
	// messages (two checkpoints' worth), and two workers of its own on
	// their own task queue: the victim runs the backup alone until it is
	// killed after a folder checkpointed, then the survivor finishes it.
	sim := ownTenant(t, graphsim.TenantOptions{
		Seed: 13, Users: 1, ItemsPerUser: 1600, Mix: graphsim.ItemMix{Mail: 1},
	})
	sim.SetFaults(graphsim.FaultOptions{Latency: 15 * time.Millisecond})
	k := startVictim(t, sim, "e2e-kill")
	a := newExchangeAdmin(t, sim, "exchange-kill", "--task-queue", k.queue)
	user := mailboxes(t, sim)[0]

	done := make(chan []backup.Summary, 1)
	go func() { done <- a.backup(t, user) }()
	open := k.killWhen(t, workflows.ActivityBackupCollection, 2*time.Minute, hasCheckpoint)
	// The mailbox's small folders are packed into one activity, which
	// the kill may have cut short too.
	packed := k.victimActivities(t, workflows.ActivityBackupCollections)
	atKill := fetchCounts(sim, "message.mime")
	k.startSurvivor(t)

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
	k.assertFinishedBySurvivor(t, append(open, packed...))

	// The messages the retries' checkpoints name are not fetched again;
	// of the others fetched before the kill, at most a checkpoint's worth
	// per folder is.
	r := a.openRepository(t)
	var segments []string
	folders, foldersKnown := len(open), true
	for _, o := range open {
		segments = append(segments, checkpointSegments(t, decodeWithCodecServer(t, o.heartbeat))...)
	}
	for _, o := range packed {
		if len(o.heartbeat) == 0 {
			foldersKnown = false // killed before it first reported its folders
			continue
		}
		segs, unfinished := packedCheckpoints(t, decodeWithCodecServer(t, o.heartbeat))
		segments = append(segments, segs...)
		folders += unfinished
	}
	checkpointed := map[string]bool{}
	for _, id := range segments {
		var seg struct {
			Entries []struct {
				Name string `json:"name"`
			} `json:"entries"`
		}
		if err := r.ReadJSON(context.Background(), id, &seg); err != nil {
			t.Fatal(err)
		}
		for _, e := range seg.Entries {
			item, _ := url.PathUnescape(e.Name)
			checkpointed[item] = true
		}
	}
	final := fetchCounts(sim, "message.mime")
	assertCheckpointHeld(t, "message", checkpointed, atKill, final)
	again := downloadsAgain(final)
	t.Logf("killed a worker after %d messages were fetched, %d of them in the checkpoints of the %d folders it had open; %d messages fetched twice",
		len(atKill), len(checkpointed), folders, again)
	if lost := int64(len(atKill) - len(checkpointed)); again > lost {
		t.Errorf("%d messages fetched twice after a kill, want at most the %d fetched but not checkpointed", again, lost)
	}
	if most := int64(folders * exchangeCheckpointItems); foldersKnown && again > most {
		t.Errorf("%d messages fetched twice after a kill, want at most one checkpoint (%d) per open folder (%d)", again, exchangeCheckpointItems, folders)
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
	k := startVictim(t, sim, "e2e-restore-kill")
	a := newExchangeAdmin(t, sim, "exchange-restore-kill", "--task-queue", k.queue)
	users := mailboxes(t, sim)
	id := a.backup(t, users[0])[0].BackupID
	c := &simClient{sim: sim}
	original := c.contents(t, users[0], restoredPath)

	sim.SetFaults(graphsim.FaultOptions{Latency: 8 * time.Millisecond})
	createdBefore := created(sim, "mail.message.create")
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
	open := k.killWhen(t, workflows.ActivityRestoreCollection, 2*time.Minute, func(string) bool { return restored() >= 300 })
	atKill := restored()
	k.startSurvivor(t)
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
	k.assertFinishedBySurvivor(t, open)
	// The target is the restore's checkpoint: a retry creates only what
	// is not there yet, so no message is created twice.
	creates := created(sim, "mail.message.create") - createdBefore
	t.Logf("killed a worker after %d messages were restored, with %d folders open; %d messages created for %d restored",
		atKill, len(open), creates, len(original))
	if creates != int64(len(original)) {
		t.Errorf("%d messages created to restore %d: %d created twice after the kill", creates, len(original), creates-int64(len(original)))
	}
}

// created counts the successful requests of a simulator endpoint class.
func created(sim *simTenant, class string) int64 {
	var n int64
	for status, c := range sim.Stats().Requests[class] {
		if strings.HasPrefix(status, "2") {
			n += c
		}
	}
	return n
}

func TestOneDriveBackupSurvivesAKilledWorkerAndDroppedDownloads(t *testing.T) {
	// Files only, a few of them large; downloads are cut off mid-body at
	// random and a worker is killed mid-backup after a batch checkpointed.
	// Two full batches (500 files each): a batch that has just written its
	// first checkpoint (100 files) is far from done when the kill lands,
	// so its retry resumes from that checkpoint.
	sim := ownTenant(t, graphsim.TenantOptions{
		Seed: 13, Users: 1, ItemsPerUser: 1000, Mix: graphsim.ItemMix{Files: 1}, MaxFileSize: 48 << 20,
	})
	k := startVictim(t, sim, "e2e-drive-kill")
	a := newExchangeAdmin(t, sim, "onedrive-kill", "--task-queue", k.queue)
	u := userWithDrive(t, sim)
	sim.SetFaults(graphsim.FaultOptions{Seed: 5, Latency: 5 * time.Millisecond, DropRate: 0.05, Classes: []string{"download"}})

	done := make(chan []backup.Summary, 1)
	go func() { done <- a.driveBackup(t, "onedrive", "user", u.UPN) }()
	open := k.killWhen(t, workflows.ActivityBackupDriveBatch, 2*time.Minute, firstCheckpoint)
	atKill := fetchCounts(sim, "driveItem.content")
	k.startSurvivor(t)
	var bs []backup.Summary
	select {
	case bs = <-done:
	case <-time.After(4 * time.Minute):
		t.Fatal("backup did not finish after the kill")
	}
	drops := sim.Stats().Faults["drop"]
	sim.SetFaults(graphsim.FaultOptions{})
	assertSameItems(t, a.storedFiles(t, bs[0].BackupID), driveTruth(t, sim, u.ID, "OneDrive"))
	k.assertFinishedBySurvivor(t, open)
	if drops == 0 {
		t.Fatal("the simulator dropped no download; the test proves nothing of resuming them")
	}

	// Files the retries' checkpoints name are not downloaded again. A
	// dropped download resumes once per drop; beyond that only files
	// downloaded before the kill and not checkpointed are downloaded
	// again, at most a checkpoint's worth (plus the batch's downloads in
	// flight) per open batch.
	r := a.openRepository(t)
	checkpointed := map[string]bool{}
	for _, o := range open {
		for _, id := range checkpointSegments(t, decodeWithCodecServer(t, o.heartbeat)) {
			var seg []struct {
				ID string `json:"id"`
			}
			if err := r.ReadJSON(context.Background(), id, &seg); err != nil {
				t.Fatal(err)
			}
			for _, f := range seg {
				checkpointed[f.ID] = true
			}
		}
	}
	final := fetchCounts(sim, "driveItem.content")
	assertCheckpointHeld(t, "file", checkpointed, atKill, final)
	again := downloadsAgain(final)
	t.Logf("%d files; killed a worker after %d were downloaded, %d of them in the checkpoints of the %d batches it had open; %d drops; %d downloads beyond the first",
		bs[0].Items, len(atKill), len(checkpointed), len(open), drops, again)
	if lost := drops + int64(len(atKill)-len(checkpointed)); again > lost {
		t.Errorf("%d downloads beyond the first, want at most one per drop (%d) and per file downloaded but not checkpointed before the kill (%d)",
			again, drops, len(atKill)-len(checkpointed))
	}
	if most := drops + int64(len(open)*(driveCheckpointFiles+workflows.DriveBatchConcurrency)); again > most {
		t.Errorf("%d downloads beyond the first, want at most one per drop (%d) and one checkpoint per open batch (%d)", again, drops, len(open))
	}
}
