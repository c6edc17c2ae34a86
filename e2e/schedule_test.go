package e2e

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/codec"
	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/localstack"
	"github.com/corso-temporal/corso/workflows"
)

// scheduleJSON is what `backup schedule describe --json` prints.
type scheduleJSON struct {
	ID         string `json:"id"`
	Service    string `json:"service"`
	Selection  string `json:"selection"`
	Retention  string `json:"retention"`
	When       string `json:"when"`
	Overlap    string `json:"overlap"`
	Paused     bool   `json:"paused"`
	NextRuns   []time.Time
	RecentRuns []struct {
		WorkflowID string `json:"workflowID"`
		RunID      string `json:"runID"`
		Status     string `json:"status"`
	} `json:"recentRuns"`
	Running []string `json:"running"`
}

func (a exchangeAdmin) describeSchedule(t *testing.T, id string) scheduleJSON {
	t.Helper()
	r := a.run(t, "backup", "schedule", "describe", id, "--json")
	mustSucceed(t, r)
	var d scheduleJSON
	if err := json.Unmarshal([]byte(r.Stdout), &d); err != nil {
		t.Fatalf("parse schedule describe: %v\n%s", err, r.Stdout)
	}
	return d
}

// TestBackupSchedule creates a schedule that backs up one mailbox every
// 10 s and keeps the last backup; it runs twice by itself, each run the
// same backup workflow a manual `backup create` starts, and what stays in
// the repository is exactly the retention function's answer over every
// backup the runs made. Its credentials, copied into a start made by hand
// that claims to be one of its runs, are refused. Deleting the schedule
// removes it.
func TestBackupSchedule(t *testing.T) {
	sim := ownTenant(t, graphsim.TenantOptions{Seed: 73, Users: 1, ItemsPerUser: 4, Mix: graphsim.ItemMix{Contacts: 1}, Clean: true})
	queue := "e2e-schedule"
	w, err := dev.StartWorker(queue, sim.WorkerEnv(), "--task-queue", queue)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { localstack.Terminate(w) })
	a := newExchangeAdmin(t, sim, "schedule", "--task-queue", queue)
	user := mailboxes(t, sim)[0]

	mustFail(t, a.run(t, "backup", "schedule", "create", "exchange", "--mailbox", user, "--id", "x", "--every", "4h", "--cron", "0 */4 * * *"),
		5*time.Second, "give --every or --cron, not both")

	name := "e2e-" + randomSuffix()
	id := "corso-backup-exchange-" + name
	mustSucceed(t, a.run(t, "backup", "schedule", "create", "exchange", "--mailbox", user, "--data", "contacts",
		"--id", name, "--every", "10s", "--keep-last", "1"))
	deleted := false
	t.Cleanup(func() {
		if !deleted {
			_ = rawClient(t).ScheduleClient().GetHandle(context.Background(), id).Delete(context.Background())
		}
	})
	mustFail(t, a.run(t, "backup", "schedule", "create", "exchange", "--mailbox", user, "--id", name, "--every", "1h"),
		10*time.Second, "schedule "+id+" already exists")

	// The schedule's action carries credentials sealed for the schedule,
	// with no expiry. A start made by hand with a copy of its input, named
	// like one of its runs and claiming it with TemporalScheduledById, is
	// refused: the schedule's own record does not list it.
	c, dc := codecClient(t)
	ctx := context.Background()
	desc, err := c.ScheduleClient().GetHandle(ctx, id).Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	action, ok := desc.Schedule.Action.(*client.ScheduleWorkflowAction)
	if !ok || len(action.Args) != 1 || action.Workflow != "ExchangeBackupWorkflow" {
		t.Fatalf("the schedule's action is %+v, want one ExchangeBackupWorkflow input", desc.Schedule.Action)
	}
	var copied workflows.ExchangeBackupInput
	if err := dc.FromPayload(action.Args[0].(*commonpb.Payload), &copied); err != nil {
		t.Fatal(err)
	}
	if b, err := codec.BindingOf(copied.Repo.Credentials); err != nil || b.Schedule != id || b.WorkflowID != "" || !b.Expires.IsZero() || b.Purpose != workflows.PurposeBackup {
		t.Fatalf("the schedule's credentials are bound to %+v (%v), want schedule %s, no expiry", b, err, id)
	}
	if copied.Retention == nil || *copied.Retention != (backup.Retention{Last: 1}) {
		t.Fatalf("the schedule's input has retention %+v, want keep-last 1", copied.Retention)
	}
	forged, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: id + "-" + time.Now().UTC().Add(time.Hour).Truncate(time.Second).Format(time.RFC3339), TaskQueue: queue,
		TypedSearchAttributes: temporal.NewSearchAttributes(temporal.NewSearchAttributeKeyKeyword("TemporalScheduledById").ValueSet(id)),
	}, workflows.ExchangeBackupWorkflow, copied)
	if err != nil {
		t.Fatal(err)
	}
	assertRefusedAtOnce(t, "a manual start with the schedule's credentials", forged, "sealed for a schedule, and this request was not started by it")

	// Two runs by the schedule itself, then pause it.
	var d scheduleJSON
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(time.Second) {
		d = a.describeSchedule(t, id)
		done := 0
		for _, r := range d.RecentRuns {
			if r.Status == "Completed" {
				done++
			}
		}
		if done >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the schedule did not complete two runs in 60s: %+v", d)
		}
	}
	mustSucceed(t, a.run(t, "backup", "schedule", "pause", id))
	for deadline := time.Now().Add(30 * time.Second); len(d.Running) > 0 || !d.Paused; time.Sleep(500 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("schedule still running or not paused: %+v", d)
		}
		d = a.describeSchedule(t, id)
	}
	text := a.run(t, "backup", "schedule", "describe", id)
	mustSucceed(t, text)
	t.Logf("schedule describe:\n%s", text.Stdout)
	if d.Service != "exchange" || d.Selection != "--mailbox "+user+" --data contacts" || d.Retention != "--keep-last 1" ||
		d.When != "every 10s" || d.Overlap != "skip" || len(d.NextRuns) == 0 {
		t.Errorf("describe shows %+v", d)
	}

	// Every backup the runs made, from their results; what stays is
	// exactly what backup.Retain keeps of them.
	var made []backup.Dated
	for _, r := range d.RecentRuns {
		if r.Status != "Completed" {
			continue
		}
		if !strings.HasPrefix(r.WorkflowID, id+"-") {
			t.Errorf("run %s is not named after the schedule", r.WorkflowID)
		}
		var res workflows.ExchangeBackupResult
		if err := c.GetWorkflow(ctx, r.WorkflowID, r.RunID).Get(ctx, &res); err != nil {
			t.Fatal(err)
		}
		for _, b := range res.Backups {
			if b.Status != backup.StatusCompleted {
				t.Fatalf("run %s: backup %+v", r.WorkflowID, b)
			}
			made = append(made, backup.Dated{BackupID: b.BackupID, Completed: b.Completed})
		}
	}
	want := backup.Retain(made, backup.Retention{Last: 1}, nil)
	var kept []string
	for _, k := range want.Kept {
		kept = append(kept, k.BackupID)
	}
	slices.Sort(kept)
	if left := backupIDs(a.listBackups(t)); len(made) < 2 || len(kept) != 1 || !slices.Equal(left, kept) {
		t.Fatalf("after %d scheduled backups %v the repository holds %v, want the retention function's %v", len(made), made, left, kept)
	}
	t.Logf("%d scheduled runs made %d backups; kept %v", len(d.RecentRuns), len(made), kept)

	// The runs' histories, retention step included, replay against the
	// workflow code.
	replayer, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: dc})
	if err != nil {
		t.Fatal(err)
	}
	for _, wf := range workflows.All() {
		replayer.RegisterWorkflow(wf)
	}
	for _, e := range allExecutions(t, rawClient(t), "WorkflowId STARTS_WITH '"+id+"-' AND ExecutionStatus = 'Completed'") {
		if err := replayer.ReplayWorkflowHistory(nil, &historypb.History{Events: e.events}); err != nil {
			t.Errorf("replay %s: %v", e.id, err)
		}
	}

	// Listing goes through visibility, which may lag a little.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		r := a.run(t, "backup", "schedule", "list", "--json")
		mustSucceed(t, r)
		var list []scheduleJSON
		if err := json.Unmarshal([]byte(r.Stdout), &list); err != nil {
			t.Fatalf("parse schedule list: %v\n%s", err, r.Stdout)
		}
		if slices.ContainsFunc(list, func(s scheduleJSON) bool { return s.ID == id && s.Paused && s.Retention == "--keep-last 1" }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("schedule list does not show %s paused:\n%s", id, r.Stdout)
		}
	}

	mustSucceed(t, a.run(t, "backup", "schedule", "delete", id))
	deleted = true
	mustFail(t, a.run(t, "backup", "schedule", "describe", id), 10*time.Second, "no schedule "+id)
}
