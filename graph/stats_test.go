package graph

import (
	"net/http"
	"testing"
)

// Throttled answers are counted by the kind of request that got them, and
// every kind a backup sends belongs to a service.
func TestStatsCountThrottledAnswersByKind(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(nil)
	msgs := inboxMessages(t, e, c)
	e.control(http.MethodPut, "faults", map[string]any{"seed": 5, "rate429": 0.25, "classes": []string{"mail.message.mime"}}, nil)
	for _, m := range msgs[:8] {
		fetchHash(t, c, e.user(0).ID, Email, m.ID)
	}
	st := c.Stats()
	if st.Throttled == 0 || st.Throttles["message.mime"] != st.Throttled {
		t.Fatalf("throttled %d, by kind %v: want all of them on message.mime", st.Throttled, st.Throttles)
	}
	for kind := range st.Requests {
		if ServiceOf(kind) == "other" {
			t.Errorf("request kind %q belongs to no service", kind)
		}
	}
	for kind, want := range map[string]string{
		"message.mime": "exchange", "contactFolders.get": "exchange", "event.attachments": "exchange", "mailbox.probe": "exchange",
		"drive.download": "drive", "sites.list": "drive", "users.list": "directory", "auth.token": "auth",
	} {
		if got := ServiceOf(kind); got != want {
			t.Errorf("ServiceOf(%q) = %q, want %q", kind, got, want)
		}
	}
}
