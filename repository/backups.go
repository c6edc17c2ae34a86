package repository

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/kopia/kopia/fs"
	"github.com/kopia/kopia/repo/manifest"
	"github.com/kopia/kopia/snapshot"

	"github.com/corso-temporal/corso/backup"
)

// Backup is the record of one backup of one resource: its summary plus
// where its data is. It is kept small, as kopia loads every manifest into
// memory; the per-collection index and the item details live in objects it
// points to.
type Backup struct {
	backup.Summary
	SnapshotID string `json:"snapshotID"`
	IndexID    string `json:"indexID"` // object holding a BackupIndex
}

// Collection is one backed-up container: where its items are, what the next
// incremental backup resumes from, and the items' details.
type Collection struct {
	Category    string   `json:"category"`
	ContainerID string   `json:"containerID"`
	Path        []string `json:"path"`
	DirID       string   `json:"dirID"`
	DetailsID   string   `json:"detailsID"`
	DeltaLink   string   `json:"deltaLink,omitempty"`
	// StateID, for drives, is the object listing every item of the drive
	// with its stored object: what the next incremental backup starts from.
	StateID string `json:"stateID,omitempty"`
	// SchemaID, for containers with a schema (a list's columns), is the
	// object holding it, which a restore re-creates the container from.
	SchemaID string `json:"schemaID,omitempty"`
	Items    int64  `json:"items"`
	Bytes    int64  `json:"bytes"`
}

// BackupIndex is the object a Backup's IndexID names.
type BackupIndex struct {
	Collections []Collection       `json:"collections"`
	Errors      []backup.ItemError `json:"errors,omitempty"`
}

const backupManifestType = "corso.backup"

func backupLabels(b Backup) map[string]string {
	return map[string]string{
		manifest.TypeLabelKey: backupManifestType,
		"backupID":            b.BackupID,
		"tenant":              b.Tenant,
		"service":             b.Service,
		"resource":            b.Resource,
	}
}

// ErrBackupNotFound is returned for an unknown backup id.
var ErrBackupNotFound = errors.New("backup not found")

// PutBackup records a finished backup: the index object, a pinned snapshot
// of root, and the backup manifest. The caller flushes.
func (s *Session) PutBackup(ctx context.Context, b *Backup, root *snapshot.DirEntry, index BackupIndex) error {
	indexID, err := s.WriteJSON(ctx, "BACKUP-INDEX", index)
	if err != nil {
		return err
	}
	b.IndexID = indexID.String()
	man := &snapshot.Manifest{
		Source:    snapshot.SourceInfo{Host: "corso", UserName: b.Tenant, Path: "/" + b.Service + "/" + b.Resource},
		StartTime: fs.UTCTimestampFromTime(b.Started),
		EndTime:   fs.UTCTimestampFromTime(b.Completed),
		RootEntry: root,
		Tags:      map[string]string{"tag:backupID": b.BackupID},
	}
	if root.DirSummary != nil {
		man.Stats.TotalFileCount = int32(min(root.DirSummary.TotalFileCount, 1<<31-1))
		man.Stats.TotalFileSize = root.DirSummary.TotalFileSize
	}
	// Pinned snapshots survive kopia's retention rules; corso deletes
	// backups itself.
	man.UpdatePins([]string{"corso"}, nil)
	snapID, err := snapshot.SaveSnapshot(ctx, s.w, man)
	if err != nil {
		return fmt.Errorf("save snapshot: %w", err)
	}
	b.SnapshotID = string(snapID)
	if _, err := s.w.PutManifest(ctx, backupLabels(*b), b); err != nil {
		return fmt.Errorf("save backup record: %w", err)
	}
	return nil
}

// BackupFilter selects backups; empty fields match anything.
type BackupFilter struct {
	ID, Tenant, Service, Resource string
}

// Backups lists backups, newest first.
func (r *Repository) Backups(ctx context.Context, f BackupFilter) ([]Backup, error) {
	labels := map[string]string{manifest.TypeLabelKey: backupManifestType}
	for k, v := range map[string]string{"backupID": f.ID, "tenant": f.Tenant, "service": f.Service, "resource": f.Resource} {
		if v != "" {
			labels[k] = v
		}
	}
	metas, err := r.FindManifests(ctx, labels)
	if err != nil {
		return nil, fmt.Errorf("list backups: %w", err)
	}
	out := make([]Backup, 0, len(metas))
	for _, m := range metas {
		var b Backup
		if _, err := r.GetManifest(ctx, m.ID, &b); err != nil {
			return nil, fmt.Errorf("read backup record %s: %w", m.ID, err)
		}
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Started.Equal(out[j].Started) {
			return out[i].Started.After(out[j].Started)
		}
		return out[i].BackupID < out[j].BackupID
	})
	return out, nil
}

// Backup returns one backup by id.
func (r *Repository) Backup(ctx context.Context, id string) (Backup, error) {
	bs, err := r.Backups(ctx, BackupFilter{ID: id})
	if err != nil {
		return Backup{}, err
	}
	if len(bs) == 0 {
		return Backup{}, fmt.Errorf("%w: %s", ErrBackupNotFound, id)
	}
	return bs[0], nil
}

// Index loads a backup's collections and item errors.
func (r *Repository) Index(ctx context.Context, b Backup) (BackupIndex, error) {
	var idx BackupIndex
	err := r.ReadJSON(ctx, b.IndexID, &idx)
	return idx, err
}

// DeleteBackup removes a backup's record and snapshot; its data becomes
// garbage that maintenance reclaims unless another backup shares it.
func (s *Session) DeleteBackup(ctx context.Context, id string) error {
	metas, err := s.r.FindManifests(ctx, map[string]string{manifest.TypeLabelKey: backupManifestType, "backupID": id})
	if err != nil {
		return fmt.Errorf("find backup %s: %w", id, err)
	}
	if len(metas) == 0 {
		return fmt.Errorf("%w: %s", ErrBackupNotFound, id)
	}
	for _, m := range metas {
		var b Backup
		if _, err := s.r.GetManifest(ctx, m.ID, &b); err != nil {
			return fmt.Errorf("read backup record %s: %w", m.ID, err)
		}
		if b.SnapshotID != "" {
			if err := s.w.DeleteManifest(ctx, manifest.ID(b.SnapshotID)); err != nil {
				return fmt.Errorf("delete snapshot of backup %s: %w", id, err)
			}
		}
		if err := s.w.DeleteManifest(ctx, m.ID); err != nil {
			return fmt.Errorf("delete backup %s: %w", id, err)
		}
	}
	return nil
}
