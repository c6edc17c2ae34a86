package repository

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kopia/kopia/repo/blob"
)

// storageClock moves a filesystem repository's storage clock: kopia's
// epoch manager times index epochs and their cleanup by the timestamps of
// blobs in storage, never by the local clock, so making every blob older
// is what days passing between backups looks like to it.
type storageClock struct {
	t    *testing.T
	root string
}

// age makes every blob in storage d older.
func (c storageClock) age(d time.Duration) {
	c.t.Helper()
	err := filepath.WalkDir(c.root, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		fi, err := e.Info()
		if err != nil {
			return err
		}
		mt := fi.ModTime().Add(-d)
		return os.Chtimes(p, mt, mt)
	})
	if err != nil {
		c.t.Fatal(err)
	}
}

// indexBlobs lists the repository's index blobs by kind: uncompacted
// ones of each epoch ("xn<epoch>_"), compacted epochs ("xs"), range
// checkpoints ("xr"), epoch markers ("xe") and deletion watermarks ("xw").
func indexBlobs(t *testing.T, r *Repository) map[string]int {
	t.Helper()
	out := map[string]int{}
	err := r.BlobReader().ListBlobs(context.Background(), "x", func(m blob.Metadata) error {
		id := string(m.BlobID)
		kind := id[:min(2, len(id))]
		if kind == "xn" {
			kind, _, _ = strings.Cut(id, "_")
		}
		out[kind]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// writeBackups records n backups of one small item each, every one in a
// process of its own that flushes twice (segment, combine): each flush
// writes an index blob into the epoch then current.
func writeBackups(t *testing.T, loc Location, prefix string, n int) []string {
	t.Helper()
	r, err := newConnections(t, "w-"+prefix).Open(context.Background(), loc, Credentials{Passphrase: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release(context.Background())
	var ids []string
	for i := range n {
		id := fmt.Sprintf("%s-%d", prefix, i)
		dir, _ := writeSegment(t, r, id, 1, 4<<10)
		combine(t, r, id, dir)
		ids = append(ids, id)
	}
	return ids
}

// With kopia's default epoch parameters, index blobs pile up while the
// write epoch lasts (at least a day, and 20 blobs), and full maintenance
// compacts and then deletes an epoch's blobs only once two newer epochs
// have begun and the compacted blob is four hours old. Backups written
// and deleted over days of storage time: full maintenance leaves fewer
// index blobs than there were, the first epoch as one compacted blob, and
// every kept backup readable.
func TestFullMaintenanceCompactsIndexBlobsOfClosedEpochs(t *testing.T) {
	ctx := context.Background()
	loc := fsLocation(t)
	r, _, err := newConnections(t, "w-init").Initialize(ctx, loc, Credentials{Passphrase: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	id := r.ID
	r.Release(ctx)
	clock := storageClock{t: t, root: filepath.Join(loc.Path, DataDir)}
	maintain := func() MaintenanceResult {
		t.Helper()
		res, err := maintainer(t, loc, id).Maintain(ctx, MaintenanceOptions{Mode: MaintenanceFull, Safety: SafetyFull})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	var kept []string
	deleteSome := func(ids []string) {
		t.Helper()
		w, err := newConnections(t, "w-delete").Open(ctx, loc, Credentials{Passphrase: "pw"})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Release(ctx)
		for i, b := range ids {
			if i%2 == 0 {
				deleteBackup(t, w, b)
			} else {
				kept = append(kept, b)
			}
		}
	}

	// Day 1: backups, half deleted; maintenance on the day compacts
	// nothing: the epoch is still open.
	deleteSome(writeBackups(t, loc, "day1", 15))
	maintain()
	day1 := indexBlobs(t, r2(t, loc))
	if day1["xn0"] < 20 || day1["xs"] != 0 {
		t.Fatalf("after the first day: %v, want 20 or more uncompacted blobs of epoch 0", day1)
	}
	// Each following day starts with a backup: the epoch has lasted a
	// day and holds 20 blobs or more, so maintenance starts a new one
	// (epoch 1 on day 2, epoch 2 on day 3), and the day's backups go
	// there.
	for day := 2; day <= 3; day++ {
		clock.age(25 * time.Hour)
		writeBackups(t, loc, fmt.Sprintf("day%d-first", day), 1)
		maintain()
		deleteSome(writeBackups(t, loc, fmt.Sprintf("day%d", day), 12))
	}
	// Epoch 2 settles epoch 0: maintenance compacts it. Hours later the
	// compacted blob is old enough for every writer to have seen it.
	maintain()
	clock.age(5 * time.Hour)
	writeBackups(t, loc, "day3-later", 1)
	before := indexBlobs(t, r2(t, loc))
	last := maintain()
	after := indexBlobs(t, r2(t, loc))
	t.Logf("index blobs: after day 1 %d %v; before the last full maintenance %d %v; after it %d %v",
		sum(day1), day1, last.Before.IndexBlobs, before, last.After.IndexBlobs, after)
	if before["xn0"] < day1["xn0"] || before["xs"] == 0 || after["xn0"] != 0 {
		t.Errorf("epoch 0 not compacted, then its blobs deleted: %v → %v", before, after)
	}
	if last.After.IndexBlobs >= last.Before.IndexBlobs-day1["xn0"] {
		t.Errorf("index blobs %d → %d: full maintenance did not delete epoch 0's %d", last.Before.IndexBlobs, last.After.IndexBlobs, before["xn0"])
	}
	rd := r2(t, loc)
	for _, b := range kept {
		if err := recordReadable(rd, b); err != nil {
			t.Errorf("backup %s after maintenance: %v", b, err)
		}
	}
}

// r2 opens the repository in a process of its own, released when the
// test ends.
func r2(t *testing.T, loc Location) *Repository {
	t.Helper()
	r, err := newConnections(t, "reader").Open(context.Background(), loc, Credentials{Passphrase: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Release(context.Background()) })
	return r
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
