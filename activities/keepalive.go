package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
)

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
				activity.RecordHeartbeat(ctx, details())
			case <-done:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return func() { close(done) }
}
