package graph

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/m365"
)

// storedChannel reads every thread of a channel as a backup stores it.
func storedChannel(t *testing.T, c *Client, teamID, channelID string) map[string][]byte {
	t.Helper()
	ctx := context.Background()
	out := map[string][]byte{}
	link := ""
	for {
		p, err := c.ListPage(ctx, teamID, m365.ChannelMessages, channelID, link)
		if err != nil {
			t.Fatal(err)
		}
		for _, ch := range p.Changes {
			rc, err := c.FetchItemIn(ctx, teamID, m365.ChannelMessages, channelID, ch.ID)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(rc)
			rc.Close()
			out[ch.ID] = b
		}
		if p.NextLink == "" {
			return out
		}
		link = p.NextLink
	}
}

var inlineImage = regexp.MustCompile(`[^"']*hostedContents/[^/"']+/\$value`)

// threadShape is what a restore must keep of a thread: each message's
// author, time and body (inline images by their bytes, in order), replies
// in order.
func threadShape(t *testing.T, stored []byte) string {
	t.Helper()
	var th m365.ChannelThread
	if err := json.Unmarshal(stored, &th); err != nil {
		t.Fatal(err)
	}
	images := map[string][]byte{}
	for _, hc := range th.HostedContents {
		images[hc.MessageID+"/"+hc.ID] = hc.ContentBytes
	}
	var b strings.Builder
	for i, raw := range append([]json.RawMessage{th.Message}, th.Replies...) {
		var m m365.ThreadMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		if i > 0 && !m.Importable() {
			continue
		}
		body := inlineImage.ReplaceAllStringFunc(m.Body.Content, func(addr string) string {
			id := strings.TrimSuffix(addr[strings.LastIndex(addr, "hostedContents/")+len("hostedContents/"):], "/$value")
			return "img:" + string(images[m.ID+"/"+id])
		})
		b.WriteString(m.Author() + "|" + m.Created.UTC().Format(time.RFC3339Nano) + "|" + body + "\n")
	}
	return b.String()
}

// TestChannelRestoreImportsThreads: threads of a channel restored into a
// new channel come back with their authors, times, bodies, inline images
// and replies; the target's keys equal the stored threads' keys; a
// retried thread, whole or half imported, is completed and never
// doubled; imports need the channel opened (migration mode), which
// closing completes and opening again restarts; no app can delete one.
func TestChannelRestoreImportsThreads(t *testing.T) {
	e := newEnv(t, nil)
	e.sim.SetThrottle(graphsim.ThrottleOptions{Teams: graphsim.TeamsLimits{Disabled: true}})
	ctx := context.Background()
	c := e.client(nil)
	groups, err := c.ResolveGroups(ctx, []string{"*"}, true)
	if err != nil {
		t.Fatal(err)
	}
	team := ""
	for _, g := range groups {
		if g.Unavailable == "" && team == "" {
			team = g.ID
		}
	}
	chans, err := c.Containers(ctx, team, m365.ChannelMessages)
	if err != nil || len(chans) == 0 {
		t.Fatalf("channels %v, %v", chans, err)
	}
	source := storedChannel(t, c, team, chans[0].ID)

	target, err := c.EnsureContainer(ctx, team, m365.ChannelMessages, []string{chans[0].DisplayName + " R"})
	if err != nil {
		t.Fatal(err)
	}
	if again, err := c.EnsureContainer(ctx, team, m365.ChannelMessages, []string{chans[0].DisplayName + " R"}); err != nil || again != target {
		t.Fatalf("ensured again: %s, %v (first %s)", again, err, target)
	}
	var ids []string
	oldest := time.Time{}
	for id, b := range source {
		ids = append(ids, id)
		var th m365.ChannelThread
		_ = json.Unmarshal(b, &th)
		var m m365.ThreadMessage
		_ = json.Unmarshal(th.Message, &m)
		if oldest.IsZero() || m.Created.Before(oldest) {
			oldest = m.Created
		}
	}
	sort.Strings(ids)
	// Not opened, the channel takes no import.
	if _, err := c.RestoreItem(ctx, team, m365.ChannelMessages, target, source[ids[0]], m365.MessageState{}); err == nil {
		t.Fatal("a thread was imported into a channel not in migration mode")
	}
	if err := c.OpenContainer(ctx, team, m365.ChannelMessages, target, oldest); err != nil {
		t.Fatal(err)
	}

	want := map[string]string{} // shape by key, of the importable threads
	halfDone := ""              // a thread with replies, first imported without them
	for _, id := range ids {
		b := source[id]
		var th m365.ChannelThread
		_ = json.Unmarshal(b, &th)
		var top m365.ThreadMessage
		_ = json.Unmarshal(th.Message, &top)
		if !top.Importable() {
			_, err := c.RestoreItem(ctx, team, m365.ChannelMessages, target, b, m365.MessageState{})
			if !errors.Is(err, ErrUnrestorable) {
				t.Fatalf("system event thread %s: %v", id, err)
			}
			continue
		}
		key, err := m365.StoredItemKey(m365.ChannelMessages, b)
		if err != nil {
			t.Fatal(err)
		}
		want[key] = threadShape(t, b)
		if halfDone == "" && len(th.Replies) > 1 {
			halfDone = id
			half := th
			half.Replies = th.Replies[:1]
			hb, _ := json.Marshal(half)
			if _, err := c.RestoreItem(ctx, team, m365.ChannelMessages, target, hb, m365.MessageState{}); err != nil {
				t.Fatal(err)
			}
		}
		first, err := c.RestoreItem(ctx, team, m365.ChannelMessages, target, b, m365.MessageState{})
		if err != nil {
			t.Fatalf("thread %s: %v", id, err)
		}
		// Retried whole: the same thread, nothing posted twice.
		if again, err := c.RestoreItem(ctx, team, m365.ChannelMessages, target, b, m365.MessageState{}); err != nil || again != first {
			t.Fatalf("thread %s restored again as %s (%v), first %s", id, again, err, first)
		}
	}
	if halfDone == "" || len(want) < 3 {
		t.Fatalf("the channel has %d importable threads, none with two replies: %q", len(want), halfDone)
	}

	existing, err := c.ExistingItems(ctx, team, m365.ChannelMessages, target)
	if err != nil {
		t.Fatal(err)
	}
	if len(existing) != len(want) {
		t.Fatalf("the target holds %d threads, %d were restored", len(existing), len(want))
	}
	restored := storedChannel(t, c, team, target)
	for _, it := range existing {
		shape, ok := want[it.Key]
		if !ok {
			t.Fatalf("restored thread %s has a key no backed-up thread has", it.ID)
		}
		if got := threadShape(t, restored[it.ID]); got != shape {
			t.Fatalf("restored thread %s:\n%s\nbacked up:\n%s", it.ID, got, shape)
		}
		delete(want, it.Key)
	}

	// Closed, the channel is completed and takes no import; opened again
	// (a retry after completion) it does.
	if err := c.CloseContainer(ctx, team, m365.ChannelMessages, target); err != nil {
		t.Fatal(err)
	}
	if st, err := c.targetChannel(ctx, "state", team, target); err != nil || st.MigrationMode != "completed" {
		t.Fatalf("after close: %+v, %v", st, err)
	}
	if _, err := c.RestoreItem(ctx, team, m365.ChannelMessages, target, source[halfDone], m365.MessageState{}); err == nil {
		t.Fatal("a completed channel took an import")
	}
	if err := c.OpenContainer(ctx, team, m365.ChannelMessages, target, oldest); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RestoreItem(ctx, team, m365.ChannelMessages, target, source[halfDone], m365.MessageState{}); err != nil {
		t.Fatal(err)
	}
	if err := c.CloseContainer(ctx, team, m365.ChannelMessages, target); err != nil {
		t.Fatal(err)
	}
	if after, _ := c.ExistingItems(ctx, team, m365.ChannelMessages, target); len(after) != len(existing) {
		t.Fatalf("%d threads after the second session, %d before", len(after), len(existing))
	}
	if err := c.DeleteItem(ctx, team, m365.ChannelMessages, existing[0].ID); !errors.Is(err, ErrUnrestorable) {
		t.Fatalf("delete of a channel message: %v", err)
	}
}

// TestChannelRestoreIntoTheOriginalDoublesNothing: threads restored into
// the channel they came from meet themselves (one message per time in a
// channel): each is found, a reply deleted since comes back, and nothing
// is posted twice; the channel's keys are the backup's.
func TestChannelRestoreIntoTheOriginalDoublesNothing(t *testing.T) {
	e := newEnv(t, nil)
	e.sim.SetThrottle(graphsim.ThrottleOptions{Teams: graphsim.TeamsLimits{Disabled: true}})
	ctx := context.Background()
	c := e.client(nil)
	groups, err := c.ResolveGroups(ctx, []string{"*"}, true)
	if err != nil {
		t.Fatal(err)
	}
	team := groups[0].ID
	chans, err := c.Containers(ctx, team, m365.ChannelMessages)
	if err != nil {
		t.Fatal(err)
	}
	ch := chans[0].ID
	source := storedChannel(t, c, team, ch)
	before, err := c.ExistingItems(ctx, team, m365.ChannelMessages, ch)
	if err != nil {
		t.Fatal(err)
	}
	// A reply deleted after the backup.
	victim, parent := "", ""
	for id, b := range source {
		var th m365.ChannelThread
		_ = json.Unmarshal(b, &th)
		if len(th.Replies) > 0 && victim == "" {
			var r m365.ThreadMessage
			_ = json.Unmarshal(th.Replies[0], &r)
			victim, parent = r.ID, id
		}
	}
	if victim == "" {
		t.Fatal("no thread with a reply")
	}
	if res := e.sim.Mutate([]graphsim.MutateOp{{Op: "delete", Team: team, Channel: ch, ID: victim}}); len(res) != 1 || res[0].Error != "" {
		t.Fatalf("delete reply: %+v", res)
	}
	if err := c.OpenContainer(ctx, team, m365.ChannelMessages, ch, time.Time{}); err != nil {
		t.Fatal(err)
	}
	for id, b := range source {
		var th m365.ChannelThread
		_ = json.Unmarshal(b, &th)
		var top m365.ThreadMessage
		_ = json.Unmarshal(th.Message, &top)
		if !top.Importable() {
			continue
		}
		got, err := c.RestoreItem(ctx, team, m365.ChannelMessages, ch, b, m365.MessageState{})
		if err != nil || got != id {
			t.Fatalf("thread %s restored in place as %s: %v", id, got, err)
		}
	}
	if err := c.CloseContainer(ctx, team, m365.ChannelMessages, ch); err != nil {
		t.Fatal(err)
	}
	after, err := c.ExistingItems(ctx, team, m365.ChannelMessages, ch)
	if err != nil || len(after) != len(before) {
		t.Fatalf("%d threads after, %d before (%v)", len(after), len(before), err)
	}
	keys := map[string]bool{}
	for _, it := range after {
		keys[it.Key] = true
	}
	for id, b := range source {
		key, _ := m365.StoredItemKey(m365.ChannelMessages, b)
		var th m365.ChannelThread
		_ = json.Unmarshal(b, &th)
		var top m365.ThreadMessage
		_ = json.Unmarshal(th.Message, &top)
		if top.Importable() && !keys[key] {
			t.Fatalf("thread %s (the one whose reply was deleted: %v) does not key as backed up", id, id == parent)
		}
	}
}

// TestChannelRestoreInPlaceIntoPrivateAndSharedChannels: a restore in
// place finds a team's private and shared channels by their names and
// imports into them, in migration mode as into a standard one, posting
// nothing twice.
func TestChannelRestoreInPlaceIntoPrivateAndSharedChannels(t *testing.T) {
	e := newEnv(t, nil)
	e.sim.SetThrottle(graphsim.ThrottleOptions{Teams: graphsim.TeamsLimits{Disabled: true}})
	ctx := context.Background()
	c := e.client(nil)
	groups, err := c.ResolveGroups(ctx, []string{"*"}, true)
	if err != nil {
		t.Fatal(err)
	}
	team := groups[0].ID
	// Without Prefer: include-unknown-enum-members a shared channel reads
	// unknownFutureValue.
	types := map[string]string{} // name → membershipType
	list, _ := e.graphGet("teams/" + team + "/channels")["value"].([]any)
	for _, raw := range list {
		ch := raw.(map[string]any)
		types[ch["displayName"].(string)] = ch["membershipType"].(string)
	}
	done := map[string]bool{}
	for name, typ := range types {
		if typ == "standard" {
			continue
		}
		ch, err := c.EnsureContainer(ctx, team, m365.ChannelMessages, []string{name})
		if err != nil {
			t.Fatal(err)
		}
		source := storedChannel(t, c, team, ch)
		if err := c.OpenContainer(ctx, team, m365.ChannelMessages, ch, time.Time{}); err != nil {
			t.Fatalf("%s channel %q: %v", typ, name, err)
		}
		for id, b := range source {
			var th m365.ChannelThread
			_ = json.Unmarshal(b, &th)
			var top m365.ThreadMessage
			_ = json.Unmarshal(th.Message, &top)
			if !top.Importable() {
				continue
			}
			if got, err := c.RestoreItem(ctx, team, m365.ChannelMessages, ch, b, m365.MessageState{}); err != nil || got != id {
				t.Fatalf("%s channel %q: thread %s restored in place as %s: %v", typ, name, id, got, err)
			}
		}
		if err := c.CloseContainer(ctx, team, m365.ChannelMessages, ch); err != nil {
			t.Fatal(err)
		}
		after := storedChannel(t, c, team, ch)
		if len(after) != len(source) {
			t.Fatalf("%s channel %q: %d threads after the restore, %d before", typ, name, len(after), len(source))
		}
		done[typ] = true
	}
	if !done["private"] || !done["unknownFutureValue"] {
		t.Fatalf("the team's channels are %v: want a private and a shared one", types)
	}
}
