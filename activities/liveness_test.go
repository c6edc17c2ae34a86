package activities

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/corso-temporal/corso/workflows"
)

// A short activity is kept alive by the worker while it runs, so that it
// may have a heartbeat timeout of a minute without heartbeating itself; an
// activity with a heartbeat timeout of its own kind is left alone.
func TestShortActivitiesAreKeptAliveByTheWorker(t *testing.T) {
	for _, tc := range []struct {
		name      string
		timeout   time.Duration
		wantBeats bool
	}{{"short", workflows.ShortHeartbeatTimeout, true}, {"checkpointing", 30 * time.Second, false}} {
		t.Run(tc.name, func(t *testing.T) {
			var ts testsuite.WorkflowTestSuite
			env := ts.NewTestWorkflowEnvironment()
			env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{LivenessInterceptor(20 * time.Millisecond)}})
			slow := func(ctx context.Context) error { time.Sleep(300 * time.Millisecond); return nil }
			env.RegisterActivityWithOptions(slow, activity.RegisterOptions{Name: "slow"})
			env.RegisterWorkflowWithOptions(func(ctx workflow.Context) error {
				ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute, HeartbeatTimeout: tc.timeout})
				return workflow.ExecuteActivity(ctx, "slow").Get(ctx, nil)
			}, workflow.RegisterOptions{Name: "wf"})
			var beats atomic.Int32
			env.SetOnActivityHeartbeatListener(func(*activity.Info, converter.EncodedValues) { beats.Add(1) })
			env.ExecuteWorkflow("wf")
			require.NoError(t, env.GetWorkflowError())
			if tc.wantBeats {
				// The SDK sends heartbeats on at most every 80% of the
				// timeout; the first one is sent at once.
				require.Positive(t, beats.Load())
			} else {
				require.Zero(t, beats.Load())
			}
		})
	}
}

// A keep-alive heartbeat repeats the checkpoint an activity recorded; it
// never replaces it with nothing, nor the checkpoint of an earlier attempt
// before the activity records its own.
func TestKeepAliveRepeatsTheLastCheckpoint(t *testing.T) {
	ctx := context.Background()
	sent := &sentHeartbeats{}
	o := &lastHeartbeat{ActivityOutboundInterceptorBase: interceptor.ActivityOutboundInterceptorBase{Next: sent}}

	o.repeat(ctx, true)
	require.Empty(t, sent.all, "resumed from a checkpoint, none recorded yet: nothing sent")
	o.repeat(ctx, false)
	require.Equal(t, [][]any{nil}, sent.all, "a short activity without a checkpoint: an empty heartbeat")

	sent.all = nil
	o.RecordHeartbeat(ctx, "checkpoint 1")
	o.repeat(ctx, true)
	o.repeat(ctx, false)
	require.Equal(t, [][]any{{"checkpoint 1"}, {"checkpoint 1"}, {"checkpoint 1"}}, sent.all)
}

// sentHeartbeats records the heartbeats that reach the SDK.
type sentHeartbeats struct {
	interceptor.ActivityOutboundInterceptorBase
	all [][]any
}

func (s *sentHeartbeats) RecordHeartbeat(_ context.Context, details ...any) {
	s.all = append(s.all, details)
}
