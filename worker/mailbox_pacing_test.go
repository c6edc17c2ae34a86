package main

import (
	"context"
	"strings"
	"testing"
)

// A mailbox rate that is not a number of requests a minute stops the
// worker before it does anything else, with one line naming the setting.
func TestWorkerRefusesABadMailboxRate(t *testing.T) {
	err := run(context.Background(), options{logLevel: "info", mailboxRPM: -5})
	if err == nil || !strings.Contains(err.Error(), "--mailbox-requests-per-minute") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("run with -5 requests a minute: %v, want a one-line error naming --mailbox-requests-per-minute", err)
	}
	t.Setenv("CORSO_MAILBOX_REQUESTS_PER_MINUTE", "lots")
	err = run(context.Background(), options{logLevel: "info"})
	if err == nil || !strings.Contains(err.Error(), "CORSO_MAILBOX_REQUESTS_PER_MINUTE") {
		t.Fatalf("run with CORSO_MAILBOX_REQUESTS_PER_MINUTE=lots: %v, want an error naming it", err)
	}
}
