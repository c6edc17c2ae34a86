package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"

	"github.com/corso-temporal/corso/workflows"
)

// LivenessInterceptor heartbeats every interval for each short activity
// (scheduled with workflows.ShortHeartbeatTimeout) while it runs on this
// worker. A short activity keeps no checkpoint, so its heartbeats carry
// nothing but the worker's liveness: if the worker dies, Temporal retries
// the activity elsewhere within that timeout instead of its 30-minute
// start-to-close. Activities with checkpoints heartbeat themselves.
func LivenessInterceptor(every time.Duration) interceptor.WorkerInterceptor {
	return &livenessInterceptor{every: every}
}

type livenessInterceptor struct {
	interceptor.WorkerInterceptorBase
	every time.Duration
}

func (l *livenessInterceptor) InterceptActivity(_ context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	return &livenessInbound{ActivityInboundInterceptorBase: interceptor.ActivityInboundInterceptorBase{Next: next}, every: l.every}
}

type livenessInbound struct {
	interceptor.ActivityInboundInterceptorBase
	every time.Duration
}

func (l *livenessInbound) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	if activity.GetInfo(ctx).HeartbeatTimeout == workflows.ShortHeartbeatTimeout {
		stop := keepAlive(ctx, l.every, func() { heartbeat(ctx) })
		defer stop()
	}
	return l.Next.ExecuteActivity(ctx, in)
}

// LivenessEvery is how often LivenessInterceptor heartbeats on workers.
const LivenessEvery = keepAliveEvery
