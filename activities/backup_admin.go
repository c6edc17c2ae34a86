package activities

import (
	"context"
	"encoding/json"
	"errors"
	"slices"

	"go.temporal.io/sdk/temporal"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/repository"
	"github.com/corso-temporal/corso/workflows"
)

// ListBackups lists a repository's backups of one service.
func (a *Repositories) ListBackups(ctx context.Context, in workflows.BackupListInput) (workflows.BackupListResult, error) {
	r, err := a.open(ctx, in.Repo)
	if err != nil {
		return workflows.BackupListResult{}, err
	}
	defer r.Release(ctx)
	if err := r.Refresh(ctx); err != nil {
		return workflows.BackupListResult{}, repositoryError(err)
	}
	bs, err := r.Backups(ctx, repository.BackupFilter{Service: in.Service, ID: in.BackupID})
	if err != nil {
		return workflows.BackupListResult{}, repositoryError(err)
	}
	if in.BackupID != "" && len(bs) == 0 {
		return workflows.BackupListResult{}, backupNotFound(in.BackupID)
	}
	if len(in.Resources) > 0 {
		wanted := make(map[string]bool, len(in.Resources))
		for _, r := range in.Resources {
			wanted[r] = true
		}
		bs = slices.DeleteFunc(bs, func(b repository.Backup) bool { return !wanted[b.Resource] })
	}
	if in.Offset < 0 || in.Limit < 0 {
		return workflows.BackupListResult{}, invalidInput("a page of backups starts at 0 and holds 0 or more")
	}
	page := bs[min(in.Offset, len(bs)):]
	if in.Limit > 0 {
		page = page[:min(in.Limit, len(page))]
	}
	res := workflows.BackupListResult{Backups: make([]backup.Summary, 0, len(page)), Total: len(bs)}
	for _, b := range page {
		res.Backups = append(res.Backups, b.Summary)
	}
	return res, nil
}

// A details answer holds at most maxDetailsPage entries and, past its
// first entry, at most maxDetailsPageBytes of them as JSON: well under
// Temporal's payload limit however long the entries' paths and names.
const (
	maxDetailsPage      = 2000
	maxDetailsPageBytes = 256 << 10
)

// BackupDetails returns the selected entries of a backup's details, one
// page at a time.
func (a *Repositories) BackupDetails(ctx context.Context, in workflows.BackupDetailsInput) (workflows.BackupDetailsResult, error) {
	if err := in.Selector.Validate(); err != nil {
		return workflows.BackupDetailsResult{}, invalidInput(err.Error())
	}
	r, b, idx, err := a.openBackup(ctx, in.Repo, in.BackupID, in.Service)
	if err != nil {
		return workflows.BackupDetailsResult{}, err
	}
	defer r.Release(ctx)
	limit := in.Limit
	if limit <= 0 || limit > maxDetailsPage {
		limit = maxDetailsPage
	}
	res := workflows.BackupDetailsResult{Backup: b.Summary, Errors: idx.Errors}
	size, full := 0, false
	for _, c := range idx.Collections {
		var entries []backup.Entry
		if err := r.ReadJSON(ctx, c.DetailsID, &entries); err != nil {
			return workflows.BackupDetailsResult{}, repositoryError(err)
		}
		for _, e := range entries {
			if !in.Selector.Matches(e) {
				continue
			}
			if res.Total >= in.Offset && !full {
				b, err := json.Marshal(e)
				if err != nil {
					return workflows.BackupDetailsResult{}, err
				}
				if len(res.Entries) > 0 && size+len(b) > maxDetailsPageBytes {
					full = true
				} else {
					res.Entries = append(res.Entries, e)
					size += len(b)
					full = len(res.Entries) == limit
				}
			}
			res.Total++
		}
	}
	return res, nil
}

// DeleteBackups deletes backups by id; unknown ids fail the request before
// anything is deleted. It heartbeats how many it deleted, for the
// requester's progress line.
func (a *Repositories) DeleteBackups(ctx context.Context, in workflows.BackupDeleteInput) (workflows.BackupDeleteResult, error) {
	progress := workflows.BackupDeleteProgress{Total: len(in.BackupIDs)}
	heartbeat(ctx, progress)
	r, err := a.open(ctx, in.Repo)
	if err != nil {
		return workflows.BackupDeleteResult{}, err
	}
	defer r.Release(ctx)
	if err := r.Refresh(ctx); err != nil {
		return workflows.BackupDeleteResult{}, repositoryError(err)
	}
	for _, id := range in.BackupIDs {
		b, err := r.Backup(ctx, id)
		if errors.Is(err, repository.ErrBackupNotFound) || (err == nil && in.Service != "" && b.Service != in.Service) {
			return workflows.BackupDeleteResult{}, backupNotFound(id)
		}
		if err != nil {
			return workflows.BackupDeleteResult{}, repositoryError(err)
		}
	}
	ctx, sess, err := r.NewSession(ctx, "delete backups")
	if err != nil {
		return workflows.BackupDeleteResult{}, repositoryError(err)
	}
	defer sess.Close(ctx)
	var res workflows.BackupDeleteResult
	for _, id := range in.BackupIDs {
		if err := sess.DeleteBackup(ctx, id); err != nil {
			return workflows.BackupDeleteResult{}, repositoryError(err)
		}
		res.Deleted = append(res.Deleted, id)
		progress.Deleted++
		heartbeat(ctx, progress)
	}
	if err := sess.Flush(ctx); err != nil {
		return workflows.BackupDeleteResult{}, repositoryError(err)
	}
	return res, nil
}

func backupNotFound(id string) error {
	return temporal.NewNonRetryableApplicationError("no backup with id "+id+" in this repository (see `corso backup list`)", workflows.ErrTypeBackupNotFound, nil)
}
