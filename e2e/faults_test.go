package e2e

// The fault matrix: each TestFault... row breaks one thing an operator
// meets and checks the product fails clearly and promptly, or recovers.

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/corso-temporal/corso/localstack"
)

// After every worker of a task queue stopped, Temporal still lists their
// pollers for minutes. A request submitted then is withdrawn after
// --worker-wait, with a one-line error, instead of waiting for ever.
func TestFaultNoLiveWorkerWithdrawsTheRequest(t *testing.T) {
	const queue = "e2e-fault-workers-gone"
	w, err := dev.StartWorker(queue, nil, "--task-queue", queue)
	if err != nil {
		t.Fatal(err)
	}
	c := rawClient(t)
	pollers := func() int {
		tq, err := c.DescribeTaskQueue(context.Background(), queue, enumspb.TASK_QUEUE_TYPE_WORKFLOW)
		if err != nil {
			t.Fatal(err)
		}
		return len(tq.GetPollers())
	}
	for deadline := time.Now().Add(15 * time.Second); pollers() == 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the worker on %s never polled", queue)
		}
	}
	// A crash: nothing tells Temporal the worker is gone.
	_ = w.Process.Kill()
	_ = w.Wait()
	if pollers() == 0 {
		t.Fatalf("Temporal forgot the stopped worker's poller on %s: the case this row checks did not arise", queue)
	}

	a := newAdmin(t, "workers-gone-passphrase")
	env := map[string]string{"CORSO_PASSPHRASE": a.passphrase}
	args := append(repoCmd("connect", "fault-workers-gone"), "--task-queue", queue, "--worker-wait", "3s", "--config-file", a.config)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	r, err := dev.Corso(ctx, env, args...)
	if err != nil {
		t.Fatal(err)
	}
	recordCLI(env, args, r)
	mustFail(t, r, 30*time.Second, "no corso-worker picked up", "within --worker-wait 3s", "withdrawn")
	for _, e := range waitExecutions(t, fmt.Sprintf("TaskQueue = '%s' AND ExecutionStatus != 'Running'", queue), 1) {
		if st := e.describe.GetWorkflowExecutionInfo().GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED {
			t.Errorf("workflow %s left %s, want terminated", e.id, st)
		}
	}
}

// kopia allows one writer per config and cache folder: a second worker on
// a --data-dir in use refuses to start and names the one holding it.
func TestFaultSecondWorkerOnADataDirIsRefused(t *testing.T) {
	const name = "e2e-fault-data-dir"
	first, err := dev.StartWorker(name, nil, "--task-queue", name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { localstack.Terminate(first) })
	dir := filepath.Join(dev.Dir, name) // StartWorker's --data-dir

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	second := exec.CommandContext(ctx, filepath.Join(dev.BinDir, "corso-worker"),
		"--identity", name+"-second", "--data-dir", dir, "--task-queue", name)
	second.Env = dev.Environ(nil)
	var stderr bytes.Buffer
	second.Stderr = &stderr
	start := time.Now()
	err = second.Run()
	took := time.Since(start)
	if err == nil || ctx.Err() != nil {
		t.Fatalf("second worker on %s: %v after %s, want a refusal\n%s", dir, err, took, stderr.String())
	}
	msg := strings.TrimSpace(stderr.String())
	if strings.Contains(msg, "\n") {
		t.Errorf("error is not one line:\n%s", msg)
	}
	for _, want := range []string{dir, fmt.Sprintf("pid %d", first.Process.Pid)} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not name %q", msg, want)
		}
	}
	if took > 10*time.Second {
		t.Errorf("took %s to refuse", took)
	}
}
