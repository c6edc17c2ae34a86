package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/localstack"
	"github.com/corso-temporal/corso/workflows"
)

// bucketUsage counts the objects under a repository's prefix, and the
// pack blobs (item data) among them.
type bucketUsage struct {
	objects, packs int
	bytes          int64
}

func usageOf(t *testing.T, prefix string) bucketUsage {
	t.Helper()
	var u bucketUsage
	p := s3.NewListObjectsV2Paginator(s3Client(t), &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix + "/kopia/")})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			u.objects++
			u.bytes += aws.ToInt64(o.Size)
			if name := strings.TrimPrefix(aws.ToString(o.Key), prefix+"/kopia/"); strings.HasPrefix(name, "p") || strings.HasPrefix(name, "q") {
				u.packs++
			}
		}
	}
	return u
}

// maintain runs `corso repo maintenance --mode full --json`.
func (a exchangeAdmin) maintain(t *testing.T) workflows.RepoMaintenanceResult {
	t.Helper()
	r := a.run(t, "repo", "maintenance", "--mode", "full", "--json")
	mustSucceed(t, r)
	var out workflows.RepoMaintenanceResult
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
		t.Fatalf("parse: %v\n%s", err, r.Stdout)
	}
	return out
}

// collectionCheckpointed reports whether a backup collection activity of
// a running workflow on queue has heartbeated a checkpoint: flushed data
// that no snapshot references until the backup's combine.
func collectionCheckpointed(t *testing.T, queue string) bool {
	t.Helper()
	c := rawClient(t)
	resp, err := c.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{
		Namespace: "default", Query: "TaskQueue = '" + queue + "' AND ExecutionStatus = 'Running'",
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range resp.Executions {
		d, err := c.DescribeWorkflowExecution(context.Background(), e.Execution.WorkflowId, e.Execution.RunId)
		if err != nil {
			continue
		}
		for _, p := range d.PendingActivities {
			typ := p.GetActivityType().GetName()
			if typ != workflows.ActivityBackupCollection && typ != workflows.ActivityBackupCollections || len(p.GetHeartbeatDetails().GetPayloads()) == 0 {
				continue
			}
			hb := decodeWithCodecServer(t, p.GetHeartbeatDetails().GetPayloads())
			if segs, _ := packedCheckpoints(t, hb); hasCheckpoint(hb) || len(segs) > 0 {
				return true
			}
		}
	}
	return false
}

// Full maintenance while a backup runs on the fleet: the running backup's
// checkpointed collections, unreferenced until its combine, survive three
// collections (enough, with the test-only shortened safety, to delete
// unreferenced data); once it is done, the deleted backup's data goes and
// every remaining backup reads back intact.
func TestRepoMaintenanceReclaimsSpaceBesideARunningBackup(t *testing.T) {
	// The first mailbox has a folder of over a thousand messages: two
	// checkpoints' worth, so the backup keeps flushed data no snapshot
	// references while maintenance runs.
	sim := ownTenant(t, graphsim.TenantOptions{Seed: 13, Users: 3, ItemsPerUser: 1600, Mix: graphsim.ItemMix{Mail: 1}})
	queue := "e2e-maintenance"
	env := sim.WorkerEnv()
	env["CORSO_TEST_SHORT_MAINTENANCE_SAFETY"] = "1"
	for _, name := range []string{"e2e-maintenance-1", "e2e-maintenance-2"} {
		w, err := dev.StartWorker(name, env, "--task-queue", queue)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { localstack.Terminate(w) })
	}
	a := newExchangeAdmin(t, sim, "maintenance", "--task-queue", queue)
	users := mailboxes(t, sim)
	if len(users) < 3 {
		t.Fatalf("the tenant has %d mailboxes, want 3", len(users))
	}
	running, kept, deleted := users[0], users[1], users[2]
	byUser := byResource(a.backup(t, kept+","+deleted))
	mustSucceed(t, a.run(t, "backup", "delete", "exchange", "--backup", byUser[deleted].BackupID))

	sim.SetFaults(graphsim.FaultOptions{Latency: 60 * time.Millisecond})
	done := make(chan []backup.Summary, 1)
	go func() { done <- a.backup(t, running) }()
	deadline := time.Now().Add(2 * time.Minute)
	for !collectionCheckpointed(t, queue) {
		if time.Now().After(deadline) {
			t.Fatal("the running backup checkpointed no collection within 2 minutes")
		}
		time.Sleep(200 * time.Millisecond)
	}
	for i := range 3 {
		if res := a.maintain(t); res.RunningBackups == 0 {
			t.Fatalf("maintenance %d saw no running backup", i+1)
		}
	}
	select {
	case <-done:
		t.Fatal("the backup finished before three maintenance runs: the test no longer shows maintenance beside it; slow the tenant down")
	default:
	}
	sim.SetFaults(graphsim.FaultOptions{})
	var bs []backup.Summary
	select {
	case bs = <-done:
	case <-time.After(3 * time.Minute):
		t.Fatal("the running backup did not finish")
	}
	if len(bs) != 1 || bs[0].Status != backup.StatusCompleted {
		t.Fatalf("the backup that ran beside maintenance: %+v", bs)
	}
	assertSameItems(t, a.stored(t, bs[0].BackupID), truth(t, sim, running))

	// Nothing runs now: the deleted backup's data is found unused, then
	// dropped and its packs deleted by the second collection after.
	before := usageOf(t, a.prefix)
	var last workflows.RepoMaintenanceResult
	for range 3 {
		time.Sleep(1100 * time.Millisecond) // kopia's marks have whole seconds
		last = a.maintain(t)
	}
	after := usageOf(t, a.prefix)
	t.Logf("S3 under %s: %d objects (%d packs), %d bytes → %d objects (%d packs), %d bytes; the deleted backup held %d bytes of items; last run %+v",
		a.prefix, before.objects, before.packs, before.bytes, after.objects, after.packs, after.bytes, byUser[deleted].Bytes, last)
	if freed := before.bytes - after.bytes; freed < byUser[deleted].Bytes/4 {
		t.Errorf("full maintenance freed %d bytes; the deleted backup held %d bytes of items", freed, byUser[deleted].Bytes)
	}
	if after.packs >= before.packs {
		t.Errorf("pack blobs %d → %d: none deleted", before.packs, after.packs)
	}
	if last.Owner != "maintenance@corso-"+last.RepositoryID {
		t.Errorf("maintenance owner %q, want the repository's own identity", last.Owner)
	}
	assertSameItems(t, a.stored(t, byUser[kept].BackupID), truth(t, sim, kept))
	assertSameItems(t, a.stored(t, bs[0].BackupID), truth(t, sim, running))
	recordHistories(t, "WorkflowType = 'RepoMaintenanceWorkflow' AND TaskQueue = '"+queue+"' AND ExecutionStatus != 'Running'", nil)
}

// update-passphrase on the shared, warm workers: the old passphrase is
// refused from then on, the new one opens the same backups.
func TestRepoUpdatePassphraseOnWarmWorkers(t *testing.T) {
	a := newExchangeAdmin(t, tenant, "update-passphrase")
	b := a.backup(t, mailboxes(t, tenant)[0])[0]
	for range 2 { // each shared worker likely holds a handle now
		mustSucceed(t, a.run(t, "backup", "list", "exchange"))
	}
	next := a
	next.passphrase = "rotated-" + a.passphrase
	r := corso(t, map[string]string{"CORSO_PASSPHRASE": a.passphrase, "CORSO_NEW_PASSPHRASE": next.passphrase},
		"repo", "update-passphrase", "--json", "--config-file", a.config)
	mustSucceed(t, r)
	var out struct {
		Workflow struct {
			WorkflowID string `json:"workflowID"`
		} `json:"workflow"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
		t.Fatalf("parse: %v\n%s", err, r.Stdout)
	}

	for range 2 {
		mustFail(t, a.run(t, "backup", "list", "exchange"), 30*time.Second, "wrong passphrase")
		r := next.run(t, "backup", "list", "exchange", "--json")
		mustSucceed(t, r)
		if !strings.Contains(r.Stdout, b.BackupID) {
			t.Fatalf("backup %s not listed with the new passphrase:\n%s", b.BackupID, r.Stdout)
		}
	}
	mustFail(t, a.run(t, repoCmd("connect", "update-passphrase")...), 30*time.Second, "wrong passphrase")
	assertSameItems(t, next.stored(t, b.BackupID), truth(t, tenant, mailboxes(t, tenant)[0]))
	recordHistories(t, "WorkflowId = '"+out.Workflow.WorkflowID+"'", []string{a.passphrase, next.passphrase})
}

// recordHistories checks the closed histories the query finds: see
// replayHistories. Completed ones are saved as <type>-<status>.json.
func recordHistories(t *testing.T, query string, secrets []string) {
	t.Helper()
	execs := allExecutions(t, rawClient(t), query)
	if len(execs) == 0 {
		t.Fatalf("no closed workflow for %s", query)
	}
	replayHistories(t, execs, secrets, func(e execution) string {
		info := e.describe.GetWorkflowExecutionInfo()
		if info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
			return ""
		}
		return info.GetType().GetName() + "-" + info.GetStatus().String() + ".json"
	})
}

// TestRepoMaintenanceSchedule has Temporal run a repository's quick
// maintenance every few seconds: a run by the schedule starts the
// repository's one maintenance workflow, which completes with credentials
// sealed for the schedule alone.
func TestRepoMaintenanceSchedule(t *testing.T) {
	a := newExchangeAdmin(t, tenant, "maintenance-schedule")
	mustFail(t, a.run(t, "repo", "maintenance", "--every", "1h", "--cron", "@daily"), 5*time.Second, "give --every or --cron, not both")
	r := a.run(t, "repo", "maintenance", "--mode", "quick", "--every", "5s", "--json")
	mustSucceed(t, r)
	var created scheduleJSON
	if err := json.Unmarshal([]byte(r.Stdout), &created); err != nil {
		t.Fatalf("parse: %v\n%s", err, r.Stdout)
	}
	t.Cleanup(func() {
		_ = rawClient(t).ScheduleClient().GetHandle(context.Background(), created.ID).Delete(context.Background())
	})
	repoID := strings.TrimPrefix(created.ID, "corso-backup-maintenance-quick-")
	if repoID == created.ID || repoID == "" {
		t.Fatalf("schedule id %q names no repository", created.ID)
	}
	mustFail(t, a.run(t, "repo", "maintenance", "--mode", "quick", "--every", "1h"), 10*time.Second, "already has a quick maintenance schedule")

	query := "WorkflowId = '" + workflows.MaintenanceWorkflowID(repoID) + "' AND ExecutionStatus = 'Completed'"
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(time.Second) {
		d := a.describeSchedule(t, created.ID)
		ran := 0
		for _, run := range d.RecentRuns {
			if run.Status == "Completed" {
				ran++
			}
		}
		if ran >= 1 && len(allExecutions(t, rawClient(t), query)) >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no scheduled maintenance completed within 90s: %+v", d.RecentRuns)
		}
	}
	mustSucceed(t, a.run(t, "backup", "schedule", "delete", created.ID))
}
