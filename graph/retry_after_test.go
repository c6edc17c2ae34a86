package graph

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/corso-temporal/corso/m365"
)

// No Retry-After, however long, parks a worker (or through the drive
// budget, the fleet) for longer than m365.MaxRetryAfter.
func TestRetryAfterIsCapped(t *testing.T) {
	inADay := time.Now().Add(24 * time.Hour).UTC().Format(http.TimeFormat)
	for _, c := range []struct {
		header string
		want   time.Duration
	}{
		{"30", 30 * time.Second},
		{"1.5", 1500 * time.Millisecond},
		{"300", m365.MaxRetryAfter},
		{"86400", m365.MaxRetryAfter},
		{"1e300", m365.MaxRetryAfter},
		{"Inf", m365.MaxRetryAfter},
		{inADay, m365.MaxRetryAfter},
		{time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat), 0},
	} {
		got, ok := retryAfter(http.Header{"Retry-After": {c.header}})
		if !ok || got != c.want {
			t.Errorf("Retry-After: %s gives %v (%v), want %v", c.header, got, ok, c.want)
		}
	}
	for _, bad := range []string{"", "soon", "-5", "NaN"} {
		if got, ok := retryAfter(http.Header{"Retry-After": {bad}}); ok {
			t.Errorf("Retry-After: %q read as %v", bad, got)
		}
	}
}

// A throttled answer asking for a day reaches the caller as a
// ThrottledError asking for MaxRetryAfter, which the activity hands to
// Temporal as the next retry's delay.
func TestDayLongThrottlingComesBackCapped(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(nil)
	msgs := inboxMessages(t, e, c)
	e.control(http.MethodPut, "throttle", map[string]any{"mailboxRequests": 1, "retryAfterSeconds": 86400}, nil)
	var err error
	for _, m := range msgs[:2] {
		var body interface{ Close() error }
		if body, err = c.FetchItem(context.Background(), e.user(0).ID, Email, m.ID); err == nil {
			body.Close()
		}
	}
	var te *ThrottledError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v, want a ThrottledError", err)
	}
	if te.RetryAfter != m365.MaxRetryAfter {
		t.Fatalf("ThrottledError asks to wait %v (Graph said %ss), want the cap %v", te.RetryAfter, strconv.Itoa(86400), m365.MaxRetryAfter)
	}
}
