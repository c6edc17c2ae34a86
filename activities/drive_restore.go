package activities

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/repository"
	"github.com/corso-temporal/corso/workflows"
)

// DriveTarget is what drive restores write to.
type DriveTarget interface {
	// EnsureDriveFolder returns the folder at path from the drive's root,
	// creating what is missing; calling it again creates nothing.
	EnsureDriveFolder(ctx context.Context, driveID string, path []string) (string, error)
	DriveChildren(ctx context.Context, driveID, folderID string) ([]m365.DriveItem, error)
	UploadFile(ctx context.Context, driveID, folderID, name string, size int64, modified time.Time, content io.Reader, conflict string) (m365.DriveItem, error)
	RestorePermissions(ctx context.Context, driveID, itemID string, perms []byte) error
	DeleteDriveItem(ctx context.Context, driveID, itemID string) error
}

// Restore batches: folders of one library, up to these sizes.
const (
	driveRestoreBatchFiles = 500
	driveRestoreBatchBytes = 512 << 20
)

// PlanDriveRestore finds the folders with selected files, maps each
// backed-up library to a drive of the target user or site, and creates
// every target folder, one after another, so parallel batches never race to
// create the same folder.
func (d *Drives) PlanDriveRestore(ctx context.Context, in workflows.DriveRestoreInput) (workflows.DriveRestorePlan, error) {
	var plan workflows.DriveRestorePlan
	if err := in.Selector.Validate(); err != nil {
		return plan, invalidInput(err.Error())
	}
	if err := validDestination(in.Destination); err != nil {
		return plan, err
	}
	tgt, err := d.client(ctx, in.Graph)
	if err != nil {
		return plan, err
	}
	r, b, idx, err := d.Repos.openBackup(ctx, in.Repo, in.BackupID, in.Service)
	if err != nil {
		return plan, err
	}
	defer r.Release(ctx)
	if b.Status != backup.StatusCompleted {
		return plan, invalidInput(fmt.Sprintf("backup %s did not complete (%s) and cannot be restored", b.BackupID, b.Status))
	}
	who := in.ToResource
	if who == "" {
		who = b.Resource
	}
	drives, _, err := tgt.ResolveDrives(ctx, in.Service, []string{who})
	if err != nil {
		return plan, graphError(err)
	}
	if len(drives) == 0 {
		return plan, unknownResource([]string{who})
	}
	plan.Target = drives[0].OwnerName
	ctx, sess, err := r.NewSession(ctx, "plan restore "+in.BackupID)
	if err != nil {
		return plan, repositoryError(err)
	}
	defer sess.Close(ctx)
	// Every library with selected files needs one of its name in the
	// target before anything is written.
	type selected struct {
		c       repository.Collection
		library string
		target  m365.Drive
		folders map[string]*workflows.DriveRestoreFolder
		keys    []string
		bytes   map[string]int64
	}
	var libraries []selected
	for _, c := range idx.Collections {
		if c.StateID == "" || len(c.Path) == 0 {
			continue
		}
		sel := selected{c: c, library: c.Path[0], folders: map[string]*workflows.DriveRestoreFolder{}, bytes: map[string]int64{}}
		entries, err := readDetails(ctx, r, c.DetailsID)
		if err != nil {
			return plan, err
		}
		for _, e := range entries {
			if !in.Selector.Matches(e) {
				continue
			}
			k := strings.Join(e.Path, "/")
			f, ok := sel.folders[k]
			if !ok {
				f = &workflows.DriveRestoreFolder{Path: e.Path}
				sel.folders[k] = f
				sel.keys = append(sel.keys, k)
			}
			f.Files++
			sel.bytes[k] += e.Size
		}
		if len(sel.keys) == 0 {
			continue // nothing selected in this library: the target needs none of its name
		}
		sort.Strings(sel.keys)
		var ok bool
		if sel.target, ok = libraryDrive(drives, sel.library, in.Service); !ok {
			return plan, invalidInput(fmt.Sprintf("%s has no document library named %q to restore into", plan.Target, sel.library))
		}
		libraries = append(libraries, sel)
	}
	for _, sel := range libraries {
		c, library, target, folders, keys, bytes := sel.c, sel.library, sel.target, sel.folders, sel.keys, sel.bytes
		perms := folderPermissions{}
		if !in.NoPermissions {
			if perms, err = sharedFolders(ctx, r, c.StateID); err != nil {
				return plan, err
			}
		}
		batch := workflows.DriveRestoreBatch{Library: library, DriveID: target.ID, StateID: c.StateID, DetailsID: c.DetailsID}
		for i, k := range keys {
			heartbeat(ctx, i)
			f := folders[k]
			id, err := tgt.EnsureDriveFolder(ctx, target.ID, restoreFolderPath(f.Path, in.Destination))
			if err != nil {
				return plan, graphError(fmt.Errorf("prepare folder %s: %w", k, err))
			}
			if err := perms.restore(ctx, tgt, r, target.ID, library, f.Path, in.Destination, &plan); err != nil {
				return plan, err
			}
			children, err := tgt.DriveChildren(ctx, target.ID, id)
			if err != nil {
				return plan, graphError(fmt.Errorf("list folder %s: %w", k, err))
			}
			before := make([]m365.ExistingItem, 0, len(children))
			for _, c := range children {
				before = append(before, m365.ExistingItem{ID: c.ID, Key: c.Name, Created: c.Created})
			}
			oid, err := sess.WriteJSON(ctx, "RESTORE-EXISTING", before)
			if err != nil {
				return plan, repositoryError(err)
			}
			f.TargetID, f.ExistingID = id, oid.String()
			if len(batch.Folders) > 0 && (batch.Files+f.Files > driveRestoreBatchFiles || batch.Bytes+bytes[k] > driveRestoreBatchBytes) {
				plan.Batches = append(plan.Batches, batch)
				batch.Folders, batch.Files, batch.Bytes = nil, 0, 0
			}
			batch.Folders = append(batch.Folders, *f)
			batch.Files += f.Files
			batch.Bytes += bytes[k]
		}
		if len(batch.Folders) > 0 {
			plan.Batches = append(plan.Batches, batch)
		}
	}
	if err := sess.Flush(ctx); err != nil {
		return plan, repositoryError(err)
	}
	return plan, nil
}

// libraryDrive is the target drive for a backed-up library: the library of
// the same name on a site, the one drive of a user.
func libraryDrive(drives []m365.Drive, library, service string) (m365.Drive, bool) {
	if service == m365.OneDrive {
		return drives[0], true
	}
	for _, d := range drives {
		if strings.EqualFold(d.Name, library) {
			return d, true
		}
	}
	return m365.Drive{}, false
}

// restoreFolderPath is where a backed-up folder's files go: under the
// destination folder at the library's root, or in place.
func restoreFolderPath(p []string, dest string) []string {
	if dest == workflows.InPlace {
		return p
	}
	return append([]string{dest}, p...)
}

// RestoreDriveBatch restores the selected files of a batch of folders.
// As with Exchange, the target is the checkpoint: a file in the target
// folder that the plan did not see there, with the same content, is this
// restore's own from an earlier attempt, and is not written again.
func (d *Drives) RestoreDriveBatch(ctx context.Context, in workflows.RestoreDriveBatchInput) (workflows.RestoreCollectionResult, error) {
	var res workflows.RestoreCollectionResult
	tgt, err := d.client(ctx, in.Graph)
	if err != nil {
		return res, err
	}
	r, err := d.Repos.open(ctx, in.Repo)
	if err != nil {
		return res, err
	}
	defer r.Release(ctx)
	// The batch's own files, read an entry at a time: a batch holds its
	// files, not the library's.
	inBatch := make(map[string]bool, len(in.Batch.Folders))
	for _, f := range in.Batch.Folders {
		inBatch[strings.Join(f.Path, "/")] = true
	}
	byFolder := map[string][]backup.Entry{}
	selected := map[string]bool{}
	err = repository.EachJSON(ctx, r, in.Batch.DetailsID, func(e backup.Entry) error {
		if k := strings.Join(e.Path, "/"); inBatch[k] && in.Selector.Matches(e) {
			byFolder[k] = append(byFolder[k], e)
			selected[e.ItemID] = true
		}
		return nil
	})
	if err != nil {
		return res, repositoryError(fmt.Errorf("read backup details: %w", err))
	}
	stored, err := selectedState(ctx, r, in.Batch.StateID, func(e *driveEntry) bool { return selected[e.ID] })
	if err != nil {
		return res, repositoryError(fmt.Errorf("read drive state: %w", err))
	}
	dr := &driveRestore{in: in, tgt: tgt, repo: r, stored: stored}
	defer keepAlive(ctx, keepAliveEvery, func() { heartbeat(ctx, dr.counts()) })()
	for _, f := range in.Batch.Folders {
		files := byFolder[strings.Join(f.Path, "/")]
		sort.Slice(files, func(i, j int) bool { return files[i].ItemID < files[j].ItemID })
		if err := dr.folder(ctx, f, files); err != nil {
			return res, err
		}
	}
	return dr.res, nil
}

type driveRestore struct {
	in     workflows.RestoreDriveBatchInput
	tgt    DriveTarget
	repo   *repository.Repository
	stored map[string]*driveEntry

	mu  sync.Mutex
	res workflows.RestoreCollectionResult
}

func (dr *driveRestore) counts() workflows.RestoreCounts {
	dr.mu.Lock()
	defer dr.mu.Unlock()
	return dr.res.RestoreCounts
}

// folder restores one folder's files, Concurrency at a time.
func (dr *driveRestore) folder(ctx context.Context, f workflows.DriveRestoreFolder, files []backup.Entry) error {
	children, err := dr.tgt.DriveChildren(ctx, dr.in.Batch.DriveID, f.TargetID)
	if err != nil {
		return graphError(fmt.Errorf("list %s: %w", strings.Join(f.Path, "/"), err))
	}
	before, err := existingBefore(ctx, dr.repo, f.ExistingID)
	if err != nil {
		return err
	}
	existing := map[string]m365.DriveItem{}
	var ours []m365.DriveItem
	for _, c := range children {
		if c.Folder {
			continue
		}
		existing[strings.ToLower(c.Name)] = c
		if (before != nil && !before[c.ID]) || (before == nil && !c.Created.Before(dr.in.Started)) {
			ours = append(ours, c)
		}
	}
	return concurrently(ctx, dr.in.Concurrency, files, func(ctx context.Context, e backup.Entry) error {
		return dr.file(ctx, f, e, existing, &ours)
	})
}

// restoredBefore finds a file an earlier attempt of this restore wrote:
// not in the folder before the restore, same content, and the name or a
// numbered copy of it.
func restoredBefore(ours *[]m365.DriveItem, e *driveEntry) bool {
	stem := strings.TrimSuffix(e.Name, path.Ext(e.Name))
	for i, c := range *ours {
		if c.Size != e.Size || (c.QuickXorHash != "" && e.QuickXorHash != "" && c.QuickXorHash != e.QuickXorHash) {
			continue
		}
		if !strings.EqualFold(c.Name, e.Name) && !strings.HasPrefix(strings.ToLower(c.Name), strings.ToLower(stem)+" ") {
			continue
		}
		*ours = append((*ours)[:i], (*ours)[i+1:]...)
		return true
	}
	return false
}

func (dr *driveRestore) file(ctx context.Context, f workflows.DriveRestoreFolder, e backup.Entry, existing map[string]m365.DriveItem, ours *[]m365.DriveItem) error {
	st, ok := dr.stored[e.ItemID]
	if !ok || st.ObjectID == "" {
		return dr.itemFailed(e, "the backed-up file cannot be read: it is in the details but not in the drive's state")
	}
	conflict := m365.ConflictFail
	dr.mu.Lock()
	if restoredBefore(ours, st) {
		dr.res.Restored++
		dr.res.Bytes += e.Size
		dr.mu.Unlock()
		return nil
	}
	if _, clash := existing[strings.ToLower(e.Name)]; clash {
		switch dr.in.Collisions {
		case workflows.CollisionSkip:
			dr.res.Skipped++
			dr.mu.Unlock()
			return nil
		case workflows.CollisionCopy:
			conflict = m365.ConflictRename
		case workflows.CollisionReplace:
			conflict = m365.ConflictReplace
		}
	}
	dr.mu.Unlock()

	rd, err := dr.repo.OpenItem(ctx, st.ObjectID)
	switch {
	case errors.Is(err, repository.ErrUnreadable):
		// Its data is lost from the repository: this file fails, the
		// others are restored.
		return dr.itemFailed(e, "the backed-up file cannot be read: "+err.Error())
	case err != nil:
		return repositoryError(err)
	}
	src := &sourceReader{r: rd, tick: func() { heartbeat(ctx, dr.counts()) }}
	item, err := dr.tgt.UploadFile(ctx, dr.in.Batch.DriveID, f.TargetID, e.Name, e.Size, e.ModTime, src, conflict)
	rd.Close()
	switch {
	case errors.Is(src.err, repository.ErrUnreadable):
		// Damage found while streaming: the upload never completed.
		return dr.itemFailed(e, "the backed-up file cannot be read: "+src.err.Error())
	case src.err != nil:
		return repositoryError(src.err)
	case errors.Is(err, m365.ErrNameConflict):
		// Created meanwhile by someone else: a collision after all.
		dr.mu.Lock()
		dr.res.Skipped++
		dr.mu.Unlock()
		return nil
	case errors.Is(err, m365.ErrUnrestorable), errors.Is(err, m365.ErrNotFound):
		return dr.itemFailed(e, err.Error())
	case err != nil:
		return graphError(err)
	}
	if !dr.in.NoPermissions && st.PermsID != "" {
		var perms jsonBytes
		err := dr.repo.ReadJSON(ctx, st.PermsID, &perms)
		switch {
		case errors.Is(err, repository.ErrUnreadable):
			err = fmt.Errorf("%w: the backed-up permissions cannot be read: %v", m365.ErrUnrestorable, err)
		case err != nil:
			return repositoryError(err)
		default:
			err = dr.tgt.RestorePermissions(ctx, dr.in.Batch.DriveID, item.ID, perms)
		}
		switch {
		case errors.Is(err, m365.ErrUnrestorable):
			if ferr := dr.itemFailed(e, "permissions: "+err.Error()); ferr != nil {
				return ferr
			}
		case err != nil:
			return graphError(err)
		}
	}
	dr.mu.Lock()
	dr.res.Restored++
	dr.res.Bytes += e.Size
	if conflict == m365.ConflictReplace {
		dr.res.Replaced++
	}
	done := dr.res.RestoreCounts
	dr.mu.Unlock()
	heartbeat(ctx, done)
	return nil
}

// jsonBytes reads a stored JSON value as its raw bytes.
type jsonBytes []byte

func (j *jsonBytes) UnmarshalJSON(b []byte) error {
	*j = append((*j)[:0], b...)
	return nil
}

func (dr *driveRestore) itemFailed(e backup.Entry, reason string) error {
	ie := backup.ItemError{Category: backup.FilesCategory, Path: append([]string{e.Library}, e.Path...), ItemID: e.ItemID, Name: e.Name, Reason: e.Name + ": " + reason}
	if dr.in.FailFast {
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("file %s in %s cannot be restored: %s", e.Name, strings.Join(ie.Path, "/"), reason),
			workflows.ErrTypeItemFailed, nil)
	}
	dr.mu.Lock()
	defer dr.mu.Unlock()
	dr.res.Failed++
	if len(dr.res.Errors) < maxCollectionErrors {
		dr.res.Errors = append(dr.res.Errors, ie)
	}
	return nil
}
