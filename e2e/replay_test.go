package e2e

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/corso-temporal/corso/codec"
	"github.com/corso-temporal/corso/workflows"
)

// TestLiveHistoriesReplay replays the histories this run produced against
// the workflow code. With CORSO_RECORD_HISTORIES=DIR it also saves them, and
// the codec key, as fixtures for workflows' replay test.
func TestLiveHistoriesReplay(t *testing.T) {
	a := newExchangeAdmin(t, tenant, "replay")
	mustSucceed(t, a.run(t, repoCmd("connect", "replay")...))
	mustFail(t, newAdmin(t, "replay-wrong").run(t, repoCmd("connect", "replay")...), 20*time.Second, "wrong passphrase")
	b := a.backup(t, mailboxes(t, tenant)[0])[0]
	mustSucceed(t, a.run(t, "backup", "list", "exchange"))
	mustSucceed(t, a.run(t, "backup", "details", "exchange", "--backup", b.BackupID))
	a.restore(t, "--backup", b.BackupID, "--email-folder", "Inbox", "--destination", "Replayed")
	mustSucceed(t, a.run(t, "export", "exchange", t.TempDir(), "--backup", b.BackupID, "--contact-name", "a"))
	u := userWithDrive(t, tenant)
	d := a.driveBackup(t, "onedrive", "user", u.UPN)[0]
	a.restoreDrive(t, "onedrive", "--backup", d.BackupID, "--destination", "Replayed")
	mustSucceed(t, a.run(t, "export", "onedrive", t.TempDir(), "--backup", d.BackupID))
	mustSucceed(t, a.run(t, "backup", "delete", "exchange", "--backup", b.BackupID))

	dc, err := codec.NewDataConverter(dev.Env["CORSO_CODEC_KEY"])
	if err != nil {
		t.Fatal(err)
	}
	replayer, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: dc})
	if err != nil {
		t.Fatal(err)
	}
	for _, wf := range workflows.All() {
		replayer.RegisterWorkflow(wf)
	}

	record := os.Getenv("CORSO_RECORD_HISTORIES")
	execs := waitExecutions(t, "CorsoRepository = 's3://corso-test/replay' AND ExecutionStatus != 'Running'", 14)
	// The tenant's drive budget, when workers meter drive requests: its
	// history so far.
	budgetID := workflows.DriveBudgetWorkflowID(tenant.TenantID(), tenant.CLIEnv("")["AZURE_CLIENT_ID"])
	execs = append(execs, allExecutions(t, rawClient(t), "WorkflowId = '"+budgetID+"'")...)
	for _, e := range execs {
		h := &historypb.History{Events: e.events}
		if err := replayer.ReplayWorkflowHistory(nil, h); err != nil {
			t.Errorf("replay %s: %v", e.id, err)
		}
		if record != "" {
			b, err := protojson.Marshal(h)
			if err != nil {
				t.Fatal(err)
			}
			name := e.describe.GetWorkflowExecutionInfo().GetType().GetName() + "-" + e.describe.GetWorkflowExecutionInfo().GetStatus().String() + ".json"
			if err := os.WriteFile(filepath.Join(record, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if record != "" {
		if err := os.WriteFile(filepath.Join(record, "codec-key"), []byte(dev.Env["CORSO_CODEC_KEY"]+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
