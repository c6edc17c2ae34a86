package repository

import (
	"context"
	"errors"
	"testing"
)

func TestChangePassphraseRefusesTheOldOneEvenOnWarmProcesses(t *testing.T) {
	ctx := context.Background()
	loc := fsLocation(t)
	old, next := Credentials{Passphrase: "old"}, Credentials{Passphrase: "new"}
	r, _, err := newConnections(t, "w1").Initialize(ctx, loc, old)
	if err != nil {
		t.Fatal(err)
	}
	dir, items := writeSegment(t, r, "kept", 3, 4<<10)
	combine(t, r, "kept", dir)
	// Another worker has the repository open with the old passphrase.
	warm := newConnections(t, "w2")
	w, err := warm.Open(ctx, loc, old)
	if err != nil {
		t.Fatal(err)
	}
	w.Release(ctx)

	if err := r.ChangePassphrase(ctx, old.Passphrase, next.Passphrase); err != nil {
		t.Fatal(err)
	}
	r.Release(ctx)

	for name, c := range map[string]*Connections{"warm": warm, "cold": newConnections(t, "w3")} {
		if _, err := c.Open(ctx, loc, old); !errors.Is(err, ErrWrongPassphrase) {
			t.Errorf("%s process, old passphrase: want ErrWrongPassphrase, got %v", name, err)
		}
		n, err := c.Open(ctx, loc, next)
		if err != nil {
			t.Fatalf("%s process, new passphrase: %v", name, err)
		}
		bs, err := n.Backups(ctx, BackupFilter{})
		if err != nil || len(bs) != 1 || bs[0].BackupID != "kept" {
			t.Errorf("%s process, backups after the change: %v %v", name, bs, err)
		}
		if err := readable(n, items); err != nil {
			t.Errorf("%s process, items after the change: %v", name, err)
		}
		n.Release(ctx)
	}
}

func TestChangePassphraseToTheSameOneIsRefused(t *testing.T) {
	ctx := context.Background()
	r, _, err := newConnections(t, "w1").Initialize(ctx, fsLocation(t), Credentials{Passphrase: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release(ctx)
	if err := r.ChangePassphrase(ctx, "pw", "pw"); !errors.Is(err, ErrSamePassphrase) {
		t.Fatalf("want ErrSamePassphrase, got %v", err)
	}
}
