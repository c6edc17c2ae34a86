package activities

import (
	"context"
	"sync"
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

// keepAlive calls beat, which heartbeats, every interval until stop is
// called; stop returns once beat no longer runs. Long waits (for the
// tenant's budget or a slot, for a record or a flush that sends no
// heartbeat of its own) say nothing about the worker's health; without it
// Temporal would take them for a dead worker.
func keepAlive(ctx context.Context, every time.Duration, beat func()) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				beat()
			case <-done:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}
