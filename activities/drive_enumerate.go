package activities

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/repository"
	"github.com/corso-temporal/corso/workflows"
)

// Batches of files to download: big enough that scheduling costs little
// beside the downloads, small enough to spread a drive over the fleet.
const (
	driveBatchFiles = 500
	driveBatchBytes = 512 << 20
	// maxDriveBatches keeps a drive's batches, and so its history, bounded
	// however large the drive: batches grow instead.
	maxDriveBatches = 1000
)

// EnumerateDrive pages through the drive's delta from where the owner's
// previous backup left off (the whole drive the first time, or when Graph
// expired the token) and writes the drive's new state: every item, files
// whose content did not change keeping their stored objects. Files to
// download are listed in batches, each a repository object. Enumeration
// reads only metadata, so a retry simply starts it again.
func (d *Drives) EnumerateDrive(ctx context.Context, in workflows.EnumerateDriveInput) (workflows.DriveEnumeration, error) {
	res := workflows.DriveEnumeration{Drive: in.Drive}
	src, err := d.client(ctx, in.Graph)
	if err != nil {
		return res, err
	}
	r, err := d.Repos.open(ctx, in.Repo)
	if err != nil {
		return res, err
	}
	defer r.Release(ctx)
	if err := r.Refresh(ctx); err != nil {
		return res, repositoryError(err)
	}
	prev, link, err := previousDriveState(ctx, r, in.Graph.TenantID, in.Drive)
	if err != nil {
		return res, err
	}

	tree, changed := driveTree{}, map[string]bool{}
	for id, e := range prev {
		c := *e
		tree[id] = &c
	}
	if link == "" {
		tree = driveTree{}
	}
	for pages := 0; ; pages++ {
		heartbeat(ctx, pages)
		p, unreadable, err := src.DriveDeltaPageUnreadable(ctx, in.Drive.ID, link)
		if errors.Is(err, m365.ErrDeltaExpired) && link != "" {
			// Re-enumerate the whole drive; unchanged files are still
			// matched with their stored objects below.
			res.Reset, link, tree, changed = true, "", driveTree{}, map[string]bool{}
			continue
		}
		if err != nil {
			// A drive locked (423) or denied (403) meanwhile fails this
			// backup alone, for good (graphError by its class).
			return res, graphError(fmt.Errorf("enumerate drive %s of %s: %w", in.Drive.Name, in.Drive.OwnerName, err))
		}
		for _, it := range p.Items {
			if it.Deleted {
				delete(tree, it.ID)
				continue
			}
			// Permissions are read again for every item the delta
			// reports: a sharing change shows up there too.
			// A file flagged as malware is skipped, not even kept from an
			// earlier backup.
			e := &driveEntry{DriveItem: it, Skip: unreadable[it.ID]}
			if old, ok := prev[it.ID]; ok && !it.Folder && e.Skip == "" && sameContent(old.DriveItem, it) {
				e.ObjectID, e.StoredSize, e.SHA256 = old.ObjectID, old.StoredSize, old.SHA256
			}
			tree[it.ID] = e
			changed[it.ID] = true
		}
		if p.DeltaLink != "" {
			link = p.DeltaLink
			break
		}
		link = p.NextLink
	}
	tree.prune()
	res.DeltaLink = link

	ctx, sess, err := r.NewSession(ctx, "enumerate drive "+in.Drive.ID)
	if err != nil {
		return res, repositoryError(err)
	}
	defer sess.Close(ctx)
	entries := tree.sorted()
	if err := storeChangedPermissions(ctx, src, sess, in.Drive.ID, entries, changed); err != nil {
		return res, err
	}
	var todo []*driveEntry
	for _, e := range entries {
		if e.Folder || e.Root {
			continue
		}
		res.Files++
		res.Bytes += e.Size
		if e.ObjectID == "" {
			e.Dir, _ = tree.path(e)
			todo = append(todo, e)
		} else {
			res.Reused++
		}
	}
	listed := time.Now()
	for _, b := range splitBatches(todo) {
		id, err := sess.WriteJSON(ctx, "DRIVE-BATCH", b)
		if err != nil {
			return res, repositoryError(err)
		}
		batch := workflows.DriveBatch{FilesID: id.String(), Files: int64(len(b)), Listed: listed}
		for _, e := range b {
			batch.Bytes += e.Size
		}
		res.Batches = append(res.Batches, batch)
	}
	// Download URLs and the rest are for the batches; a backup's state
	// keeps none.
	for _, e := range entries {
		e.DownloadURL, e.Dir, e.Skip = "", nil, ""
	}
	stateID, err := sess.WriteJSON(ctx, "DRIVE-STATE", entries)
	if err != nil {
		return res, repositoryError(err)
	}
	res.StateID = stateID.String()
	if err := sess.Flush(ctx); err != nil {
		return res, repositoryError(err)
	}
	return res, nil
}

// sameContent says a file's stored bytes are still its content.
func sameContent(old, now m365.DriveItem) bool {
	if old.Size != now.Size {
		return false
	}
	if old.QuickXorHash != "" && now.QuickXorHash != "" {
		return old.QuickXorHash == now.QuickXorHash
	}
	return old.CTag != "" && old.CTag == now.CTag
}

func splitBatches(todo []*driveEntry) [][]*driveEntry {
	files, limit := driveBatchFiles, int64(driveBatchBytes)
	if n := len(todo) / maxDriveBatches; n > files {
		files = n + 1
	}
	var out [][]*driveEntry
	var cur []*driveEntry
	var size int64
	for _, e := range todo {
		if len(cur) > 0 && (len(cur) == files || size+e.Size > limit) {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, e)
		size += e.Size
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// previousDriveState is the drive as the owner's latest completed backup
// left it, and the delta link to continue from.
func previousDriveState(ctx context.Context, r *repository.Repository, tenant string, drive m365.Drive) (driveTree, string, error) {
	bs, err := r.Backups(ctx, repository.BackupFilter{Tenant: tenant, Service: drive.Service, Resource: drive.Owner})
	if err != nil {
		return nil, "", repositoryError(err)
	}
	for _, b := range bs {
		if b.Status != backup.StatusCompleted {
			continue
		}
		idx, err := r.Index(ctx, b)
		if err != nil {
			return nil, "", repositoryError(err)
		}
		for _, c := range idx.Collections {
			if c.ContainerID != drive.ID || c.StateID == "" {
				continue
			}
			var entries []*driveEntry
			if err := r.ReadJSON(ctx, c.StateID, &entries); err != nil {
				return nil, "", repositoryError(fmt.Errorf("read the previous backup's drive state: %w", err))
			}
			t := make(driveTree, len(entries))
			for _, e := range entries {
				t[e.ID] = e
			}
			return t, c.DeltaLink, nil
		}
		return nil, "", nil // newest backup lacks this drive: start over
	}
	return nil, "", nil
}

// storeChangedPermissions stores the permissions of the shared items the
// delta reported whose content is not downloaded by a batch: folders, and
// files whose stored content is still theirs. Batches store those of the
// files they download.
func storeChangedPermissions(ctx context.Context, src DriveSource, sess *repository.Session, driveID string, entries []*driveEntry, changed map[string]bool) error {
	var todo []*driveEntry
	for _, e := range entries {
		if changed[e.ID] && e.Shared && (e.Folder || e.ObjectID != "") {
			todo = append(todo, e)
		}
	}
	var done atomic.Int64
	return concurrently(ctx, permissionFetches, todo, func(ctx context.Context, e *driveEntry) error {
		id, err := storePermissions(ctx, src, sess, driveID, &e.DriveItem)
		if err != nil && !errors.Is(err, m365.ErrNotFound) {
			return err
		}
		e.PermsID = id
		heartbeat(ctx, done.Add(1))
		return nil
	})
}
