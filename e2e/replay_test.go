package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/budget"
	"github.com/corso-temporal/corso/codec"
	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/localstack"
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

// TestPathHistoriesReplay runs the paths a happy run never takes — several
// mailboxes of one request failing, --fail-fast stopping a mailbox, a drive
// downloaded in several batches, the drive budget continuing as new — on a
// small tenant of its own, and replays their histories against the
// workflow code. With CORSO_RECORD_HISTORIES=DIR it saves them as
// <type>-<status>-<path>.json, the names workflows' replay test requires.
func TestPathHistoriesReplay(t *testing.T) {
	sim := ownTenant(t, graphsim.TenantOptions{
		Seed: 17, Users: 3, ItemsPerUser: 12, Groups: -1, Sites: 1, ItemsPerSite: 1010,
		MaxFileSize: 2 << 10, MaxAttachmentSize: 4 << 10,
	})
	queue := "e2e-replay-paths"
	w, err := dev.StartWorker("e2e-replay-paths", sim.WorkerEnv(), "--task-queue", queue, "--drive-ru-per-minute", "0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { localstack.Terminate(w) })
	a := newExchangeAdmin(t, sim, "replay-paths", "--task-queue", queue)

	var regular []string
	special := map[string]string{}
	for _, u := range sim.Info().Users {
		switch {
		case u.Special != "":
			special[u.Special] = u.UPN
		case u.HasMailbox:
			regular = append(regular, u.UPN)
		}
	}
	if len(regular) < 2 || special["policyblocked"] == "" {
		t.Fatalf("the tenant lacks the mailboxes the paths need: %v %v", regular, special)
	}
	// path → workflow ids whose histories show it.
	paths := map[string][]string{}
	createRun := func(args ...string) createJSON {
		t.Helper()
		r := a.run(t, append([]string{"backup", "create"}, append(args, "--json")...)...)
		var out createJSON
		if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
			t.Fatalf("parse: %v\nstdout: %s\nstderr: %s", err, r.Stdout, r.Stderr)
		}
		return out
	}
	byStatus := func(bs []backup.Summary) map[string][]string {
		m := map[string][]string{}
		for _, b := range bs {
			m[string(b.Status)] = append(m[string(b.Status)], b.BackupID)
		}
		return m
	}

	// --fail-fast: the first message that cannot be read stops its
	// mailbox (a first backup, so that messages are read).
	sim.SetFaults(graphsim.FaultOptions{ErrorRate: 1, ErrorStatuses: []int{400}, Classes: []string{"mail.message.mime"}})
	out := createRun("exchange", "--mailbox", regular[1], "--fail-fast")
	st := byStatus(out.Backups)
	if len(st[string(backup.StatusFailed)]) != 1 || !strings.Contains(out.Backups[0].Error, "--fail-fast") {
		t.Fatalf("want the mailbox stopped by --fail-fast: %+v", out.Backups)
	}
	paths["fail-fast"] = append([]string{out.Workflow.WorkflowID}, childIDs(st[string(backup.StatusFailed)])...)

	// The same for a drive: the first file that cannot be downloaded
	// stops its batch and fails the user's backup.
	sim.SetFaults(graphsim.FaultOptions{ErrorRate: 1, ErrorStatuses: []int{400}, Classes: []string{"download"}})
	out = createRun("onedrive", "--user", userWithDrive(t, sim).UPN, "--fail-fast")
	st = byStatus(out.Backups)
	if len(st[string(backup.StatusFailed)]) != 1 || !strings.Contains(out.Backups[0].Error, "cannot be backed up") {
		t.Fatalf("want the drive stopped by --fail-fast: %+v", out.Backups)
	}
	paths["drive-fail-fast"] = append([]string{out.Workflow.WorkflowID}, childIDs(st[string(backup.StatusFailed)])...)

	// Several mailboxes failing in one request: the one an access policy
	// hides, and those a mail folder's delta is refused to, beside the
	// others backed up.
	sim.SetFaults(graphsim.FaultOptions{Seed: 3, ErrorRate: 0.05, ErrorStatuses: []int{403}, Classes: []string{"mail.messages.delta"}})
	out = createRun("exchange", "--mailbox", "*")
	st = byStatus(out.Backups)
	if len(st[string(backup.StatusFailed)]) < 2 || len(st[string(backup.StatusCompleted)]) < 1 {
		t.Fatalf("want 2+ mailboxes failed and the others backed up: %+v", out.Backups)
	}
	paths["mailboxes-failing"] = append([]string{out.Workflow.WorkflowID}, childIDs(st[string(backup.StatusFailed)])...)
	// A first backup of a small mailbox: one activity backs up its new
	// collections together and records the backup.
	paths["packed-collections"] = childIDs(st[string(backup.StatusCompleted)][:1])
	sim.SetFaults(graphsim.FaultOptions{})

	// A library of more files than one batch holds (beside the Quirks
	// site's small one).
	out = createRun("sharepoint", "--site", "*")
	var big []string
	for _, b := range out.Backups {
		if b.Status == backup.StatusCompleted && b.Items > 1000 {
			big = append(big, b.BackupID)
		}
	}
	if len(big) != 1 {
		t.Fatalf("want one backup of the site's 1,000+ files: %+v", out.Backups)
	}
	paths["drive-batches"] = append([]string{out.Workflow.WorkflowID}, childIDs(big)...)

	// The budget workflow continues as new once it has handled its share
	// of renewals: 504 leases from four workers' names, sent as the
	// workers' leaser sends them, the last of each sender a release.
	dc, err := codec.NewDataConverter(dev.Env["CORSO_CODEC_KEY"])
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(client.Options{HostPort: dev.Env["TEMPORAL_ADDRESS"], Namespace: "default", DataConverter: dc})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	budgetTenant, budgetApp := "replay-paths-tenant", "replay-paths-app"
	leaser := budget.TemporalLeaser(c, queue)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for k := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range 63 {
				req := workflows.DriveBudgetLeaseRequest{Worker: fmt.Sprintf("replay-worker-%d", k%4), RUPerMinute: 1250}
				if n == 62 {
					req.Release = true
				}
				// A renewal that meets the run continuing as new is
				// renewed again, as a worker would.
				var err error
				for range 5 {
					if _, err = leaser.Lease(context.Background(), budgetTenant, budgetApp, req); err == nil {
						break
					}
					time.Sleep(200 * time.Millisecond)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	budgetID := workflows.DriveBudgetWorkflowID(budgetTenant, budgetApp)
	paths["continue-as-new"] = []string{budgetID}

	// A mailbox of more folders than a plan carries inline: its
	// collections are backed up in groups whose plans and results travel
	// through the repository.
	many := ownTenant(t, graphsim.TenantOptions{Seed: 18, Users: 1, ItemsPerUser: 6, Groups: -1, Sites: -1, MailFolders: 150, Clean: true})
	manyQueue := queue + "-folders"
	wm, err := dev.StartWorker("e2e-replay-folders", many.WorkerEnv(), "--task-queue", manyQueue)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { localstack.Terminate(wm) })
	am := newExchangeAdmin(t, many, "replay-folders", "--task-queue", manyQueue)
	r := am.run(t, "backup", "create", "exchange", "--mailbox", "*", "--json")
	var grouped createJSON
	if err := json.Unmarshal([]byte(r.Stdout), &grouped); err != nil {
		t.Fatalf("parse: %v\nstdout: %s\nstderr: %s", err, r.Stdout, r.Stderr)
	}
	if st := byStatus(grouped.Backups); len(grouped.Backups) != 1 || len(st[string(backup.StatusCompleted)]) != 1 {
		t.Fatalf("want the mailbox of many folders backed up: %+v", grouped.Backups)
	}
	paths["collection-groups"] = childIDs([]string{grouped.Backups[0].BackupID})

	replayer, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: dc})
	if err != nil {
		t.Fatal(err)
	}
	for _, wf := range workflows.All() {
		replayer.RegisterWorkflow(wf)
	}
	pc, err := codec.NewPayloadCodec(dev.Env["CORSO_CODEC_KEY"])
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{a.passphrase, am.passphrase, sim.CLIEnv("")["AZURE_CLIENT_SECRET"], many.CLIEnv("")["AZURE_CLIENT_SECRET"], dev.Env["AWS_SECRET_ACCESS_KEY"], dev.Env["CORSO_CODEC_KEY"]}
	record := os.Getenv("CORSO_RECORD_HISTORIES")
	raw := rawClient(t)
	for path, ids := range paths {
		for _, id := range ids {
			var execs []execution
			// The budget's runs: every one, the last once it has gone idle.
			deadline := time.Now().Add(2 * time.Minute)
			for {
				execs = allExecutions(t, raw, "WorkflowId = '"+id+"' AND ExecutionStatus != 'Running'")
				if (path != "continue-as-new" && len(execs) > 0) || (path == "continue-as-new" && len(execs) >= 2 && hasStatus(execs, "Completed")) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s: runs of %s not closed: %d", path, id, len(execs))
				}
				time.Sleep(time.Second)
			}
			for _, e := range execs {
				h := &historypb.History{Events: e.events}
				if err := replayer.ReplayWorkflowHistory(nil, h); err != nil {
					t.Errorf("replay %s (%s): %v", e.id, path, err)
				}
				info := e.describe.GetWorkflowExecutionInfo()
				status := info.GetStatus().String()
				name := path
				if path == "continue-as-new" && status != "ContinuedAsNew" {
					if e.events[0].GetWorkflowExecutionStartedEventAttributes().GetContinuedExecutionRunId() == "" {
						continue // not a run continued from another
					}
					name = "continued"
				}
				b, err := protojson.Marshal(h)
				if err != nil {
					t.Fatal(err)
				}
				if err := scanHistory(b, h, pc, secrets); err != nil {
					t.Errorf("history of %s: %v", e.id, err)
				}
				if record != "" {
					file := info.GetType().GetName() + "-" + status + "-" + name + ".json"
					if len(b) > 256<<10 {
						// A run's worth of renewals: kept compressed.
						var z bytes.Buffer
						zw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
						_, _ = zw.Write(b)
						if err := zw.Close(); err != nil {
							t.Fatal(err)
						}
						file, b = file+".gz", z.Bytes()
					}
					if err := os.WriteFile(filepath.Join(record, file), b, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
	if record != "" {
		if err := os.WriteFile(filepath.Join(record, "codec-key"), []byte(dev.Env["CORSO_CODEC_KEY"]+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// childIDs are the workflow ids of the backups' child workflows.
func childIDs(backupIDs []string) []string {
	var ids []string
	for _, b := range backupIDs {
		ids = append(ids, "corso-backup-"+b)
	}
	return ids
}

func hasStatus(execs []execution, status string) bool {
	for _, e := range execs {
		if e.describe.GetWorkflowExecutionInfo().GetStatus().String() == status {
			return true
		}
	}
	return false
}

// scanHistory fails when a secret appears in a history, as stored or in
// its decoded payloads, in plaintext or base64.
func scanHistory(stored []byte, h *historypb.History, pc *codec.PayloadCodec, secrets []string) error {
	hay := [][]byte{stored}
	for _, sp := range payloadsIn(h, "history") {
		// Payloads that are not encrypted (search attributes) decode as
		// themselves.
		dec, err := pc.Decode([]*commonpb.Payload{sp.payload})
		if err != nil {
			return fmt.Errorf("decode %s: %w", sp.where, err)
		}
		hay = append(hay, dec[0].GetData())
	}
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for _, form := range []string{s, base64.StdEncoding.EncodeToString([]byte(s)), base64.RawStdEncoding.EncodeToString([]byte(s))} {
			for _, b := range hay {
				if bytes.Contains(b, []byte(form)) {
					return fmt.Errorf("holds a secret (%d characters)", len(s))
				}
			}
		}
	}
	return nil
}

// replayHistories replays each history against today's workflow code and
// checks it holds none of secrets, nor the stack's S3 secret and codec
// key, in the clear. With CORSO_RECORD_HISTORIES=DIR it saves those that
// name gives a file name, and the codec key, as fixtures for workflows'
// replay test.
func replayHistories(t *testing.T, execs []execution, secrets []string, name func(execution) string) {
	t.Helper()
	dc, err := codec.NewDataConverter(dev.Env["CORSO_CODEC_KEY"])
	if err != nil {
		t.Fatal(err)
	}
	pc, err := codec.NewPayloadCodec(dev.Env["CORSO_CODEC_KEY"])
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
	secrets = append(secrets, dev.Env["AWS_SECRET_ACCESS_KEY"], dev.Env["CORSO_CODEC_KEY"])
	record := os.Getenv("CORSO_RECORD_HISTORIES")
	for _, e := range execs {
		h := &historypb.History{Events: e.events}
		if err := replayer.ReplayWorkflowHistory(nil, h); err != nil {
			t.Errorf("replay %s (run %s): %v", e.id, e.runID, err)
		}
		b, err := protojson.Marshal(h)
		if err != nil {
			t.Fatal(err)
		}
		if err := scanHistory(b, h, pc, secrets); err != nil {
			t.Errorf("history of %s (run %s): %v", e.id, e.runID, err)
		}
		file := name(e)
		if record == "" || file == "" {
			continue
		}
		if err := os.WriteFile(filepath.Join(record, file), b, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(record, "codec-key"), []byte(dev.Env["CORSO_CODEC_KEY"]+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
