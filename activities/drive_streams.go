package activities

import (
	"context"
	"time"
)

// A file streams into the repository through kopia's splitter, compressor
// and encryption, each holding up to a chunk (several MiB) of it: memory
// grows with the number of large files a worker streams at once, not with
// their size. Large files wait for one of a few slots per worker, whatever
// the batch; smaller ones pass.
const (
	largeFileSize    = 8 << 20
	largeFileStreams = 2
	// slotHeartbeat keeps a batch waiting for a slot alive in Temporal's
	// eyes.
	slotHeartbeat = 10 * time.Second
)

// streamSlots are a worker's slots for large files.
type streamSlots chan struct{}

func newStreamSlots() streamSlots { return make(streamSlots, largeFileStreams) }

// acquire takes a slot for a file of size bytes, calling beat while it
// waits, and returns what gives it back.
func (s streamSlots) acquire(ctx context.Context, size int64, beat func()) (func(), error) {
	if size < largeFileSize {
		return func() {}, nil
	}
	t := time.NewTicker(slotHeartbeat)
	defer t.Stop()
	for {
		select {
		case s <- struct{}{}:
			return func() { <-s }, nil
		case <-t.C:
			beat()
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
