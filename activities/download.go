package activities

import (
	"context"
	"errors"
	"io"

	"go.temporal.io/sdk/activity"

	"github.com/corso-temporal/corso/m365"
)

// downloadAttempts bounds the downloads of one item that broke off midway
// (or, for a file, whose bytes did not match its listing). What was
// stored already is deduplicated, so a retry costs only the download.
const downloadAttempts = 3

// repositoryWriteError is an item that could not be stored: the
// repository's failure, not the item's.
type repositoryWriteError struct{ err error }

func (e repositoryWriteError) Error() string { return e.err.Error() }

// brokenOffIsTheItemsFrom is the activity attempt from which a download
// that keeps breaking off is taken for the item's own failure.
const brokenOffIsTheItemsFrom = 3

// brokenOff is a download that broke off midway every time it was tried.
type brokenOff struct{ err error }

func (e brokenOff) Error() string { return "download kept breaking off: " + e.err.Error() }
func (e brokenOff) Unwrap() error { return e.err }

// notTheItem returns the error that stops the activity when an item's
// failure is not the item's own: the repository failed, the app was
// refused, the resource is denied or gone, Graph throttles, the context
// ended. The activity is then retried as a whole. nil means the item alone
// failed: the backup records it and goes on (or stops, with --fail-fast).
func notTheItem(ctx context.Context, err error) error {
	var rerr repositoryWriteError
	if errors.As(err, &rerr) {
		return repositoryError(rerr.err)
	}
	var broke brokenOff
	if errors.As(err, &broke) && activity.IsActivity(ctx) && activity.GetInfo(ctx).Attempt < brokenOffIsTheItemsFrom {
		// Maybe the network, not the item: retry the activity, with
		// backoff, from its last checkpoint.
		return graphError(err)
	}
	var throttled *m365.ThrottledError
	switch class, _ := m365.FaultOf(err); {
	case errors.Is(err, m365.ErrAuth), class == m365.ResourceDenied, class == m365.ResourceUnavailable, class == m365.RunFailed,
		errors.As(err, &throttled), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return graphError(err)
	}
	return nil
}

// sourceReader remembers read errors so a broken download is told apart
// from a repository write failure, and calls tick every few MiB so a long
// download keeps heartbeating.
type sourceReader struct {
	r     io.Reader
	err   error
	tick  func()
	since int
}

const heartbeatEveryBytes = 4 << 20

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		s.err = err
	}
	if s.since += n; s.since >= heartbeatEveryBytes && s.tick != nil {
		s.since = 0
		s.tick()
	}
	return n, err
}
