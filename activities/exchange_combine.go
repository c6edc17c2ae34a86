package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/kopia/kopia/snapshot"
	"go.temporal.io/sdk/activity"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/repository"
	"github.com/corso-temporal/corso/workflows"
)

// CombineBackup joins the collections into one snapshot laid out as
// tenant/exchange/mailbox/category/folder-path/item, and records the
// backup with its index (delta links, directories, details) so the next
// backup can be incremental.
func (a *Exchange) CombineBackup(ctx context.Context, in workflows.CombineInput) (backup.Summary, error) {
	r, err := a.Repos.open(ctx, in.Repo)
	if err != nil {
		return backup.Summary{}, err
	}
	defer r.Release(ctx)
	if s, done, err := recordedBackup(ctx, r, in.BackupID); err != nil || done {
		return s, err
	}
	ctx, sess, err := r.NewSession(ctx, "combine "+in.BackupID)
	if err != nil {
		return backup.Summary{}, repositoryError(err)
	}
	defer sess.Close(ctx)
	s, err := writeBackup(ctx, r, sess, in, nil)
	if err != nil {
		return backup.Summary{}, err
	}
	if err := sess.Flush(ctx); err != nil {
		return backup.Summary{}, repositoryError(err)
	}
	return s, nil
}

// recordedBackup returns the backup a previous attempt of the same
// activity recorded before its worker was lost, so a retry does not record
// it twice. A first attempt has nothing to look for.
func recordedBackup(ctx context.Context, r *repository.Repository, backupID string) (backup.Summary, bool, error) {
	if activity.GetInfo(ctx).Attempt <= 1 {
		return backup.Summary{}, false, nil
	}
	if err := r.Refresh(ctx); err != nil {
		return backup.Summary{}, false, repositoryError(err)
	}
	b, err := r.Backup(ctx, backupID)
	switch {
	case errors.Is(err, repository.ErrBackupNotFound):
		return backup.Summary{}, false, nil
	case err != nil:
		return backup.Summary{}, false, repositoryError(err)
	}
	return b.Summary, true, nil
}

// writeBackup writes the snapshot of the collections, the backup record
// and its index; the caller flushes. items, when it knows them, gives the
// items of the i-th collection; the others are read from the repository.
func writeBackup(ctx context.Context, r *repository.Repository, sess *repository.Session, in workflows.CombineInput,
	items func(i int) ([]*snapshot.DirEntry, bool),
) (backup.Summary, error) {
	b := &repository.Backup{Summary: backup.Summary{
		BackupID: in.BackupID, Tenant: in.TenantID, Service: "exchange", Resource: in.Mailbox.ID,
		ResourceName: in.Mailbox.UPN, Status: backup.StatusCompleted, Started: in.Started,
		Workflow: in.Workflow,
	}}
	var index repository.BackupIndex
	root := newTreeNode()
	prefix := []string{pathName(in.TenantID), "exchange", pathName(in.Mailbox.ID)}
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
	rootEntry, err := root.write(ctx, sess, "", "")
	if err != nil {
		return backup.Summary{}, repositoryError(err)
	}
	b.Completed = time.Now().UTC()
	if err := sess.PutBackup(ctx, b, rootEntry, index); err != nil {
		return backup.Summary{}, repositoryError(err)
	}
	return b.Summary, nil
}

// treeNode is a directory being assembled: its own items and subfolders.
type treeNode struct {
	items    []*snapshot.DirEntry
	children map[string]*treeNode
}

func newTreeNode() *treeNode { return &treeNode{children: map[string]*treeNode{}} }

func (n *treeNode) at(path []string) *treeNode {
	for _, p := range path {
		c, ok := n.children[p]
		if !ok {
			c = newTreeNode()
			n.children[p] = c
		}
		n = c
	}
	return n
}

// write stores the tree bottom-up, so each directory's summary includes
// everything below it.
func (n *treeNode) write(ctx context.Context, sess *repository.Session, rel, name string) (*snapshot.DirEntry, error) {
	names := make([]string, 0, len(n.children))
	for k := range n.children {
		names = append(names, k)
	}
	sort.Strings(names)
	entries := append([]*snapshot.DirEntry{}, n.items...)
	for _, k := range names {
		de, err := n.children[k].write(ctx, sess, rel+"/"+k, k)
		if err != nil {
			return nil, err
		}
		entries = append(entries, de)
	}
	return sess.WriteDir(ctx, rel, name, entries)
}

// pathName makes a display name usable as one path segment: '/' cannot
// appear in a name, and '.' and '..' mean something else.
func pathName(s string) string {
	s = strings.ReplaceAll(s, "%", "%25")
	s = strings.ReplaceAll(s, "/", "%2F")
	s = strings.ReplaceAll(s, "\x00", "%00")
	switch s {
	case "", ".", "..":
		return strings.ReplaceAll(s, ".", "%2E") + "%"
	}
	return s
}
