package activities

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/repository"
	"github.com/corso-temporal/corso/workflows"
)

// fakeDrive is one drive with a change log, enough for delta semantics.
type fakeDrive struct {
	*fakeMailbox
	mu        sync.Mutex
	items     map[string]m365.DriveItem
	content   map[string]string
	log       []m365.DriveItem // every change; its index is the token
	downloads map[string]int
	opened    []string       // ids in the order their downloads began
	perms     map[string]int // permission calls by item
	breakAt   int            // fail after this many downloads (a dying worker)

	// Persistent faults, as the Graph client reports them.
	flagged  map[string]m365.Cause // listed as never served (malware facet)
	refuse   map[string]error      // downloads that fail so
	served   map[string]string     // bytes served instead of the listed ones, in full (drift)
	short    map[string]bool       // downloads that end before the listed size
	deltaErr error                 // every delta page fails so
	expired  bool                  // delta tokens are expired (410 resyncRequired)
	resolve  func() ([]m365.Drive, []backup.LeftOut, error)
}

func newFakeDrive() *fakeDrive {
	f := &fakeDrive{fakeMailbox: newFakeMailbox(0), items: map[string]m365.DriveItem{}, content: map[string]string{}, downloads: map[string]int{}, perms: map[string]int{}}
	f.put(m365.DriveItem{ID: "root", Root: true, Folder: true})
	f.put(m365.DriveItem{ID: "docs", ParentID: "root", Name: "Docs", Folder: true})
	for i := range 25 {
		parent := "root"
		if i%2 == 1 {
			parent = "docs"
		}
		f.putFile(fmt.Sprintf("f%02d", i), parent, fmt.Sprintf("file %d.txt", i), fmt.Sprintf("content %d", i))
	}
	return f
}

func (f *fakeDrive) put(it m365.DriveItem) {
	f.items[it.ID] = it
	f.log = append(f.log, it)
}

func (f *fakeDrive) putFile(id, parent, name, body string) {
	f.content[id] = body
	f.put(m365.DriveItem{ID: id, ParentID: parent, Name: name, Size: int64(len(body)), CTag: fmt.Sprintf("%s-%d", id, len(f.log)),
		Modified: time.Date(2026, 1, 1, 0, 0, len(f.log), 0, time.UTC)})
}

func (f *fakeDrive) remove(id string) {
	delete(f.items, id)
	f.log = append(f.log, m365.DriveItem{ID: id, Deleted: true})
}

func (f *fakeDrive) ResolveDrives(context.Context, string, []string) ([]m365.Drive, []backup.LeftOut, error) {
	if f.resolve != nil {
		return f.resolve()
	}
	return []m365.Drive{{ID: "drive", Name: "OneDrive", Service: m365.OneDrive, Owner: "u", OwnerName: "ann@x"}}, nil, nil
}

// DriveDeltaPageUnreadable is the page of DriveDeltaPage and the flagged
// files in it.
func (f *fakeDrive) DriveDeltaPageUnreadable(ctx context.Context, driveID, link string) (m365.DrivePage, map[string]m365.Cause, error) {
	if f.deltaErr != nil {
		return m365.DrivePage{}, nil, f.deltaErr
	}
	if f.expired && strings.HasPrefix(link, "delta:") {
		return m365.DrivePage{}, nil, m365.ErrDeltaExpired
	}
	p, err := f.DriveDeltaPage(ctx, driveID, link)
	var flags map[string]m365.Cause
	for _, it := range p.Items {
		if c, ok := f.flagged[it.ID]; ok && !it.Deleted {
			if flags == nil {
				flags = map[string]m365.Cause{}
			}
			flags[it.ID] = c
		}
	}
	return p, flags, err
}

// DriveDeltaPage pages the log 7 entries at a time; a token is a position.
func (f *fakeDrive) DriveDeltaPage(_ context.Context, _ string, link string) (m365.DrivePage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var from int
	full := link == ""
	if strings.HasPrefix(link, "next:") || strings.HasPrefix(link, "delta:") {
		_, n, _ := strings.Cut(link, ":")
		fmt.Sscan(n, &from)
		full = strings.HasPrefix(link, "next:full")
	}
	if full {
		// A full round lists the live items, not the log.
		var p m365.DrivePage
		for _, it := range f.items {
			p.Items = append(p.Items, it)
		}
		p.DeltaLink = fmt.Sprintf("delta:%d", len(f.log))
		return p, nil
	}
	to := min(from+7, len(f.log))
	p := m365.DrivePage{Items: append([]m365.DriveItem(nil), f.log[from:to]...)}
	if to == len(f.log) {
		p.DeltaLink = fmt.Sprintf("delta:%d", to)
	} else {
		p.NextLink = fmt.Sprintf("next:%d", to)
	}
	return p, nil
}

func (f *fakeDrive) OpenFile(_ context.Context, _ string, it m365.DriveItem) (io.ReadCloser, error) {
	id := it.ID
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.downloads {
		n += c
	}
	if f.breakAt > 0 && n >= f.breakAt {
		return nil, fmt.Errorf("worker lost: %w", context.Canceled)
	}
	body, ok := f.content[id]
	if !ok {
		return nil, m365.ErrNotFound
	}
	f.downloads[id]++
	f.opened = append(f.opened, id)
	mismatch := fmt.Errorf("download %s: %w", id, m365.ErrContentMismatch)
	switch {
	case f.refuse[id] != nil:
		return nil, f.refuse[id]
	case f.served[id] != "":
		// Every byte served, none as listed.
		return io.NopCloser(io.MultiReader(strings.NewReader(f.served[id]),
			failing{&m365.Fault{Cause: m365.CauseSizeDrift, Err: mismatch}})), nil
	case f.short[id]:
		return io.NopCloser(io.MultiReader(strings.NewReader(body[:len(body)/2]), failing{mismatch})), nil
	}
	return io.NopCloser(bytes.NewBufferString(body)), nil
}

// failing is a reader that fails.
type failing struct{ err error }

func (r failing) Read([]byte) (int, error) { return 0, r.err }

func (f *fakeDrive) DrivePermissions(_ context.Context, _, id string) ([]byte, error) {
	f.mu.Lock()
	f.perms[id]++
	f.mu.Unlock()
	return []byte(`[{"roles":["read"],"grantedToV2":{"user":{"email":"bob@x"}}}]`), nil
}

func (f *fakeDrive) truth() map[string]string {
	out := map[string]string{}
	for id, it := range f.items {
		if it.Folder {
			continue
		}
		p := it.Name
		if it.ParentID == "docs" {
			p = f.items["docs"].Name + "/" + p
		}
		out[p] = f.content[id]
	}
	return out
}

type driveFixture struct {
	*exchangeFixture
	d        *Drives
	drive    *fakeDrive
	failFast bool
}

func newDriveFixture(t *testing.T) *driveFixture {
	f := newExchangeFixture(t, 0)
	drive := newFakeDrive()
	f.a.NewClient = func(string, string, string) (Client, error) { return drive, nil }
	return &driveFixture{exchangeFixture: f, d: &Drives{Tenants: f.a.Tenants}, drive: drive}
}

// backup runs enumerate, every batch and combine, as the workflow does.
func (f *driveFixture) backup(id string) (backup.Summary, error) {
	in, err := f.combineInput(id)
	if err != nil {
		return backup.Summary{}, err
	}
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(f.d)
	val, err := env.ExecuteActivity(f.d.CombineDrives, in)
	if err != nil {
		return backup.Summary{}, err
	}
	var s backup.Summary
	require.NoError(f.t, val.Get(&s))
	return s, nil
}

// combineInput runs enumerate and every batch, as the workflow does, and
// returns what combine is given.
func (f *driveFixture) combineInput(id string) (workflows.CombineDrivesInput, error) {
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(f.d)
	drive := m365.Drive{ID: "drive", Name: "OneDrive", Service: m365.OneDrive, Owner: "u", OwnerName: "ann@x"}
	val, err := env.ExecuteActivity(f.d.EnumerateDrive, workflows.EnumerateDriveInput{Repo: f.repo, Graph: f.gr, BackupID: id, Drive: drive})
	if err != nil {
		return workflows.CombineDrivesInput{}, err
	}
	var en workflows.DriveEnumeration
	require.NoError(f.t, val.Get(&en))
	var results []workflows.DriveBatchResult
	for _, b := range en.Batches {
		val, err := env.ExecuteActivity(f.d.BackupDriveBatch, workflows.BackupDriveBatchInput{Repo: f.repo, Graph: f.gr, BackupID: id, Drive: drive, Batch: b,
			Concurrency: 2, FailFast: f.failFast})
		if err != nil {
			return workflows.CombineDrivesInput{}, err
		}
		var r workflows.DriveBatchResult
		require.NoError(f.t, val.Get(&r))
		results = append(results, r)
	}
	return workflows.CombineDrivesInput{Repo: f.repo, BackupID: id, TenantID: "tenant",
		Service: m365.OneDrive, Drives: []workflows.DriveEnumeration{en}, Results: [][]workflows.DriveBatchResult{results}}, nil
}

// openBackup opens the repository, released when the test ends, and a
// backup's index.
func (f *driveFixture) openBackup(id string) (*repository.Repository, repository.BackupIndex) {
	ctx := context.Background()
	r, err := f.a.Repos.open(ctx, f.repo)
	require.NoError(f.t, err)
	f.t.Cleanup(func() { r.Release(ctx) })
	require.NoError(f.t, r.Refresh(ctx))
	b, err := r.Backup(ctx, id)
	require.NoError(f.t, err)
	idx, err := r.Index(ctx, b)
	require.NoError(f.t, err)
	return r, idx
}

// stored reads the backup back: folder path/name → content.
func (f *driveFixture) stored(id string) map[string]string {
	ctx := context.Background()
	r, idx := f.openBackup(id)
	out := map[string]string{}
	for _, c := range idx.Collections {
		objects, err := driveObjects(ctx, r, c.StateID)
		require.NoError(f.t, err)
		details, err := readDetails(ctx, r, c.DetailsID)
		require.NoError(f.t, err)
		for _, e := range details {
			rd, err := r.OpenItem(ctx, objects[e.ItemID])
			require.NoError(f.t, err)
			body, _ := io.ReadAll(rd)
			rd.Close()
			out[strings.Join(append(append([]string{}, e.Path...), e.Name), "/")] = string(body)
		}
	}
	return out
}

func TestDriveBackupFullThenIncremental(t *testing.T) {
	f := newDriveFixture(t)
	full, err := f.backup("b1")
	require.NoError(t, err)
	require.Equal(t, int64(25), full.Items)
	require.Equal(t, int64(25), full.Fetched)
	require.Equal(t, f.drive.truth(), f.stored("b1"))

	// A new file, an edited one, a deleted one, a moved one, a renamed
	// folder: only the new and the edited are downloaded.
	f.drive.downloads = map[string]int{}
	f.drive.putFile("new", "docs", "new.txt", "brand new")
	f.drive.putFile("f02", "root", "file 2.txt", "edited")
	f.drive.remove("f03")
	moved := f.drive.items["f04"]
	moved.ParentID = "docs"
	f.drive.put(moved)
	docs := f.drive.items["docs"]
	docs.Name = "Documents"
	f.drive.put(docs)
	inc, err := f.backup("b2")
	require.NoError(t, err)
	require.Equal(t, f.drive.truth(), f.stored("b2"))
	require.Equal(t, map[string]int{"new": 1, "f02": 1}, f.drive.downloads)
	require.Equal(t, int64(2), inc.Fetched)
	require.Equal(t, int64(25), inc.Items)
}

// Graph expired the delta token: the drive is enumerated anew, the
// backup says so, and files whose content did not change keep their
// stored objects; one deleted meanwhile, which no delta reported, is gone.
func TestDriveBackupStartsOverWhenTheDeltaTokenExpired(t *testing.T) {
	f := newDriveFixture(t)
	_, err := f.backup("b1")
	require.NoError(t, err)
	f.drive.downloads = map[string]int{}
	f.drive.putFile("f02", "root", "file 2.txt", "edited")
	delete(f.drive.items, "f05")
	f.drive.expired = true
	inc, err := f.backup("b2")
	require.NoError(t, err)
	require.Equal(t, []string{"OneDrive"}, inc.Resets)
	require.Equal(t, map[string]int{"f02": 1}, f.drive.downloads)
	require.Equal(t, int64(24), inc.Items)
	require.Equal(t, f.drive.truth(), f.stored("b2"))
}

// oneBatch enumerates the drive for backup id, expecting one batch, and
// returns an activity environment and the batch's input.
func (f *driveFixture) oneBatch(id string, concurrency int) (*testsuite.TestActivityEnvironment, workflows.BackupDriveBatchInput) {
	f.t.Helper()
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(f.d)
	drive := m365.Drive{ID: "drive", Name: "OneDrive", Service: m365.OneDrive, Owner: "u", OwnerName: "ann@x"}
	val, err := env.ExecuteActivity(f.d.EnumerateDrive, workflows.EnumerateDriveInput{Repo: f.repo, Graph: f.gr, BackupID: id, Drive: drive})
	require.NoError(f.t, err)
	var en workflows.DriveEnumeration
	require.NoError(f.t, val.Get(&en))
	require.Len(f.t, en.Batches, 1)
	return env, workflows.BackupDriveBatchInput{Repo: f.repo, Graph: f.gr, BackupID: id, Drive: drive, Batch: en.Batches[0], Concurrency: concurrency}
}

func TestDriveBatchResumesFromItsCheckpoint(t *testing.T) {
	resumeDriveBatch(t, func(cp checkpoint) any { return cp })
}

// Batches heartbeated {"segments": [...]} before every service shared one
// checkpoint type; a retry of such a batch resumes from it all the same.
func TestDriveBatchResumesFromACheckpointOfTheOlderShape(t *testing.T) {
	resumeDriveBatch(t, func(cp checkpoint) any {
		return struct {
			Segments []string `json:"segments"`
		}{cp.Segments}
	})
}

// resumeDriveBatch kills a batch after a checkpoint and retries it with
// details(checkpoint) as its heartbeat details.
func resumeDriveBatch(t *testing.T, details func(checkpoint) any) {
	f := newDriveFixture(t)
	for i := range 400 {
		f.drive.putFile(fmt.Sprintf("g%03d", i), "root", fmt.Sprintf("bulk %d.bin", i), strings.Repeat("x", i))
	}
	var ts testsuite.WorkflowTestSuite
	env, in := f.oneBatch("b", 2)

	var last *checkpoint
	env.SetOnActivityHeartbeatListener(func(_ *activity.Info, details converter.EncodedValues) {
		var cp checkpoint
		if details.Get(&cp) == nil && len(cp.Segments) > 0 {
			last = &cp
		}
	})
	f.drive.breakAt = 350
	_, err := env.ExecuteActivity(f.d.BackupDriveBatch, in)
	require.Error(t, err, "the worker dies mid-batch")
	require.NotNil(t, last, "a checkpoint was taken before")

	f.drive.breakAt = 0
	before := 0
	for _, n := range f.drive.downloads {
		before += n
	}
	retry := ts.NewTestActivityEnvironment()
	retry.RegisterActivity(f.d)
	retry.SetHeartbeatDetails(details(*last))
	val, err := retry.ExecuteActivity(f.d.BackupDriveBatch, in)
	require.NoError(t, err)
	var res workflows.DriveBatchResult
	require.NoError(t, val.Get(&res))
	require.Equal(t, int64(425), res.Files)
	after := 0
	for _, n := range f.drive.downloads {
		after += n
	}
	again := after - 425
	require.LessOrEqual(t, again, driveCheckpointFiles+2, "a crash costs at most one checkpoint of downloads")
	t.Logf("downloaded %d before the crash, %d after, %d twice", before, after-before, again)
}

// A batch downloads its largest files first, so that none is left to
// stream alone at the end.
func TestDriveBatchDownloadsLargestFirst(t *testing.T) {
	f := newDriveFixture(t)
	f.drive.putFile("big", "root", "big.bin", strings.Repeat("b", 3000))
	f.drive.putFile("mid", "docs", "mid.bin", strings.Repeat("m", 2000))
	f.drive.putFile("bigger", "docs", "bigger.bin", strings.Repeat("B", 4000))
	env, in := f.oneBatch("b", 1)
	_, err := env.ExecuteActivity(f.d.BackupDriveBatch, in)
	require.NoError(t, err)
	require.Len(t, f.drive.opened, 28)
	require.Equal(t, []string{"bigger", "big", "mid"}, f.drive.opened[:3])
}

// Small files do not wait behind large ones for the worker's stream
// slots.
func TestDriveBatchSmallFilesPassLargeOnesWaitingForASlot(t *testing.T) {
	f := newDriveFixture(t)
	for i := range 3 {
		f.drive.putFile(fmt.Sprintf("large%d", i), "root", fmt.Sprintf("large %d.bin", i), strings.Repeat("L", largeFileSize+i))
	}
	env, in := f.oneBatch("b", 2)
	slots := f.d.largeFiles()
	for range cap(slots) {
		slots <- struct{}{} // other batches stream large files
	}
	done := make(chan error, 1)
	go func() {
		_, err := env.ExecuteActivity(f.d.BackupDriveBatch, in)
		done <- err
	}()
	opened := func() int {
		f.drive.mu.Lock()
		defer f.drive.mu.Unlock()
		return len(f.drive.opened)
	}
	deadline := time.Now().Add(10 * time.Second)
	for opened() < 25 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	require.Equal(t, 25, opened(), "every small file is downloaded while the large ones wait")
	for range cap(slots) {
		<-slots
	}
	require.NoError(t, <-done)
	require.Len(t, f.drive.opened, 28)
	require.ElementsMatch(t, []string{"large0", "large1", "large2"}, f.drive.opened[25:])
}

// storedState reads a backup's drive state back, by item id.
func (f *driveFixture) storedState(id string) map[string]*driveEntry {
	ctx := context.Background()
	r, idx := f.openBackup(id)
	require.Len(f.t, idx.Collections, 1)
	var entries []*driveEntry
	require.NoError(f.t, r.ReadJSON(ctx, idx.Collections[0].StateID, &entries))
	out := map[string]*driveEntry{}
	for _, e := range entries {
		out[e.ID] = e
	}
	return out
}

// Permissions cost SharePoint 5 units a call: only shared items, folders
// included, are asked for theirs, and again only when the delta reports
// them.
func TestDrivePermissionsOfSharedItemsOnly(t *testing.T) {
	f := newDriveFixture(t)
	docs := f.drive.items["docs"]
	docs.Shared = true
	f.drive.put(docs)
	shared := f.drive.items["f05"]
	shared.Shared = true
	f.drive.put(shared)
	_, err := f.backup("b1")
	require.NoError(t, err)
	require.Equal(t, map[string]int{"docs": 1, "f05": 1}, f.drive.perms)
	st := f.storedState("b1")
	require.NotEmpty(t, st["docs"].PermsID)
	require.NotEmpty(t, st["f05"].PermsID)
	require.Empty(t, st["f06"].PermsID)

	// f07 gets shared and f05 unshared, their content unchanged: neither
	// is downloaded, f07's permissions are read, f05's are dropped.
	f.drive.perms, f.drive.downloads = map[string]int{}, map[string]int{}
	newly := f.drive.items["f07"]
	newly.Shared = true
	f.drive.put(newly)
	shared.Shared = false
	f.drive.put(shared)
	_, err = f.backup("b2")
	require.NoError(t, err)
	require.Equal(t, map[string]int{"f07": 1}, f.drive.perms)
	require.Empty(t, f.drive.downloads)
	st = f.storedState("b2")
	require.NotEmpty(t, st["f07"].PermsID)
	require.Empty(t, st["f05"].PermsID)
	require.NotEmpty(t, st["docs"].PermsID, "an unchanged shared folder keeps its permissions")
	require.Equal(t, f.drive.truth(), f.stored("b2"))
}
