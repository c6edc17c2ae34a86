package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
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

func TestNoSecretInTemporalOrLogs(t *testing.T) {
	passphrase := "history-scan-passphrase-9b71"
	a := newAdmin(t, passphrase)
	mustSucceed(t, a.run(t, repoCmd("init", "history-scan")...))
	mustSucceed(t, a.run(t, repoCmd("connect", "history-scan")...))
	// A failed request carries the secrets too.
	mustFail(t, newAdmin(t, "history-scan-wrong-4f2e").run(t, repoCmd("connect", "history-scan")...), 20*time.Second, "wrong passphrase")

	secrets := map[string]string{
		"passphrase":       passphrase,
		"wrong passphrase": "history-scan-wrong-4f2e",
		"S3 secret key":    dev.Env["AWS_SECRET_ACCESS_KEY"],
		"codec key":        dev.Env["CORSO_CODEC_KEY"],
	}
	execs := allExecutions(t, rawClient(t), "")
	if len(execs) < 3 {
		t.Fatalf("found %d executions, want the ones this test ran", len(execs))
	}
	var payloads []*commonpb.Payload
	for _, e := range execs {
		stored := e.storedBytes(t)
		for name, s := range secrets {
			if bytes.Contains(stored, []byte(s)) {
				t.Errorf("workflow %s stores the %s in plaintext", e.id, name)
			}
		}
		for _, ev := range e.events {
			if a := ev.GetWorkflowExecutionStartedEventAttributes(); a != nil {
				payloads = append(payloads, a.GetInput().GetPayloads()...)
			}
		}
	}

	// The Web UI decodes payloads through the codec server: it sees the
	// repository location, never the sealed credentials.
	decoded := decodeWithCodecServer(t, payloads)
	if !strings.Contains(decoded, "history-scan") {
		t.Fatalf("codec server did not decode the inputs: %.300s", decoded)
	}
	for name, s := range secrets {
		if strings.Contains(decoded, s) {
			t.Errorf("codec server reveals the %s", name)
		}
	}

	for _, p := range dev.Logs() {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for name, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("log %s holds the %s", p, name)
			}
		}
	}
}

func decodeWithCodecServer(t *testing.T, payloads []*commonpb.Payload) string {
	t.Helper()
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: payloads})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, dev.Env["CORSO_CODEC_ENDPOINT"]+"/decode", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Namespace", "default")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out commonpb.Payloads
	var raw json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	if err := protojson.Unmarshal(raw, &out); err != nil {
		t.Fatalf("codec server answer: %v: %s", err, raw)
	}
	var all strings.Builder
	for _, p := range out.Payloads {
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
	mustFail(t, r, 20*time.Second, `no corso-worker is polling task queue "e2e-nobody-polls"`)
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
