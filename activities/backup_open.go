package activities

import (
	"context"
	"errors"

	"github.com/corso-temporal/corso/repository"
	"github.com/corso-temporal/corso/workflows"
)

// openBackup opens the repository, refreshed so backups written by other
// workers are seen, and reads a backup of the service ("" for any) with
// its index. The caller releases the repository.
func (a *Repositories) openBackup(ctx context.Context, ref workflows.RepoRef, id, service string) (*repository.Repository, repository.Backup, repository.BackupIndex, error) {
	var (
		b   repository.Backup
		idx repository.BackupIndex
	)
	r, err := a.open(ctx, ref)
	if err != nil {
		return nil, b, idx, err
	}
	fail := func(err error) (*repository.Repository, repository.Backup, repository.BackupIndex, error) {
		r.Release(ctx)
		return nil, b, idx, err
	}
	if b, err = backupRecord(ctx, r, id, service); err != nil {
		return fail(err)
	}
	if idx, err = r.Index(ctx, b); err != nil {
		return fail(repositoryError(err))
	}
	return r, b, idx, nil
}

// backupRecord refreshes r, so backups written by other workers are seen,
// and reads the record of backup id of the service ("" for any).
func backupRecord(ctx context.Context, r *repository.Repository, id, service string) (repository.Backup, error) {
	if err := r.Refresh(ctx); err != nil {
		return repository.Backup{}, repositoryError(err)
	}
	b, err := r.Backup(ctx, id)
	if errors.Is(err, repository.ErrBackupNotFound) || (err == nil && service != "" && b.Service != service) {
		return b, backupNotFound(id)
	}
	if err != nil {
		return b, repositoryError(err)
	}
	return b, nil
}
