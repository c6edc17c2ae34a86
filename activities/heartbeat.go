package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
)

// heartbeat records details as the activity's progress, detached from
// ctx's cancellation. The SDK sends throttled heartbeats later, with the
// context of the call that opened the throttling window; if that context
// has ended by then (a folder's worth of concurrent work is done, one of
// its goroutines failed), the call fails, and the SDK takes the failure for
// a lost server and cancels the whole activity. The activity's goroutines
// heartbeat with contexts that end before it does, so every heartbeat goes
// through here.
func heartbeat(ctx context.Context, details ...any) {
	activity.RecordHeartbeat(context.WithoutCancel(ctx), details...)
}

// keepAliveEvery is well inside the heartbeat timeouts of the workflows'
// long activities.
const keepAliveEvery = 10 * time.Second

// keepAlive heartbeats details() every keepAliveEvery until stop is
// called. Drive requests may wait long for the tenant's budget or a slot,
// waits that say nothing about the worker's health; without it Temporal
// would take them for a dead worker.
func keepAlive(ctx context.Context, details func() any) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(keepAliveEvery)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				heartbeat(ctx, details())
			case <-done:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return func() { close(done) }
}
