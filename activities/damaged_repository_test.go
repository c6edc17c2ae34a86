package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
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

func (d *damagedBackup) blobFile(t *testing.T, id blob.ID) string {
	t.Helper()
	return blobFile(t, d.dir, id)
}

// blobFile is where a filesystem repository keeps a blob: under kopia/,
// its id split into shard folders, with a ".f" suffix.
func blobFile(t *testing.T, dir string, id blob.ID) string {
	t.Helper()
	var found string
	root := filepath.Join(dir, "kopia")
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

// damagedDrive is a OneDrive backup whose files lie in three pack blobs
// (a full backup, then two incremental ones each adding files), with one
// of those packs deleted from storage and one byte of a file in another
// flipped.
type damagedDrive struct {
	*driveFixture
	backupID string
	// deleted are the files of the deleted pack, flipped the file with a
	// flipped byte; lost are both, intact the others.
	deleted      []string
	flipped      string
	lost, intact []string
	names        map[string]string // file id → name
}

func newDamagedDrive(t *testing.T) *damagedDrive {
	t.Helper()
	f := newDriveFixture(t)
	_, err := f.backup("b1")
	require.NoError(t, err)
	for i := range 6 {
		f.drive.putFile(fmt.Sprintf("g%02d", i), "docs", fmt.Sprintf("second %d.txt", i), fmt.Sprintf("second round %d", i))
	}
	_, err = f.backup("b2")
	require.NoError(t, err)
	for i := range 6 {
		f.drive.putFile(fmt.Sprintf("h%02d", i), "root", fmt.Sprintf("third %d.txt", i), fmt.Sprintf("third round %d", i))
	}
	s, err := f.backup("b3")
	require.NoError(t, err)
	require.Equal(t, int64(37), s.Items)
	d := &damagedDrive{driveFixture: f, backupID: "b3", names: map[string]string{}}

	ctx := context.Background()
	r, idx := f.openBackup(d.backupID)
	b, err := r.Backup(ctx, d.backupID)
	require.NoError(t, err)
	// Packs that hold what every file needs (the index, the folders,
	// details and drive state) are left alone: only file data is damaged.
	shared := map[blob.ID]bool{}
	ids := []string{b.IndexID}
	for _, c := range idx.Collections {
		ids = append(ids, c.DirID, c.DetailsID, c.StateID)
	}
	for _, id := range ids {
		if id == "" {
			continue
		}
		packs, err := r.Packs(ctx, id)
		require.NoError(t, err)
		for _, p := range packs {
			shared[p] = true
		}
	}
	byPack := map[blob.ID][]string{}
	ranges := map[string]repository.ContentRange{}
	for _, c := range idx.Collections {
		objects, err := driveObjects(ctx, r, c.StateID)
		require.NoError(t, err)
		details, err := readDetails(ctx, r, c.DetailsID)
		require.NoError(t, err)
		for _, e := range details {
			d.names[e.ItemID] = e.Name
			rs, err := r.ContentRanges(ctx, objects[e.ItemID])
			require.NoError(t, err)
			require.Len(t, rs, 1, "a small file is one content")
			ranges[e.ItemID] = rs[0]
			if !shared[rs[0].Pack] {
				byPack[rs[0].Pack] = append(byPack[rs[0].Pack], e.ItemID)
			}
		}
	}
	var packs []blob.ID
	for p := range byPack {
		packs = append(packs, p)
	}
	slices.Sort(packs)
	require.GreaterOrEqual(t, len(packs), 2, "files in at least two packs of their own: %v", byPack)

	dir := f.repo.Storage.Path
	require.NoError(t, os.Remove(blobFile(t, dir, packs[0])))
	d.deleted = slices.Sorted(slices.Values(byPack[packs[0]]))
	d.flipped = slices.Min(byPack[packs[1]])
	rg := ranges[d.flipped]
	path := blobFile(t, dir, rg.Pack)
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	raw[rg.Offset+rg.Length/2] ^= 0x01
	require.NoError(t, os.WriteFile(path, raw, 0o600))
	d.lost = slices.Sorted(slices.Values(append(slices.Clone(d.deleted), d.flipped)))
	for id := range ranges {
		if !slices.Contains(d.lost, id) {
			d.intact = append(d.intact, id)
		}
	}
	sort.Strings(d.intact)
	return d
}

// restoredDrive is a drive files are restored into: folders by path, files
// by folder and name.
type restoredDrive struct {
	*fakeDrive
	mu      sync.Mutex
	folders map[string]string // path → id
	files   map[string]string // folder id/name → content
}

func (d *restoredDrive) EnsureDriveFolder(_ context.Context, _ string, p []string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	k := strings.Join(p, "/")
	if id, ok := d.folders[k]; ok {
		return id, nil
	}
	d.folders[k] = "folder:" + k
	return d.folders[k], nil
}

func (d *restoredDrive) DriveChildren(_ context.Context, _, folderID string) ([]m365.DriveItem, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []m365.DriveItem
	for k, body := range d.files {
		if dir, name := path.Split(k); strings.TrimSuffix(dir, "/") == folderID {
			out = append(out, m365.DriveItem{ID: k, ParentID: folderID, Name: name, Size: int64(len(body))})
		}
	}
	return out, nil
}

func (d *restoredDrive) UploadFile(_ context.Context, _, folderID, name string, size int64, _ time.Time, content io.Reader, _ string) (m365.DriveItem, error) {
	body, err := io.ReadAll(content)
	if err != nil {
		return m365.DriveItem{}, fmt.Errorf("upload %s: %w", name, err)
	}
	if int64(len(body)) != size {
		return m365.DriveItem{}, fmt.Errorf("upload %s: %d bytes, announced %d", name, len(body), size)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	k := folderID + "/" + name
	d.files[k] = string(body)
	return m365.DriveItem{ID: k, ParentID: folderID, Name: name, Size: size}, nil
}

func (d *restoredDrive) RestorePermissions(context.Context, string, string, []byte) error { return nil }

// failedFiles checks that every failure names its file and why, and
// returns the failed ids.
func (d *damagedDrive) failedFiles(t *testing.T, errs []backup.ItemError) []string {
	t.Helper()
	var ids []string
	for _, e := range errs {
		require.Equal(t, d.names[e.ItemID], e.Name, "%+v", e)
		require.Contains(t, e.Reason, "cannot be read")
		ids = append(ids, e.ItemID)
	}
	sort.Strings(ids)
	return ids
}

func TestDriveRestoreFailsOnlyTheFilesOfAMissingOrDamagedPack(t *testing.T) {
	d := newDamagedDrive(t)
	tgt := &restoredDrive{fakeDrive: d.drive, folders: map[string]string{}, files: map[string]string{}}
	d.a.NewClient = func(string, string, string) (Client, error) { return tgt, nil }
	d.a.clients = nil
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(d.d)
	val, err := env.ExecuteActivity(d.d.PlanDriveRestore, workflows.DriveRestoreInput{
		Repo: d.repo, Graph: d.gr, Service: m365.OneDrive, BackupID: d.backupID, Destination: "R", Collisions: workflows.CollisionCopy,
	})
	require.NoError(t, err)
	var plan workflows.DriveRestorePlan
	require.NoError(t, val.Get(&plan))
	var total workflows.RestoreCollectionResult
	for _, b := range plan.Batches {
		val, err := env.ExecuteActivity(d.d.RestoreDriveBatch, workflows.RestoreDriveBatchInput{
			Repo: d.repo, Graph: d.gr, Batch: b, Collisions: workflows.CollisionCopy, Started: time.Now(), Concurrency: 3,
		})
		require.NoError(t, err, "damage fails files, not the restore")
		var res workflows.RestoreCollectionResult
		require.NoError(t, val.Get(&res))
		total.Restored += res.Restored
		total.Failed += res.Failed
		total.Errors = append(total.Errors, res.Errors...)
	}
	require.Equal(t, int64(len(d.intact)), total.Restored)
	require.Equal(t, int64(len(d.lost)), total.Failed)
	require.Equal(t, d.lost, d.failedFiles(t, total.Errors), "every damaged file named, no other")

	// The others are restored whole, under the destination.
	want := map[string]string{}
	for p, body := range d.drive.truth() {
		want["folder:"+path.Join("R", path.Dir(p))+"/"+path.Base(p)] = body
	}
	for _, id := range d.lost {
		it := d.drive.items[id]
		p := it.Name
		if it.ParentID == "docs" {
			p = "Docs/" + p
		}
		delete(want, "folder:"+path.Join("R", path.Dir(p))+"/"+path.Base(p))
	}
	require.Equal(t, want, tgt.files)
}

func TestDriveExportFailsOnlyTheFilesOfAMissingOrDamagedPack(t *testing.T) {
	d := newDamagedDrive(t)
	x := &Exporter{Repos: d.a.Repos}
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(x)
	out := filepath.Join(t.TempDir(), "export")
	val, err := env.ExecuteActivity(x.ExportDrive, workflows.ExportInput{Repo: d.repo, Service: m365.OneDrive, BackupID: d.backupID, Dir: out})
	require.NoError(t, err, "damage fails files, not the export")
	var res workflows.ExportResult
	require.NoError(t, val.Get(&res))
	require.Equal(t, int64(len(d.intact)), res.Files)
	require.Equal(t, d.lost, d.failedFiles(t, res.Errors), "every damaged file named, no other")

	want := d.drive.truth()
	for _, id := range d.lost {
		it := d.drive.items[id]
		p := it.Name
		if it.ParentID == "docs" {
			p = "Docs/" + p
		}
		delete(want, p)
	}
	got := map[string]string{}
	require.NoError(t, filepath.WalkDir(out, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		body, err := os.ReadFile(p)
		rel, _ := filepath.Rel(out, p)
		got[filepath.ToSlash(rel)] = string(body)
		return err
	}))
	require.Equal(t, want, got, "the intact files exported whole, nothing of the damaged ones")
}
