package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kopia/kopia/repo/blob"
	"github.com/kopia/kopia/snapshot"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/repository"
	"github.com/corso-temporal/corso/workflows"
)

// damagedBackup is a backed-up mail folder of 24 messages whose items lie
// in several pack blobs (a collection flushes every few items), with one
// pack blob deleted from storage and one byte of another flipped.
type damagedBackup struct {
	*exchangeFixture
	dir      string // the repository's directory
	backupID string
	plan     workflows.RestoreCollectionPlan
	objects  map[string]string // item id → object
	// deleted are the items of the deleted pack, flipped the item with a
	// flipped byte; lost are both, intact the others.
	deleted      []string
	flipped      string
	lost, intact []string
}

func newDamagedBackup(t *testing.T) *damagedBackup {
	t.Helper()
	f := newExchangeFixture(t, 0)
	sent := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for i := range 24 {
		f.src.put(fmt.Sprintf("msg-%02d", i), message(fmt.Sprintf("report %d", i), sent.Add(time.Duration(i)*time.Hour)))
	}
	res, _, err := f.run(nil, nil)
	require.NoError(t, err)
	prev := previousOf(t, res)
	d := &damagedBackup{exchangeFixture: f, dir: f.repo.Storage.Path, backupID: "b-damaged", objects: map[string]string{}}
	d.plan = workflows.RestoreCollectionPlan{Category: m365.Email, Path: []string{"Inbox"}, TargetPath: []string{"R", "Inbox"},
		TargetID: "target", DirID: prev.DirID, DetailsID: prev.DetailsID, Selected: 24}

	ctx := context.Background()
	r, err := f.a.Repos.open(ctx, f.repo)
	require.NoError(t, err)
	defer r.Release(ctx)
	var de snapshot.DirEntry
	require.NoError(t, json.Unmarshal(res.DirEntry, &de))
	d.putBackup(t, r, &de, prev)

	dir, err := r.ReadDir(ctx, prev.DirID)
	require.NoError(t, err)
	for _, e := range dir {
		d.objects[strings.TrimSuffix(e.Name, ".item")] = e.ObjectID.String()
	}
	// Packs that hold what every item needs (folders, details, the
	// index) are left alone: only item data is damaged.
	shared := map[blob.ID]bool{}
	b, err := r.Backup(ctx, d.backupID)
	require.NoError(t, err)
	for _, id := range []string{prev.DirID, prev.DetailsID, b.IndexID, de.ObjectID.String()} {
		packs, err := r.Packs(ctx, id)
		require.NoError(t, err)
		for _, p := range packs {
			shared[p] = true
		}
	}
	byPack := map[blob.ID][]string{}
	ranges := map[string]repository.ContentRange{}
	for id, oid := range d.objects {
		rs, err := r.ContentRanges(ctx, oid)
		require.NoError(t, err)
		require.Len(t, rs, 1, "a small message is one content")
		ranges[id] = rs[0]
		if !shared[rs[0].Pack] {
			byPack[rs[0].Pack] = append(byPack[rs[0].Pack], id)
		}
	}
	var packs []blob.ID
	for p := range byPack {
		packs = append(packs, p)
	}
	slices.Sort(packs)
	require.GreaterOrEqual(t, len(packs), 2, "items in at least two packs of their own: %v", byPack)

	// Delete one pack: all its items are lost. Flip a byte of one item
	// in another: that item alone is lost.
	require.NoError(t, os.Remove(d.blobFile(t, packs[0])))
	d.deleted = slices.Sorted(slices.Values(byPack[packs[0]]))
	d.lost = append(d.lost, d.deleted...)
	victim := slices.Min(byPack[packs[1]])
	d.flipped = victim
	rg := ranges[victim]
	path := d.blobFile(t, rg.Pack)
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	raw[rg.Offset+rg.Length/2] ^= 0x01
	require.NoError(t, os.WriteFile(path, raw, 0o600))
	d.lost = append(d.lost, victim)
	sort.Strings(d.lost)
	for id := range d.objects {
		if !slices.Contains(d.lost, id) {
			d.intact = append(d.intact, id)
		}
	}
	sort.Strings(d.intact)
	return d
}

// putBackup records the collection as a completed backup of its own.
func (d *damagedBackup) putBackup(t *testing.T, r *repository.Repository, de *snapshot.DirEntry, prev *workflows.PreviousCollection) {
	ctx := context.Background()
	wctx, sess, err := r.NewSession(ctx, "test backup")
	require.NoError(t, err)
	defer sess.Close(wctx)
	email, err := sess.WriteDir(wctx, "email", "email", []*snapshot.DirEntry{de})
	require.NoError(t, err)
	root, err := sess.WriteDir(wctx, "", "", []*snapshot.DirEntry{email})
	require.NoError(t, err)
	now := time.Now().UTC()
	b := &repository.Backup{Summary: backup.Summary{BackupID: d.backupID, Tenant: "tenant", Service: "exchange", Resource: "mbx",
		ResourceName: "mbx@contoso.com", Status: backup.StatusCompleted, Started: now, Completed: now, Items: 24}}
	require.NoError(t, sess.PutBackup(wctx, b, root, repository.BackupIndex{Collections: []repository.Collection{{
		Category: string(m365.Email), ContainerID: "inbox", Path: prev.Path, DirID: prev.DirID, DetailsID: prev.DetailsID, Items: 24,
	}}}))
	require.NoError(t, sess.Flush(wctx))
}

// blobFile is where a filesystem repository keeps a blob: under kopia/,
// its id split into shard folders, with a ".f" suffix.
func (d *damagedBackup) blobFile(t *testing.T, id blob.ID) string {
	t.Helper()
	var found string
	root := filepath.Join(d.dir, "kopia")
	require.NoError(t, filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if strings.TrimSuffix(strings.ReplaceAll(rel, string(filepath.Separator), ""), ".f") == string(id) {
			found = p
		}
		return nil
	}))
	require.NotEmpty(t, found, "blob %s", id)
	return found
}

func TestVerifyNamesTheItemsOfAMissingOrDamagedPack(t *testing.T) {
	d := newDamagedBackup(t)
	var ts testsuite.WorkflowTestSuite
	run := func(readData bool) workflows.VerifyResult {
		env := ts.NewTestActivityEnvironment()
		env.RegisterActivity(d.a.Repos)
		val, err := env.ExecuteActivity(d.a.Repos.VerifyBackup, workflows.VerifyInput{
			Repo: d.repo, Service: "exchange", BackupID: d.backupID, ReadData: readData, Concurrency: 4,
		})
		require.NoError(t, err)
		var res workflows.VerifyResult
		require.NoError(t, val.Get(&res))
		return res
	}
	named := func(res workflows.VerifyResult) ([]string, []string) {
		var ids, names []string
		for _, p := range res.Problems {
			require.Equal(t, "item", p.Object, "%+v", p)
			ids = append(ids, p.ItemID)
			names = append(names, p.Name)
		}
		sort.Strings(ids)
		sort.Strings(names)
		return ids, names
	}

	// Presence alone: the deleted pack's items are missing; the flipped
	// byte is only found by reading.
	res := run(false)
	require.Equal(t, int64(24), res.Items)
	ids, _ := named(res)
	require.Equal(t, d.deleted, ids)
	require.Equal(t, int64(len(d.deleted)), res.Missing)
	require.Zero(t, res.Corrupt)
	require.False(t, res.OK())

	res = run(true)
	ids, names := named(res)
	require.Equal(t, d.lost, ids, "every affected item named, no other")
	require.Equal(t, int64(len(d.deleted)), res.Missing)
	require.Equal(t, int64(1), res.Corrupt)
	for _, p := range res.Problems {
		require.Equal(t, p.ItemID == d.flipped, p.Problem == workflows.ProblemCorrupt, "%+v", p)
	}
	require.Equal(t, int64(len(d.intact)), res.Hashed, "the intact items matched their recorded SHA-256")
	require.Zero(t, res.IntegrityOnly)
	for _, n := range names {
		require.True(t, strings.HasPrefix(n, "subject "), "named by subject: %q", n)
	}
}

func TestRestoreFailsOnlyTheItemsOfAMissingOrDamagedPack(t *testing.T) {
	d := newDamagedBackup(t)
	started := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	tgt := &fakeTarget{fakeMailbox: d.src, now: started, items: map[string]m365.ExistingItem{}}
	d.a.NewClient = func(string, string, string) (Client, error) { return tgt, nil }
	d.a.clients = nil
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(d.a)
	val, err := env.ExecuteActivity(d.a.RestoreCollection, workflows.RestoreCollectionInput{
		Repo: d.repo, Graph: d.gr, MailboxID: "mbx", Plan: d.plan, Collisions: workflows.CollisionCopy, Started: started, Concurrency: 3,
	})
	require.NoError(t, err, "damage fails items, not the restore")
	var res workflows.RestoreCollectionResult
	require.NoError(t, val.Get(&res))
	require.Equal(t, int64(len(d.intact)), res.Restored)
	require.Equal(t, int64(len(d.lost)), res.Failed)
	var ids []string
	for _, e := range res.Errors {
		ids = append(ids, e.ItemID)
		require.Contains(t, e.Reason, "cannot be read")
		require.NotEmpty(t, e.Name)
	}
	sort.Strings(ids)
	require.Equal(t, d.lost, ids)
	require.Len(t, tgt.items, len(d.intact))
}

func TestExportFailsOnlyTheItemsOfAMissingOrDamagedPack(t *testing.T) {
	d := newDamagedBackup(t)
	x := &Exporter{Repos: d.a.Repos}
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(x)
	out := filepath.Join(t.TempDir(), "export")
	val, err := env.ExecuteActivity(x.ExportExchange, workflows.ExportInput{Repo: d.repo, Service: "exchange", BackupID: d.backupID, Dir: out})
	require.NoError(t, err, "damage fails items, not the export")
	var res workflows.ExportResult
	require.NoError(t, val.Get(&res))
	require.Equal(t, int64(len(d.intact)), res.Files)
	var ids []string
	for _, e := range res.Errors {
		ids = append(ids, e.ItemID)
		require.Contains(t, e.Reason, "cannot be read")
	}
	sort.Strings(ids)
	require.Equal(t, d.lost, ids)
	var files int
	require.NoError(t, filepath.WalkDir(out, func(_ string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			files++
		}
		return err
	}))
	require.Equal(t, len(d.intact), files, "nothing of the lost items left in the export")
}
