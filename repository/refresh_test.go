package repository

import (
	"context"
	"testing"
	"time"

	"github.com/kopia/kopia/repo"
)

// TestRefreshSinceSeesWhatWasWrittenBeforeAndSkipsWhenFresh: a worker's
// view shows what another wrote before the moment it is asked about, and
// a view refreshed for that moment is not refreshed again.
func TestRefreshSinceSeesWhatWasWrittenBeforeAndSkipsWhenFresh(t *testing.T) {
	ctx := context.Background()
	loc := fsLocation(t)
	creds := Credentials{Passphrase: "pw"}
	w1, _, err := newConnections(t, "w1").Initialize(ctx, loc, creds)
	if err != nil {
		t.Fatal(err)
	}
	defer w1.Release(ctx)
	w2, err := newConnections(t, "w2").Open(ctx, loc, creds)
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Release(ctx)
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
