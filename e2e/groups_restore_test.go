package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/repository"
	"github.com/corso-temporal/corso/workflows"
)

var inlineImageAddress = regexp.MustCompile(`[^"']*hostedContents/[^/"']+/\$value`)

// threadText is what a restore keeps of a thread: each message's author,
// time and body, inline images by the SHA-256 of their bytes (image reads
// bytes by address), replies in order of their time.
func threadText(top json.RawMessage, replies []json.RawMessage, image func(msgID, addr string) string) string {
	line := func(raw json.RawMessage) string {
		var m m365.ThreadMessage
		_ = json.Unmarshal(raw, &m)
		body := inlineImageAddress.ReplaceAllStringFunc(m.Body.Content, func(addr string) string { return "img:" + image(m.ID, addr) })
		return m.Author() + " " + m.Created.UTC().Format(time.RFC3339Nano) + " " + body
	}
	var rs []string
	for _, r := range replies {
		var m m365.ThreadMessage
		if json.Unmarshal(r, &m) == nil && m.Importable() {
			rs = append(rs, line(r))
		}
	}
	sort.Strings(rs) // each starts with its author; the time orders ties
	return line(top) + "\n  " + strings.Join(rs, "\n  ")
}

// restoredThreads reads a channel through Graph: its threads as threadText.
func restoredThreads(t *testing.T, c *simClient, team, channel string) []string {
	t.Helper()
	base := "/v1.0/teams/" + team + "/channels/" + url.PathEscape(channel) + "/messages"
	var out []string
	link := base + "?$expand=replies"
	for link != "" {
		var page struct {
			Value []struct {
				Raw     json.RawMessage
				Replies []json.RawMessage `json:"replies"`
			} `json:"value"`
			Next string `json:"@odata.nextLink"`
		}
		body := c.get(t, link)
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		var raws struct {
			Value []json.RawMessage `json:"value"`
		}
		_ = json.Unmarshal(body, &raws)
		for i, m := range page.Value {
			out = append(out, threadText(raws.Value[i], m.Replies, func(_, addr string) string {
				sum := sha256.Sum256(c.get(t, strings.TrimPrefix(addr, "https://graph.microsoft.com")))
				return hex.EncodeToString(sum[:])
			}))
		}
		link = strings.TrimPrefix(page.Next, tenant.Endpoint)
	}
	sort.Strings(out)
	return out
}

// TestGroupsRestoreImportsChannelThreads backs up a team and restores it
// into new channels: every thread a user started comes back with each
// message's author, time and body, its inline images and its replies
// (a thread a system event starts cannot be imported and is reported so),
// and every channel leaves migration mode. Restored again into the same
// channels, every thread is skipped and nothing is doubled. A selection
// of conversation posts only is refused at once, pointing at the export;
// when the backup holds posts, the restore says they were left out.
func TestGroupsRestoreImportsChannelThreads(t *testing.T) {
	a := newExchangeAdmin(t, tenant, "groupsrestore")
	c := &simClient{sim: tenant}

	// The team with the fewest channel messages.
	st, err := tenant.State(graphsim.StateFilter{Category: "channels", NoHashes: true})
	if err != nil {
		t.Fatal(err)
	}
	size := map[string]int{}
	for _, it := range st.Items {
		size[it.ResourceID]++
	}
	team := ""
	for id, n := range size {
		if team == "" || n < size[team] || n == size[team] && id < team {
			team = id
		}
	}
	if team == "" {
		t.Fatal("the tenant has no channel messages")
	}
	backups := a.create(t, "groups", "--group", team)
	if len(backups) != 1 || backups[0].Status != backup.StatusCompleted {
		t.Fatalf("backup: %+v", backups)
	}
	b := backups[0]

	// A selection of posts only: refused, with the reason and the way out.
	mustFail(t, a.run(t, "restore", "groups", "--backup", b.BackupID, "--conversation", "a"), time.Minute,
		"conversation posts cannot be restored", "corso export groups")

	// What the backup holds: each channel's threads, the ones a user
	// started apart.
	want := map[string][]string{} // channel name → threads
	var importable, systemEvents int64
	_, idx := a.openBackup(t, b.BackupID)
	posts := false
	for _, col := range idx.Collections {
		if col.Category == string(m365.Conversations) {
			posts = true
		}
	}
	stored := map[string]string{} // as channelTruth has them
	isThreads := func(c repository.Collection) bool { return c.Category == string(m365.ChannelMessages) }
	a.eachStoredItemWhere(t, b.BackupID, isThreads, func(_ *repository.Repository, c repository.Collection, _ string, raw []byte) {
		channelID, channel := c.ContainerID, c.Path[len(c.Path)-1]
		var th m365.ChannelThread
		if err := json.Unmarshal(raw, &th); err != nil {
			t.Fatal(err)
		}
		for _, m := range append([]json.RawMessage{th.Message}, th.Replies...) {
			var id m365.ThreadMessage
			_ = json.Unmarshal(m, &id)
			sum := sha256.Sum256(m)
			stored[channelID+"/"+id.ID] = hex.EncodeToString(sum[:])
		}
		for _, hc := range th.HostedContents {
			sum := sha256.Sum256(hc.ContentBytes)
			stored[channelID+"/"+hc.MessageID+"/"+hc.ID] = hex.EncodeToString(sum[:])
		}
		var top m365.ThreadMessage
		_ = json.Unmarshal(th.Message, &top)
		if !top.Importable() {
			systemEvents++
			return
		}
		importable++
		images := map[string]string{}
		for _, hc := range th.HostedContents {
			sum := sha256.Sum256(hc.ContentBytes)
			images[hc.MessageID+"/"+hc.ID] = hex.EncodeToString(sum[:])
		}
		want[channel] = append(want[channel], threadText(th.Message, th.Replies, func(msgID, addr string) string {
			id := strings.TrimSuffix(addr[strings.LastIndex(addr, "hostedContents/")+len("hostedContents/"):], "/$value")
			return images[msgID+"/"+id]
		}))
	})
	assertSameItems(t, stored, channelTruth(t, tenant, team))
	if importable == 0 || !posts {
		t.Fatalf("the team has %d threads a user started, posts: %v", importable, posts)
	}

	restore := func() (workflows.RestoreResult, result) {
		r := a.run(t, "restore", "groups", "--backup", b.BackupID, "--destination", "R1", "--json")
		var out restoreJSON
		if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
			t.Fatalf("restore output (exit %d): %v\n%s\n%s", r.Code, err, r.Stdout, r.Stderr)
		}
		if failed := out.Total.Failed; failed != systemEvents || (failed == 0) != (r.Code == 0) {
			t.Fatalf("restore exit %d with %d failed (%v), the backup has %d threads started by system events:\n%s", r.Code, failed, out.Errors, systemEvents, r.Stderr)
		}
		for _, e := range out.Errors {
			if !strings.Contains(e.Reason, "no author") {
				t.Fatalf("thread %s failed: %s", e.ItemID, e.Reason)
			}
		}
		if posts != strings.Contains(r.Stderr, "conversation posts of the backup were not restored") {
			t.Fatalf("the backup holds posts: %v; the restore says:\n%s", posts, r.Stderr)
		}
		return out.RestoreResult, r
	}
	first, _ := restore()
	if first.Total.Restored != importable || first.Total.Skipped != 0 {
		t.Fatalf("first restore: %+v, the backup has %d importable threads", first.Total, importable)
	}

	// Each channel's new twin holds its threads as they were, and is out
	// of migration mode.
	chans := map[string]string{} // name → id
	var page struct {
		Value []struct {
			ID   string `json:"id"`
			Name string `json:"displayName"`
		} `json:"value"`
	}
	if err := json.Unmarshal(c.get(t, "/v1.0/teams/"+team+"/channels"), &page); err != nil {
		t.Fatal(err)
	}
	for _, ch := range page.Value {
		chans[ch.Name] = ch.ID
	}
	check := func() {
		for name, threads := range want {
			id, ok := chans[name+" R1"]
			if !ok {
				t.Fatalf("no channel %q after the restore", name+" R1")
			}
			sort.Strings(threads)
			got := restoredThreads(t, c, team, id)
			if strings.Join(got, "\n") != strings.Join(threads, "\n") {
				t.Fatalf("channel %q holds\n%s\nthe backup of %q holds\n%s", name+" R1", strings.Join(got, "\n"), name, strings.Join(threads, "\n"))
			}
			var state struct {
				MigrationMode string `json:"migrationMode"`
			}
			_ = json.Unmarshal(c.get(t, "/beta/teams/"+team+"/channels/"+url.PathEscape(id)), &state)
			if state.MigrationMode != "completed" {
				t.Fatalf("channel %q is %q after the restore, want completed", name+" R1", state.MigrationMode)
			}
		}
	}
	check()

	// Again into the same channels: all skipped, nothing doubled.
	second, _ := restore()
	if second.Total.Skipped != importable || second.Total.Restored != 0 {
		t.Fatalf("second restore: %+v, want %d skipped", second.Total, importable)
	}
	check()
}
