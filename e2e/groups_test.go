package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/url"
	"strings"
	"testing"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/repository"
	"github.com/corso-temporal/corso/workflows"
)

// storedThreads reads a groups backup straight from the repository:
// channel id/message id → SHA-256 of the message as stored, for every
// thread's message and each of its replies, and channel id/message
// id/hosted content id → SHA-256 of each inline image's bytes.
func (a exchangeAdmin) storedThreads(t *testing.T, backupID string) map[string]string {
	t.Helper()
	out := map[string]string{}
	a.eachStoredItem(t, backupID, m365.ChannelMessages, func(_ *repository.Repository, c repository.Collection, name string, b []byte) {
		var th m365.ChannelThread
		if err := json.Unmarshal(b, &th); err != nil {
			t.Fatalf("thread %s: %v", name, err)
		}
		for i, m := range append([]json.RawMessage{th.Message}, th.Replies...) {
			var id struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal(m, &id); err != nil {
				t.Fatal(err)
			}
			if i == 0 && id.ID != name {
				t.Fatalf("thread %s holds message %s first", name, id.ID)
			}
			sum := sha256.Sum256(m)
			out[c.ContainerID+"/"+id.ID] = hex.EncodeToString(sum[:])
		}
		for _, hc := range th.HostedContents {
			sum := sha256.Sum256(hc.ContentBytes)
			out[c.ContainerID+"/"+hc.MessageID+"/"+hc.ID] = hex.EncodeToString(sum[:])
		}
	})
	return out
}

// eachStoredItem reads a backup straight from the repository, as a worker
// would, and calls fn with each stored item: its collection, its id and
// its bytes. Every collection must be of category cat.
func (a exchangeAdmin) eachStoredItem(t *testing.T, backupID string, cat m365.Category,
	fn func(r *repository.Repository, c repository.Collection, id string, b []byte),
) {
	t.Helper()
	a.eachStoredItemWhere(t, backupID, func(c repository.Collection) bool {
		if c.Category != string(cat) {
			t.Fatalf("collection %q of category %q in a backup of %s", c.Path, c.Category, cat)
		}
		return true
	}, fn)
}

// eachStoredItemWhere is eachStoredItem over the collections keep accepts.
func (a exchangeAdmin) eachStoredItemWhere(t *testing.T, backupID string, keep func(repository.Collection) bool,
	fn func(r *repository.Repository, c repository.Collection, id string, b []byte),
) {
	t.Helper()
	ctx := context.Background()
	r, idx := a.openBackup(t, backupID)
	for _, c := range idx.Collections {
		if !keep(c) {
			continue
		}
		ents, err := r.ReadDir(ctx, c.DirID)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			rd, err := r.OpenItem(ctx, e.ObjectID.String())
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(rd)
			rd.Close()
			if err != nil {
				t.Fatal(err)
			}
			id, _ := url.PathUnescape(e.Name)
			fn(r, c, id, b)
		}
	}
}

// channelTruth is the simulator's channel messages, replies and hosted
// contents of one team in the same shape.
func channelTruth(t *testing.T, sim *simTenant, teamID string) map[string]string {
	t.Helper()
	st, err := sim.State(graphsim.StateFilter{Category: "channels"})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, it := range st.Items {
		if it.ResourceID == teamID {
			out[it.CollectionID+"/"+it.ID] = it.Hash
		}
	}
	return out
}

// teamChannels lists a team's channel ids through Graph.
func teamChannels(t *testing.T, c *simClient, teamID string) []string {
	var page struct {
		Value []struct {
			ID string `json:"id"`
		} `json:"value"`
	}
	if err := json.Unmarshal(c.get(t, "/v1.0/teams/"+teamID+"/channels"), &page); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ch := range page.Value {
		out = append(out, ch.ID)
	}
	return out
}

// channelHosts lists the channels of a team and those shared with it
// (allChannels): channel id → its membershipType and whether the team
// hosts it, as its @odata.id says.
func channelHosts(t *testing.T, c *simClient, teamID string) map[string]hostedChannel {
	var page struct {
		Value []struct {
			ID   string `json:"id"`
			Link string `json:"@odata.id"`
			Type string `json:"membershipType"`
		} `json:"value"`
	}
	if err := json.Unmarshal(c.get(t, "/v1.0/teams/"+teamID+"/allChannels"), &page); err != nil {
		t.Fatal(err)
	}
	out := map[string]hostedChannel{}
	for _, ch := range page.Value {
		out[ch.ID] = hostedChannel{membership: ch.Type, hosted: strings.Contains(ch.Link, "/teams/"+teamID+"/channels/")}
	}
	return out
}

type hostedChannel struct {
	membership string // shared reads unknownFutureValue without Prefer
	hosted     bool
}

// TestGroupsBackupMatchesTenantThroughChanges backs up every team of the
// tenant: each backup holds every channel message and reply, as Graph
// serves them, of every channel the team hosts, standard, private or
// shared, and none of a channel another team shares with it, which its
// host's backup holds. After a new message, an edit, a deletion and a new reply,
// the incremental backup matches the tenant again, having read only the
// threads that changed. The export writes one JSON file and one HTML page
// per thread that say what the tenant says.
func TestGroupsBackupMatchesTenantThroughChanges(t *testing.T) {
	a := newExchangeAdmin(t, tenant, "groups")
	c := &simClient{sim: tenant}

	first := a.create(t, "groups", "--group", "*", "--data", "messages")
	if len(first) == 0 {
		t.Fatal("no team backed up")
	}
	var team backup.Summary
	backedUp, shared := map[string]string{}, map[string]bool{} // channel id → membershipType; shared with another team
	for _, b := range first {
		if b.Status != backup.StatusCompleted {
			t.Fatalf("backup of %s: %s %s", b.ResourceName, b.Status, b.Error)
		}
		want := channelTruth(t, tenant, b.Resource)
		if len(want) == 0 {
			t.Fatalf("team %s has no channel messages in the tenant", b.ResourceName)
		}
		stored := a.storedThreads(t, b.BackupID)
		assertSameItems(t, stored, want)
		if b.Items > team.Items {
			team = b
		}
		chans := channelHosts(t, c, b.Resource)
		for k := range stored {
			id := k[:strings.Index(k, "/")]
			if ch := chans[id]; !ch.hosted {
				t.Fatalf("the backup of %s holds channel %s, which it does not host (%+v)", b.ResourceName, id, ch)
			}
			backedUp[id] = chans[id].membership
		}
		for id, ch := range chans {
			if !ch.hosted {
				shared[id] = true
			}
		}
	}
	// Every type was backed up, and each channel shared with another team
	// under its host.
	types := map[string]bool{}
	for _, typ := range backedUp {
		types[typ] = true
	}
	if !types["standard"] || !types["private"] || !types["unknownFutureValue"] || len(shared) == 0 {
		t.Fatalf("backed up channels of types %v; %d channels shared with another team", types, len(shared))
	}
	for id := range shared {
		if backedUp[id] == "" {
			t.Fatalf("channel %s, shared with another team, is in no backup", id)
		}
	}

	// Changes in the fullest team: a new message, an edit, a deletion and
	// a reply to a message that had none changed.
	channel := teamChannels(t, c, team.Resource)[0]
	st, err := tenant.State(graphsim.StateFilter{Category: "channels", NoHashes: true})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string // the channel's top-level messages
	for _, it := range st.Items {
		if it.ResourceID == team.Resource && it.CollectionID == channel && it.Kind == "channelMessage" {
			msgs = append(msgs, it.ID)
		}
	}
	if len(msgs) < 3 {
		t.Fatalf("channel %s has %d messages, too few to change", channel, len(msgs))
	}
	edited, deleted, replied := "", "", ""
	for _, id := range msgs {
		var rs struct {
			Value []json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(c.get(t, "/v1.0/teams/"+team.Resource+"/channels/"+url.PathEscape(channel)+"/messages/"+id+"/replies"), &rs); err != nil {
			t.Fatal(err)
		}
		switch {
		case replied == "" && len(rs.Value) > 0:
			replied = id
		case edited == "":
			edited = id
		case deleted == "":
			deleted = id
		}
	}
	if edited == "" || deleted == "" || replied == "" {
		t.Fatalf("channel %s: no message to edit, delete and reply to among %d", channel, len(msgs))
	}
	// An app cannot post in a channel outside migration mode: the new
	// reply is a user's.
	for _, op := range []graphsim.MutateOp{
		{Op: "add", Kind: "channelMessage", Team: team.Resource, Channel: channel},
		{Op: "modify", ID: edited, Team: team.Resource, Channel: channel},
		{Op: "delete", ID: deleted, Team: team.Resource, Channel: channel},
		{Op: "add", Kind: "channelMessage", Team: team.Resource, Channel: channel, Parent: replied},
	} {
		if res := tenant.Mutate([]graphsim.MutateOp{op}); len(res) != 1 || res[0].Error != "" {
			t.Fatalf("%+v: %+v", op, res)
		}
	}

	r := a.run(t, "backup", "create", "groups", "--group", team.Resource, "--data", "messages", "--json")
	mustSucceed(t, r)
	var out createJSON
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
		t.Fatal(err)
	}
	second := out.Backups
	if len(second) != 1 || second[0].Status != backup.StatusCompleted {
		t.Fatalf("incremental: %+v", second)
	}
	// The request and the team's backup replay against today's code.
	execs := allExecutions(t, rawClient(t), "WorkflowId = '"+out.Workflow.WorkflowID+"' OR WorkflowId = 'corso-backup-"+second[0].BackupID+"'")
	if len(execs) != 2 {
		t.Fatalf("%d executions of the request and its backup", len(execs))
	}
	replayHistories(t, execs, []string{a.passphrase, tenant.CLIEnv("")["AZURE_CLIENT_SECRET"]}, func(e execution) string {
		if e.id == out.Workflow.WorkflowID {
			return "ContainersBackupWorkflow-Completed.json"
		}
		return ""
	})
	b := second[0]
	assertSameItems(t, a.storedThreads(t, b.BackupID), channelTruth(t, tenant, team.Resource))
	// The new message, the edited one and the one replied to; the
	// deleted one needs no read.
	if b.Fetched != 3 || b.Items != team.Items {
		t.Fatalf("incremental read %d threads and holds %d (the first held %d): want 3 read and as many held", b.Fetched, b.Items, team.Items)
	}

	// Details select by channel and sender.
	r = a.run(t, "backup", "details", "groups", "--backup", b.BackupID, "--json")
	mustSucceed(t, r)
	var det workflows.BackupDetailsResult
	if err := json.Unmarshal([]byte(r.Stdout), &det); err != nil {
		t.Fatal(err)
	}
	if int64(len(det.Entries)) != b.Items {
		t.Fatalf("details list %d threads, the backup holds %d", len(det.Entries), b.Items)
	}
	sender := det.Entries[0].Sender
	r = a.run(t, "backup", "details", "groups", "--backup", b.BackupID, "--message-sender", sender, "--json")
	mustSucceed(t, r)
	var bySender workflows.BackupDetailsResult
	if err := json.Unmarshal([]byte(r.Stdout), &bySender); err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, e := range det.Entries {
		if strings.Contains(strings.ToLower(e.Sender), strings.ToLower(sender)) {
			want++
		}
	}
	if sender == "" || len(bySender.Entries) != want {
		t.Fatalf("--message-sender %q selected %d threads, want %d", sender, len(bySender.Entries), want)
	}

	// Export: one JSON file per thread, each the stored thread, and one
	// HTML page per thread naming the message's sender.
	truth := channelTruth(t, tenant, team.Resource)
	for _, format := range []string{"json", "html"} {
		dir := t.TempDir()
		mustSucceed(t, a.run(t, "export", "groups", dir, "--backup", b.BackupID, "--format", format))
		files := readExportDir(t, dir)
		if int64(len(files)) != b.Items {
			t.Fatalf("%s export wrote %d files for %d threads", format, len(files), b.Items)
		}
		for name, data := range files {
			if !strings.HasPrefix(name, "messages/") || !strings.HasSuffix(name, "."+format) {
				t.Fatalf("%s export wrote %s", format, name)
			}
			if format == "html" {
				if !strings.HasPrefix(string(data), "<!DOCTYPE html>") || strings.Contains(string(data), "<p>") {
					t.Fatalf("%s is not a page of text:\n%s", name, data)
				}
				continue
			}
			var th m365.ChannelThread
			if err := json.Unmarshal(data, &th); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for _, m := range append([]json.RawMessage{th.Message}, th.Replies...) {
				var msg struct {
					ID      string `json:"id"`
					Channel struct {
						ID string `json:"channelId"`
					} `json:"channelIdentity"`
				}
				if err := json.Unmarshal(m, &msg); err != nil {
					t.Fatal(err)
				}
				if _, ok := truth[msg.Channel.ID+"/"+msg.ID]; !ok {
					t.Fatalf("%s holds message %s, which the tenant does not have", name, msg.ID)
				}
			}
		}
	}
}

// TestSharePointBackupOfAGroupsSite: `backup create sharepoint --group`
// backs up the libraries of the group's team site, which equal the
// tenant's files of that site.
func TestSharePointBackupOfAGroupsSite(t *testing.T) {
	a := newExchangeAdmin(t, tenant, "groups-site")
	g := tenant.Info().Groups[0]
	bs := a.driveBackup(t, "sharepoint", "group", g.Name)
	if len(bs) != 1 || bs[0].Status != backup.StatusCompleted {
		t.Fatalf("backups of group %s's site: %+v", g.Name, bs)
	}
	want := siteTruth(t, tenant, bs[0].Resource)
	if len(want) == 0 {
		t.Fatalf("the site %s backed up for group %s has no files in the tenant", bs[0].ResourceName, g.Name)
	}
	assertSameItems(t, a.storedFiles(t, bs[0].BackupID), want)
}
