package graphsim

import (
	"net/http"
	"net/url"
	"testing"
)

func TestTeamsChannelsMessagesRepliesAndDelta(t *testing.T) {
	h := newHarness(t, Options{Tenant: TenantOptions{Groups: 3, ItemsPerSite: 200}})
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
	all, _, dl := h.deltaRound(base + "/messages/delta")
	if len(all) != len(msgs) {
		t.Fatalf("delta %d vs list %d", len(all), len(msgs))
	}
	victim := msgs[0]["id"].(string)
	h.mutate(MutateOp{Op: "delete", Team: team, Channel: ch, ID: victim},
		MutateOp{Op: "modify", Team: team, Channel: ch, ID: msgs[1]["id"].(string)})
	posted := h.sendJSON(http.MethodPost, base+"/messages/"+msgs[2]["id"].(string)+"/replies",
		map[string]any{"body": map[string]any{"content": "restored reply"}}, http.StatusCreated)
	up, _, _ := h.deltaRound(dl)
	if up[victim]["deletedDateTime"] == nil || up[msgs[1]["id"].(string)]["lastEditedDateTime"] == nil || up[msgs[2]["id"].(string)] == nil {
		t.Fatalf("channel delta after changes: %v", up)
	}
	if posted["replyToId"] != msgs[2]["id"] {
		t.Fatalf("posted reply %v", posted)
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
		if it.CollectionID == ch {
			got++
		}
	}
	if got != want || len(after) != len(msgs)-1 {
		t.Fatalf("state has %d items in the channel, listing %d (%d messages)", got, want, len(after))
	}
}
