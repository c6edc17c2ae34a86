package activities

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPoolRunsAtMostNAtOnceAndEveryItem(t *testing.T) {
	var running, most, sum atomic.Int64
	items := []int64{1, 2, 3, 4, 5, 6, 7, 8}
	err := concurrently(context.Background(), 3, items, func(_ context.Context, v int64) error {
		n := running.Add(1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		sum.Add(v)
		running.Add(-1)
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, int64(36), sum.Load())
	require.LessOrEqual(t, most.Load(), int64(3))
}

func TestPoolFirstErrorCancelsTheRestAndIsReturned(t *testing.T) {
	boom := errors.New("boom")
	var started atomic.Int64
	err := concurrently(context.Background(), 2, make([]int, 100), func(ctx context.Context, _ int) error {
		if started.Add(1) == 1 {
			return boom
		}
		<-ctx.Done()
		return ctx.Err()
	})
	require.ErrorIs(t, err, boom)
	require.Less(t, started.Load(), int64(100), "items not yet started are left")
}

func TestPoolReturnsTheCallersCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := concurrently(ctx, 2, []int{1, 2, 3}, func(context.Context, int) error { return nil })
	require.ErrorIs(t, err, context.Canceled)
}

func TestKeepAliveBeatsUntilStoppedAndNotAfter(t *testing.T) {
	var mu sync.Mutex
	beats := 0
	stop := keepAlive(context.Background(), time.Millisecond, func() {
		mu.Lock()
		beats++
		mu.Unlock()
	})
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return beats >= 3 }, time.Second, time.Millisecond)
	stop()
	mu.Lock()
	after := beats
	mu.Unlock()
	time.Sleep(10 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, after, beats, "no beat once stop has returned")
}
