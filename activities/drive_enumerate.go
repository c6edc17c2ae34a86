package activities

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"

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

// Checkpoints of an enumeration: a retry reads at most this many delta
// pages again (about 10,000 items at Graph's 200 a page), or what
// checkpointInterval brings. Tests lower it.
var enumerationCheckpointPages = 50

// maxMergedRuns bounds the checkpointed runs a merge reads side by side,
// and so the pieces of them in memory (one of at most 256 KiB each); more
// are compacted first. Tests lower it.
var maxMergedRuns = 128

// enumerationGroup is the number of merged entries whose permissions are
// fetched together before they are written.
const enumerationGroup = 256

// EnumerateDrive pages through the drive's delta from where the owner's
// previous backup left off (the whole drive the first time, or when Graph
// expired the token) and writes the drive's new state: every item, files
// whose content did not change keeping their stored objects. Files to
// download are listed in batches, each a repository object.
//
// Memory does not grow with the drive: the changes are checkpointed as
// sorted runs every enumerationCheckpointPages pages, and merged at the
// end with the previous state, all read an entry at a time; only the
// drive's folders are held. A retry resumes from the last checkpoint; a
// delta token Graph expired starts the drive over.
func (d *Drives) EnumerateDrive(ctx context.Context, in workflows.EnumerateDriveInput) (workflows.DriveEnumeration, error) {
	src, err := d.client(ctx, in.Graph)
	if err != nil {
		return workflows.DriveEnumeration{Drive: in.Drive}, err
	}
	r, err := d.Repos.open(ctx, in.Repo)
	if err != nil {
		return workflows.DriveEnumeration{Drive: in.Drive}, err
	}
	defer r.Release(ctx)
	ctx, sess, err := r.NewSession(ctx, "enumerate drive "+in.Drive.ID)
	if err != nil {
		return workflows.DriveEnumeration{Drive: in.Drive}, repositoryError(err)
	}
	defer sess.Close(ctx)
	e := &driveEnumeration{in: in, src: src, repo: r, sess: sess, listed: time.Now(), lastCheck: time.Now(), stale: map[string]bool{}}
	e.res.Drive = in.Drive
	if activity.HasHeartbeatDetails(ctx) {
		if err := activity.GetHeartbeatDetails(ctx, &e.cp); err != nil {
			e.cp = checkpoint{}
		}
	}
	e.saved = e.cp // until load, a heartbeat repeats what this attempt resumes from
	stop := keepAlive(ctx, keepAliveEvery, func() { e.heartbeat(ctx) })
	defer stop()
	if err := e.load(ctx); err != nil {
		return e.res, err
	}
	if err := e.page(ctx); err != nil {
		return e.res, err
	}
	return e.finish(ctx)
}

// driveEnumeration is one attempt at enumerating a drive.
type driveEnumeration struct {
	in   workflows.EnumerateDriveInput
	src  DriveSource
	repo *repository.Repository
	sess *repository.Session
	res  workflows.DriveEnumeration

	// prevID is the owner's previous backup's state of the drive, the
	// base of the new one unless the enumeration started over.
	prevID, prevLink string
	// cp: Segments are the runs checkpointed, Link the page to read
	// next; DeltaLink is set once every page was read. Runs of earlier
	// attempts are stale: their download URLs are of unknown age.
	cp    checkpoint
	stale map[string]bool
	mu    sync.Mutex
	saved checkpoint // the last checkpoint taken, which heartbeats repeat
	// folders are the drive's as the runs and the page read leave them.
	folders driveFolders
	pending map[string]*driveEntry // changes since the last checkpoint
	// toList bounds the files to download, which sizes the batches.
	toList    int64
	pages     int
	lastCheck time.Time
	listed    time.Time

	batch      []*driveEntry
	batchBytes int64
	batchFiles int
	state      *repository.JSONArrayWriter
	group      []mergedEntry
}

// mergedEntry is an item of the new state, and whether the delta reported
// it (its permissions are then read again).
type mergedEntry struct {
	*driveEntry
	changed bool
}

// base says whether the previous state is the new one's base: the delta
// continues from its link.
func (e *driveEnumeration) base() bool { return e.prevLink != "" && !e.cp.Reset }

// heartbeat repeats the last checkpoint: progress since is read again.
func (e *driveEnumeration) heartbeat(ctx context.Context) {
	e.mu.Lock()
	cp := e.saved
	e.mu.Unlock()
	heartbeat(ctx, cp)
}

// save makes cp the checkpoint and heartbeats it.
func (e *driveEnumeration) save(ctx context.Context) {
	e.mu.Lock()
	e.saved = e.cp
	e.saved.Segments = slices.Clone(e.cp.Segments)
	e.mu.Unlock()
	e.heartbeat(ctx)
}

// load finds the previous state and, resuming, the checkpoint's runs:
// the folders they leave and the files they list.
func (e *driveEnumeration) load(ctx context.Context) error {
	var err error
	e.prevID, e.prevLink, err = previousDriveState(ctx, e.repo, e.in.RecordedBefore, e.in.Graph.TenantID, e.in.Drive)
	if err != nil {
		return err
	}
	if !e.cp.Started {
		e.cp = checkpoint{Started: true, Link: e.prevLink}
	}
	e.res.Reset = e.cp.Reset
	for _, id := range e.cp.Segments {
		e.stale[id] = true
	}
	e.folders, e.pending = driveFolders{}, map[string]*driveEntry{}
	if e.base() {
		err := eachEntry(ctx, e.repo, e.prevID, func(de *driveEntry) error {
			e.folders.apply(&de.DriveItem)
			if !holdsItems(&de.DriveItem) && de.ObjectID == "" {
				e.toList++
			}
			return nil
		})
		if err != nil {
			return repositoryError(fmt.Errorf("read the previous backup's drive state: %w", err))
		}
	}
	for _, id := range e.cp.Segments {
		if err := eachEntry(ctx, e.repo, id, func(de *driveEntry) error { e.count(de); return nil }); err != nil {
			return repositoryError(fmt.Errorf("read the enumeration's checkpoint: %w", err))
		}
	}
	return nil
}

// count takes a change into the folders and the files to list.
func (e *driveEnumeration) count(de *driveEntry) {
	e.folders.apply(&de.DriveItem)
	if !de.Deleted && !holdsItems(&de.DriveItem) {
		e.toList++
	}
}

// page reads the delta from the checkpoint's link to its end.
func (e *driveEnumeration) page(ctx context.Context) error {
	link := e.cp.Link
	for e.cp.DeltaLink == "" {
		p, unreadable, err := e.src.DriveDeltaPageUnreadable(ctx, e.in.Drive.ID, link)
		if errors.Is(err, m365.ErrDeltaExpired) && link != "" {
			// Re-enumerate the whole drive; unchanged files are still
			// matched with their stored objects by the merge.
			e.restart(ctx)
			link = ""
			continue
		}
		if err != nil {
			// A drive locked (423) or denied (403) meanwhile fails this
			// backup alone, for good (graphError by its class).
			return graphError(fmt.Errorf("enumerate drive %s of %s: %w", e.in.Drive.Name, e.in.Drive.OwnerName, err))
		}
		for _, it := range p.Items {
			// Permissions are read again for every item the delta
			// reports: a sharing change shows up there too. A file
			// flagged as malware is skipped, not even kept from an
			// earlier backup.
			de := &driveEntry{DriveItem: it, Skip: unreadable[it.ID]}
			if it.Deleted {
				de = &driveEntry{DriveItem: m365.DriveItem{ID: it.ID, Deleted: true}}
			}
			e.pending[it.ID] = de
			e.count(de)
		}
		e.pages++
		switch {
		case p.DeltaLink != "":
			return e.checkpoint(ctx, "", p.DeltaLink)
		case e.pages >= enumerationCheckpointPages || time.Since(e.lastCheck) >= checkpointInterval:
			if err := e.checkpoint(ctx, p.NextLink, ""); err != nil {
				return err
			}
		}
		link = p.NextLink
	}
	return nil
}

// restart starts the drive over: Graph expired the delta token.
func (e *driveEnumeration) restart(ctx context.Context) {
	e.cp = checkpoint{Started: true, Reset: true}
	e.res.Reset = true
	e.folders, e.pending, e.toList, e.pages = driveFolders{}, map[string]*driveEntry{}, 0, 0
	e.save(ctx)
}

// checkpoint stores the changes since the last checkpoint as a run,
// flushes, and heartbeats the checkpoint naming it with next, the page to
// read after it, or the delta link that ended the enumeration.
func (e *driveEnumeration) checkpoint(ctx context.Context, next, deltaLink string) error {
	if len(e.pending) > 0 {
		run := make([]*driveEntry, 0, len(e.pending))
		for _, de := range e.pending {
			run = append(run, de)
		}
		id, err := writeRun(ctx, e.sess, run)
		if err != nil {
			return repositoryError(err)
		}
		e.cp.Segments = append(e.cp.Segments, id)
	}
	if err := e.sess.Flush(ctx); err != nil {
		return repositoryError(err)
	}
	e.cp.Link, e.cp.DeltaLink = next, deltaLink
	e.save(ctx)
	e.pending, e.pages, e.lastCheck = map[string]*driveEntry{}, 0, time.Now()
	return nil
}

// finish merges the previous state with the runs into the new state and
// the batches of files to download.
func (e *driveEnumeration) finish(ctx context.Context) (workflows.DriveEnumeration, error) {
	if err := e.compact(ctx); err != nil {
		return e.res, err
	}
	var base *storedEntries
	if e.prevID != "" {
		// Read even when it is not the base: unchanged files of a drive
		// enumerated anew keep their stored objects.
		var err error
		if base, err = openEntries(ctx, e.repo, e.prevID, false); err != nil {
			return e.res, repositoryError(fmt.Errorf("read the previous backup's drive state: %w", err))
		}
	}
	runs := make([]*storedEntries, 0, len(e.cp.Segments))
	for _, id := range e.cp.Segments {
		s, err := openEntries(ctx, e.repo, id, e.stale[id])
		if err != nil {
			closeAll(runs)
			if base != nil {
				base.close()
			}
			return e.res, repositoryError(fmt.Errorf("read the enumeration's checkpoint: %w", err))
		}
		runs = append(runs, s)
	}
	e.batchFiles = driveBatchFiles
	if n := int(e.toList) / maxDriveBatches; n > e.batchFiles {
		e.batchFiles = n + 1
	}
	e.state = e.sess.NewJSONArray(ctx, "DRIVE-STATE")
	defer e.state.Close()
	if err := mergeEntries(base, runs, func(old, newest *driveEntry) error { return e.merge(ctx, old, newest) }); err != nil {
		return e.res, repositoryError(err)
	}
	if err := e.flushGroup(ctx); err != nil {
		return e.res, err
	}
	if err := e.writeBatch(ctx); err != nil {
		return e.res, err
	}
	stateID, err := e.state.Result()
	if err != nil {
		return e.res, repositoryError(err)
	}
	if err := e.sess.Flush(ctx); err != nil {
		return e.res, repositoryError(err)
	}
	e.res.StateID, e.res.DeltaLink = stateID.String(), e.cp.DeltaLink
	return e.res, nil
}

// compact merges the runs, maxMergedRuns at a time, until at most that
// many are left, and checkpoints the result.
func (e *driveEnumeration) compact(ctx context.Context) error {
	for len(e.cp.Segments) > maxMergedRuns {
		id, err := compactRuns(ctx, e.repo, e.sess, e.cp.Segments[:maxMergedRuns], func(id string) bool { return e.stale[id] })
		if err != nil {
			return repositoryError(fmt.Errorf("compact the enumeration's checkpoint: %w", err))
		}
		if err := e.sess.Flush(ctx); err != nil {
			return repositoryError(err)
		}
		e.cp.Segments = append([]string{id}, e.cp.Segments[maxMergedRuns:]...)
		e.save(ctx)
	}
	return nil
}

// merge takes one item into the new state: the delta's newest report of
// it, or else the previous state's entry when that is the base. Items cut
// off from the root are left out: Graph may report a deleted folder
// without each of its children.
func (e *driveEnumeration) merge(ctx context.Context, old, newest *driveEntry) error {
	var de *driveEntry
	switch {
	case newest != nil && newest.Deleted:
		return nil
	case newest != nil:
		de = newest
		if old != nil && !de.Folder && de.Skip == "" && sameContent(old.DriveItem, de.DriveItem) {
			de.ObjectID, de.StoredSize, de.SHA256 = old.ObjectID, old.StoredSize, old.SHA256
		}
	case e.base():
		de = old
	default:
		return nil
	}
	dir, ok := e.folders.path(&de.DriveItem)
	if !ok {
		return nil
	}
	if de.ObjectID == "" && !de.Folder && !de.Root {
		de.Dir = dir
	}
	e.group = append(e.group, mergedEntry{driveEntry: de, changed: newest != nil})
	if len(e.group) < enumerationGroup {
		return nil
	}
	return e.flushGroup(ctx)
}

// flushGroup stores the permissions of the group's shared items the delta
// reported whose content no batch downloads (folders, and files whose
// stored content is still theirs; batches store those of the files they
// download), then writes the group to the state and the batches.
func (e *driveEnumeration) flushGroup(ctx context.Context) error {
	var perms []*driveEntry
	for _, m := range e.group {
		if m.changed && m.Shared && (m.Folder || m.ObjectID != "") {
			perms = append(perms, m.driveEntry)
		}
	}
	err := concurrently(ctx, permissionFetches, perms, func(ctx context.Context, de *driveEntry) error {
		id, err := storePermissions(ctx, e.src, e.sess, e.in.Drive.ID, &de.DriveItem)
		if err != nil && !errors.Is(err, m365.ErrNotFound) {
			return err
		}
		de.PermsID = id
		return nil
	})
	if err != nil {
		return err
	}
	for _, m := range e.group {
		if !m.Folder && !m.Root {
			e.res.Files++
			e.res.Bytes += m.Size
			if m.ObjectID == "" {
				if err := e.toBatch(ctx, m.driveEntry); err != nil {
					return err
				}
			} else {
				e.res.Reused++
			}
		}
		// Download URLs and the rest are for the batches; a backup's
		// state keeps none.
		kept := *m.driveEntry
		kept.DownloadURL, kept.Dir, kept.Skip = "", nil, ""
		if err := e.state.Add(&kept); err != nil {
			return repositoryError(err)
		}
	}
	e.group = e.group[:0]
	return nil
}

// toBatch adds a file to download to the current batch, writing the
// batch first when the file would overfill it.
func (e *driveEnumeration) toBatch(ctx context.Context, de *driveEntry) error {
	if len(e.batch) > 0 && (len(e.batch) == e.batchFiles || e.batchBytes+de.Size > driveBatchBytes) {
		if err := e.writeBatch(ctx); err != nil {
			return err
		}
	}
	e.batch = append(e.batch, de)
	e.batchBytes += de.Size
	return nil
}

func (e *driveEnumeration) writeBatch(ctx context.Context) error {
	if len(e.batch) == 0 {
		return nil
	}
	id, err := e.sess.WriteJSON(ctx, "DRIVE-BATCH", e.batch)
	if err != nil {
		return repositoryError(err)
	}
	e.res.Batches = append(e.res.Batches, workflows.DriveBatch{FilesID: id.String(), Files: int64(len(e.batch)), Bytes: e.batchBytes, Listed: e.listed})
	e.batch, e.batchBytes = nil, 0
	return nil
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

// previousDriveState names the drive's state in the owner's latest
// completed backup, and the delta link to continue from.
func previousDriveState(ctx context.Context, r *repository.Repository, recordedBefore time.Time, tenant string, drive m365.Drive) (stateID, link string, err error) {
	b, found, err := r.LatestBackup(ctx, recordedBefore, tenant, drive.Service, drive.Owner)
	if err != nil || !found {
		return "", "", repositoryError(err)
	}
	idx, err := r.Index(ctx, b)
	if err != nil {
		return "", "", repositoryError(err)
	}
	for _, c := range idx.Collections {
		if c.ContainerID == drive.ID && c.StateID != "" {
			return c.StateID, c.DeltaLink, nil
		}
	}
	return "", "", nil // newest backup lacks this drive: start over
}
