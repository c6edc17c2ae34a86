package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"syscall"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/corso-temporal/corso/repository"
)

// Checkpoint cadences the README promises: an Exchange folder checkpoints
// at least every 500 fetched items, a drive batch at least every 100
// stored files, so a worker that dies costs at most one checkpoint.
const (
	exchangeCheckpointItems = 500
	driveCheckpointFiles    = 100
)

// workerKill runs a test's own pair of workers on their own task queue:
// the victim alone until it is killed mid-activity, then the survivor.
type workerKill struct {
	queue            string
	victim, survivor string // worker names; identities are corso-worker@name
	env              map[string]string
	cmd              *exec.Cmd
	c                client.Client
}

func startVictim(t *testing.T, sim *simTenant, queue string) *workerKill {
	t.Helper()
	k := &workerKill{queue: queue, victim: queue + "-victim", survivor: queue + "-survivor", env: sim.WorkerEnv(), c: rawClient(t)}
	var err error
	if k.cmd, err = dev.StartWorker(k.victim, k.env, "--task-queue", queue); err != nil {
		t.Fatal(err)
	}
	return k
}

// openActivity is an activity the victim was running when it was killed,
// with the last heartbeat the server holds: what its retry resumes from.
type openActivity struct {
	workflowID, runID, activityID string
	attempt                       int32
	heartbeat                     []*commonpb.Payload
}

// victimActivities lists the activities of type typ the victim is running
// in the running workflows of the queue.
func (k *workerKill) victimActivities(t *testing.T, typ string) []openActivity {
	t.Helper()
	return k.victimActivitiesOf(t, typ, k.running(t))
}

func (k *workerKill) running(t *testing.T) []*commonpb.WorkflowExecution {
	t.Helper()
	resp, err := k.c.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{
		Namespace: "default", Query: fmt.Sprintf("TaskQueue = '%s' AND ExecutionStatus = 'Running'", k.queue),
	})
	if err != nil {
		t.Fatal(err)
	}
	var out []*commonpb.WorkflowExecution
	for _, info := range resp.Executions {
		out = append(out, info.Execution)
	}
	return out
}

func (k *workerKill) victimActivitiesOf(t *testing.T, typ string, execs []*commonpb.WorkflowExecution) []openActivity {
	t.Helper()
	var out []openActivity
	for _, e := range execs {
		d, err := k.c.DescribeWorkflowExecution(context.Background(), e.WorkflowId, e.RunId)
		if err != nil {
			continue
		}
		for _, p := range d.PendingActivities {
			if p.GetActivityType().GetName() != typ || p.State != enumspb.PENDING_ACTIVITY_STATE_STARTED ||
				p.LastWorkerIdentity != "corso-worker@"+k.victim {
				continue
			}
			out = append(out, openActivity{
				workflowID: e.WorkflowId, runID: e.RunId, activityID: p.ActivityId,
				attempt: p.Attempt, heartbeat: p.GetHeartbeatDetails().GetPayloads(),
			})
		}
	}
	return out
}

// killWhen waits until ready accepts the last heartbeat (decoded; empty
// if none) of an activity of type typ running on the victim, kills the
// victim, and returns the victim's activities of that type left open, with
// the heartbeats their retries will resume from. The survivor is not
// started.
func (k *workerKill) killWhen(t *testing.T, typ string, within time.Duration, ready func(heartbeat string) bool) []openActivity {
	t.Helper()
	deadline := time.Now().Add(within)
	decoded := map[string]string{} // heartbeats seen, by their encoded bytes
	var execs []*commonpb.WorkflowExecution
	var listed time.Time
	for found := false; !found; {
		if time.Now().After(deadline) {
			t.Fatalf("no %s activity on %s reached the point to kill it within %s", typ, k.victim, within)
		}
		if time.Since(listed) > time.Second {
			execs, listed = k.running(t), time.Now()
		}
		for _, a := range k.victimActivitiesOf(t, typ, execs) {
			var hb string
			if len(a.heartbeat) > 0 {
				key := string(a.heartbeat[0].GetData())
				if _, ok := decoded[key]; !ok {
					decoded[key] = decodeWithCodecServer(t, a.heartbeat)
				}
				hb = decoded[key]
			}
			if ready(hb) {
				found = true
				break
			}
		}
		if !found {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if err := k.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for k.cmd.Process.Signal(syscall.Signal(0)) == nil {
		time.Sleep(20 * time.Millisecond)
	}
	// A heartbeat the victim sent just before it died may still land.
	time.Sleep(time.Second)
	open := k.victimActivities(t, typ)
	if len(open) == 0 {
		t.Fatalf("the killed worker %s left no %s activity open", k.victim, typ)
	}
	return open
}

// startSurvivor starts the worker that takes over.
func (k *workerKill) startSurvivor(t *testing.T) {
	t.Helper()
	if _, err := dev.StartWorker(k.survivor, k.env, "--task-queue", k.queue); err != nil {
		t.Fatal(err)
	}
}

// assertFinishedBySurvivor checks in each workflow's history that every
// activity left open by the kill was retried and completed on the
// survivor.
func (k *workerKill) assertFinishedBySurvivor(t *testing.T, open []openActivity) {
	t.Helper()
	ctx := context.Background()
	for _, a := range open {
		var scheduled int64
		var started, completed string
		var attempt int32
		it := k.c.GetWorkflowHistory(ctx, a.workflowID, a.runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				t.Fatal(err)
			}
			if s := ev.GetActivityTaskScheduledEventAttributes(); s != nil && s.ActivityId == a.activityID {
				scheduled = ev.EventId
			}
			if s := ev.GetActivityTaskStartedEventAttributes(); s != nil && scheduled != 0 && s.ScheduledEventId == scheduled {
				started, attempt = s.Identity, s.Attempt
			}
			if c := ev.GetActivityTaskCompletedEventAttributes(); c != nil && scheduled != 0 && c.ScheduledEventId == scheduled {
				completed = c.Identity
			}
		}
		want := "corso-worker@" + k.survivor
		if attempt < 2 || started != want || completed != want {
			t.Errorf("activity %s of %s, open on %s when it was killed: last started at attempt %d on %q, completed by %q; want a retry completed by %s",
				a.activityID, a.workflowID, k.victim, attempt, started, completed, want)
		}
	}
}

// openRepository opens the admin's repository straight, as a worker would.
func (a exchangeAdmin) openRepository(t *testing.T) *repository.Repository {
	t.Helper()
	ctx := context.Background()
	conns, err := repository.NewConnections(repository.ClientOptions{Hostname: "e2e-reader", Username: "corso", Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conns.Close(ctx) })
	r, err := conns.Open(ctx, repository.Location{
		Provider: repository.S3, Bucket: bucket, Prefix: a.prefix, Endpoint: dev.Env["CORSO_S3_ENDPOINT"], Region: "us-east-1", DisableTLS: true,
	}, repository.Credentials{Passphrase: a.passphrase, AccessKeyID: dev.Env["AWS_ACCESS_KEY_ID"], SecretAccessKey: dev.Env["AWS_SECRET_ACCESS_KEY"]})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Release(ctx) })
	return r
}

// checkpointSegments decodes a heartbeat and returns the ids of the
// repository segments it names.
func checkpointSegments(t *testing.T, heartbeat string) []string {
	t.Helper()
	var cp struct {
		Segments []string `json:"segments"`
	}
	if err := json.Unmarshal([]byte(heartbeat), &cp); err != nil {
		t.Fatalf("heartbeat %.200q: %v", heartbeat, err)
	}
	return cp.Segments
}

// packedCheckpoints reads the decoded heartbeat of collections backed up
// together: the segments of every collection's checkpoint, and how many
// collections were not finished.
func packedCheckpoints(t *testing.T, heartbeat string) (segments []string, unfinished int) {
	t.Helper()
	var cp struct {
		Collections []struct {
			Segments []string `json:"segments"`
		} `json:"collections"`
		Results []json.RawMessage `json:"results"`
	}
	if err := json.Unmarshal([]byte(heartbeat), &cp); err != nil {
		t.Fatalf("heartbeat %.200q: %v", heartbeat, err)
	}
	for i, c := range cp.Collections {
		segments = append(segments, c.Segments...)
		if i >= len(cp.Results) || string(cp.Results[i]) == "null" {
			unfinished++
		}
	}
	return segments, unfinished
}

// hasCheckpoint reports whether a decoded heartbeat names a checkpoint.
func hasCheckpoint(heartbeat string) bool {
	var cp struct {
		Segments []string `json:"segments"`
	}
	return json.Unmarshal([]byte(heartbeat), &cp) == nil && len(cp.Segments) > 0
}

// firstCheckpoint reports whether a decoded heartbeat names exactly one
// checkpoint segment: the activity has just begun to keep its work.
func firstCheckpoint(heartbeat string) bool {
	var cp struct {
		Segments []string `json:"segments"`
	}
	return json.Unmarshal([]byte(heartbeat), &cp) == nil && len(cp.Segments) == 1
}

// fetchCounts copies a simulator's download counts of one kind.
func fetchCounts(sim *simTenant, kind string) map[string]int64 {
	out := map[string]int64{}
	for id, n := range sim.Stats().Fetched[kind] {
		out[id] = n
	}
	return out
}

// downloadsAgain counts downloads beyond the first of each item.
func downloadsAgain(counts map[string]int64) int64 {
	var n int64
	for _, c := range counts {
		n += c - 1
	}
	return n
}

// assertCheckpointHeld fails if an item the retry's checkpoint named was
// downloaded again after the kill, and checks the checkpoint named items
// that were downloaded before it.
func assertCheckpointHeld(t *testing.T, what string, checkpointed map[string]bool, atKill, final map[string]int64) {
	t.Helper()
	if len(checkpointed) == 0 {
		t.Fatalf("the checkpoints the retries resumed from name no %s", what)
	}
	again := 0
	for id := range checkpointed {
		if atKill[id] == 0 {
			t.Fatalf("checkpointed %s %s was never downloaded", what, id)
		}
		if final[id] > atKill[id] {
			again++
			if again <= 3 {
				t.Errorf("checkpointed %s %s downloaded again after the kill", what, id)
			}
		}
	}
	if again > 0 {
		t.Errorf("%d of %d checkpointed %s downloaded again after the kill", again, len(checkpointed), what)
	}
}
