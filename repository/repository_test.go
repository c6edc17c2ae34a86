package repository

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/kopia/kopia/repo"
	"github.com/kopia/kopia/repo/object"
)

func newConnections(t *testing.T, host string) *Connections {
	t.Helper()
	c, err := NewConnections(ClientOptions{Hostname: host, Username: "corso", Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func fsLocation(t *testing.T) Location {
	return Location{Provider: Filesystem, Path: filepath.Join(t.TempDir(), "repo")}
}

func TestInitializeCreatesRepositoryWithCorsoFormat(t *testing.T) {
	ctx := context.Background()
	c := newConnections(t, "w1")
	r, created, err := c.Initialize(ctx, fsLocation(t), Credentials{Passphrase: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release(ctx)
	if !created {
		t.Fatal("first init must create")
	}
	want := Format{Encryption: Encryption, Hash: Hash, Splitter: Splitter, Version: r.Format.Version}
	if r.Format != want || r.Format.Version < 2 {
		t.Fatalf("format %+v, want %+v", r.Format, want)
	}
	if len(r.ID) != 64 {
		t.Fatalf("repository id %q", r.ID)
	}
}

func TestInitializeTwiceWithSamePassphraseIsIdempotent(t *testing.T) {
	ctx := context.Background()
	loc := fsLocation(t)
	first, _, err := newConnections(t, "w1").Initialize(ctx, loc, Credentials{Passphrase: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	// Another process (as a retried activity on another worker would be).
	again, created, err := newConnections(t, "w2").Initialize(ctx, loc, Credentials{Passphrase: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	if created || again.ID != first.ID {
		t.Fatalf("second init: created=%v id %s, first id %s", created, again.ID, first.ID)
	}
}

func TestInitializeOverOtherPassphraseFailsAndChangesNothing(t *testing.T) {
	ctx := context.Background()
	loc := fsLocation(t)
	if _, _, err := newConnections(t, "w1").Initialize(ctx, loc, Credentials{Passphrase: "pw"}); err != nil {
		t.Fatal(err)
	}
	before := snapshotFiles(t, loc.Path)
	_, _, err := newConnections(t, "w2").Initialize(ctx, loc, Credentials{Passphrase: "other"})
	if !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("want ErrWrongPassphrase, got %v", err)
	}
	if after := snapshotFiles(t, loc.Path); !equalFiles(before, after) {
		t.Fatal("a failed init changed the repository's files")
	}
}

func TestOpenRejectsWrongPassphraseEvenWhenAlreadyOpen(t *testing.T) {
	ctx := context.Background()
	c := newConnections(t, "w1")
	loc := fsLocation(t)
	r, _, err := c.Initialize(ctx, loc, Credentials{Passphrase: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release(ctx)
	if _, err := c.Open(ctx, loc, Credentials{Passphrase: "nope"}); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("want ErrWrongPassphrase, got %v", err)
	}
	r2, err := c.Open(ctx, loc, Credentials{Passphrase: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Release(ctx)
	if r2.DirectRepository != r.DirectRepository {
		t.Fatal("same secrets must reuse the process's open handle")
	}
}

func TestOpenWithoutRepositoryFailsClearly(t *testing.T) {
	ctx := context.Background()
	c := newConnections(t, "w1")
	for name, loc := range map[string]Location{
		"missing path": fsLocation(t),
		"empty dir":    {Provider: Filesystem, Path: t.TempDir()},
	} {
		if name == "empty dir" {
			_ = os.MkdirAll(filepath.Join(loc.Path, DataDir), 0o700)
		}
		if _, err := c.Open(ctx, loc, Credentials{Passphrase: "pw"}); !errors.Is(err, ErrNotInitialized) {
			t.Errorf("%s: want ErrNotInitialized, got %v", name, err)
		}
	}
}

func TestDataAtRestIsEncrypted(t *testing.T) {
	ctx := context.Background()
	loc := fsLocation(t)
	r, _, err := newConnections(t, "w1").Initialize(ctx, loc, Credentials{Passphrase: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release(ctx)
	marker := []byte("CORSO-PLAINTEXT-MARKER-7c1f")
	oid := writeObject(t, r, bytes.Repeat(marker, 100))

	err = filepath.WalkDir(loc.Path, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if bytes.Contains(b, marker) {
			t.Errorf("%s holds the marker in plaintext", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// And it reads back.
	rd, err := r.OpenObject(ctx, oid)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	var got bytes.Buffer
	if _, err := got.ReadFrom(rd); err != nil || !bytes.HasPrefix(got.Bytes(), marker) {
		t.Fatalf("read back: %v", err)
	}
}

func writeObject(t *testing.T, r *Repository, data []byte) object.ID {
	t.Helper()
	var oid object.ID
	err := repo.WriteSession(context.Background(), r, repo.WriteSessionOptions{Purpose: "test"},
		func(ctx context.Context, w repo.RepositoryWriter) error {
			ow := w.NewObjectWriter(ctx, object.WriterOptions{Compressor: Compressor})
			defer ow.Close()
			if _, err := ow.Write(data); err != nil {
				return err
			}
			var err error
			oid, err = ow.Result()
			return err
		})
	if err != nil {
		t.Fatal(err)
	}
	return oid
}

func snapshotFiles(t *testing.T, root string) map[string]string {
	t.Helper()
	files := map[string]string{}
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			files[p] = string(b)
		}
		return nil
	})
	return files
}

func equalFiles(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
