package graphsim

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

func TestTeamsChannelsMessagesRepliesAndDelta(t *testing.T) {
	// The clock stands still here: Teams' rate limits would never refill.
	h := newHarness(t, Options{Tenant: TenantOptions{Groups: 3, ItemsPerSite: 200}, Throttle: ThrottleOptions{Teams: TeamsLimits{Disabled: true}}})
	var team string
	h.sim.t.directory()
	for _, g := range h.sim.t.groups {
		if g.isTeam {
			team = g.id
			break
		}
	}
	channels := h.getJSON("teams/"+team+"/channels", http.StatusOK)["value"].([]any)
	if len(channels) == 0 || channels[0].(map[string]any)["displayName"] != "General" {
		t.Fatalf("channels %v", channels)
	}
	ch := channels[0].(map[string]any)["id"].(string)
	base := "teams/" + team + "/channels/" + url.PathEscape(ch)
	h.getJSON(base, http.StatusOK)
	msgs, _, _ := h.collect(base + "/messages?$top=7")
	if len(msgs) == 0 {
		t.Fatal("no messages")
	}
	replies := 0
	for _, m := range msgs {
		rs, _, _ := h.collect(base + "/messages/" + m["id"].(string) + "/replies")
		for _, r := range rs {
			if r["replyToId"] != m["id"] {
				t.Fatalf("reply %v of %v", r["replyToId"], m["id"])
			}
			h.getJSON(base+"/messages/"+m["id"].(string)+"/replies/"+r["id"].(string), http.StatusOK)
		}
		replies += len(rs)
	}
	if replies == 0 {
		t.Fatal("no replies")
	}
	// An initial delta round reaches back eight months; the listing has
	// every message.
	added := h.mutate(MutateOp{Op: "add", Kind: "channelMessage", Team: team, Channel: ch})[0].ID
	msgs, _, _ = h.collect(base + "/messages")
	horizon := h.sim.now().AddDate(0, -channelDeltaMonths, 0)
	recent := 0
	for _, m := range msgs {
		created, err := time.Parse(time.RFC3339, m["createdDateTime"].(string))
		if err != nil {
			t.Fatal(err)
		}
		if !created.Before(horizon) {
			recent++
		}
	}
	all, _, dl := h.deltaRound(base + "/messages/delta")
	if len(all) != recent || all[added] == nil || recent == len(msgs) {
		t.Fatalf("initial delta has %d messages (the new one: %v), %d of the %d listed are recent", len(all), all[added] != nil, recent, len(msgs))
	}
	victim := msgs[0]["id"].(string)
	h.mutate(MutateOp{Op: "delete", Team: team, Channel: ch, ID: victim},
		MutateOp{Op: "modify", Team: team, Channel: ch, ID: msgs[1]["id"].(string)})
	posted := h.mutate(MutateOp{Op: "add", Kind: "channelMessage", Team: team, Channel: ch, Parent: msgs[2]["id"].(string)})[0]
	reply := h.getJSON(base+"/messages/"+msgs[2]["id"].(string)+"/replies/"+posted.ID, http.StatusOK)
	up, _, _ := h.deltaRound(dl)
	if up[victim]["deletedDateTime"] == nil || up[msgs[1]["id"].(string)]["lastEditedDateTime"] == nil || up[msgs[2]["id"].(string)] == nil {
		t.Fatalf("channel delta after changes: %v", up)
	}
	if reply["replyToId"] != msgs[2]["id"] {
		t.Fatalf("posted reply %v", reply)
	}
	h.getJSON(base+"/messages/"+victim, http.StatusNotFound)
	// Ground truth: live messages and their live replies.
	after, _, _ := h.collect(base + "/messages")
	want := len(after)
	for _, m := range after {
		rs, _, _ := h.collect(base + "/messages/" + m["id"].(string) + "/replies")
		want += len(rs)
	}
	st, _ := h.sim.State(StateFilter{Category: "channels"})
	got := 0
	for _, it := range st.Items {
		if it.CollectionID == ch && it.Kind != "hostedContent" {
			got++
		}
	}
	if got != want || len(after) != len(msgs)-1 {
		t.Fatalf("state has %d items in the channel, listing %d (%d messages)", got, want, len(after))
	}
}
