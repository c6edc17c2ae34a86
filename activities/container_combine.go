package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/kopia/kopia/snapshot"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/repository"
	"github.com/corso-temporal/corso/workflows"
)

// CombineBackup joins the collections into one snapshot laid out as
// tenant/service/resource/category/folder-path/item, and records the
// backup with its index (delta links, directories, details) so the next
// backup can be incremental.
func (a *Containers) CombineBackup(ctx context.Context, in workflows.CombineInput) (backup.Summary, error) {
	r, err := a.Repos.open(ctx, in.Repo)
	if err != nil {
		return backup.Summary{}, err
	}
	defer r.Release(ctx)
	return recordOnce(ctx, r, in.BackupID, func(ctx context.Context, sess *repository.Session) (backup.Summary, error) {
		for _, id := range in.ResultsIDs {
			var stored []workflows.CollectionResult
			if err := r.ReadJSON(ctx, id, &stored); err != nil {
				return backup.Summary{}, repositoryError(fmt.Errorf("read collection results: %w", err))
			}
			in.Collections = append(in.Collections, stored...)
		}
		return writeBackup(ctx, r, sess, in, nil)
	})
}

// writeBackup writes the snapshot of the collections, the backup record
// and its index; the caller flushes. items, when it knows them, gives the
// items of the i-th collection; the others are read from the repository.
func writeBackup(ctx context.Context, r *repository.Repository, sess *repository.Session, in workflows.CombineInput,
	items func(i int) ([]*snapshot.DirEntry, bool),
) (backup.Summary, error) {
	b := &repository.Backup{Summary: backup.Summary{
		BackupID: in.BackupID, Tenant: in.TenantID, Service: workflows.ContainerService(in.Service), Resource: in.Mailbox.ID,
		ResourceName: in.Mailbox.UPN, Status: backup.StatusCompleted, Started: in.Started,
		Workflow: in.Workflow,
	}}
	var index repository.BackupIndex
	root := newTreeNode()
	prefix := []string{pathName(in.TenantID), workflows.ContainerService(in.Service), pathName(in.Mailbox.ID)}
	for i, c := range in.Collections {
		var dir snapshot.DirEntry
		if err := json.Unmarshal(c.DirEntry, &dir); err != nil {
			return backup.Summary{}, fmt.Errorf("collection %s: %w", strings.Join(c.Container.Path, "/"), err)
		}
		var ents []*snapshot.DirEntry
		known := false
		if items != nil {
			ents, known = items(i)
		}
		if !known {
			var err error
			if ents, err = r.ReadDir(ctx, dir.ObjectID.String()); err != nil {
				return backup.Summary{}, repositoryError(err)
			}
		}
		path := append(append([]string{}, prefix...), string(c.Container.Category))
		for _, p := range c.Container.Path {
			path = append(path, pathName(p))
		}
		root.at(path).items = append(root.at(path).items, ents...)

		index.Collections = append(index.Collections, repository.Collection{
			Category: string(c.Container.Category), ContainerID: c.Container.ID, Path: c.Container.Path,
			DirID: dir.ObjectID.String(), DetailsID: c.DetailsID, DeltaLink: c.DeltaLink, Items: c.Items, Bytes: c.Bytes,
			SchemaID: c.SchemaID,
		})
		index.Errors = append(index.Errors, c.Errors...)
		// Items kept with a warning are in the backup: neither skipped
		// nor errors.
		failed := backup.Failures(c.Errors)
		b.Errors += failed
		b.Warnings += int64(len(c.Errors)) - failed
		b.Items += c.Items
		b.Bytes += c.Bytes
		b.Fetched += c.Fetched
		b.Skipped += c.Skipped
		if c.Reset {
			b.Resets = append(b.Resets, string(c.Container.Category)+"/"+strings.Join(c.Container.Path, "/"))
		}
		if c.Listed {
			b.Listed = append(b.Listed, string(c.Container.Category)+"/"+strings.Join(c.Container.Path, "/"))
		}
	}
	return putBackup(ctx, sess, b, root, index)
}
