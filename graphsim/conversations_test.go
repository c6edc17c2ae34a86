package graphsim

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"testing"
)

// TestGroupConversationsThreadsAndPosts: every group, team or not, has
// conversations whose threads list posts; a post GET expanding
// attachments and inReplyTo serves what the truth hashes; a reply and a
// new conversation (through Graph and through /_sim/mutate) appear in the
// listings and the truth; no delta function is served; the same seed
// gives the same conversations.
func TestGroupConversationsThreadsAndPosts(t *testing.T) {
	h := newHarness(t, Options{Tenant: TenantOptions{Groups: 3}})
	h.sim.t.directory()
	sawNonTeam := false
	for _, g := range h.sim.t.groups {
		convs, _, _ := h.collect("groups/" + g.id + "/conversations?$top=2")
		if len(convs) == 0 {
			t.Fatalf("group %s has no conversations", g.displayName)
		}
		sawNonTeam = sawNonTeam || !g.isTeam
		for _, c := range convs {
			for _, k := range []string{"id", "topic", "hasAttachments", "lastDeliveredDateTime", "uniqueSenders", "preview"} {
				if _, ok := c[k]; !ok {
					t.Fatalf("conversation without %s: %v", k, c)
				}
			}
			got := h.getJSON("groups/"+g.id+"/conversations/"+c["id"].(string), http.StatusOK)
			if got["topic"] != c["topic"] {
				t.Fatalf("conversation GET %v, listed %v", got, c)
			}
			ths, _, _ := h.collect("groups/" + g.id + "/conversations/" + c["id"].(string) + "/threads")
			if len(ths) == 0 || ths[0]["topic"] != c["topic"] {
				t.Fatalf("threads of %v: %v", c["id"], ths)
			}
		}
	}
	if !sawNonTeam {
		t.Log("every group of this seed has a team")
	}

	g := h.sim.t.groups[0]
	threads, _, _ := h.collect("groups/" + g.id + "/threads")
	st, err := h.sim.State(StateFilter{Category: "conversations"})
	if err != nil {
		t.Fatal(err)
	}
	truth := map[string]string{}
	for _, it := range st.Items {
		if it.ResourceID == g.id {
			truth[it.CollectionID+"/"+it.ID] = it.Hash
		}
	}
	posts, replies, withAtts := 0, 0, 0
	for _, th := range threads {
		tid := th["id"].(string)
		h.getJSON("groups/"+g.id+"/threads/"+tid, http.StatusOK)
		ps, _, _ := h.collect("groups/" + g.id + "/threads/" + tid + "/posts?$top=2")
		for i, p := range ps {
			if p["conversationThreadId"] != tid || p["inReplyTo"] != nil || p["attachments"] != nil {
				t.Fatalf("listed post %v", p)
			}
			b, _ := h.bytes("groups/"+g.id+"/threads/"+tid+"/posts/"+p["id"].(string)+"?$expand="+url.QueryEscape(PostExpand), http.StatusOK)
			sum := sha256.Sum256(b)
			if truth[tid+"/"+p["id"].(string)] != hex.EncodeToString(sum[:]) {
				t.Fatalf("post %s: served bytes differ from the truth", p["id"])
			}
			full := h.getJSON("groups/"+g.id+"/threads/"+tid+"/posts/"+p["id"].(string)+"?$expand="+url.QueryEscape(PostExpand), http.StatusOK)
			if i > 0 {
				irt, _ := full["inReplyTo"].(map[string]any)
				if irt["id"] != ps[i-1]["id"] || irt["body"] != nil {
					t.Fatalf("post %d of thread replies to %v, want the id alone of %v", i, irt, ps[i-1]["id"])
				}
				replies++
			}
			for _, a := range full["attachments"].([]any) {
				att := a.(map[string]any)
				data, err := base64.StdEncoding.DecodeString(att["contentBytes"].(string))
				if err != nil || int(att["size"].(float64)) != len(data) {
					t.Fatalf("attachment %v", att)
				}
				withAtts++
			}
			if (len(full["attachments"].([]any)) > 0) != full["hasAttachments"].(bool) {
				t.Fatalf("hasAttachments %v with %d attachments", full["hasAttachments"], len(full["attachments"].([]any)))
			}
			posts++
		}
	}
	if posts != len(truth) || replies == 0 {
		t.Fatalf("listed %d posts (%d replies), the truth has %d", posts, replies, len(truth))
	}
	h.getJSON("groups/"+g.id+"/threads/"+threads[0]["id"].(string)+"/posts/delta", http.StatusNotFound)

	// A reply through Graph and one through the control API, then a new
	// conversation each way.
	tid := threads[0]["id"].(string)
	h.sendJSON(http.MethodPost, "groups/"+g.id+"/threads/"+tid+"/reply",
		map[string]any{"post": map[string]any{"body": map[string]any{"contentType": "html", "content": "<p>Agreed & done</p>"}}}, http.StatusAccepted)
	added := h.mutate(MutateOp{Op: "add", Kind: "post", Group: g.id, Parent: tid})[0].ID
	ps, _, _ := h.collect("groups/" + g.id + "/threads/" + tid + "/posts")
	if n := len(ps); n < 3 || ps[n-1]["id"] != added || ps[n-2]["body"].(map[string]any)["content"] != "<p>Agreed & done</p>" {
		t.Fatalf("posts after two replies: %v", ps)
	}
	conv := h.sendJSON(http.MethodPost, "groups/"+g.id+"/conversations", map[string]any{"topic": "Picnic",
		"threads": []any{map[string]any{"posts": []any{map[string]any{"body": map[string]any{"contentType": "text", "content": "Friday?"}}}}}}, http.StatusCreated)
	newThread := h.mutate(MutateOp{Op: "add", Kind: "conversation", Group: g.id, Name: "Offsite"})[0].ID
	after, _, _ := h.collect("groups/" + g.id + "/threads")
	if len(after) != len(threads)+2 || after[len(after)-1]["id"] != newThread || after[len(after)-2]["topic"] != "Picnic" || conv["topic"] != "Picnic" {
		t.Fatalf("threads after two new conversations: %v", after)
	}
	st2, _ := h.sim.State(StateFilter{Category: "conversations"})
	n := 0
	for _, it := range st2.Items {
		if it.ResourceID == g.id {
			n++
		}
	}
	if n != len(truth)+4 {
		t.Fatalf("the truth holds %d posts of the group, want %d", n, len(truth)+4)
	}

	// The same seed gives the same conversations.
	h2 := newHarness(t, Options{Tenant: TenantOptions{Groups: 3}})
	h.sim.Reset()
	a, _ := h.sim.State(StateFilter{Category: "conversations"})
	b, _ := h2.sim.State(StateFilter{Category: "conversations"})
	if a.StateHash != b.StateHash || len(a.Items) == 0 {
		t.Fatalf("two tenants of one seed differ in their conversations (%d, %d posts)", len(a.Items), len(b.Items))
	}
}
