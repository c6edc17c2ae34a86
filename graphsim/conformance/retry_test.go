package conformance

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/corso-temporal/corso/graphsim"
)

// TestRetryHandlerWaitsOutRetryAfterAndSendsRetryAttempt throttles a user
// read with the Rate429 fault at 1.0 for two attempts, then lifts it: the
// SDK's default RetryHandler honours Retry-After: 1 twice, numbers its
// retries with Retry-Attempt 1 and 2, and the call succeeds; /_sim/stats
// counts the two retries and the two injected 429s.
func TestRetryHandlerWaitsOutRetryAfterAndSendsRetryAttempt(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	u := e.user0()
	const throttled = 2
	e.control(http.MethodPut, "faults", map[string]any{"rate429": 1.0, "classes": []string{"users.get"}}, nil)
	e.control(http.MethodDelete, "stats", nil, nil)
	var n atomic.Int32
	e.setHook(func(r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1.0/users/") && n.Add(1) == throttled+1 {
			e.sim.SetFaults(graphsim.FaultOptions{})
		}
	})

	start := time.Now()
	got, err := e.client.Users().ByUserId(u.UPN).Get(e.ctx, nil)
	elapsed := time.Since(start)
	if err != nil {
		t.Fatalf("user read after throttling: %v", err)
	}
	if deref(got.GetId()) != u.ID {
		t.Errorf("user id %q, want %q", deref(got.GetId()), u.ID)
	}
	if elapsed < throttled*time.Second-100*time.Millisecond {
		t.Errorf("took %s; Retry-After: 1 twice should take about %ds", elapsed, throttled)
	}

	reqs := e.requests("/v1.0/users/")
	if len(reqs) != throttled+1 {
		t.Fatalf("%d attempts, want %d: %+v", len(reqs), throttled+1, reqs)
	}
	for i, r := range reqs {
		wantStatus, wantAttempt := http.StatusTooManyRequests, ""
		if i == throttled {
			wantStatus = http.StatusOK
		}
		if i > 0 {
			wantAttempt = string(rune('0' + i))
		}
		if r.Status != wantStatus || r.RetryAtt != wantAttempt || !r.Auth {
			t.Errorf("attempt %d: status %d Retry-Attempt %q auth %v; want %d %q with auth", i, r.Status, r.RetryAtt, r.Auth, wantStatus, wantAttempt)
		}
		if wantStatus == http.StatusTooManyRequests && r.RetryAfter != "1" {
			t.Errorf("attempt %d: Retry-After %q, want 1", i, r.RetryAfter)
		}
	}

	st := e.stats()
	if st.RetryAttempts != throttled {
		t.Errorf("stats retryAttempts %d, want %d", st.RetryAttempts, throttled)
	}
	if st.Faults["429"] != throttled {
		t.Errorf("stats faults[429] %d, want %d", st.Faults["429"], throttled)
	}
	if c := st.Requests["users.get"]; c["429"] != throttled || c["200"] != 1 {
		t.Errorf("stats requests[users.get] %v, want 429:%d 200:1", c, throttled)
	}
}
