package activities

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/corso-temporal/corso/m365"
)

// An activity with a heartbeat timeout of its own is kept alive by the
// worker while one of its requests waits for its turn (m365.KeepAlive),
// with its last checkpoint repeated; a wait as long without it is taken
// for a dead worker.
func TestWaitingRequestsKeepACheckpointingActivityAlive(t *testing.T) {
	for _, tc := range []struct {
		name string
		wait bool
	}{{"waiting", true}, {"working", false}} {
		t.Run(tc.name, func(t *testing.T) {
			var ts testsuite.WorkflowTestSuite
			env := ts.NewTestWorkflowEnvironment()
			env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{LivenessInterceptor(20 * time.Millisecond)}})
			act := func(ctx context.Context) error {
				activity.RecordHeartbeat(ctx, "checkpoint")
				if tc.wait {
					stop := m365.KeepAlive(ctx)
					defer stop()
				}
				time.Sleep(300 * time.Millisecond)
				return nil
			}
			env.RegisterActivityWithOptions(act, activity.RegisterOptions{Name: "paced"})
			env.RegisterWorkflowWithOptions(func(ctx workflow.Context) error {
				ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute, HeartbeatTimeout: 100 * time.Millisecond,
					RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1}})
				return workflow.ExecuteActivity(ctx, "paced").Get(ctx, nil)
			}, workflow.RegisterOptions{Name: "wf"})
			var mu sync.Mutex
			var beats []string
			env.SetOnActivityHeartbeatListener(func(_ *activity.Info, d converter.EncodedValues) {
				var s string
				_ = d.Get(&s)
				mu.Lock()
				beats = append(beats, s)
				mu.Unlock()
			})
			env.ExecuteWorkflow("wf")
			if !tc.wait {
				require.ErrorContains(t, env.GetWorkflowError(), "Heartbeat", "a silent wait is a heartbeat timeout")
				return
			}
			require.NoError(t, env.GetWorkflowError())
			mu.Lock()
			defer mu.Unlock()
			require.Greater(t, len(beats), 1, "kept alive while waiting")
			for _, b := range beats {
				require.Equal(t, "checkpoint", b, "a keep-alive repeats the checkpoint")
			}
		})
	}
}
