package graphsim

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

// teamsOf returns the ids of the tenant's teams and each one's first
// channel.
func teamsOf(t *testing.T, h *harness) (teams, channels []string) {
	t.Helper()
	h.sim.t.directory()
	for _, g := range h.sim.t.groups {
		if !g.isTeam {
			continue
		}
		chs := h.getJSON("teams/"+g.id+"/channels", http.StatusOK)["value"].([]any)
		teams = append(teams, g.id)
		channels = append(channels, chs[0].(map[string]any)["id"].(string))
		h.clock.Advance(time.Second) // the listing's token back
	}
	if len(teams) < 2 {
		t.Fatalf("%d teams, want at least 2", len(teams))
	}
	return teams, channels
}

func messagesPath(team, channel string) string {
	return "teams/" + team + "/channels/" + url.PathEscape(channel) + "/messages?$top=5"
}

func statusOf(h *harness, path string) (int, string) {
	resp := h.do(http.MethodGet, path, nil)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Retry-After")
}

func TestTeamsAnswer429BeyondFourRequestsPerSecondOnATeam(t *testing.T) {
	h := newHarness(t, Options{Tenant: TenantOptions{Groups: 4}})
	teams, channels := teamsOf(t, h)
	h.sim.stats.reset()
	a, b := messagesPath(teams[0], channels[0]), messagesPath(teams[1], channels[1])
	for i := 0; i < 4; i++ {
		if st, _ := statusOf(h, a); st != http.StatusOK {
			t.Fatalf("request %d of the first second: %d", i+1, st)
		}
	}
	resp := h.do(http.MethodGet, a, nil)
	e := errorOf(t, h.decode(resp, http.StatusTooManyRequests))
	if e["code"] != "TooManyRequests" || resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("fifth request in a second: %v, Retry-After %q", e, resp.Header.Get("Retry-After"))
	}
	// Another team has a limit of its own; the team's own channels and
	// the team itself share its limit.
	if st, _ := statusOf(h, b); st != http.StatusOK {
		t.Fatalf("another team: %d", st)
	}
	if st, _ := statusOf(h, "teams/"+teams[0]); st != http.StatusTooManyRequests {
		t.Fatalf("GET team while its limit is spent: %d", st)
	}
	// A quarter of a second earns one more request, and no burst beyond
	// a second's worth accrues.
	h.clock.Advance(250 * time.Millisecond)
	if st, _ := statusOf(h, a); st != http.StatusOK {
		t.Fatalf("after 250 ms: %d", st)
	}
	if st, _ := statusOf(h, a); st != http.StatusTooManyRequests {
		t.Fatalf("second request after 250 ms: %d", st)
	}
	h.clock.Advance(10 * time.Minute)
	for i := 0; i < 4; i++ {
		if st, _ := statusOf(h, a); st != http.StatusOK {
			t.Fatalf("request %d after ten minutes: %d", i+1, st)
		}
	}
	if st, _ := statusOf(h, a); st != http.StatusTooManyRequests {
		t.Fatalf("fifth request after ten minutes: %d", st)
	}
	if st := h.sim.Stats(); st.Throttled429 != 4 || st.Requests["teams.messages"]["429"] != 3 {
		t.Fatalf("throttled %d (%d message lists), want 4 (3)", st.Throttled429, st.Requests["teams.messages"]["429"])
	}
}

func TestTeamsLimitChannelMessageReadsPerTenant(t *testing.T) {
	h := newHarness(t, Options{Tenant: TenantOptions{Groups: 4}, Throttle: ThrottleOptions{Teams: TeamsLimits{PerTeam: -1, ChannelMessages: 6}}})
	teams, channels := teamsOf(t, h)
	for i := 0; i < 6; i++ {
		k := i % len(teams)
		if st, _ := statusOf(h, messagesPath(teams[k], channels[k])); st != http.StatusOK {
			t.Fatalf("read %d of 6: %d", i+1, st)
		}
	}
	st, ra := statusOf(h, messagesPath(teams[1], channels[1])+"&x")
	if st != http.StatusTooManyRequests || ra != "1" {
		t.Fatalf("seventh read in a second over every team: %d, Retry-After %q", st, ra)
	}
	// Listing channels is limited apart, and without a per-team limit one
	// team takes many requests at once.
	for i := 0; i < 10; i++ {
		if st, _ := statusOf(h, "teams/"+teams[0]+"/channels"); st != http.StatusOK {
			t.Fatalf("channel listing %d: %d", i+1, st)
		}
	}
	h.clock.Advance(time.Second)
	if st, _ := statusOf(h, messagesPath(teams[0], channels[0])); st != http.StatusOK {
		t.Fatalf("a second later: %d", st)
	}
}

func TestTeamsLimitsCanBeTurnedOff(t *testing.T) {
	h := newHarness(t, Options{Tenant: TenantOptions{Groups: 3}, Throttle: ThrottleOptions{Teams: TeamsLimits{Disabled: true}}})
	teams, channels := teamsOf(t, h)
	for i := 0; i < 50; i++ {
		if st, _ := statusOf(h, messagesPath(teams[0], channels[0])); st != http.StatusOK {
			t.Fatalf("request %d: %d", i+1, st)
		}
	}
	// Through the control endpoint: back on, then off again.
	h.sendJSON(http.MethodPut, "/_sim/throttle", map[string]any{"teamsPerTeam": 2}, http.StatusOK)
	statusOf(h, messagesPath(teams[0], channels[0]))
	statusOf(h, messagesPath(teams[0], channels[0]))
	if st, _ := statusOf(h, messagesPath(teams[0], channels[0])); st != http.StatusTooManyRequests {
		t.Fatalf("third request a second at 2 a second: %d", st)
	}
	got := h.sendJSON(http.MethodPut, "/_sim/throttle", map[string]any{"teamsDisabled": true}, http.StatusOK)
	if got["teamsDisabled"] != true || got["teamsChannelMessages"] != 20.0 {
		t.Fatalf("throttle options %v", got)
	}
	if st, _ := statusOf(h, messagesPath(teams[0], channels[0])); st != http.StatusOK {
		t.Fatalf("with Teams' limits off: %d", st)
	}
}
