package graph

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

// inboxMessages enumerates user 0's inbox.
func inboxMessages(t *testing.T, e *env, c *Client) []Change {
	t.Helper()
	mail, err := c.Containers(context.Background(), e.user(0).ID, Email)
	if err != nil {
		t.Fatal(err)
	}
	ch, _, _ := enumerate(t, c, e.user(0).ID, Email, containerByPath(t, mail, "Inbox").ID, "")
	if len(ch) < 8 {
		t.Fatalf("inbox has %d messages", len(ch))
	}
	return ch
}

func TestThrottling(t *testing.T) {
	t.Run("short throttling is retried inside", func(t *testing.T) {
		e := newEnv(t, nil)
		c := e.client(nil)
		msgs := inboxMessages(t, e, c)
		e.control(http.MethodPut, "faults", map[string]any{"seed": 5, "rate429": 0.25, "classes": []string{"mail.message.mime"}}, nil)
		for _, m := range msgs[:8] {
			fetchHash(t, c, e.user(0).ID, Email, m.ID)
		}
		sim := e.simStats()
		st := c.Stats()
		if sim.Faults["429"] == 0 || st.Throttled != sim.Faults["429"] || st.Retries != sim.Faults["429"] {
			t.Fatalf("simulator sent %d 429s; client saw %d throttled, %d retries", sim.Faults["429"], st.Throttled, st.Retries)
		}
		if st.Requests["message.mime"] != 8+st.Retries {
			t.Errorf("message.mime requests %d, want %d", st.Requests["message.mime"], 8+st.Retries)
		}
	})

	t.Run("long Retry-After goes back to the caller", func(t *testing.T) {
		e := newEnv(t, nil)
		c := e.client(nil)
		msgs := inboxMessages(t, e, c)
		e.control(http.MethodPut, "throttle", map[string]any{"mailboxRequests": 1, "retryAfterSeconds": 120}, nil)
		start := time.Now()
		var err error
		for _, m := range msgs[:2] {
			var body interface{ Close() error }
			if body, err = c.FetchItem(context.Background(), e.user(0).ID, Email, m.ID); err == nil {
				body.Close()
			}
		}
		var te *ThrottledError
		if !errors.As(err, &te) || te.RetryAfter != 120*time.Second {
			t.Fatalf("err = %v, want ThrottledError after 120s", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("took %v: the client slept on a long Retry-After", d)
		}
	})

	t.Run("throttling that outlasts the retries", func(t *testing.T) {
		e := newEnv(t, nil)
		c := e.client(nil)
		msgs := inboxMessages(t, e, c)
		e.control(http.MethodPut, "faults", map[string]any{"rate503": 1, "classes": []string{"mail.message.mime"}}, nil)
		_, err := c.FetchItem(context.Background(), e.user(0).ID, Email, msgs[0].ID)
		var te *ThrottledError
		if !errors.As(err, &te) || te.RetryAfter != time.Second {
			t.Fatalf("err = %v, want ThrottledError after 1s", err)
		}
		if n := c.Stats().Requests["message.mime"]; n != 1+maxThrottleRetries {
			t.Errorf("%d attempts, want %d", n, 1+maxThrottleRetries)
		}
	})
}

// Resets and 500/502 answers, which kiota does not retry, are retried by
// the client; the results are as if nothing happened.
func TestTransientFailuresAreRetried(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(nil)
	u := e.user(0)
	e.control(http.MethodPut, "faults", map[string]any{"seed": 2, "errorRate": 0.2, "errorStatuses": []int{500, 502},
		"resetRate": 0.1, "classes": []string{"mail."}}, nil)
	mail, err := c.Containers(context.Background(), u.ID, Email)
	if err != nil {
		t.Fatal(err)
	}
	inbox := containerByPath(t, mail, "Inbox")
	want := items(e.state(u.ID, "mail"), inbox.ID)
	changes, _, _ := enumerate(t, c, u.ID, Email, inbox.ID, "")
	if len(changes) != len(want) {
		t.Fatalf("%d messages, state has %d", len(changes), len(want))
	}
	for _, ch := range changes {
		if hash, _ := fetchHash(t, c, u.ID, Email, ch.ID); hash != want[ch.ID].Hash {
			t.Errorf("%s: content differs", ch.ID)
		}
	}
	// net/http itself retries a GET whose reused connection died before
	// any answer, so not every reset reaches the client's retry.
	sim := e.simStats()
	answered := sim.Faults["500"] + sim.Faults["502"]
	if answered == 0 || sim.Faults["reset"] == 0 || c.Stats().Retries < answered || c.Stats().Retries > answered+sim.Faults["reset"] {
		t.Fatalf("simulator injected %v; client retried %d times", sim.Faults, c.Stats().Retries)
	}
}
