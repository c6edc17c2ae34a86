package e2e

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/localstack"
)

// pruneJSON is what `backup prune --json` prints.
type pruneJSON struct {
	DryRun    bool `json:"dryRun"`
	Resources []struct {
		Resource     string              `json:"resource"`
		ResourceName string              `json:"resourceName"`
		Kept         []backup.KeptBackup `json:"kept"`
		Removed      []backup.Dated      `json:"removed"`
		Running      []struct {
			BackupID string `json:"backupID"`
		} `json:"running"`
	} `json:"resources"`
	Deleted []string `json:"deleted"`
}

func TestBackupPrune(t *testing.T) {
	// A one-mailbox tenant and a worker of its own: four backups of the
	// mailbox, then prune them.
	sim := ownTenant(t, graphsim.TenantOptions{Seed: 71, Users: 1, ItemsPerUser: 6, Mix: graphsim.ItemMix{Mail: 1}, Clean: true})
	queue := "e2e-prune"
	w, err := dev.StartWorker(queue, sim.WorkerEnv(), "--task-queue", queue)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { localstack.Terminate(w) })
	a := newExchangeAdmin(t, sim, "prune", "--task-queue", queue)
	user := mailboxes(t, sim)[0]

	t.Run("bad input", func(t *testing.T) {
		mustFail(t, a.run(t, "backup", "prune", "exchange"), 5*time.Second, "no retention policy", "--keep-last")
		mustFail(t, a.run(t, "backup", "prune", "exchange", "--keep-daily", "-1"), 5*time.Second, "--keep-daily must be 0 or more")
		mustFail(t, a.run(t, "backup", "prune", "exchange", "--keep-within", "10s"), 5*time.Second, "--keep-within", `invalid duration "10s"`)
	})

	var made []string
	for i := 0; i < 4; i++ {
		if i > 0 {
			sim.Mutate([]graphsim.MutateOp{{Op: "add", Kind: "message", User: user}})
		}
		bs := a.backup(t, user)
		if len(bs) != 1 || bs[0].Status != backup.StatusCompleted {
			t.Fatalf("backup %d: %+v", i, bs)
		}
		made = append(made, bs[0].BackupID)
	}
	before := a.listBackups(t)
	if len(before) != 4 {
		t.Fatalf("listed %d backups, want 4: %+v", len(before), before)
	}

	// A dry run deletes nothing and prints exactly the retention function's
	// answer over what `backup list` shows.
	policy := backup.Retention{Last: 2}
	r := a.run(t, "backup", "prune", "exchange", "--keep-last", "2", "--dry-run", "--json")
	mustSucceed(t, r)
	var dry pruneJSON
	if err := json.Unmarshal([]byte(r.Stdout), &dry); err != nil {
		t.Fatalf("parse prune --json: %v\n%s", err, r.Stdout)
	}
	var listed []backup.Dated
	for _, b := range before {
		listed = append(listed, backup.Dated{BackupID: b.BackupID, Completed: b.Completed})
	}
	want := backup.Retain(listed, policy, nil)
	if len(dry.Resources) != 1 || !dry.DryRun || len(dry.Deleted) != 0 {
		t.Fatalf("dry run answered %+v", dry)
	}
	if got, w := renderDecision(dry.Resources[0].Kept, dry.Resources[0].Removed), renderDecision(want.Kept, want.Removed); got != w {
		t.Errorf("dry run printed\n%s\nthe retention function answers\n%s", got, w)
	}
	if after := a.listBackups(t); !reflect.DeepEqual(backupIDs(after), backupIDs(before)) {
		t.Fatalf("dry run changed the backups: %v, was %v", backupIDs(after), backupIDs(before))
	}
	text := a.run(t, "backup", "prune", "exchange", "--keep-last", "2", "--dry-run")
	mustSucceed(t, text)
	t.Logf("prune --keep-last 2 --dry-run:\n%s", text.Stdout)
	for _, k := range want.Kept {
		if !strings.Contains(text.Stdout, k.BackupID) || !strings.Contains(text.Stdout, strings.Join(k.Reasons, ", ")) {
			t.Errorf("dry run text does not show %s kept for %v:\n%s", k.BackupID, k.Reasons, text.Stdout)
		}
	}

	// --keep-last 2 leaves exactly the newest two, the newest among them.
	r = a.run(t, "backup", "prune", "exchange", "--keep-last", "2", "--json")
	mustSucceed(t, r)
	var done pruneJSON
	if err := json.Unmarshal([]byte(r.Stdout), &done); err != nil {
		t.Fatalf("parse prune --json: %v\n%s", err, r.Stdout)
	}
	if !reflect.DeepEqual(slices.Sorted(slices.Values(done.Deleted)), slices.Sorted(slices.Values(made[:2]))) {
		t.Errorf("deleted %v, want the oldest two %v", done.Deleted, made[:2])
	}
	if left := backupIDs(a.listBackups(t)); !reflect.DeepEqual(left, slices.Sorted(slices.Values(made[2:]))) {
		t.Fatalf("after prune --keep-last 2: %v, want the newest two %v", left, made[2:])
	}

	// A backup of the mailbox that is running is found through Temporal
	// visibility, and the backups that can be its base are kept.
	sim.SetFaults(graphsim.FaultOptions{Latency: 400 * time.Millisecond})
	mustSucceed(t, a.run(t, "backup", "create", "exchange", "--mailbox", user, "--wait=false", "--json"))
	var during pruneJSON
	deadline := time.Now().Add(10 * time.Second)
	for {
		r = a.run(t, "backup", "prune", "exchange", "--keep-last", "1", "--dry-run", "--json")
		mustSucceed(t, r)
		if err := json.Unmarshal([]byte(r.Stdout), &during); err != nil {
			t.Fatalf("parse prune --json: %v\n%s", err, r.Stdout)
		}
		if len(during.Resources) == 1 && len(during.Resources[0].Running) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	sim.SetFaults(graphsim.FaultOptions{})
	if len(during.Resources) != 1 || len(during.Resources[0].Running) != 1 {
		t.Fatalf("prune did not see the running backup: %s", r.Stdout)
	}
	t.Logf("prune while a backup runs:\n%s", r.Stdout)
	running := during.Resources[0].Running[0].BackupID
	if k := during.Resources[0].Kept; len(k) == 0 || k[0].BackupID != made[3] ||
		!slices.Contains(k[0].Reasons, "may be the base of running backup "+running) {
		t.Errorf("the running backup's base %s is not kept as such: %s", made[3], r.Stdout)
	}
	for deadline = time.Now().Add(20 * time.Second); ; time.Sleep(300 * time.Millisecond) {
		if left := backupIDs(a.listBackups(t)); slices.Contains(left, running) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("backup %s did not finish", running)
		}
	}
	made = append(made, running)

	// Whatever the policy, the newest backup stays.
	r = a.run(t, "backup", "prune", "exchange", "--keep-within", "1h", "--resource", user, "--json")
	mustSucceed(t, r)
	if left := backupIDs(a.listBackups(t)); !slices.Contains(left, made[4]) {
		t.Fatalf("the newest backup %s was removed: %v", made[4], left)
	}
}

func (a exchangeAdmin) listBackups(t *testing.T) []backup.Summary {
	t.Helper()
	r := a.run(t, "backup", "list", "exchange", "--json")
	mustSucceed(t, r)
	var bs []backup.Summary
	if err := json.Unmarshal([]byte(r.Stdout), &bs); err != nil {
		t.Fatalf("parse backup list: %v\n%s", err, r.Stdout)
	}
	return bs
}

func renderDecision(kept []backup.KeptBackup, removed []backup.Dated) string {
	var b strings.Builder
	for _, k := range kept {
		fmt.Fprintf(&b, "keep %s %s %s\n", k.BackupID, k.Completed.UTC().Format(time.RFC3339Nano), strings.Join(k.Reasons, ", "))
	}
	for _, r := range removed {
		fmt.Fprintf(&b, "remove %s %s\n", r.BackupID, r.Completed.UTC().Format(time.RFC3339Nano))
	}
	return b.String()
}

func backupIDs(bs []backup.Summary) []string {
	var out []string
	for _, b := range bs {
		out = append(out, b.BackupID)
	}
	slices.Sort(out)
	return out
}
