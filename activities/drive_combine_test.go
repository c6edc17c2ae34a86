package activities

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kopia/kopia/repo/manifest"
	"github.com/kopia/kopia/snapshot"
	"github.com/stretchr/testify/require"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/repository"
	"github.com/corso-temporal/corso/workflows"
)

// combineCase is what enumerations and downloads left for a combine of
// two libraries: their states (each sorted by id) and their batches'
// results, some files stored by two batches, some not stored, some
// refused, some cut off from the root, some stored with other bytes than
// listed, some stored by an earlier backup.
type combineCase struct {
	drives  []m365.Drive
	states  [][]*driveEntry
	results [][][]driveFileResult
	errors  [][][]backup.ItemError
}

func caseItemID(drive, n int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%d/%d", drive, n))
	return fmt.Sprintf("%X", sum[:8]) // ids in no order of the paths
}

func newCombineCase(t *testing.T, sess *repository.Session) *combineCase {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	c := &combineCase{drives: []m365.Drive{
		{ID: "lib1", Name: "Documents", Service: m365.SharePoint, Owner: "site", OwnerName: "Finance"},
		{ID: "lib2", Name: "Shared/Documents", Service: m365.SharePoint, Owner: "site", OwnerName: "Finance"},
	}}
	stored := func(n int) (string, string) {
		de, sum, err := sess.WriteItemSum(ctx, "f", time.Time{}, strings.NewReader(fmt.Sprintf("content %d", n)))
		require.NoError(t, err)
		return de.ObjectID.String(), sum
	}
	mod := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for d, files := range []int{300, 60} {
		id := func(n int) string { return caseItemID(d, n) }
		// Items 0–9 are the root and folders, some nested, one empty, one a
		// package; 10 is a folder the state no longer has.
		state := []*driveEntry{
			{DriveItem: m365.DriveItem{ID: id(0), Name: "root", Root: true, Folder: true}},
			{DriveItem: m365.DriveItem{ID: id(1), ParentID: id(0), Name: "Docs", Folder: true, Shared: true}, PermsID: "p1"},
			{DriveItem: m365.DriveItem{ID: id(2), ParentID: id(1), Name: "Deep", Folder: true}},
			{DriveItem: m365.DriveItem{ID: id(3), ParentID: id(2), Name: "Deeper", Folder: true}},
			{DriveItem: m365.DriveItem{ID: id(4), ParentID: id(0), Name: "Empty", Folder: true}},
			{DriveItem: m365.DriveItem{ID: id(5), ParentID: id(0), Name: "a/b %", Folder: true}},
			{DriveItem: m365.DriveItem{ID: id(6), ParentID: id(0), Name: "Docs 2", Folder: true}},
			{DriveItem: m365.DriveItem{ID: id(7), ParentID: id(6), Name: "..", Folder: true}},
			{DriveItem: m365.DriveItem{ID: id(8), ParentID: id(1), Name: "Notebook", Package: "oneNote"}},
			{DriveItem: m365.DriveItem{ID: id(9), ParentID: id(5), Name: "Docs", Folder: true}},
		}
		parents := []int{0, 1, 2, 3, 5, 6, 7, 8, 9, 10}
		var downloads []driveFileResult
		var errs []backup.ItemError
		for n := 11; n < 11+files; n++ {
			de := &driveEntry{DriveItem: m365.DriveItem{ID: id(n), ParentID: id(parents[n%len(parents)]), Name: fmt.Sprintf("file %d.txt", n),
				Size: int64(n), Modified: mod.Add(time.Duration(n) * time.Minute), Created: mod, CreatedBy: "adele", ModifiedBy: "megan"}}
			if n%40 == 0 {
				de.Name = fmt.Sprintf("a/b %d.txt", n)
			}
			state = append(state, de)
			switch {
			case n%17 == 0: // stored by an earlier backup
				de.ObjectID, de.SHA256 = stored(n)
			case n%7 == 0: // failed
			case n%11 == 0: // refused for good
				de.Skip = "stale"
				errs = append(errs, backup.ItemError{ItemID: de.ID, Cause: string(m365.CauseMalware)})
			default:
				oid, sum := stored(n)
				size := de.Size
				if n%13 == 0 {
					size++ // other bytes than listed
				}
				if n%19 == 0 { // stored by two batches: the later one wins
					old, _ := stored(-n)
					downloads = append(downloads, driveFileResult{ID: de.ID, ObjectID: old, Size: 1})
				}
				downloads = append(downloads, driveFileResult{ID: de.ID, ObjectID: oid, PermsID: fmt.Sprintf("perm%d", n%3), Size: size, SHA256: sum})
			}
		}
		slices.SortFunc(state, func(a, b *driveEntry) int { return strings.Compare(a.ID, b.ID) })
		// Batches of 25 in no id order, a file's later download in a later
		// batch, the refusals reported by the first.
		var batch [][]driveFileResult
		seen := map[string]int{}
		for pos, i := range rng.Perm(len(downloads)) {
			f := downloads[i]
			b := pos / 25
			if last, ok := seen[f.ID]; ok && b <= last {
				b = last + 1
			}
			seen[f.ID] = b
			for len(batch) <= b {
				batch = append(batch, nil)
			}
			batch[b] = append(batch[b], f)
		}
		batchErrs := make([][]backup.ItemError, len(batch))
		batchErrs[0] = errs
		c.states = append(c.states, state)
		c.results = append(c.results, batch)
		c.errors = append(c.errors, batchErrs)
	}
	return c
}

// store writes the case's states (streamed, or whole as older combines
// did) and results and returns combine's input.
func (c *combineCase) store(t *testing.T, sess *repository.Session, repo workflows.RepoRef, streamed bool) workflows.CombineDrivesInput {
	ctx := context.Background()
	in := workflows.CombineDrivesInput{Repo: repo, BackupID: "b1", TenantID: "tenant", Service: m365.SharePoint}
	for d, drive := range c.drives {
		var stateID string
		if streamed {
			w := sess.NewJSONArray(ctx, "DRIVE-STATE")
			for _, e := range c.states[d] {
				require.NoError(t, w.Add(e))
			}
			id, err := w.Result()
			require.NoError(t, err)
			w.Close()
			stateID = id.String()
		} else {
			id, err := sess.WriteJSON(ctx, "DRIVE-STATE", c.states[d])
			require.NoError(t, err)
			stateID = id.String()
		}
		in.Drives = append(in.Drives, workflows.DriveEnumeration{Drive: drive, StateID: stateID, DeltaLink: "delta:" + drive.ID})
		var results []workflows.DriveBatchResult
		for b, files := range c.results[d] {
			id, err := sess.WriteJSON(ctx, "DRIVE-BATCH-RESULT", files)
			require.NoError(t, err)
			results = append(results, workflows.DriveBatchResult{ResultsID: id.String(), Files: int64(len(files)), Errors: c.errors[d][b]})
		}
		in.Results = append(in.Results, results)
	}
	require.NoError(t, sess.Flush(ctx))
	return in
}

// combinedInMemory is what a combine holding every entry writes, for the
// case: each library's details and state, and the snapshot's root.
func (c *combineCase) combinedInMemory(t *testing.T, sess *repository.Session) ([][]backup.Entry, [][]*driveEntry, *snapshot.DirEntry) {
	ctx := context.Background()
	var allDetails [][]backup.Entry
	var allKept [][]*driveEntry
	root := newTreeNode()
	for d, drive := range c.drives {
		node := root.at([]string{"tenant", m365.SharePoint, "site", backup.FilesCategory, pathName(drive.Name)})
		tree := driveTree{}
		for _, e := range c.states[d] {
			cp := *e
			tree[e.ID] = &cp
		}
		refused := map[string]m365.Cause{}
		for _, errs := range c.errors[d] {
			for _, ie := range errs {
				refused[ie.ItemID] = m365.Cause(ie.Cause)
			}
		}
		for _, files := range c.results[d] {
			for _, f := range files {
				if de, ok := tree[f.ID]; ok {
					de.ObjectID, de.PermsID, de.StoredSize, de.SHA256 = f.ObjectID, f.PermsID, nil, f.SHA256
					if f.Size != de.Size {
						de.StoredSize = &f.Size
					}
				}
			}
		}
		var details []backup.Entry
		var kept []*driveEntry
		for _, de := range tree.sorted() {
			if de.Folder || de.Root {
				kept = append(kept, de)
				continue
			}
			if de.ObjectID == "" {
				de.Skip = refused[de.ID]
				kept = append(kept, de)
				continue
			}
			path, ok := tree.path(de)
			if !ok {
				continue
			}
			kept = append(kept, de)
			oid, err := repository.ParseObjectID(de.ObjectID)
			require.NoError(t, err)
			segs := make([]string, len(path))
			for i, p := range path {
				segs[i] = pathName(p)
			}
			size := de.storedSize()
			n := node.at(segs)
			n.items = append(n.items, repository.ItemEntry(pathName(de.Name), oid, size, de.Modified))
			details = append(details, backup.Entry{
				ItemID: de.ID, Category: backup.FilesCategory, Path: path, Name: de.Name, Library: drive.Name,
				Size: size, ModTime: de.Modified, Created: de.Created, CreatedBy: de.CreatedBy, ModifiedBy: de.ModifiedBy,
				SHA256: de.SHA256,
			})
		}
		allDetails = append(allDetails, details)
		allKept = append(allKept, kept)
	}
	rootEntry, err := root.write(ctx, sess, "", "")
	require.NoError(t, err)
	return allDetails, allKept, rootEntry
}

// listTree lists a stored directory tree: path → object id of its files.
func listTree(t *testing.T, r *repository.Repository, oid, path string, out map[string]string) {
	entries, err := r.ReadDir(context.Background(), oid)
	require.NoError(t, err)
	for _, e := range entries {
		p := path + "/" + e.Name
		if e.Type == snapshot.EntryTypeDirectory {
			listTree(t, r, e.ObjectID.String(), p, out)
			continue
		}
		out[p] = e.ObjectID.String()
	}
}

func sameJSON(t *testing.T, want, got any, what string) {
	w, err := json.Marshal(want)
	require.NoError(t, err)
	g, err := json.Marshal(got)
	require.NoError(t, err)
	require.JSONEq(t, string(w), string(g), what)
}

// A combine that streams writes the backup a combine holding every entry
// wrote — details, state, index and every directory of the snapshot —
// whether the downloads and the tree fit in one run or spill into many,
// and whether the state was streamed or written whole.
func TestDriveCombineStreamsWhatTheWholeDriveWouldHaveWritten(t *testing.T) {
	for _, tc := range []struct {
		name     string
		runSize  int
		streamed bool
	}{{"one run", 50_000, true}, {"spilled runs", 16, true}, {"older state written whole", 16, false}} {
		t.Run(tc.name, func(t *testing.T) {
			defer func(n int) { spillRunSize = n }(spillRunSize)
			spillRunSize = tc.runSize
			ctx := context.Background()
			f := newEnumerationFixture(t, newPagedDrive(0, 0, 1))
			r, err := f.d.Repos.open(ctx, f.repo)
			require.NoError(t, err)
			defer r.Release(ctx)
			sctx, sess, err := r.NewSession(ctx, "case")
			require.NoError(t, err)
			defer sess.Close(sctx)
			cs := newCombineCase(t, sess)
			in := cs.store(t, sess, f.repo, tc.streamed)
			wantDetails, wantStates, wantRoot := cs.combinedInMemory(t, sess)

			s, err := f.combine(in)
			require.NoError(t, err)
			require.NoError(t, r.Refresh(ctx))
			b, err := r.Backup(ctx, "b1")
			require.NoError(t, err)
			idx, err := r.Index(ctx, b)
			require.NoError(t, err)
			man, err := snapshot.LoadSnapshot(ctx, r, manifest.ID(b.SnapshotID))
			require.NoError(t, err)

			var items int64
			require.Len(t, idx.Collections, len(cs.drives))
			for d, c := range idx.Collections {
				require.Equal(t, cs.drives[d].ID, c.ContainerID)
				require.Equal(t, "delta:"+cs.drives[d].ID, c.DeltaLink)
				var details []backup.Entry
				require.NoError(t, r.ReadJSON(ctx, c.DetailsID, &details))
				sameJSON(t, wantDetails[d], details, "details of "+cs.drives[d].Name)
				var state []*driveEntry
				require.NoError(t, r.ReadJSON(ctx, c.StateID, &state))
				sameJSON(t, wantStates[d], state, "state of "+cs.drives[d].Name)
				require.Equal(t, int64(len(wantDetails[d])), c.Items)
				items += c.Items
			}
			require.Equal(t, items, s.Items)
			require.Greater(t, items, int64(200))

			want, got := map[string]string{}, map[string]string{}
			listTree(t, r, man.RootEntry.ObjectID.String(), "", got)
			// The expected tree is in the session, not flushed: list it there
			// by comparing roots, and the listing for a readable difference.
			require.Equal(t, wantRoot.ObjectID.String(), man.RootEntry.ObjectID.String(), "snapshot root")
			require.Equal(t, wantRoot.DirSummary.TotalFileCount, man.RootEntry.DirSummary.TotalFileCount)
			for d, details := range wantDetails {
				for _, e := range details {
					segs := []string{"", "tenant", m365.SharePoint, "site", backup.FilesCategory, pathName(cs.drives[d].Name)}
					for _, p := range e.Path {
						segs = append(segs, pathName(p))
					}
					want[strings.Join(append(segs, pathName(e.Name)), "/")] = ""
				}
			}
			for p := range got {
				got[p] = ""
			}
			require.Equal(t, want, got)
			require.Contains(t, got, "/tenant/sharepoint/site/files/Documents/Docs/Deep/Deeper/file 23.txt")
			require.Contains(t, got, "/tenant/sharepoint/site/files/Shared%2FDocuments/a%2Fb %25/Docs/file 18.txt")
		})
	}
}

// Records come back sorted, equal ones in the order added, from runs
// stored and the one still held alike.
func TestSortedSpillMergesItsRunsInOrder(t *testing.T) {
	defer func(n int) { spillRunSize = n }(spillRunSize)
	spillRunSize = 10
	ctx := context.Background()
	f := newEnumerationFixture(t, newPagedDrive(0, 0, 1))
	r, err := f.d.Repos.open(ctx, f.repo)
	require.NoError(t, err)
	defer r.Release(ctx)
	ctx, sess, err := r.NewSession(ctx, "spill")
	require.NoError(t, err)
	defer sess.Close(ctx)
	type rec struct{ K, Seq int }
	s := newSortedSpill(sess, "TEST-RUN", func(a, b rec) int { return a.K - b.K })
	rng := rand.New(rand.NewPCG(3, 4))
	var want []rec
	for i := range 95 {
		v := rec{K: rng.IntN(20), Seq: i}
		want = append(want, v)
		require.NoError(t, s.add(ctx, v))
	}
	require.Len(t, s.runs, 9)
	slices.SortStableFunc(want, func(a, b rec) int { return a.K - b.K })
	m, err := s.sorted(ctx)
	require.NoError(t, err)
	defer m.close()
	var got []rec
	for {
		v, ok, err := m.next()
		require.NoError(t, err)
		if !ok {
			break
		}
		got = append(got, v)
	}
	require.Equal(t, want, got)
}

// The readers of a backed-up drive state read states written whole by
// older combines, streamed by today's, and empty ones alike.
func TestDriveStateReadersReadEveryFormat(t *testing.T) {
	ctx := context.Background()
	f := newEnumerationFixture(t, newPagedDrive(0, 0, 1))
	r, err := f.d.Repos.open(ctx, f.repo)
	require.NoError(t, err)
	defer r.Release(ctx)
	sctx, sess, err := r.NewSession(ctx, "formats")
	require.NoError(t, err)
	defer sess.Close(sctx)
	cs := newCombineCase(t, sess)
	state := cs.states[0]
	for _, e := range state {
		if e.Folder && !e.Root {
			e.PermsID = "perms-" + e.Name
		}
	}
	whole, err := sess.WriteJSON(ctx, "DRIVE-STATE", state)
	require.NoError(t, err)
	w := sess.NewJSONArray(ctx, "DRIVE-STATE")
	for _, e := range state {
		require.NoError(t, w.Add(e))
	}
	streamed, err := w.Result()
	require.NoError(t, err)
	w.Close()
	empty, err := sess.WriteJSON(ctx, "DRIVE-STATE", []*driveEntry(nil))
	require.NoError(t, err)
	require.NoError(t, sess.Flush(ctx))

	wantObjects := map[string]string{}
	for _, e := range state {
		if e.ObjectID != "" {
			wantObjects[e.ID] = e.ObjectID
		}
	}
	require.NotEmpty(t, wantObjects)
	for _, id := range []string{whole.String(), streamed.String()} {
		objects, err := driveObjects(ctx, r, id)
		require.NoError(t, err)
		require.Equal(t, wantObjects, objects)
		one := state[len(state)/2].ID
		sel, err := selectedState(ctx, r, id, func(e *driveEntry) bool { return e.ID == one })
		require.NoError(t, err)
		require.Len(t, sel, 1)
		require.Equal(t, one, sel[one].ID)
		fp, err := sharedFolders(ctx, r, id)
		require.NoError(t, err)
		require.Equal(t, map[string]string{"Docs": "perms-Docs", "Docs/Deep": "perms-Deep", "Docs/Deep/Deeper": "perms-Deeper",
			"Empty": "perms-Empty", "a/b %": "perms-a/b %", "Docs 2": "perms-Docs 2", "Docs 2/..": "perms-..", "a/b %/Docs": "perms-Docs"}, fp.byPath)
	}
	objects, err := driveObjects(ctx, r, empty.String())
	require.NoError(t, err)
	require.Empty(t, objects)
}

// driveTree is a drive's items by id, with paths from the root.
type driveTree map[string]*driveEntry

func (t driveTree) sorted() []*driveEntry {
	out := make([]*driveEntry, 0, len(t))
	for _, e := range t {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// path returns the folder names from the drive's root down to e's parent,
// and false when e is cut off from the root (an ancestor was deleted).
func (t driveTree) path(e *driveEntry) ([]string, bool) {
	var names []string
	for hops := 0; ; hops++ {
		if e.Root {
			break
		}
		p, ok := t[e.ParentID]
		if !ok || hops > 4096 {
			return nil, false
		}
		if !p.Root {
			names = append(names, p.Name)
		}
		e = p
	}
	for i, j := 0, len(names)-1; i < j; i, j = i+1, j-1 {
		names[i], names[j] = names[j], names[i]
	}
	return names, true
}
