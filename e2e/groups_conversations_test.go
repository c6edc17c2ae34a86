package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/mail"
	"strings"
	"testing"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/repository"
)

// storedPosts reads a groups backup's conversation posts straight from
// the repository: thread id/post id → SHA-256 of the post as stored.
func (a exchangeAdmin) storedPosts(t *testing.T, backupID string) map[string]string {
	t.Helper()
	out := map[string]string{}
	a.eachStoredItem(t, backupID, m365.Conversations, func(_ *repository.Repository, c repository.Collection, id string, b []byte) {
		sum := sha256.Sum256(b)
		out[c.ContainerID+"/"+id] = hex.EncodeToString(sum[:])
	})
	return out
}

// conversationTruth is the simulator's posts of one group in the same
// shape.
func conversationTruth(t *testing.T, groupID string) map[string]string {
	t.Helper()
	st, err := tenant.State(graphsim.StateFilter{Category: "conversations"})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, it := range st.Items {
		if it.ResourceID == groupID {
			out[it.CollectionID+"/"+it.ID] = it.Hash
		}
	}
	return out
}

// TestGroupsConversationsBackupAndExport backs up the conversations of
// every team's group mailbox: each backup holds every post, as Graph
// serves it, and none of its threads is reported as listed for want of
// delta (conversations have none). An unchanged group's next backup reads
// no post; after a reply and a new conversation, the next one matches the
// tenant again having read only the two new posts. The export writes one
// .eml per post that net/mail reads, with the post's Message-ID.
func TestGroupsConversationsBackupAndExport(t *testing.T) {
	a := newExchangeAdmin(t, tenant, "groupsconv")
	first := a.create(t, "groups", "--group", "*", "--data", "conversations")
	if len(first) == 0 {
		t.Fatal("no group backed up")
	}
	var group backup.Summary
	for _, b := range first {
		if b.Status != backup.StatusCompleted || len(b.Listed) > 0 {
			t.Fatalf("backup of %s: %s %s (listed without delta: %v)", b.ResourceName, b.Status, b.Error, b.Listed)
		}
		want := conversationTruth(t, b.Resource)
		if len(want) == 0 {
			t.Fatalf("group %s has no posts in the tenant", b.ResourceName)
		}
		assertSameItems(t, a.storedPosts(t, b.BackupID), want)
		if b.Items != int64(len(want)) || b.Fetched != b.Items {
			t.Fatalf("backup of %s holds %d posts and read %d; the tenant has %d", b.ResourceName, b.Items, b.Fetched, len(want))
		}
		if b.Items > group.Items {
			group = b
		}
	}

	same := a.create(t, "groups", "--group", group.Resource, "--data", "conversations")
	if len(same) != 1 || same[0].Status != backup.StatusCompleted || same[0].Fetched != 0 || same[0].Items != group.Items || len(same[0].Listed) > 0 {
		t.Fatalf("backup of the unchanged group: %+v; want no post read and %d held", same, group.Items)
	}

	// A reply in one thread and a new conversation.
	st, err := tenant.State(graphsim.StateFilter{Category: "conversations", NoHashes: true})
	if err != nil {
		t.Fatal(err)
	}
	thread := ""
	for _, it := range st.Items {
		if it.ResourceID == group.Resource {
			thread = it.CollectionID
			break
		}
	}
	for _, op := range []graphsim.MutateOp{
		{Op: "add", Kind: "post", Group: group.Resource, Parent: thread},
		{Op: "add", Kind: "conversation", Group: group.Resource, Name: "Offsite <planning> & travel"},
	} {
		if res := tenant.Mutate([]graphsim.MutateOp{op}); len(res) != 1 || res[0].Error != "" {
			t.Fatalf("%+v: %+v", op, res)
		}
	}
	next := a.create(t, "groups", "--group", group.Resource, "--data", "conversations")
	if len(next) != 1 || next[0].Status != backup.StatusCompleted {
		t.Fatalf("incremental: %+v", next)
	}
	b := next[0]
	truth := conversationTruth(t, group.Resource)
	assertSameItems(t, a.storedPosts(t, b.BackupID), truth)
	if b.Fetched != 2 || b.Items != group.Items+2 {
		t.Fatalf("incremental read %d posts and holds %d (the first held %d): want the 2 new ones read", b.Fetched, b.Items, group.Items)
	}

	dir := t.TempDir()
	mustSucceed(t, a.run(t, "export", "groups", dir, "--backup", b.BackupID))
	files := readExportDir(t, dir)
	if int64(len(files)) != b.Items {
		t.Fatalf("export wrote %d files for %d posts", len(files), b.Items)
	}
	exported := map[string]bool{}
	for name, data := range files {
		if !strings.HasPrefix(name, "conversations/") || !strings.HasSuffix(name, ".eml") {
			t.Fatalf("export wrote %s", name)
		}
		msg, err := mail.ReadMessage(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := msg.Header.Date(); err != nil {
			t.Fatalf("%s: Date: %v", name, err)
		}
		if from, err := msg.Header.AddressList("From"); err != nil || len(from) != 1 {
			t.Fatalf("%s: From %v: %v", name, from, err)
		}
		id := strings.TrimSuffix(strings.TrimPrefix(msg.Header.Get("Message-ID"), "<"), "@graph.microsoft.com>")
		exported[id] = true
	}
	for k := range truth {
		if _, post, _ := strings.Cut(k, "/"); !exported[post] {
			t.Fatalf("post %s is not in the export", post)
		}
	}
}
