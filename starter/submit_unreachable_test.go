package main

import (
	"context"
	"errors"
	"testing"

	"go.temporal.io/api/serviceerror"
)

// A Temporal that cannot be reached for a moment is asked again; an
// answer, or the CLI's own end, is final.
func TestTemporalUnreachable(t *testing.T) {
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		err  error
		want bool
	}{
		{"server down", context.Background(), serviceerror.NewUnavailable("connection refused"), true},
		{"call timed out", context.Background(), serviceerror.NewDeadlineExceeded("context deadline exceeded"), true},
		{"workflow gone", context.Background(), serviceerror.NewNotFound("workflow not found"), false},
		{"refused", context.Background(), errors.New("permission denied"), false},
		{"the CLI ended", ended, serviceerror.NewUnavailable("connection refused"), false},
	} {
		if got := temporalUnreachable(tc.ctx, tc.err); got != tc.want {
			t.Errorf("%s: unreachable %v, want %v", tc.name, got, tc.want)
		}
	}
}
