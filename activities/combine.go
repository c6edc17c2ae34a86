package activities

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/kopia/kopia/snapshot"
	"go.temporal.io/sdk/activity"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/repository"
)

// recordOnce records one backup: write lays out its snapshot and calls
// PutBackup in a session of its own, which is then flushed. A retried
// attempt whose predecessor already recorded the backup returns that
// record instead of writing a second one, so every service's combine
// records a backup at most once.
func recordOnce(ctx context.Context, r *repository.Repository, backupID string,
	write func(context.Context, *repository.Session) (backup.Summary, error),
) (backup.Summary, error) {
	if s, done, err := recordedBackup(ctx, r, backupID); err != nil || done {
		return s, err
	}
	ctx, sess, err := r.NewSession(ctx, "combine "+backupID)
	if err != nil {
		return backup.Summary{}, repositoryError(err)
	}
	defer sess.Close(ctx)
	s, err := write(ctx, sess)
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

// putBackup writes a backup's snapshot tree and records the backup,
// completed now, with its index.
func putBackup(ctx context.Context, sess *repository.Session, b *repository.Backup, root *treeNode, index repository.BackupIndex) (backup.Summary, error) {
	rootEntry, err := root.write(ctx, sess, "", "")
	if err != nil {
		return backup.Summary{}, repositoryError(err)
	}
	return recordBackup(ctx, sess, b, rootEntry, index)
}

// recordBackup records the backup, completed now, with its snapshot's
// root directory and its index.
func recordBackup(ctx context.Context, sess *repository.Session, b *repository.Backup, rootEntry *snapshot.DirEntry, index repository.BackupIndex) (backup.Summary, error) {
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
