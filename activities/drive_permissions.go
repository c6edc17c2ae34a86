package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/repository"
	"github.com/corso-temporal/corso/workflows"
)

// permissionFetches bounds the permission calls an enumeration makes at
// once: each costs SharePoint 5 resource units.
const permissionFetches = 4

// storePermissions stores beside an item the permissions Graph lists for
// it and returns their object id. Only items with the shared facet have
// permissions of their own (drive delta is asked for hierarchical
// sharing); the others inherit their folder's, which the folder's entry
// keeps, so they cost no call. A missing item is m365.ErrNotFound.
func storePermissions(ctx context.Context, src DriveSource, sess *repository.Session, driveID string, it *m365.DriveItem) (string, error) {
	if !it.Shared || it.Root {
		return "", nil
	}
	perms, err := src.DrivePermissions(ctx, driveID, it.ID)
	switch {
	case errors.Is(err, m365.ErrNotFound):
		return "", err
	case err != nil:
		return "", graphError(err)
	}
	if len(perms) == 0 || string(perms) == "[]" || string(perms) == "null" {
		return "", nil
	}
	id, err := sess.WriteJSON(ctx, "DRIVE-PERMISSIONS", json.RawMessage(perms))
	if err != nil {
		return "", repositoryError(err)
	}
	return id.String(), nil
}

// folderPermissions are a drive state's shared folders: stored permissions
// by folder path ("a/b"), and which of them a plan re-created already.
type folderPermissions struct {
	byPath map[string]string
	done   map[string]bool
}

// sharedFolders reads the folders with permissions of their own from a
// backed-up drive state.
func sharedFolders(ctx context.Context, r *repository.Repository, stateID string) (folderPermissions, error) {
	fp := folderPermissions{byPath: map[string]string{}, done: map[string]bool{}}
	// Paths need the folders only: a drive's files are never held.
	tree, err := selectedState(ctx, r, stateID, func(e *driveEntry) bool { return holdsItems(&e.DriveItem) })
	if err != nil {
		return fp, repositoryError(fmt.Errorf("read drive state: %w", err))
	}
	folders := driveFolders{}
	for _, e := range tree {
		folders.apply(&e.DriveItem)
	}
	for _, e := range tree {
		if !e.Folder || e.Root || e.PermsID == "" {
			continue
		}
		if p, ok := folders.path(&e.DriveItem); ok {
			fp.byPath[strings.Join(append(p, e.Name), "/")] = e.PermsID
		}
	}
	return fp, nil
}

// restore re-creates, once per restore plan, the permissions of the shared
// folders on the way to a restored folder: what their files inherited.
// Permissions Graph cannot re-create are reported in the plan.
func (fp folderPermissions) restore(ctx context.Context, tgt DriveTarget, r *repository.Repository, driveID, library string, folder []string, dest string, plan *workflows.DriveRestorePlan) error {
	for i := 1; i <= len(folder); i++ {
		k := strings.Join(folder[:i], "/")
		permsID, ok := fp.byPath[k]
		if !ok || fp.done[k] {
			continue
		}
		fp.done[k] = true
		id, err := tgt.EnsureDriveFolder(ctx, driveID, restoreFolderPath(folder[:i], dest))
		if err != nil {
			return graphError(fmt.Errorf("prepare folder %s: %w", k, err))
		}
		var perms jsonBytes
		if err := r.ReadJSON(ctx, permsID, &perms); err != nil {
			return repositoryError(err)
		}
		err = tgt.RestorePermissions(ctx, driveID, id, perms)
		switch {
		case errors.Is(err, m365.ErrUnrestorable):
			plan.Errors = append(plan.Errors, backup.ItemError{Category: backup.FilesCategory,
				Path: append([]string{library}, folder[:i]...), Reason: "folder permissions: " + err.Error()})
		case err != nil:
			return graphError(fmt.Errorf("permissions of folder %s: %w", k, err))
		}
	}
	return nil
}
