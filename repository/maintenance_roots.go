package repository

import (
	"context"
	"fmt"
	"time"

	"github.com/kopia/kopia/fs"
	"github.com/kopia/kopia/repo"
	"github.com/kopia/kopia/repo/object"
	"github.com/kopia/kopia/snapshot"
)

// kopia's snapshot GC keeps only what snapshot manifests reach. A backup's
// snapshot reaches its items, but its record also names objects outside
// that tree: the backup index and, per collection, the directory its
// activity wrote (combine lays out the snapshot's directories anew), its
// details and a drive's state (what the next incremental starts from). recordsSource names one snapshot that reaches them all, for
// every backup recorded; full maintenance replaces it before collecting.
var recordsSource = snapshot.SourceInfo{Host: "corso", UserName: "maintenance", Path: "/backup-records"}

// pinBackupRecords saves the snapshot that reaches every recorded backup's
// index, details and drive state objects, replacing the previous one, so
// that snapshot GC keeps them while their backup exists.
func (r *Repository) pinBackupRecords(ctx context.Context, w repo.RepositoryWriter) error {
	bs, err := r.Backups(ctx, BackupFilter{})
	if err != nil {
		return err
	}
	sess := &Session{r: r, w: w}
	var dirs []*snapshot.DirEntry
	for _, b := range bs {
		d, err := r.recordDir(ctx, sess, b)
		if err != nil {
			return err
		}
		dirs = append(dirs, d)
	}
	root, err := sess.WriteDir(ctx, recordsSource.Path, "", dirs)
	if err != nil {
		return err
	}
	now := fs.UTCTimestampFromTime(time.Now())
	man := &snapshot.Manifest{Source: recordsSource, StartTime: now, EndTime: now, RootEntry: root, Description: "objects corso backup records name"}
	id, err := snapshot.SaveSnapshot(ctx, w, man)
	if err != nil {
		return fmt.Errorf("save backup records snapshot: %w", err)
	}
	old, err := snapshot.ListSnapshotManifests(ctx, w, &recordsSource, nil)
	if err != nil {
		return fmt.Errorf("list backup records snapshots: %w", err)
	}
	for _, m := range old {
		if m != id {
			if err := w.DeleteManifest(ctx, m); err != nil {
				return fmt.Errorf("replace backup records snapshot: %w", err)
			}
		}
	}
	return nil
}

// recordDir is a directory whose files are the objects backup b's record
// names outside its snapshot.
func (r *Repository) recordDir(ctx context.Context, sess *Session, b Backup) (*snapshot.DirEntry, error) {
	var entries []*snapshot.DirEntry
	add := func(name, id string, typ snapshot.EntryType) error {
		if id == "" {
			return nil
		}
		oid, err := object.ParseID(id)
		if err != nil {
			return fmt.Errorf("backup %s names an invalid object %q: %w", b.BackupID, id, err)
		}
		entries = append(entries, &snapshot.DirEntry{Name: name, Type: typ, Permissions: 0o600, ObjectID: oid})
		return nil
	}
	if err := add("index", b.IndexID, snapshot.EntryTypeFile); err != nil {
		return nil, err
	}
	idx, err := r.Index(ctx, b)
	if err != nil {
		return nil, fmt.Errorf("read index of backup %s: %w", b.BackupID, err)
	}
	for i, c := range idx.Collections {
		// The collection's directory as its activity wrote it: combine
		// lays out the snapshot's directories anew.
		if err := add(fmt.Sprintf("dir-%d", i), c.DirID, snapshot.EntryTypeDirectory); err != nil {
			return nil, err
		}
		if err := add(fmt.Sprintf("details-%d", i), c.DetailsID, snapshot.EntryTypeFile); err != nil {
			return nil, err
		}
		if err := add(fmt.Sprintf("state-%d", i), c.StateID, snapshot.EntryTypeFile); err != nil {
			return nil, err
		}
	}
	return sess.WriteDir(ctx, recordsSource.Path+"/"+b.BackupID, b.BackupID, entries)
}
