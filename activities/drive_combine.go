package activities

import (
	"context"
	"fmt"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/repository"
	"github.com/corso-temporal/corso/workflows"
)

// CombineDrives joins an owner's drives into one snapshot laid out as
// tenant/service/owner/files/library/folder-path/file, and records the
// backup with, per drive, its details, its delta link and its full state
// for the next incremental backup.
func (d *Drives) CombineDrives(ctx context.Context, in workflows.CombineDrivesInput) (backup.Summary, error) {
	if len(in.Drives) == 0 {
		return backup.Summary{}, invalidInput("no drive to back up")
	}
	r, err := d.Repos.open(ctx, in.Repo)
	if err != nil {
		return backup.Summary{}, err
	}
	defer r.Release(ctx)
	// Batches were written by other workers.
	if err := r.Refresh(ctx); err != nil {
		return backup.Summary{}, repositoryError(err)
	}
	return recordOnce(ctx, r, in.BackupID, func(ctx context.Context, sess *repository.Session) (backup.Summary, error) {
		return d.writeDrives(ctx, r, sess, in)
	})
}

// writeDrives writes the owner's snapshot, the backup record and its
// index; the caller flushes.
func (d *Drives) writeDrives(ctx context.Context, r *repository.Repository, sess *repository.Session, in workflows.CombineDrivesInput) (backup.Summary, error) {
	owner := in.Drives[0].Drive
	b := &repository.Backup{Summary: backup.Summary{
		BackupID: in.BackupID, Tenant: in.TenantID, Service: in.Service, Resource: owner.Owner,
		ResourceName: owner.OwnerName, Status: backup.StatusCompleted, Started: in.Started, Workflow: in.Workflow,
	}}
	var index repository.BackupIndex
	root := newTreeNode()
	prefix := []string{pathName(in.TenantID), in.Service, pathName(owner.Owner), backup.FilesCategory}
	for i, e := range in.Drives {
		c, err := d.combineDrive(ctx, r, sess, e, in.Results[i], root.at(append(append([]string{}, prefix...), pathName(e.Drive.Name))))
		if err != nil {
			return backup.Summary{}, err
		}
		index.Collections = append(index.Collections, c)
		for _, res := range in.Results[i] {
			index.Errors = append(index.Errors, res.Errors...)
			b.Fetched += res.Files
			// Counts beyond the reported errors; batches of older
			// workers count none.
			skipped := backup.Failures(res.Errors)
			b.Skipped += max(res.Skipped, skipped)
			b.Warnings += max(res.Warnings, int64(len(res.Errors))-skipped)
		}
		b.Items += c.Items
		b.Bytes += c.Bytes
		if e.Reset {
			b.Resets = append(b.Resets, e.Drive.Name)
		}
	}
	b.Errors = backup.Failures(index.Errors)
	return putBackup(ctx, sess, b, root, index)
}

// combineDrive fills the drive's state with the downloaded files, lays the
// files out under node and writes the drive's details and final state.
// Files that could not be downloaded are left out of the backup, not out
// of its state.
func (d *Drives) combineDrive(ctx context.Context, r *repository.Repository, sess *repository.Session,
	e workflows.DriveEnumeration, results []workflows.DriveBatchResult, node *treeNode,
) (repository.Collection, error) {
	c := repository.Collection{Category: backup.FilesCategory, ContainerID: e.Drive.ID, Path: []string{e.Drive.Name}, DeltaLink: e.DeltaLink}
	var entries []*driveEntry
	if err := r.ReadJSON(ctx, e.StateID, &entries); err != nil {
		return c, repositoryError(fmt.Errorf("read drive state: %w", err))
	}
	tree := make(driveTree, len(entries))
	for _, de := range entries {
		tree[de.ID] = de
	}
	// Files Microsoft 365 refused for good (malware, OneNote) are not
	// asked for again until they change.
	refused := map[string]m365.Cause{}
	for _, res := range results {
		for _, ie := range res.Errors {
			if cause := m365.Cause(ie.Cause); cause != "" && !ie.Kept && cause != m365.CauseDeletedInFlight {
				refused[ie.ItemID] = cause
			}
		}
	}
	for _, res := range results {
		var files []driveFileResult
		if err := r.ReadJSON(ctx, res.ResultsID, &files); err != nil {
			return c, repositoryError(fmt.Errorf("read downloaded files: %w", err))
		}
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
			// Failed, or gone before it could be downloaded: not in this
			// backup, but kept in its state so that the next backup tries
			// it again, changed or not (delta will not list it again).
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
		if err != nil {
			return c, repositoryError(err)
		}
		segs := make([]string, len(path))
		for i, p := range path {
			segs[i] = pathName(p)
		}
		size := de.storedSize()
		n := node.at(segs)
		n.items = append(n.items, repository.ItemEntry(pathName(de.Name), oid, size, de.Modified))
		details = append(details, backup.Entry{
			ItemID: de.ID, Category: backup.FilesCategory, Path: path, Name: de.Name, Library: e.Drive.Name,
			Size: size, ModTime: de.Modified, Created: de.Created, CreatedBy: de.CreatedBy, ModifiedBy: de.ModifiedBy,
			SHA256: de.SHA256,
		})
		c.Items++
		c.Bytes += size
	}
	detailsID, err := sess.WriteJSON(ctx, "BACKUP-DETAILS", details)
	if err != nil {
		return c, repositoryError(err)
	}
	stateID, err := sess.WriteJSON(ctx, "DRIVE-STATE", kept)
	if err != nil {
		return c, repositoryError(err)
	}
	c.DetailsID, c.StateID = detailsID.String(), stateID.String()
	return c, nil
}
