package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"

	"github.com/corso-temporal/corso/codec"
	"github.com/corso-temporal/corso/workflows"
)

// codecClient is a Temporal client with the fleet's codec key: what the Web
// UI shows decoded and lets a user submit encoded (through the codec
// server's /encode), or what anyone holding the key can do.
func codecClient(t *testing.T) (client.Client, converter.DataConverter) {
	t.Helper()
	dc, err := codec.NewDataConverter(dev.Env["CORSO_CODEC_KEY"])
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(client.Options{HostPort: dev.Env["TEMPORAL_ADDRESS"], Namespace: "default",
		DataConverter: dc, FailureConverter: codec.NewFailureConverter(dc)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c, dc
}

func fleetQueue() string {
	if q := dev.Env["CORSO_TASK_QUEUE"]; q != "" {
		return q
	}
	return workflows.TaskQueue
}

func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// startedInput decodes the input a workflow was started with.
func startedInput(t *testing.T, c client.Client, dc converter.DataConverter, workflowID string, into any) {
	t.Helper()
	it := c.GetWorkflowHistory(context.Background(), workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	ev, err := it.Next()
	if err != nil {
		t.Fatal(err)
	}
	attrs := ev.GetWorkflowExecutionStartedEventAttributes()
	if attrs == nil || len(attrs.GetInput().GetPayloads()) != 1 {
		t.Fatalf("%s: first event %s has no single input", workflowID, ev.GetEventType())
	}
	if err := dc.FromPayloads(attrs.GetInput(), into); err != nil {
		t.Fatal(err)
	}
}

// assertRefusedAtOnce checks that a run failed because the worker refused
// its credentials, without retrying, and returns the message.
func assertRefusedAtOnce(t *testing.T, what string, run client.WorkflowRun, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	start := time.Now()
	err := run.Get(ctx, nil)
	var appErr *temporal.ApplicationError
	if err == nil || !errors.As(err, &appErr) {
		t.Fatalf("%s: the worker ran it (err %v)", what, err)
	}
	if appErr.Type() != workflows.ErrTypeCredentialsRefused || !appErr.NonRetryable() || !strings.Contains(appErr.Message(), want) {
		t.Fatalf("%s: want a non-retryable %s naming %q, got %s %q (non-retryable %v)",
			what, workflows.ErrTypeCredentialsRefused, want, appErr.Type(), appErr.Message(), appErr.NonRetryable())
	}
	t.Logf("%s: refused in %s: %s", what, time.Since(start).Round(time.Millisecond), appErr.Message())
	for _, e := range waitExecutions(t, "WorkflowId = '"+run.GetID()+"' AND RunId = '"+run.GetRunID()+"'", 1) {
		if st := e.describe.GetWorkflowExecutionInfo().GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_FAILED {
			t.Errorf("%s: run left %s", what, st)
		}
		for _, ev := range e.events {
			if a := ev.GetActivityTaskStartedEventAttributes(); a != nil && a.Attempt > 1 {
				t.Errorf("%s: an activity was retried (attempt %d)", what, a.Attempt)
			}
		}
	}
}

// TestCopiedCredentialsAreRefused copies the sealed credentials of a
// finished backup from its input, as a Web UI viewer sees it, into
// requests started straight through Temporal with the fleet's codec (as
// the codec server's /encode would): a restore into another mailbox under
// a new workflow id, and a restore and a delete under the backup's own
// (reused) workflow id. Workers refuse each at once, without retrying, and
// nothing is written. An input sent unencrypted is refused too.
func TestCopiedCredentialsAreRefused(t *testing.T) {
	a := newExchangeAdmin(t, tenant, "replay-creds")
	users := mailboxes(t, tenant)
	from, to := users[0], users[len(users)-1]
	r := a.run(t, "backup", "create", "exchange", "--mailbox", from, "--data", "contacts", "--json")
	mustSucceed(t, r)
	var out createJSON
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil || len(out.Backups) != 1 {
		t.Fatalf("parse: %v\n%s", err, r.Stdout)
	}
	backupWF, backupID := out.Workflow.WorkflowID, out.Backups[0].BackupID

	c, dc := codecClient(t)
	var copied workflows.ExchangeBackupInput
	startedInput(t, c, dc, backupWF, &copied)
	if len(copied.Repo.Credentials) == 0 || len(copied.Graph.Credentials) == 0 {
		t.Fatalf("the backup's input carries no sealed credentials: %+v", copied)
	}
	if b, err := codec.BindingOf(copied.Repo.Credentials); err != nil || b.WorkflowID != backupWF || b.Purpose != workflows.PurposeBackup {
		t.Fatalf("the backup's credentials are bound to %+v (%v), want %s for %s", b, err, backupWF, workflows.PurposeBackup)
	}

	restore := workflows.ExchangeRestoreInput{Repo: copied.Repo, Graph: copied.Graph, BackupID: backupID,
		Destination: "Replayed", Collisions: workflows.CollisionCopy, ToResource: to}
	ctx := context.Background()
	start := func(id string, wf any, in any) client.WorkflowRun {
		t.Helper()
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: fleetQueue()}, wf, in)
		if err != nil {
			t.Fatal(err)
		}
		return run
	}

	// Another request: a restore into another mailbox.
	assertRefusedAtOnce(t, "a restore with copied credentials",
		start("corso-restore-exchange-"+randomSuffix(), workflows.ExchangeRestoreWorkflow, restore), "sealed for another request")
	// The backup's own workflow id, reused once it closed, for a restore
	// and for a delete.
	assertRefusedAtOnce(t, "a restore under the backup's workflow id",
		start(backupWF, workflows.ExchangeRestoreWorkflow, restore), "sealed for another kind of request")
	assertRefusedAtOnce(t, "a delete under the backup's workflow id",
		start(backupWF, workflows.BackupDeleteWorkflow, workflows.BackupDeleteInput{Repo: copied.Repo, Service: "exchange", BackupIDs: []string{backupID}}),
		"sealed for another kind of request")

	// A client that writes the header workers pass the request in, naming
	// the backup: a workflow started by a client is its own request,
	// whatever its start header says.
	forged, err := converter.GetDefaultDataConverter().ToPayload(workflows.Request{WorkflowID: backupWF, WorkflowType: "ExchangeBackupWorkflow"})
	if err != nil {
		t.Fatal(err)
	}
	fc, err := client.NewClientFromExisting(c, client.Options{DataConverter: dc, FailureConverter: codec.NewFailureConverter(dc),
		Interceptors: []interceptor.ClientInterceptor{&forgeHeader{payload: forged}}})
	if err != nil {
		t.Fatal(err)
	}
	defer fc.Close()
	run, err := fc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "corso-restore-exchange-" + randomSuffix(), TaskQueue: fleetQueue()},
		workflows.ExchangeRestoreWorkflow, restore)
	if err != nil {
		t.Fatal(err)
	}
	assertRefusedAtOnce(t, "a restore whose start header names the backup", run, "sealed for another request")

	sim := &simClient{sim: tenant}
	if got := sim.contents(t, to, under("Replayed")); len(got) != 0 {
		t.Fatalf("the refused restores wrote %d items into %s", len(got), to)
	}
	if r := a.run(t, "backup", "list", "exchange", "--backup", backupID); r.Code != 0 || !strings.Contains(r.Stdout, backupID) {
		t.Fatalf("the backup is gone after the refused delete:\n%s\n%s", r.Stdout, r.Stderr)
	}

	// The same restore sent in plaintext, as a client without the codec
	// key (or the Web UI's start form without the codec server) sends it.
	raw := rawClient(t)
	run, err = raw.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "corso-restore-exchange-" + randomSuffix(), TaskQueue: fleetQueue()},
		workflows.ExchangeRestoreWorkflow, restore)
	if err != nil {
		t.Fatal(err)
	}
	e := waitClosed(t, run.GetID(), 60*time.Second)
	if st := e.describe.GetWorkflowExecutionInfo().GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_FAILED {
		t.Fatalf("an unencrypted request left %s", st)
	}
	for _, ev := range e.events {
		if ev.GetActivityTaskScheduledEventAttributes() != nil {
			t.Fatal("the worker scheduled an activity for an unencrypted request")
		}
	}
	var appErr *temporal.ApplicationError
	if err := c.GetWorkflow(ctx, run.GetID(), run.GetRunID()).Get(ctx, nil); !errors.As(err, &appErr) || !strings.Contains(appErr.Message(), "unencrypted payload") {
		t.Fatalf("an unencrypted request: want it refused as unencrypted, got %v", err)
	} else {
		t.Logf("unencrypted request refused: %s", appErr.Message())
	}
}

// forgeHeader adds a header to every workflow a client starts.
type forgeHeader struct {
	interceptor.ClientInterceptorBase
	payload *commonpb.Payload
}

func (f *forgeHeader) InterceptClient(next interceptor.ClientOutboundInterceptor) interceptor.ClientOutboundInterceptor {
	return &forgeOutbound{ClientOutboundInterceptorBase: interceptor.ClientOutboundInterceptorBase{Next: next}, payload: f.payload}
}

type forgeOutbound struct {
	interceptor.ClientOutboundInterceptorBase
	payload *commonpb.Payload
}

func (o *forgeOutbound) ExecuteWorkflow(ctx context.Context, in *interceptor.ClientExecuteWorkflowInput) (client.WorkflowRun, error) {
	interceptor.Header(ctx)["corso-request"] = o.payload
	return o.Next.ExecuteWorkflow(ctx, in)
}

// waitClosed waits for a workflow to close and returns it as stored.
func waitClosed(t *testing.T, workflowID string, within time.Duration) execution {
	t.Helper()
	raw := rawClient(t)
	deadline := time.Now().Add(within)
	for {
		d, err := raw.DescribeWorkflowExecution(context.Background(), workflowID, "")
		if err != nil {
			t.Fatal(err)
		}
		if st := d.GetWorkflowExecutionInfo().GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			return waitExecutions(t, "WorkflowId = '"+workflowID+"' AND ExecutionStatus != 'Running'", 1)[0]
		}
		if time.Now().After(deadline) {
			// A workflow task that keeps failing leaves the run open.
			_ = raw.TerminateWorkflow(context.Background(), workflowID, "", "e2e: did not close")
			t.Fatalf("%s still running after %s", workflowID, within)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// TestFailureMessagesAreStoredEncoded backs up a mailbox that does not
// exist: the CLI still prints one clear line naming it, while the history
// Temporal stores holds the failure message only encrypted.
func TestFailureMessagesAreStoredEncoded(t *testing.T) {
	a := newExchangeAdmin(t, tenant, "failure-encoded")
	marker := "nobody-" + randomSuffix() + "@contoso.onmicrosoft.com"
	since := time.Now().UTC().Add(-time.Second)
	mustFail(t, a.run(t, "backup", "create", "exchange", "--mailbox", marker), 30*time.Second, marker)

	_, dc := codecClient(t)
	query := "WorkflowType = 'ExchangeBackupWorkflow' AND ExecutionStatus = 'Failed' AND StartTime >= '" + since.Format(time.RFC3339) + "'"
	found := false
	for _, e := range waitExecutions(t, query, 1) {
		if bytes.Contains(e.storedBytes(t), []byte(marker)) {
			t.Errorf("workflow %s as stored holds %q in plaintext", e.id, marker)
		}
		for _, ev := range e.events {
			for _, f := range failuresIn(ev) {
				if strings.Contains(f.GetMessage(), marker) || strings.Contains(f.GetStackTrace(), marker) {
					t.Errorf("%s %s: failure message %q in plaintext", e.id, ev.GetEventType(), f.GetMessage())
				}
				if f.GetEncodedAttributes() == nil {
					continue
				}
				var attrs struct {
					Message string `json:"message"`
				}
				if err := dc.FromPayload(f.GetEncodedAttributes(), &attrs); err != nil {
					t.Fatalf("%s: decode the failure's attributes: %v", e.id, err)
				}
				if strings.Contains(attrs.Message, marker) {
					found = true
				}
			}
		}
	}
	if !found {
		t.Fatalf("no encoded failure of the runs since %s names %s", since.Format(time.RFC3339), marker)
	}
}
