package activities

import (
	"context"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"

	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/workflows"
)

// LivenessInterceptor heartbeats every interval for each activity
// scheduled with workflows.ShortHeartbeatTimeout while it runs on this
// worker, so that a dead worker is noticed within that timeout rather than
// the activity's start-to-close. A keep-alive heartbeat repeats the details
// the activity last recorded: it never replaces a checkpoint with nothing.
// Until an activity resumed from an earlier attempt's checkpoint records
// one of its own, it is left to heartbeat itself.
func LivenessInterceptor(every time.Duration) interceptor.WorkerInterceptor {
	return &livenessInterceptor{every: every}
}

// LivenessEvery is how often LivenessInterceptor heartbeats on workers.
const LivenessEvery = keepAliveEvery

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
	out   *lastHeartbeat
}

func (l *livenessInbound) Init(outbound interceptor.ActivityOutboundInterceptor) error {
	l.out = &lastHeartbeat{ActivityOutboundInterceptorBase: interceptor.ActivityOutboundInterceptorBase{Next: outbound}}
	return l.Next.Init(l.out)
}

func (l *livenessInbound) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	resumed := activity.HasHeartbeatDetails(ctx)
	beat := func() { l.out.repeat(ctx, resumed) }
	if activity.GetInfo(ctx).HeartbeatTimeout == workflows.ShortHeartbeatTimeout {
		stop := keepAlive(ctx, l.every, beat)
		defer stop()
	} else if activity.GetInfo(ctx).HeartbeatTimeout > 0 {
		// A request waiting for its share of a resource's rate keeps the
		// activity alive as long as it waits (m365.KeepAlive).
		ctx = m365.WithKeepAlive(ctx, func() func() { return keepAlive(ctx, l.every, beat) })
	}
	return l.Next.ExecuteActivity(ctx, in)
}

// lastHeartbeat remembers the details of the activity's last heartbeat.
type lastHeartbeat struct {
	interceptor.ActivityOutboundInterceptorBase
	mu      sync.Mutex
	details []any
	sent    bool
}

func (o *lastHeartbeat) RecordHeartbeat(ctx context.Context, details ...any) {
	o.mu.Lock()
	o.details, o.sent = details, true
	o.mu.Unlock()
	o.Next.RecordHeartbeat(ctx, details...)
}

// repeat sends the last details again; with none sent yet, nothing when
// the attempt resumed from a checkpoint, else an empty heartbeat.
func (o *lastHeartbeat) repeat(ctx context.Context, resumed bool) {
	o.mu.Lock()
	details, sent := o.details, o.sent
	o.mu.Unlock()
	if !sent && resumed {
		return
	}
	o.Next.RecordHeartbeat(context.WithoutCancel(ctx), details...)
}
