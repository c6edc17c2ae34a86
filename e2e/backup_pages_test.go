package e2e

import (
	"encoding/json"
	"testing"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/localstack"
	"github.com/corso-temporal/corso/workflows"
)

// TestBackupRequestContinuesAsNewInPages backs up every mailbox of a small
// tenant two a run, so that the request continues as new, checks its
// totals against the tenant, and replays every run's history against the
// workflow code. With CORSO_RECORD_HISTORIES=DIR it saves them as the
// recordings workflows' replay test requires
// (ExchangeBackupWorkflow-<status>-continue-as-new.json, -continued.json).
func TestBackupRequestContinuesAsNewInPages(t *testing.T) {
	sim := ownTenant(t, graphsim.TenantOptions{Seed: 23, Users: 5, ItemsPerUser: 2, Groups: -1, Mix: graphsim.ItemMix{Mail: 1}, Clean: true})
	queue := "e2e-backup-pages"
	w, err := dev.StartWorker(queue, sim.WorkerEnv(), "--task-queue", queue)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { localstack.Terminate(w) })
	a := newExchangeAdmin(t, sim, "backup-pages", "--task-queue", queue)

	r := a.run(t, "backup", "create", "exchange", "--mailbox", "*", "--resources-per-run", "2", "--json")
	mustSucceed(t, r)
	var out struct {
		createJSON
		Totals workflows.BackupTotals `json:"totals"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
		t.Fatalf("parse: %v\n%s", err, r.Stdout)
	}
	var withMailbox int
	for _, u := range sim.Info().Users {
		if u.HasMailbox {
			withMailbox++
		}
	}
	if withMailbox < 3 || out.Totals.Backups != withMailbox || out.Totals.Completed != withMailbox || len(out.Backups) != withMailbox {
		t.Fatalf("want %d mailboxes backed up over several runs: totals %+v, %d listed", withMailbox, out.Totals, len(out.Backups))
	}
	for _, b := range out.Backups {
		if b.Status != backup.StatusCompleted || b.Items != 2 {
			t.Errorf("backup of %s: %s, %d items", b.Resource, b.Status, b.Items)
		}
	}

	execs := allExecutions(t, rawClient(t), "WorkflowId = '"+out.Workflow.WorkflowID+"'")
	if want := (withMailbox + 1) / 2; len(execs) != want {
		t.Fatalf("the request ran %d times, want %d (2 mailboxes a run)", len(execs), want)
	}
	secrets := []string{a.passphrase, sim.CLIEnv("")["AZURE_CLIENT_SECRET"]}
	replayHistories(t, execs, secrets, func(e execution) string {
		// The first run resolves and continues; a middle run is continued
		// and continues; the last is continued and completes.
		status := e.describe.GetWorkflowExecutionInfo().GetStatus().String()
		continued := e.events[0].GetWorkflowExecutionStartedEventAttributes().GetContinuedExecutionRunId() != ""
		path := "continue-as-new"
		switch {
		case continued && status == "ContinuedAsNew":
			path = "continued-continue-as-new"
		case continued:
			path = "continued"
		}
		return "ExchangeBackupWorkflow-" + status + "-" + path + ".json"
	})
}
