package activities

import (
	"context"
	"fmt"
	"strings"

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
	// A library of a million files takes minutes to combine.
	defer keepAlive(ctx, keepAliveEvery, func() { heartbeat(ctx) })()
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
	tree := newDriveSnapshotTree(sess)
	for i, e := range in.Drives {
		c, err := d.combineDrive(ctx, r, sess, e, in.Results[i], tree)
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
	prefix := []string{pathName(in.TenantID), in.Service, pathName(owner.Owner), backup.FilesCategory}
	root, err := tree.write(ctx, sess, prefix)
	if err != nil {
		return backup.Summary{}, repositoryError(err)
	}
	return recordBackup(ctx, sess, b, root, index)
}

// combineDrive fills the drive's state with the downloaded files, lays the
// files out in tree and writes the drive's details and final state.
// Files that could not be downloaded are left out of the backup, not out
// of its state. The state, the downloads and what is written stream an
// entry at a time, in id order: a worker holds the drive's folders, not
// its files.
func (d *Drives) combineDrive(ctx context.Context, r *repository.Repository, sess *repository.Session,
	e workflows.DriveEnumeration, results []workflows.DriveBatchResult, tree *driveSnapshotTree,
) (repository.Collection, error) {
	c := repository.Collection{Category: backup.FilesCategory, ContainerID: e.Drive.ID, Path: []string{e.Drive.Name}, DeltaLink: e.DeltaLink}
	folders := driveFolders{}
	err := eachEntry(ctx, r, e.StateID, func(de *driveEntry) error {
		if holdsItems(&de.DriveItem) {
			folders.apply(&de.DriveItem)
		}
		return nil
	})
	if err != nil {
		return c, repositoryError(fmt.Errorf("read drive state: %w", err))
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
	downloaded, err := downloadedFiles(ctx, r, sess, results)
	if err != nil {
		return c, err
	}
	defer downloaded.close()
	library := pathName(e.Drive.Name)
	if err := tree.add(ctx, snapshotFile{Dir: []string{library}}); err != nil {
		return c, repositoryError(err)
	}
	details := sess.NewJSONArray(ctx, "BACKUP-DETAILS")
	defer details.Close()
	state := sess.NewJSONArray(ctx, "DRIVE-STATE")
	defer state.Close()
	err = eachEntry(ctx, r, e.StateID, func(de *driveEntry) error {
		// The downloads of de, a later batch's winning.
		for {
			f, ok := downloaded.peek()
			if !ok || f.ID > de.ID {
				break
			}
			if _, _, err := downloaded.next(); err != nil {
				return fmt.Errorf("read downloaded files: %w", err)
			}
			if f.ID == de.ID {
				de.ObjectID, de.PermsID, de.StoredSize, de.SHA256 = f.ObjectID, f.PermsID, nil, f.SHA256
				if f.Size != de.Size {
					de.StoredSize = &f.Size
				}
			}
		}
		if de.Folder || de.Root {
			return state.Add(de)
		}
		if de.ObjectID == "" {
			// Failed, or gone before it could be downloaded: not in this
			// backup, but kept in its state so that the next backup tries
			// it again, changed or not (delta will not list it again).
			de.Skip = refused[de.ID]
			return state.Add(de)
		}
		path, ok := folders.path(&de.DriveItem)
		if !ok {
			return nil
		}
		if err := state.Add(de); err != nil {
			return err
		}
		if _, err := repository.ParseObjectID(de.ObjectID); err != nil {
			return err
		}
		segs := make([]string, 0, len(path)+1)
		segs = append(segs, library)
		for _, p := range path {
			segs = append(segs, pathName(p))
		}
		size := de.storedSize()
		err := tree.add(ctx, snapshotFile{Dir: segs, Name: pathName(de.Name), ObjectID: de.ObjectID, Size: size, Modified: de.Modified})
		if err != nil {
			return err
		}
		c.Items++
		c.Bytes += size
		return details.Add(backup.Entry{
			ItemID: de.ID, Category: backup.FilesCategory, Path: path, Name: de.Name, Library: e.Drive.Name,
			Size: size, ModTime: de.Modified, Created: de.Created, CreatedBy: de.CreatedBy, ModifiedBy: de.ModifiedBy,
			SHA256: de.SHA256,
		})
	})
	if err != nil {
		return c, repositoryError(fmt.Errorf("combine drive %s: %w", e.Drive.Name, err))
	}
	detailsID, err := details.Result()
	if err != nil {
		return c, repositoryError(err)
	}
	stateID, err := state.Result()
	if err != nil {
		return c, repositoryError(err)
	}
	c.DetailsID, c.StateID = detailsID.String(), stateID.String()
	return c, nil
}

// downloadedFiles reads the files a drive's batches stored, sorted by id;
// of a file stored by two batches, the later comes last. Close it when
// done.
func downloadedFiles(ctx context.Context, r *repository.Repository, sess *repository.Session,
	results []workflows.DriveBatchResult,
) (*sortedMerge[driveFileResult], error) {
	byID := newSortedSpill(sess, "DRIVE-COMBINE-FILES-RUN", func(a, b driveFileResult) int { return strings.Compare(a.ID, b.ID) })
	for _, res := range results {
		err := repository.EachJSON(ctx, r, res.ResultsID, func(f driveFileResult) error { return byID.add(ctx, f) })
		if err != nil {
			return nil, repositoryError(fmt.Errorf("read downloaded files: %w", err))
		}
	}
	m, err := byID.sorted(ctx)
	if err != nil {
		return nil, repositoryError(fmt.Errorf("read downloaded files: %w", err))
	}
	return m, nil
}
