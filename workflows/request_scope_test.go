package workflows

import (
	"context"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// TestActivitiesOfChildWorkflowsWorkForTheRoot: the request interceptor
// tells the activities of a request's root workflow, of its child
// workflows and its local activities which request they work for: the
// root's id and type, whose purpose the credentials were sealed for, and
// its run.
func TestActivitiesOfChildWorkflowsWorkForTheRoot(t *testing.T) {
	probe := func(ctx context.Context) (Request, error) { return RequestOfActivity(ctx), nil }
	opts := func(ctx workflow.Context) workflow.Context {
		return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	}
	child := func(ctx workflow.Context) ([]Request, error) {
		var r Request
		err := workflow.ExecuteActivity(opts(ctx), "probe").Get(ctx, &r)
		return []Request{r}, err
	}
	root := func(ctx workflow.Context) ([]Request, error) {
		var out []Request
		var r Request
		if err := workflow.ExecuteActivity(opts(ctx), "probe").Get(ctx, &r); err != nil {
			return nil, err
		}
		out = append(out, r)
		lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: time.Minute})
		if err := workflow.ExecuteLocalActivity(lctx, probe).Get(ctx, &r); err != nil {
			return nil, err
		}
		out = append(out, r)
		var fromChild []Request
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowID: "corso-backup-child"})
		if err := workflow.ExecuteChildWorkflow(cctx, "MailboxBackupWorkflow").Get(ctx, &fromChild); err != nil {
			return nil, err
		}
		return append(out, fromChild...), nil
	}

	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{RequestInterceptor()}})
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: "corso-backup-exchange-0a1b2c"})
	env.RegisterWorkflowWithOptions(root, workflow.RegisterOptions{Name: "ExchangeBackupWorkflow"})
	env.RegisterWorkflowWithOptions(child, workflow.RegisterOptions{Name: "MailboxBackupWorkflow"})
	env.RegisterActivityWithOptions(probe, activity.RegisterOptions{Name: "probe"})
	env.ExecuteWorkflow("ExchangeBackupWorkflow")
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var got []Request
	if err := env.GetWorkflowResult(&got); err != nil {
		t.Fatal(err)
	}
	want := Request{WorkflowID: "corso-backup-exchange-0a1b2c", WorkflowType: "ExchangeBackupWorkflow"}
	if len(got) != 3 {
		t.Fatalf("got %d requests, want 3: %+v", len(got), got)
	}
	// The root's first run, which a schedule's list of its runs names.
	if want.RunID = got[0].RunID; want.RunID == "" {
		t.Errorf("the root's activity has no run id: %+v", got[0])
	}
	for i, what := range []string{"the root's activity", "the root's local activity", "the child's activity"} {
		if got[i] != want {
			t.Errorf("%s works for %+v, want %+v", what, got[i], want)
		}
	}
	if p := got[2].Purpose(); p != PurposeBackup {
		t.Errorf("purpose %q, want %q", p, PurposeBackup)
	}
}

func TestEveryRequestWorkflowHasAPurpose(t *testing.T) {
	children := map[string]bool{workflowName(MailboxBackupWorkflow): true, workflowName(ResourceDrivesBackupWorkflow): true,
		workflowName(DriveBudgetWorkflow): true}
	for _, wf := range All() {
		name := workflowName(wf)
		if p := PurposeOf(wf); (p == "") != children[name] {
			t.Errorf("%s has purpose %q", name, p)
		}
	}
}
