package repository

import (
	"context"
	"testing"
	"time"

	"github.com/kopia/kopia/repo"

	"github.com/corso-temporal/corso/backup"
)

// twoWorkers opens one new repository from two processes' connections.
func twoWorkers(t *testing.T) (w1, w2 *Repository) {
	t.Helper()
	ctx := context.Background()
	loc := fsLocation(t)
	creds := Credentials{Passphrase: "pw"}
	w1, _, err := newConnections(t, "w1").Initialize(ctx, loc, creds)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w1.Release(ctx) })
	w2, err = newConnections(t, "w2").Open(ctx, loc, creds)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w2.Release(ctx) })
	return w1, w2
}

// TestRefreshSinceSeesWhatWasWrittenBeforeAndSkipsWhenFresh: a worker's
// view shows what another wrote before the moment it is asked about, and
// a view refreshed for that moment is not refreshed again.
func TestRefreshSinceSeesWhatWasWrittenBeforeAndSkipsWhenFresh(t *testing.T) {
	ctx := context.Background()
	w1, w2 := twoWorkers(t)
	if err := w1.RefreshSince(ctx, time.Time{}); err != nil {
		t.Fatal(err)
	}

	put := func(name string) {
		t.Helper()
		err := repo.WriteSession(ctx, w2, repo.WriteSessionOptions{Purpose: "test"}, func(ctx context.Context, w repo.RepositoryWriter) error {
			_, err := w.PutManifest(ctx, map[string]string{"type": "refresh-test", "name": name}, map[string]string{"name": name})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	visible := func(name string) bool {
		t.Helper()
		ms, err := w1.FindManifests(ctx, map[string]string{"type": "refresh-test", "name": name})
		if err != nil {
			t.Fatal(err)
		}
		return len(ms) == 1
	}

	// Written before the request started: a view refreshed before it is
	// refreshed, and shows it.
	put("before")
	requestStarted := time.Now()
	if err := w1.RefreshSince(ctx, requestStarted); err != nil {
		t.Fatal(err)
	}
	if !visible("before") {
		t.Fatal("a record written before the request is not visible after RefreshSince")
	}

	// A view refreshed for that moment, or a later one, serves a request
	// started then or before.
	put("later")
	for _, t0 := range []time.Time{requestStarted, requestStarted.Add(-time.Hour)} {
		if err := w1.RefreshSince(ctx, t0); err != nil {
			t.Fatal(err)
		}
		if visible("later") {
			t.Fatalf("a view refreshed for %s was refreshed again for %s", requestStarted.Format(time.StampMicro), t0.Format(time.StampMicro))
		}
	}
	if err := w1.RefreshSince(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	if !visible("later") {
		t.Fatal("a record written before the next request is not visible after RefreshSince")
	}
	put("last")
	if err := w1.RefreshSince(ctx, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if !visible("last") {
		t.Fatal("a zero time does not refresh")
	}
}

// TestLatestBackupIsTheNewestCompletedOneRecordedBefore: a resource's
// previous backup is its newest completed one, and a view read for a
// moment keeps serving it without reading the records again.
func TestLatestBackupIsTheNewestCompletedOneRecordedBefore(t *testing.T) {
	ctx := context.Background()
	w1, w2 := twoWorkers(t)

	day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	record := func(id, resource, status string, started time.Time) {
		t.Helper()
		b := Backup{Summary: backup.Summary{BackupID: id, Tenant: "t", Service: "exchange", Resource: resource, Status: status, Started: started}}
		err := repo.WriteSession(ctx, w2, repo.WriteSessionOptions{Purpose: "test"}, func(ctx context.Context, w repo.RepositoryWriter) error {
			_, err := w.PutManifest(ctx, backupLabels(b), &b)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	record("b1", "ann", backup.StatusCompleted, day)
	record("b2", "ann", backup.StatusFailed, day.Add(time.Hour))
	record("b0", "ann", backup.StatusCompleted, day.Add(-time.Hour))
	record("b3", "bob", backup.StatusCompleted, day)
	record("b5", "cy", backup.StatusCompleted, day)

	latest := func(at time.Time, resource string) string {
		t.Helper()
		b, ok, err := w1.LatestBackup(ctx, at, "t", "exchange", resource)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return ""
		}
		return b.BackupID
	}
	requestStarted := time.Now()
	for _, at := range []time.Time{requestStarted, {}} {
		if got := latest(at, "ann"); got != "b1" {
			t.Errorf("ann's latest backup (for %v): %q, want b1, the newest completed", at, got)
		}
		if got := latest(at, "bob"); got != "b3" {
			t.Errorf("bob's latest backup: %q, want b3", got)
		}
		if got := latest(at, "dan"); got != "" {
			t.Errorf("dan has no backup, got %q", got)
		}
	}

	// Recorded after the moment: the records read for it stay, even once
	// the process has refreshed for another reason.
	record("b4", "ann", backup.StatusCompleted, day.Add(2*time.Hour))
	if err := w1.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got := latest(requestStarted, "ann"); got != "b1" {
		t.Errorf("ann's latest backup for the same moment: %q, want b1 from the view already read", got)
	}
	if got := latest(time.Now(), "ann"); got != "b4" {
		t.Errorf("ann's latest backup for a later request: %q, want b4", got)
	}
}
