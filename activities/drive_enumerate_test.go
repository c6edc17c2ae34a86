package activities

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/repository"
	"github.com/corso-temporal/corso/workflows"
)

// stateOf reads an enumeration's state and batches back: the state's
// entries in order, and the files to download by id.
func (f *enumerationFixture) stateOf(en workflows.DriveEnumeration) ([]*driveEntry, map[string]*driveEntry) {
	ctx := context.Background()
	r, err := f.d.Repos.open(ctx, f.repo)
	require.NoError(f.t, err)
	defer r.Release(ctx)
	require.NoError(f.t, r.Refresh(ctx))
	var state []*driveEntry
	require.NoError(f.t, r.ReadJSON(ctx, en.StateID, &state), "the state reads as one array, as readers of every version read it")
	todo := map[string]*driveEntry{}
	for _, b := range en.Batches {
		var files []*driveEntry
		require.NoError(f.t, r.ReadJSON(ctx, b.FilesID, &files))
		require.Equal(f.t, int(b.Files), len(files))
		for _, e := range files {
			todo[e.ID] = e
		}
	}
	return state, todo
}

// A worker dies in the middle of a library's first enumeration; the
// retry resumes from the last checkpoint, reading again only the pages
// after it, and ends with the state and batches an uninterrupted
// enumeration writes.
func TestDriveEnumerationResumesFromItsCheckpoint(t *testing.T) {
	const files, folders, pageSize = 3000, 30, 20 // 152 pages
	whole := newEnumerationFixture(t, newPagedDrive(files, folders, pageSize))
	want, _, err := whole.enumerate(nil)
	require.NoError(t, err)
	wantState, wantTodo := whole.stateOf(want)

	drive := newPagedDrive(files, folders, pageSize)
	drive.failAt = 120
	f := newEnumerationFixture(t, drive)
	_, last, err := f.enumerate(nil)
	require.Error(t, err, "the worker dies at page 120")
	require.NotNil(t, last, "checkpoints were taken before")
	require.Len(t, last.Segments, 2, "one run every %d pages", enumerationCheckpointPages)
	require.Equal(t, fmt.Sprintf("page:%d", 100*pageSize), last.Link)

	drive.failAt = 0
	before, _ := drive.served()
	got, _, err := f.enumerate(last)
	require.NoError(t, err)
	after, again := drive.served()
	require.Equal(t, 152-100, after-before, "the retry reads the pages after the checkpoint only")
	require.LessOrEqual(t, again, enumerationCheckpointPages, "a crash costs at most one checkpoint of pages")
	t.Logf("pages read before the crash %d, by the retry %d, twice %d", before, after-before, again)

	require.Equal(t, want.Files, got.Files)
	require.Equal(t, want.Bytes, got.Bytes)
	require.Equal(t, want.DeltaLink, got.DeltaLink)
	gotState, gotTodo := f.stateOf(got)
	require.Equal(t, wantState, gotState)
	require.Len(t, gotTodo, files)
	// Download URLs checkpointed by the dead worker are of an unknown
	// age: dropped. Those the retry listed are kept.
	stale := 0
	for id, e := range gotTodo {
		require.Equal(t, wantTodo[id].Dir, e.Dir, id)
		if e.DownloadURL == "" {
			stale++
		} else {
			require.Equal(t, wantTodo[id].DownloadURL, e.DownloadURL)
		}
	}
	require.Equal(t, 100*pageSize-folders-1, stale, "files of the pages checkpointed before the crash")
}

// More runs than a merge reads side by side are compacted first, newest
// entries winning; the state is the one a single run gives.
func TestDriveEnumerationCompactsManyRuns(t *testing.T) {
	const files, folders, pageSize = 400, 4, 10 // 41 pages
	whole := newEnumerationFixture(t, newPagedDrive(files, folders, pageSize))
	want, _, err := whole.enumerate(nil)
	require.NoError(t, err)
	wantState, wantTodo := whole.stateOf(want)

	defer func(n, m int) { enumerationCheckpointPages, maxMergedRuns = n, m }(enumerationCheckpointPages, maxMergedRuns)
	enumerationCheckpointPages, maxMergedRuns = 1, 8
	f := newEnumerationFixture(t, newPagedDrive(files, folders, pageSize))
	got, _, err := f.enumerate(nil) // 41 runs, merged 8 at a time until 6 are left
	require.NoError(t, err)
	gotState, gotTodo := f.stateOf(got)
	require.Equal(t, wantState, gotState)
	require.Equal(t, wantTodo, gotTodo)
}

// writeEntries stores entries with WriteJSON, as every state was stored
// before states were streamed, or as a streamed array.
func writeEntries(t *testing.T, f *enumerationFixture, streamed bool, entries []*driveEntry) string {
	ctx := context.Background()
	r, err := f.d.Repos.open(ctx, f.repo)
	require.NoError(t, err)
	defer r.Release(ctx)
	ctx, sess, err := r.NewSession(ctx, "test")
	require.NoError(t, err)
	defer sess.Close(ctx)
	var id string
	if streamed {
		id, err = writeRun(ctx, sess, entries)
		require.NoError(t, err)
	} else {
		oid, err := sess.WriteJSON(ctx, "DRIVE-STATE", entries)
		require.NoError(t, err)
		id = oid.String()
	}
	require.NoError(t, sess.Flush(ctx))
	return id
}

func readEntries(t *testing.T, f *enumerationFixture, id string) ([]*driveEntry, error) {
	ctx := context.Background()
	r, err := f.d.Repos.open(ctx, f.repo)
	require.NoError(t, err)
	defer r.Release(ctx)
	require.NoError(t, r.Refresh(ctx))
	var out []*driveEntry
	err = eachEntry(ctx, r, id, func(e *driveEntry) error { out = append(out, e); return nil })
	return out, err
}

// A state stored whole by an earlier version, and one streamed, read back
// entry by entry alike; entries out of order are reported, not merged
// wrongly.
func TestDriveStateReadsEitherFormatEntryByEntry(t *testing.T) {
	f := newEnumerationFixture(t, newPagedDrive(0, 0, 1))
	var entries []*driveEntry
	for i := range 1000 {
		entries = append(entries, &driveEntry{DriveItem: m365.DriveItem{ID: fmt.Sprintf("i%04d", i), ParentID: "root", Name: fmt.Sprintf("n%d", i), Size: int64(i)},
			ObjectID: fmt.Sprintf("o%d", i)})
	}
	for _, streamed := range []bool{false, true} {
		got, err := readEntries(t, f, writeEntries(t, f, streamed, entries))
		require.NoError(t, err, "streamed %v", streamed)
		require.Equal(t, entries, got, "streamed %v", streamed)
	}
	for _, streamed := range []bool{false, true} {
		empty, err := readEntries(t, f, writeEntries(t, f, streamed, nil))
		require.NoError(t, err)
		require.Empty(t, empty, "no entry (null, or [] streamed %v)", streamed)
	}

	swapped := append([]*driveEntry{entries[1], entries[0]}, entries[2:]...)
	_, err := readEntries(t, f, writeEntries(t, f, false, swapped))
	require.ErrorIs(t, err, repository.ErrUnreadable)
	require.ErrorContains(t, err, "out of order")
}

// The merge gives each id once, in order, with the base's entry and the
// newest run's: later runs win, deletions included.
func TestDriveStateMergeNewestRunWins(t *testing.T) {
	f := newEnumerationFixture(t, newPagedDrive(0, 0, 1))
	e := func(id, name string, deleted bool) *driveEntry {
		return &driveEntry{DriveItem: m365.DriveItem{ID: id, Name: name, Deleted: deleted}}
	}
	base := writeEntries(t, f, false, []*driveEntry{e("a", "a0", false), e("b", "b0", false), e("d", "d0", false)})
	run1 := writeEntries(t, f, true, []*driveEntry{e("b", "b1", false), e("c", "c1", false), e("d", "", true)})
	run2 := writeEntries(t, f, true, []*driveEntry{e("b", "b2", false), e("c", "", true), e("e", "e2", false)})

	ctx := context.Background()
	r, err := f.d.Repos.open(ctx, f.repo)
	require.NoError(t, err)
	defer r.Release(ctx)
	require.NoError(t, r.Refresh(ctx))
	open := func(id string) *storedEntries {
		s, err := openEntries(ctx, r, id, false)
		require.NoError(t, err)
		return s
	}
	var got []string
	name := func(e *driveEntry) string {
		switch {
		case e == nil:
			return "-"
		case e.Deleted:
			return "x"
		}
		return e.Name
	}
	err = mergeEntries(open(base), []*storedEntries{open(run1), open(run2)}, func(old, newest *driveEntry) error {
		got = append(got, name(old)+"/"+name(newest))
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, []string{"a0/-", "b0/b2", "-/x", "d0/x", "-/e2"}, got)

	ctx, sess, err := r.NewSession(ctx, "test")
	require.NoError(t, err)
	defer sess.Close(ctx)
	compacted, err := compactRuns(ctx, r, sess, []string{run1, run2}, func(string) bool { return false })
	require.NoError(t, err)
	require.NoError(t, sess.Flush(ctx))
	merged, err := readEntries(t, f, compacted)
	require.NoError(t, err)
	got = got[:0]
	for _, m := range merged {
		got = append(got, m.ID+":"+name(m))
	}
	require.Equal(t, []string{"b:b2", "c:x", "d:x", "e:e2"}, got)
}
