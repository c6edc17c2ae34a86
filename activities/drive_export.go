package activities

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/export"
	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/repository"
	"github.com/corso-temporal/corso/workflows"
)

// ExportDrive writes the selected files of a OneDrive or SharePoint backup
// as they were, in their folder tree (under the library's name for
// SharePoint), streaming each from the repository.
func (x *Exporter) ExportDrive(ctx context.Context, in workflows.ExportInput) (workflows.ExportResult, error) {
	res := workflows.ExportResult{BackupID: in.BackupID, Path: in.Dir}
	if err := in.Selector.Validate(); err != nil {
		return res, invalidInput(err.Error())
	}
	r, b, idx, err := x.Repos.openBackup(ctx, in.Repo, in.BackupID, in.Service)
	if err != nil {
		return res, err
	}
	defer r.Release(ctx)
	res.Resource = b.ResourceName
	drives := exportedDrives(idx)
	if err := planExport(ctx, r, x.Progress, drives, in.Selector); err != nil {
		return res, err
	}
	sink, finish, err := x.openSink(ctx, in)
	if err != nil {
		return res, err
	}
	counts := workflows.RestoreCounts{}
	var failed []backup.ItemError
	err = exportDrives(ctx, r, sink, drives, in, x.Progress, &counts, &failed)
	if ferr := finish(err == nil); err == nil && ferr != nil {
		err = invalidInput("write the export: " + ferr.Error())
	}
	if err != nil {
		return res, err
	}
	res.Categories = []workflows.CategoryCounts{{Category: m365.Category(backup.FilesCategory), RestoreCounts: counts}}
	res.Files, res.Bytes, res.Errors = int64(sink.Files()), sink.Bytes(), failed
	return res, nil
}

// exportedDrives are the collections of a drive backup that an export
// reads: those with a drive state.
func exportedDrives(idx repository.BackupIndex) []repository.Collection {
	var out []repository.Collection
	for _, c := range idx.Collections {
		if c.StateID != "" {
			out = append(out, c)
		}
	}
	return out
}

// exportDrives exports the selected files of drives. A file whose stored
// data is lost or damaged is counted failed and named in failed; the
// others are exported.
func exportDrives(ctx context.Context, r *repository.Repository, sink export.Sink, drives []repository.Collection,
	in workflows.ExportInput, progress *ExportProgress, counts *workflows.RestoreCounts, failed *[]backup.ItemError,
) error {
	fail := func(e backup.Entry, reason string) {
		counts.Failed++
		if len(*failed) < maxCollectionErrors {
			*failed = append(*failed, backup.ItemError{Category: backup.FilesCategory, Path: append([]string{e.Library}, e.Path...),
				ItemID: e.ItemID, Name: e.Name, Reason: reason})
		}
	}
	for _, c := range drives {
		entries, err := readDetails(ctx, r, c.DetailsID)
		if err != nil {
			return err
		}
		selected := map[string]bool{}
		for _, e := range entries {
			if in.Selector.Matches(e) {
				selected[e.ItemID] = true
			}
		}
		objects, err := driveObjectsOf(ctx, r, c.StateID, func(id string) bool { return selected[id] })
		if err != nil {
			return err
		}
		for _, e := range entries {
			if !in.Selector.Matches(e) {
				continue
			}
			heartbeat(ctx)
			dir := e.Path
			if in.Service == m365.SharePoint {
				dir = append([]string{e.Library}, e.Path...)
			}
			oid, ok := objects[e.ItemID]
			if !ok {
				fail(e, "the backed-up file cannot be read: it is in the details but not in the drive's state")
				progress.handled(e)
				continue
			}
			err := exportFile(ctx, r, sink, dir, e.Name, oid)
			if errors.Is(err, repository.ErrUnreadable) {
				fail(e, "the backed-up file cannot be read: "+err.Error())
				progress.handled(e)
				continue
			}
			if err != nil {
				return err
			}
			counts.Restored++
			counts.Bytes += e.Size
			progress.handled(e)
		}
	}
	return nil
}

// driveObjects maps a drive's file ids to their stored objects.
func driveObjects(ctx context.Context, r *repository.Repository, stateID string) (map[string]string, error) {
	return driveObjectsOf(ctx, r, stateID, func(string) bool { return true })
}

// driveObjectsOf maps the file ids want selects to their stored objects.
func driveObjectsOf(ctx context.Context, r *repository.Repository, stateID string, want func(id string) bool) (map[string]string, error) {
	out, err := storedObjects(ctx, r, stateID, want)
	if err != nil {
		return nil, repositoryError(fmt.Errorf("read drive state: %w", err))
	}
	return out, nil
}

// exportFile writes one file. Its stored data lost or damaged comes back
// as repository.ErrUnreadable, with nothing left in the export.
func exportFile(ctx context.Context, r *repository.Repository, sink export.Sink, dir []string, name, oid string) error {
	stored, err := r.OpenItem(ctx, oid)
	switch {
	case errors.Is(err, repository.ErrUnreadable):
		return err
	case err != nil:
		return repositoryError(err)
	}
	defer stored.Close()
	w, err := sink.Create(dir, name)
	if err != nil {
		return invalidInput("write the export: " + err.Error())
	}
	rd := &sourceReader{r: stored}
	if _, err := io.Copy(w, rd); err != nil {
		_ = export.Abort(w)
		switch {
		case errors.Is(rd.err, repository.ErrUnreadable):
			return rd.err
		case rd.err != nil:
			return repositoryError(rd.err)
		}
		return invalidInput("write the export: " + err.Error())
	}
	if err := w.Close(); err != nil {
		return invalidInput("write the export: " + err.Error())
	}
	return nil
}
