package activities

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLargeFilesWaitForASlotSmallOnesDoNot(t *testing.T) {
	s := newStreamSlots()
	ctx := context.Background()
	var held []func()
	for range largeFileStreams {
		release, err := s.acquire(ctx, largeFileSize, func() {})
		require.NoError(t, err)
		held = append(held, release)
	}
	// Every slot is taken: small files still pass.
	release, err := s.acquire(ctx, largeFileSize-1, func() {})
	require.NoError(t, err)
	release()

	// A large one waits until its context ends...
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err = s.acquire(short, 1<<30, func() {})
	require.ErrorIs(t, err, context.DeadlineExceeded)

	// ...or a slot is given back.
	got := make(chan error, 1)
	go func() {
		release, err := s.acquire(ctx, 1<<30, func() {})
		if err == nil {
			release()
		}
		got <- err
	}()
	held[0]()
	require.NoError(t, <-got)
}
