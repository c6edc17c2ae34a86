package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/codec/secretscan"
	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/localstack"
)

// rawClient reads Temporal as the server stores it: no codec, so payloads
// stay as ciphertext.
func rawClient(t *testing.T) client.Client {
	t.Helper()
	c, err := client.Dial(client.Options{HostPort: dev.Env["TEMPORAL_ADDRESS"], Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// execution is one stored workflow run: its history, memo and search
// attributes, as the server and the Web UI hold them.
type execution struct {
	id, runID string
	events    []*historypb.HistoryEvent
	describe  *workflowservice.DescribeWorkflowExecutionResponse
}

func allExecutions(t *testing.T, c client.Client, query string) []execution {
	t.Helper()
	ctx := context.Background()
	var out []execution
	var token []byte
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: "default", Query: query, NextPageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, info := range resp.Executions {
			e := execution{id: info.Execution.WorkflowId, runID: info.Execution.RunId}
			it := c.GetWorkflowHistory(ctx, e.id, e.runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
			for it.HasNext() {
				ev, err := it.Next()
				if err != nil {
					t.Fatal(err)
				}
				e.events = append(e.events, ev)
			}
			e.describe, err = c.DescribeWorkflowExecution(ctx, e.id, e.runID)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, e)
		}
		token = resp.NextPageToken
		if len(token) == 0 {
			return out
		}
	}
}

// waitExecutions lists executions matching query until at least n show up:
// visibility records are written shortly after the runs they describe.
func waitExecutions(t *testing.T, query string, n int) []execution {
	t.Helper()
	c := rawClient(t)
	deadline := time.Now().Add(15 * time.Second)
	for {
		execs := allExecutions(t, c, query)
		if len(execs) >= n || time.Now().After(deadline) {
			if len(execs) < n {
				t.Fatalf("found %d executions for %q, want %d", len(execs), query, n)
			}
			return execs
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// storedBytes is everything the server holds for an execution, in binary
// and JSON form.
func (e execution) storedBytes(t *testing.T) []byte {
	var buf bytes.Buffer
	for _, m := range []proto.Message{e.describe} {
		b, _ := proto.Marshal(m)
		buf.Write(b)
		j, _ := protojson.Marshal(m)
		buf.Write(j)
	}
	for _, ev := range e.events {
		b, _ := proto.Marshal(ev)
		buf.Write(b)
		j, _ := protojson.Marshal(ev)
		buf.Write(j)
	}
	return buf.Bytes()
}

// watchRunning describes every running execution of a task queue until
// stop is called and returns what it saw: pending activities' heartbeat
// details and failures exist only while a run is in flight, as the Web UI
// shows them.
func watchRunning(t *testing.T, c client.Client, taskQueue string) (stop func() []*workflowservice.DescribeWorkflowExecutionResponse) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan []*workflowservice.DescribeWorkflowExecutionResponse)
	go func() {
		var seen []*workflowservice.DescribeWorkflowExecutionResponse
		defer func() { done <- seen }()
		for ctx.Err() == nil {
			resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: "default",
				Query: "TaskQueue = '" + taskQueue + "' AND ExecutionStatus = 'Running'"})
			if err == nil {
				for _, info := range resp.Executions {
					d, err := c.DescribeWorkflowExecution(ctx, info.Execution.WorkflowId, info.Execution.RunId)
					if err == nil && len(d.PendingActivities) > 0 {
						seen = append(seen, d)
					}
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	return func() []*workflowservice.DescribeWorkflowExecutionResponse {
		cancel()
		return <-done
	}
}

// TestNoSecretInTemporalOrLogs runs backup, restore, export and repository
// requests against a tenant that records every bearer token, then looks
// for every secret involved (passphrases, the app secret, S3 keys, the
// codec key, the tokens) in plaintext, hex and base64 forms in what
// Temporal stores, in every payload of those runs decoded through the
// codec server as the Web UI decodes them (workflow and activity inputs
// and results, child workflows, heartbeats seen while running, memo,
// search attributes, failures), in the CLI's output and in every log.
func TestNoSecretInTemporalOrLogs(t *testing.T) {
	const (
		q               = "e2e-secret-scan"
		prefix          = "secret-scan"
		passphrase      = "secret-scan-passphrase-9b71c3"
		wrongPassphrase = "secret-scan-wrong-4f2e8d0a"
		appSecret       = "secret-scan-app-secret-a4c19e77"
		wrongAppSecret  = "secret-scan-wrong-app-secret-51d0"
	)
	sim := startRecordingTenant(t, graphsim.TenantOptions{Seed: 91, Users: 2, ItemsPerUser: 30, Clean: true,
		Mix: graphsim.ItemMix{Mail: 0.5, Contacts: 0.1, Events: 0.1, Files: 0.3}}, "secret-scan-app", appSecret)
	// Every Graph call takes a moment, so that activities are seen running
	// with their heartbeats.
	sim.SetFaults(graphsim.FaultOptions{Latency: 15 * time.Millisecond})
	w, err := dev.StartWorker(q, map[string]string{"CORSO_GRAPH_ENDPOINT": sim.URL}, "--task-queue", q)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { localstack.Terminate(w) })

	raw := rawClient(t)
	type cliOutput struct {
		args []string
		r    result
	}
	var (
		outputs []cliOutput
		running []*workflowservice.DescribeWorkflowExecutionResponse
	)
	config := filepath.Join(t.TempDir(), "corso.toml")
	run := func(env map[string]string, config string, args ...string) result {
		t.Helper()
		args = append(args, "--task-queue", q, "--config-file", config)
		stop := watchRunning(t, raw, q)
		r := corso(t, env, args...)
		running = append(running, stop()...)
		outputs = append(outputs, cliOutput{args, r})
		return r
	}
	env := sim.cliEnv(passphrase, appSecret)
	mustSucceed(t, run(env, config, repoCmd("init", prefix,
		"--aws-access-key", dev.Env["AWS_ACCESS_KEY_ID"], "--aws-secret-access-key", dev.Env["AWS_SECRET_ACCESS_KEY"])...))
	mustSucceed(t, run(env, config, repoCmd("connect", prefix)...))
	// Failed requests carry the secrets too.
	mustFail(t, run(sim.cliEnv(wrongPassphrase, appSecret), filepath.Join(t.TempDir(), "wrong.toml"), repoCmd("connect", prefix)...),
		20*time.Second, "wrong passphrase")

	created := func(r result) []backup.Summary {
		t.Helper()
		mustSucceed(t, r)
		var out createJSON
		if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil || len(out.Backups) == 0 {
			t.Fatalf("parse: %v\n%s", err, r.Stdout)
		}
		for _, b := range out.Backups {
			if b.Status != backup.StatusCompleted || b.Items == 0 {
				t.Fatalf("backup of %s: %s, %d items %s", b.ResourceName, b.Status, b.Items, b.Error)
			}
		}
		return out.Backups
	}
	mail := created(run(env, config, "backup", "create", "exchange", "--mailbox", "*", "--json"))
	drives := created(run(env, config, "backup", "create", "onedrive", "--user", "*", "--json"))
	mustSucceed(t, run(env, config, "backup", "list", "exchange"))
	mustSucceed(t, run(env, config, "backup", "details", "exchange", "--backup", mail[0].BackupID))
	mustSucceed(t, run(env, config, "restore", "exchange", "--backup", mail[0].BackupID, "--destination", "SecretScan", "--json"))
	mustSucceed(t, run(env, config, "export", "exchange", filepath.Join(t.TempDir(), "export"), "--backup", mail[0].BackupID, "--json"))
	mustSucceed(t, run(env, config, "restore", "onedrive", "--backup", drives[0].BackupID, "--destination", "SecretScan", "--json"))
	mustSucceed(t, run(env, config, "backup", "delete", "onedrive", "--backup", drives[len(drives)-1].BackupID))
	if r := run(sim.cliEnv(passphrase, wrongAppSecret), config, "backup", "create", "exchange", "--mailbox", "*"); r.Code == 0 {
		t.Fatalf("a backup with a wrong app secret succeeded:\n%s", r.Stdout)
	}

	tokens := sim.Tokens()
	if len(tokens) == 0 {
		t.Fatal("the tenant saw no bearer token: the scan would not look for any")
	}
	key, _ := base64.StdEncoding.DecodeString(dev.Env["CORSO_CODEC_KEY"])
	secrets := append([]secretscan.Secret{
		secretscan.S("passphrase", passphrase),
		secretscan.S("wrong passphrase", wrongPassphrase),
		secretscan.S("Azure client secret", appSecret),
		secretscan.S("wrong Azure client secret", wrongAppSecret),
		secretscan.S("S3 access key id", dev.Env["AWS_ACCESS_KEY_ID"]),
		secretscan.S("S3 secret key", dev.Env["AWS_SECRET_ACCESS_KEY"]),
		secretscan.S("codec key", dev.Env["CORSO_CODEC_KEY"]),
		{Name: "codec key bytes", Value: key},
	}, tokenSecrets(tokens)...)
	sc, err := secretscan.New(secrets...)
	if err != nil {
		t.Fatal(err)
	}

	// What the server stores, as stored.
	execs := waitExecutions(t, "TaskQueue = '"+q+"' AND ExecutionStatus != 'Running'", 10)
	var stored []storedPayload
	failures := 0
	for _, e := range execs {
		if fs := sc.Scan(e.storedBytes(t)); len(fs) > 0 {
			t.Error(secretscan.Report("workflow "+e.id+" as stored", fs))
		}
		for _, ev := range e.events {
			stored = append(stored, payloadsIn(ev, e.id+" event "+ev.GetEventType().String())...)
			for _, f := range failuresIn(ev) {
				failures++
				if fs := sc.Scan([]byte(f.GetMessage() + "\n" + f.GetStackTrace())); len(fs) > 0 {
					t.Error(secretscan.Report("a failure message of "+e.id, fs))
				}
			}
		}
		stored = append(stored, payloadsIn(e.describe, e.id+" description")...)
	}
	for _, d := range running {
		id := d.GetWorkflowExecutionInfo().GetExecution().GetWorkflowId()
		if b, err := proto.Marshal(d); err == nil {
			if fs := sc.Scan(b); len(fs) > 0 {
				t.Error(secretscan.Report("running workflow "+id+" as described", fs))
			}
		}
		stored = append(stored, payloadsIn(d, id+" running")...)
	}

	// The same payloads as the Web UI decodes them.
	payloads := make([]*commonpb.Payload, len(stored))
	for i, p := range stored {
		payloads[i] = p.payload
	}
	decoded := decodeAllWithCodecServer(t, payloads)
	if len(decoded) != len(stored) {
		t.Fatalf("codec server answered %d payloads for %d", len(decoded), len(stored))
	}
	kinds := map[string]int{}
	sawPrefix := false
	for i, p := range decoded {
		kinds[payloadKind(stored[i].where)]++
		sawPrefix = sawPrefix || bytes.Contains(p.Data, []byte(prefix))
		b := slices.Clone(p.Data)
		for k, v := range p.Metadata {
			b = append(append(append(b, '\n'), k...), v...)
		}
		if fs := sc.Scan(b); len(fs) > 0 {
			t.Errorf("%s: %s", stored[i].where, secretscan.Report("the decoded payload", fs))
		}
	}
	t.Logf("scanned %d executions, %d failures, %d payloads %v, %d CLI runs, %d bearer tokens", len(execs), failures, len(decoded), kinds, len(outputs), len(tokens))
	if failures == 0 {
		t.Error("the runs left no failure to scan")
	}
	if !sawPrefix {
		t.Error("no decoded payload names the repository prefix: the codec server did not decode them")
	}
	for _, k := range []string{"workflow input", "workflow result", "child workflow input", "activity input", "activity result", "heartbeat details", "search attributes"} {
		if kinds[k] == 0 {
			t.Errorf("the runs left no %s to scan", k)
		}
	}

	// What the admin sees, and what every process logged.
	for _, o := range outputs {
		for what, out := range map[string]string{"stdout": o.r.Stdout, "stderr": o.r.Stderr} {
			if fs := sc.Scan([]byte(out)); len(fs) > 0 {
				t.Error(secretscan.Report(fmt.Sprintf("the %s of `corso %s`", what, strings.Join(o.args, " ")), fs))
			}
		}
	}
	for _, p := range dev.Logs() {
		if fs := scanFile(t, sc, p); len(fs) > 0 {
			t.Error(secretscan.Report("log "+p, fs))
		}
	}
}

// decodeWithCodecServer decodes payloads through the codec server and
// returns their data, joined.
func decodeWithCodecServer(t *testing.T, payloads []*commonpb.Payload) string {
	t.Helper()
	var all strings.Builder
	for _, p := range decodePayloadsWithCodecServer(t, payloads) {
		all.Write(p.Data)
	}
	return all.String()
}

func TestTwoWorkersBothTakeWork(t *testing.T) {
	mustSucceed(t, newAdmin(t, "fleet").run(t, repoCmd("init", "fleet")...))
	identities := map[string]int{}
	for round := 0; round < 3 && len(identities) < 2; round++ {
		var wg sync.WaitGroup
		ids := make(chan string, 8)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ids <- parseRepo(t, newAdmin(t, "fleet").run(t, repoCmd("connect", "fleet", "--json")...)).Workflow.WorkflowID
			}()
		}
		wg.Wait()
		close(ids)
		var query []string
		for id := range ids {
			query = append(query, "WorkflowId = '"+id+"'")
		}
		for _, e := range waitExecutions(t, "ExecutionStatus != 'Running' AND ("+strings.Join(query, " OR ")+")", len(query)) {
			for _, ev := range e.events {
				if a := ev.GetActivityTaskStartedEventAttributes(); a != nil {
					identities[a.GetIdentity()]++
				}
			}
		}
	}
	if len(identities) < 2 {
		t.Fatalf("activities ran on %v; want both workers", identities)
	}
	for id := range identities {
		if !strings.HasPrefix(id, "corso-worker@e2e-worker-") {
			t.Errorf("unexpected worker identity %q", id)
		}
	}
}

func TestNoWorkerPollingIsReportedNotAwaitedForever(t *testing.T) {
	a := newAdmin(t, "idle")
	r := a.run(t, append(repoCmd("init", "idle"), "--task-queue", "e2e-nobody-polls", "--worker-wait", "3s")...)
	mustFail(t, r, 20*time.Second, "no corso-worker picked up", `task queue "e2e-nobody-polls"`)
	// The request was withdrawn: it will not run when a worker turns up.
	for _, e := range waitExecutions(t, "TaskQueue = 'e2e-nobody-polls' AND ExecutionStatus != 'Running'", 1) {
		if st := e.describe.GetWorkflowExecutionInfo().GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED {
			t.Errorf("workflow %s left %s", e.id, st)
		}
	}
	if len(objects(t, bucket, "idle/")) != 0 {
		t.Fatal("the withdrawn init wrote to the bucket")
	}
}

// assertFirstAttempts fails the test if an activity of the executions
// query finds needed a retry: in a run without faults every activity
// completes at its first attempt, and a retry there means an attempt
// failed on its own (a cancelled context, a lost heartbeat).
func assertFirstAttempts(t *testing.T, query string, n int) {
	t.Helper()
	for _, e := range waitExecutions(t, query, n) {
		for _, ev := range e.events {
			if a := ev.GetActivityTaskStartedEventAttributes(); a != nil && a.Attempt > 1 {
				var f string
				if lf := a.GetLastFailure(); lf != nil {
					f = lf.GetMessage()
				}
				t.Errorf("%s: an activity started at attempt %d after: %s", e.id, a.Attempt, f)
			}
		}
	}
}
