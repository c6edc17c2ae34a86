package repository

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/kopia/kopia/snapshot"

	"github.com/corso-temporal/corso/backup"
)

// storedItem is an item written to the repository and its bytes.
type storedItem struct {
	entry *snapshot.DirEntry
	data  []byte
}

// writeSegment stores n items of unique random bytes and a directory of
// them, flushed: what a backup's collection activity leaves before combine.
func writeSegment(t *testing.T, r *Repository, name string, n, size int) (*snapshot.DirEntry, []storedItem) {
	t.Helper()
	ctx, sess, err := r.NewSession(context.Background(), "segment "+name)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close(ctx)
	var items []storedItem
	var entries []*snapshot.DirEntry
	for i := range n {
		data := make([]byte, size)
		_, _ = rand.Read(data)
		e, err := sess.WriteItem(ctx, fmt.Sprintf("%s-%d", name, i), time.Now(), bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, storedItem{entry: e, data: data})
		entries = append(entries, e)
	}
	dir, err := sess.WriteDir(ctx, name, name, entries)
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	return dir, items
}

// combine records a backup whose root holds dirs: what a combine does.
func combine(t *testing.T, r *Repository, id string, dirs ...*snapshot.DirEntry) {
	t.Helper()
	if err := record(r, id, dirs...); err != nil {
		t.Fatal(err)
	}
}

func record(r *Repository, id string, dirs ...*snapshot.DirEntry) error {
	ctx, sess, err := r.NewSession(context.Background(), "combine "+id)
	if err != nil {
		return err
	}
	defer sess.Close(ctx)
	// combine lays out the snapshot's directories anew, from the items.
	var laidOut []*snapshot.DirEntry
	for _, d := range dirs {
		ents, err := r.ReadDir(ctx, d.ObjectID.String())
		if err != nil {
			return err
		}
		nd, err := sess.WriteDir(ctx, "/"+d.Name, d.Name, append(ents, ItemEntry("laid-out", ents[0].ObjectID, ents[0].FileSize, time.Now())))
		if err != nil {
			return err
		}
		laidOut = append(laidOut, nd)
	}
	root, err := sess.WriteDir(ctx, "", "", laidOut)
	if err != nil {
		return err
	}
	// Each collection's details and state are objects of their own, as
	// the backup activities write them.
	var idx BackupIndex
	for _, d := range dirs {
		details, err := sess.WriteJSON(ctx, "DETAILS", []string{id, d.Name})
		if err != nil {
			return err
		}
		state, err := sess.WriteJSON(ctx, "DRIVE-STATE", map[string]string{"backup": id, "dir": d.Name})
		if err != nil {
			return err
		}
		idx.Collections = append(idx.Collections, Collection{Path: []string{d.Name}, DirID: d.ObjectID.String(), DetailsID: details.String(), StateID: state.String()})
	}
	b := &Backup{Summary: backup.Summary{BackupID: id, Tenant: "t", Service: "exchange", Resource: id, Status: backup.StatusCompleted, Started: time.Now(), Completed: time.Now()}}
	if err := sess.PutBackup(ctx, b, root, idx); err != nil {
		return err
	}
	return sess.Flush(ctx)
}

func deleteBackup(t *testing.T, r *Repository, id string) {
	t.Helper()
	ctx, sess, err := r.NewSession(context.Background(), "delete")
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close(ctx)
	if err := sess.DeleteBackup(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := sess.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// recordReadable reports whether a backup's record reads back in full:
// its index and each collection's directory, details and state.
func recordReadable(r *Repository, id string) error {
	ctx := context.Background()
	if err := r.Refresh(ctx); err != nil {
		return err
	}
	b, err := r.Backup(ctx, id)
	if err != nil {
		return err
	}
	idx, err := r.Index(ctx, b)
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	if len(idx.Collections) == 0 {
		return errors.New("the index lists no collection")
	}
	for _, c := range idx.Collections {
		if _, err := r.ReadDir(ctx, c.DirID); err != nil {
			return fmt.Errorf("collection directory: %w", err)
		}
		var v any
		if err := r.ReadJSON(ctx, c.DetailsID, &v); err != nil {
			return fmt.Errorf("details: %w", err)
		}
		if err := r.ReadJSON(ctx, c.StateID, &v); err != nil {
			return fmt.Errorf("state: %w", err)
		}
	}
	return nil
}

// readable reports the first item that no longer reads back as written.
func readable(r *Repository, items []storedItem) error {
	ctx := context.Background()
	if err := r.Refresh(ctx); err != nil {
		return err
	}
	for _, it := range items {
		rd, err := r.OpenItem(ctx, it.entry.ObjectID.String())
		if err != nil {
			return err
		}
		got, err := io.ReadAll(rd)
		rd.Close()
		if err != nil {
			return fmt.Errorf("read %s: %w", it.entry.Name, err)
		}
		if !bytes.Equal(got, it.data) {
			return fmt.Errorf("%s reads back different bytes", it.entry.Name)
		}
	}
	return nil
}

// maintainer opens the repository as its maintenance owner, in a process
// of its own, as the maintenance activity does.
func maintainer(t *testing.T, loc Location, id string) *Repository {
	t.Helper()
	r, err := newConnections(t, "worker-m").OpenAs(context.Background(), loc, Credentials{Passphrase: "pw"}, MaintenanceIdentity(id))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Release(context.Background()) })
	return r
}

// maintainFull runs full maintenance n times: with kopia's rules a content
// found unused is dropped only by the second collection after the one that
// found it, and its packs deleted then. kopia stamps the marks in whole
// seconds, rounded up, so the runs are a second apart.
func maintainFull(t *testing.T, m *Repository, n int, runningSince time.Time) MaintenanceResult {
	t.Helper()
	var res MaintenanceResult
	for i := range n {
		time.Sleep(1100 * time.Millisecond)
		var err error
		res, err = m.Maintain(context.Background(), MaintenanceOptions{Mode: MaintenanceFull, Safety: SafetyShortened, RunningSince: runningSince})
		if err != nil {
			t.Fatalf("full maintenance %d: %v", i+1, err)
		}
	}
	return res
}

func TestFullMaintenanceCollectsADeletedBackup(t *testing.T) {
	ctx := context.Background()
	loc := fsLocation(t)
	r, _, err := newConnections(t, "w1").Initialize(ctx, loc, Credentials{Passphrase: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release(ctx)
	gone, _ := writeSegment(t, r, "gone", 8, 256<<10)
	combine(t, r, "gone", gone)
	kept, keptItems := writeSegment(t, r, "kept", 8, 256<<10)
	combine(t, r, "kept", kept)
	deleteBackup(t, r, "gone")

	m := maintainer(t, loc, r.ID)
	before, err := m.Usage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res := maintainFull(t, m, 3, time.Time{})
	t.Logf("before %+v, after %+v", before, res.After)
	// The deleted backup held 2 MiB of items; maintenance itself adds
	// indexes and the records snapshot.
	if freed := before.PackBytes - res.After.PackBytes; freed < 3<<19 {
		t.Errorf("pack bytes %d → %d: the deleted backup's 2 MiB were not collected", before.PackBytes, res.After.PackBytes)
	}
	if err := readable(r, keptItems); err != nil {
		t.Errorf("the kept backup after maintenance: %v", err)
	}
	if err := recordReadable(r, "kept"); err != nil {
		t.Errorf("the kept backup's record after maintenance: %v", err)
	}
}

func TestQuickMaintenanceCollectsNothing(t *testing.T) {
	ctx := context.Background()
	loc := fsLocation(t)
	r, _, err := newConnections(t, "w1").Initialize(ctx, loc, Credentials{Passphrase: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release(ctx)
	gone, items := writeSegment(t, r, "gone", 4, 64<<10)
	combine(t, r, "gone", gone)
	deleteBackup(t, r, "gone")
	m := maintainer(t, loc, r.ID)
	for range 3 {
		time.Sleep(1100 * time.Millisecond) // as full maintenance would need to collect
		if _, err := m.Maintain(ctx, MaintenanceOptions{Mode: MaintenanceQuick, Safety: SafetyShortened}); err != nil {
			t.Fatal(err)
		}
	}
	if err := readable(r, items); err != nil {
		t.Errorf("quick maintenance collected data: %v", err)
	}
}

// A backup still running has flushed collections no snapshot references
// yet, and reuses objects of a backup deleted while it runs. Maintenance
// told when it started keeps both; told nothing, it collects them.
func TestFullMaintenanceKeepsWhatARunningBackupNeeds(t *testing.T) {
	for _, tc := range []struct {
		name string
		told bool
	}{
		{"told of the running backup", true},
		{"not told", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			loc := fsLocation(t)
			r, _, err := newConnections(t, "w1").Initialize(ctx, loc, Credentials{Passphrase: "pw"})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Release(ctx)
			base, baseItems := writeSegment(t, r, "base", 4, 64<<10)
			combine(t, r, "base", base)

			started := time.Now()
			segment, segItems := writeSegment(t, r, "checkpoint", 4, 64<<10)
			deleteBackup(t, r, "base")
			var since time.Time
			if tc.told {
				since = started
			}
			m := maintainer(t, loc, r.ID)
			maintainFull(t, m, 3, since)

			// The backup's combine: its own segment plus the base's
			// objects it kept.
			err = record(r, "running", segment, base)
			for i := 0; err == nil && i < 3; i++ {
				time.Sleep(1100 * time.Millisecond)
				// An error here is maintenance unable to walk the new
				// backup: its data is gone.
				_, err = m.Maintain(ctx, MaintenanceOptions{Mode: MaintenanceFull, Safety: SafetyShortened})
			}
			if err == nil {
				err = readable(r, append(segItems, baseItems...))
			}
			if err == nil {
				err = recordReadable(r, "running")
			}
			switch {
			case tc.told && err != nil:
				t.Errorf("lost what the running backup needed: %v", err)
			case !tc.told && err == nil:
				t.Error("maintenance not told of the running backup kept its data: this test no longer shows what protection is for")
			}
		})
	}
}

func TestProtectWidensSafetyPastTheOldestRunningBackup(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		base    time.Duration
		running time.Duration // how long the oldest backup has run; <0: none
		want    time.Duration
	}{
		{"none running keeps kopia's", 24 * time.Hour, -1, 24 * time.Hour},
		{"short backup within kopia's day", 24 * time.Hour, 3 * time.Hour, 24 * time.Hour},
		{"three-day backup", 24 * time.Hour, 72 * time.Hour, 72*time.Hour + clockSlack},
		{"shortened safety", 0, 10 * time.Second, 10*time.Second + clockSlack},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := SafetyShortened
			base.MinContentAgeSubjectToGC, base.MarginBetweenSnapshotGC, base.PackDeleteMinAge, base.SessionExpirationAge = tc.base, tc.base, tc.base, tc.base
			var since time.Time
			if tc.running >= 0 {
				since = now.Add(-tc.running)
			}
			got := protect(base, now, since)
			for what, d := range map[string]time.Duration{
				"MinContentAgeSubjectToGC": got.MinContentAgeSubjectToGC, "MarginBetweenSnapshotGC": got.MarginBetweenSnapshotGC,
				"PackDeleteMinAge": got.PackDeleteMinAge, "SessionExpirationAge": got.SessionExpirationAge,
			} {
				if d != tc.want {
					t.Errorf("%s = %s, want %s", what, d, tc.want)
				}
			}
			if !got.RequireTwoGCCycles {
				t.Error("two collections are no longer required")
			}
		})
	}
}

func TestMaintenanceOwnerIsTheRepositoryIdentity(t *testing.T) {
	ctx := context.Background()
	loc := fsLocation(t)
	r, _, err := newConnections(t, "w1").Initialize(ctx, loc, Credentials{Passphrase: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release(ctx)
	// Two workers run it in turn, as the same owner.
	for _, host := range []string{"worker-a", "worker-b"} {
		m, err := newConnections(t, host).OpenAs(ctx, loc, Credentials{Passphrase: "pw"}, MaintenanceIdentity(r.ID))
		if err != nil {
			t.Fatal(err)
		}
		res, err := m.Maintain(ctx, MaintenanceOptions{Mode: MaintenanceQuick, Safety: SafetyFull})
		m.Release(ctx)
		if err != nil {
			t.Fatalf("on %s: %v", host, err)
		}
		if want := "maintenance@corso-" + r.ID; res.Owner != want {
			t.Fatalf("owner %q, want %q", res.Owner, want)
		}
	}
	// Any other identity is refused, unless it forces a take-over.
	_, err = r.Maintain(ctx, MaintenanceOptions{Mode: MaintenanceQuick, Safety: SafetyFull})
	if !errors.Is(err, ErrMaintenanceOwned) {
		t.Fatalf("another identity: want ErrMaintenanceOwned, got %v", err)
	}
	if _, err := r.Maintain(ctx, MaintenanceOptions{Mode: MaintenanceQuick, Safety: SafetyFull, Force: true}); err != nil {
		t.Fatalf("forced: %v", err)
	}
	m := maintainer(t, loc, r.ID)
	if _, err := m.Maintain(ctx, MaintenanceOptions{Mode: MaintenanceQuick, Safety: SafetyFull}); !errors.Is(err, ErrMaintenanceOwned) {
		t.Fatalf("after a take-over the former owner: want ErrMaintenanceOwned, got %v", err)
	}
}
