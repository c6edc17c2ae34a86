package graph

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/m365"
)

// readPosts lists every conversation thread of a group and each thread's
// posts, reads each post, and returns thread id/post id → SHA-256 of the
// post as stored, and each post's modification time.
func readPosts(t *testing.T, c *Client, groupID string) (map[string]string, map[string]time.Time) {
	t.Helper()
	ctx := context.Background()
	threads, err := c.Containers(ctx, groupID, m365.Conversations)
	if err != nil {
		t.Fatal(err)
	}
	got, mods := map[string]string{}, map[string]time.Time{}
	for _, th := range threads {
		if len(th.Path) != 2 || th.Path[0] != th.DisplayName || !strings.HasPrefix(th.Path[1], "thread-") || th.Category != m365.Conversations {
			t.Fatalf("thread %+v", th)
		}
		link := ""
		for {
			p, err := c.ListPage(ctx, groupID, m365.Conversations, th.ID, link)
			if err != nil {
				t.Fatal(err)
			}
			for _, chg := range p.Changes {
				if chg.Meta.Subject != th.DisplayName || chg.Meta.Sender == "" || chg.ModTime.IsZero() {
					t.Fatalf("post %s listed as %+v", chg.ID, chg)
				}
				body, err := c.FetchItemIn(ctx, groupID, m365.Conversations, th.ID, chg.ID)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(body)
				body.Close()
				meta := body.(m365.MetaReader).ItemMeta()
				if meta.Sender != chg.Meta.Sender || !meta.Received.Equal(chg.Meta.Received) || meta.Size != int64(len(b)) {
					t.Fatalf("post %s: details %+v, listed %+v", chg.ID, meta, chg.Meta)
				}
				sum := sha256.Sum256(b)
				got[th.ID+"/"+chg.ID] = hex.EncodeToString(sum[:])
				mods[th.ID+"/"+chg.ID] = chg.ModTime
			}
			if p.NextLink == "" {
				break
			}
			link = p.NextLink
		}
	}
	return got, mods
}

func conversationState(e *env, groupID string) map[string]string {
	out := map[string]string{}
	for _, it := range e.state("", "conversations").Items {
		if it.ResourceID == groupID {
			out[it.CollectionID+"/"+it.ID] = it.Hash
		}
	}
	return out
}

// TestGroupConversationsThroughTheSDK: a group's threads, listed post by
// post, hold exactly the tenant's posts, byte for byte; a reply and a new
// conversation appear in the next listing while the other posts keep
// their modification times; the category has no delta.
func TestGroupConversationsThroughTheSDK(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(nil)
	groups, err := c.ResolveGroups(context.Background(), []string{"*"}, true)
	if err != nil || len(groups) == 0 {
		t.Fatalf("groups %+v: %v", groups, err)
	}
	group := groups[0].ID
	want := conversationState(e, group)
	got, mods := readPosts(t, c, group)
	if len(want) < 2 || len(got) != len(want) {
		t.Fatalf("read %d posts, the tenant has %d", len(got), len(want))
	}
	for k, h := range want {
		if got[k] != h {
			t.Fatalf("%s: read %q, tenant %q", k, got[k], h)
		}
	}
	threads, _ := c.Containers(context.Background(), group, m365.Conversations)
	if _, err := c.DeltaPage(context.Background(), group, m365.Conversations, threads[0].ID, ""); err == nil {
		t.Fatal("a delta of conversations was served")
	}

	e.mutate(graphsim.MutateOp{Op: "add", Kind: "post", Group: group, Parent: threads[0].ID},
		graphsim.MutateOp{Op: "add", Kind: "conversation", Group: group, Name: "Quarterly review"})
	got2, mods2 := readPosts(t, c, group)
	if len(got2) != len(want)+2 {
		t.Fatalf("after a reply and a new conversation: %d posts, want %d", len(got2), len(want)+2)
	}
	for k, m := range mods {
		if !mods2[k].Equal(m) {
			t.Fatalf("post %s changed its modification time without a change: %s, then %s", k, m, mods2[k])
		}
	}
	for k, h := range conversationState(e, group) {
		if got2[k] != h {
			t.Fatalf("%s: read %q, tenant %q", k, got2[k], h)
		}
	}
}
