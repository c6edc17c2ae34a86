package activities

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/repository"
	"github.com/corso-temporal/corso/workflows"
)

// Checkpoints of a batch: at least every this many files or this long.
const (
	driveCheckpointFiles = 100
	driveCheckpointEvery = 20 * time.Second
)

// BackupDriveBatch downloads a batch of files straight into the
// repository, verifying each against its quickXorHash, with its
// permissions beside it. Every checkpoint flushes what was written and then
// heartbeats it, so a worker that dies costs at most one checkpoint.
func (d *Drives) BackupDriveBatch(ctx context.Context, in workflows.BackupDriveBatchInput) (workflows.DriveBatchResult, error) {
	var res workflows.DriveBatchResult
	src, err := d.client(ctx, in.Graph)
	if err != nil {
		return res, err
	}
	r, err := d.Repos.open(ctx, in.Repo)
	if err != nil {
		return res, err
	}
	defer r.Release(ctx)
	var files []*driveEntry
	if err := r.ReadJSON(ctx, in.Batch.FilesID, &files); err != nil {
		return res, repositoryError(fmt.Errorf("read the batch's file list: %w", err))
	}
	if time.Since(in.Batch.Listed) > downloadURLLifetime {
		// Expired: trying them would cost a request each for nothing.
		for _, f := range files {
			f.DownloadURL = ""
		}
	}
	ctx, sess, err := r.NewSession(ctx, "drive batch "+in.BackupID)
	if err != nil {
		return res, repositoryError(err)
	}
	defer sess.Close(ctx)

	b := &driveBatch{in: in, src: src, repo: r, sess: sess, slots: d.largeFiles(), done: map[string]bool{}, lastCheck: time.Now()}
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &b.cp)
	}
	for _, id := range b.cp.Segments {
		var seg []driveFileResult
		if err := r.ReadJSON(ctx, id, &seg); err != nil {
			return res, repositoryError(fmt.Errorf("read checkpoint: %w", err))
		}
		b.kept = append(b.kept, seg...)
		for _, f := range seg {
			b.done[f.ID] = true
		}
	}
	stop := keepAlive(ctx, keepAliveEvery, func() { heartbeat(ctx, b.checkpoint()) })
	err = b.run(ctx, files)
	stop()
	if err != nil {
		return res, err
	}
	all := append(b.kept, b.pending...)
	id, err := sess.WriteJSON(ctx, "DRIVE-BATCH-RESULT", all)
	if err != nil {
		return res, repositoryError(err)
	}
	if err := sess.Flush(ctx); err != nil {
		return res, repositoryError(err)
	}
	res.ResultsID, res.Errors, res.Skipped = id.String(), b.errors, b.skipped
	for _, f := range all {
		res.Files++
		res.Bytes += f.Size
		if f.Warning != nil {
			res.Warnings++
			if len(res.Errors) < maxCollectionErrors {
				res.Errors = append(res.Errors, *f.Warning)
			}
		}
	}
	return res, nil
}

type driveBatch struct {
	in   workflows.BackupDriveBatchInput
	src  DriveSource
	repo *repository.Repository
	sess *repository.Session
	// slots bound the worker's large files in flight.
	slots streamSlots

	mu        sync.Mutex
	cp        checkpoint
	done      map[string]bool
	kept      []driveFileResult // in segments already
	pending   []driveFileResult // stored since the last checkpoint
	errors    []backup.ItemError
	skipped   int64 // files left out, errors or not
	lastCheck time.Time
}

func (b *driveBatch) run(ctx context.Context, files []*driveEntry) error {
	var large, small []*driveEntry
	for _, f := range files {
		switch {
		case b.done[f.ID]:
		case f.Size >= largeFileSize:
			large = append(large, f)
		default:
			small = append(small, f)
		}
	}
	// Largest first: a large file left for last would stream alone while
	// the batch's other downloads have finished.
	bySize := func(x, y *driveEntry) int { return cmp.Compare(y.Size, x.Size) }
	slices.SortStableFunc(large, bySize)
	slices.SortStableFunc(small, bySize)
	// Large files wait for one of the worker's stream slots; small ones
	// go on meanwhile instead of waiting behind them.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, part := range [][]*driveEntry{large, small} {
		n := b.in.Concurrency
		if i == 0 {
			n = min(n, largeFileStreams)
		}
		wg.Go(func() {
			if errs[i] = concurrently(ctx, n, part, b.file); errs[i] != nil {
				cancel()
			}
		})
	}
	wg.Wait()
	// The error that stopped the other part, not the other part's
	// cancellation.
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
	}
	return cmp.Or(errs...)
}

// downloadURLLifetime is how long download URLs from an enumeration are
// worth trying: Graph's last about an hour.
const downloadURLLifetime = 45 * time.Minute

func (b *driveBatch) file(ctx context.Context, f *driveEntry) error {
	if f.Skip != "" {
		return b.skip(f, f.Skip) // flagged by the listing: not even tried
	}
	var (
		de  repositoryEntry
		err error
	)
	for range downloadAttempts {
		de, err = b.store(ctx, f)
		var broke brokenOff
		if !errors.Is(err, m365.ErrContentMismatch) && !errors.As(err, &broke) {
			break
		}
	}
	class, cause := m365.FaultOf(err)
	switch {
	case errors.Is(err, m365.ErrNotFound):
		return nil // deleted since the enumeration; the next backup sees it
	case class == m365.ItemSkipped:
		return b.skip(f, cause)
	case err != nil:
		if stop := notTheItem(ctx, err); stop != nil {
			return stop
		}
		return b.itemFailed(f, err.Error())
	}
	permsID, err := storePermissions(ctx, b.src, b.sess, b.in.Drive.ID, &f.DriveItem)
	switch {
	case errors.Is(err, m365.ErrNotFound):
		return nil
	case err != nil:
		return err
	}
	r := driveFileResult{ID: f.ID, ObjectID: de.oid, PermsID: permsID, Size: de.size, SHA256: de.sha256}
	if de.drift {
		// Kept as served, with a warning: SharePoint rewrites the Office
		// files it serves (OneDrive/onedrive-api-docs#492), so these bytes
		// will never match the listing, and are what a user downloads.
		ie := b.itemError(f, m365.CauseSizeDrift,
			fmt.Sprintf("%s: listed %d bytes, downloaded %d", m365.CauseSizeDrift.Describe(), f.Size, de.size))
		ie.Kept = true
		r.Warning = &ie
	}
	return b.stored(ctx, r)
}

type repositoryEntry struct {
	oid    string
	size   int64
	sha256 string
	// drift: the download was complete but differs from the listing.
	drift bool
}

// driftReader ends a download whose complete bytes differ from the
// listing (cause sizeDrift) as a successful one, so that they are stored.
type driftReader struct {
	r     io.Reader
	drift bool
}

func (d *driftReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	if err != nil && err != io.EOF {
		if _, cause := m365.FaultOf(err); cause == m365.CauseSizeDrift {
			d.drift = true
			return n, io.EOF
		}
	}
	return n, err
}

func (b *driveBatch) store(ctx context.Context, f *driveEntry) (repositoryEntry, error) {
	release, err := b.slots.acquire(ctx, f.Size, func() { heartbeat(ctx, b.checkpoint()) })
	if err != nil {
		return repositoryEntry{}, err
	}
	defer release()
	body, err := b.src.OpenFile(ctx, b.in.Drive.ID, f.DriveItem)
	if err != nil {
		return repositoryEntry{}, err
	}
	defer body.Close()
	kept := &driftReader{r: body}
	src := &sourceReader{r: kept, tick: func() { heartbeat(ctx, b.checkpoint()) }}
	de, sum, err := b.sess.WriteItemSum(ctx, f.ID, f.Modified, src)
	switch {
	case err == nil:
		return repositoryEntry{oid: de.ObjectID.String(), size: de.FileSize, sha256: sum, drift: kept.drift}, nil
	case src.err == nil:
		return repositoryEntry{}, repositoryWriteError{err}
	case errors.Is(src.err, m365.ErrContentMismatch), ctx.Err() != nil:
		return repositoryEntry{}, src.err
	}
	return repositoryEntry{}, brokenOff{src.err}
}

func (b *driveBatch) checkpoint() checkpoint {
	b.mu.Lock()
	defer b.mu.Unlock()
	return checkpoint{Segments: append([]string(nil), b.cp.Segments...)}
}

// stored records a file and checkpoints when it is time: flush, write the
// segment, heartbeat.
func (b *driveBatch) stored(ctx context.Context, r driveFileResult) error {
	backedUp(ctx, b.in.Drive.Service, b.in.Graph.TenantID, r.Size)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pending = append(b.pending, r)
	if len(b.pending) < driveCheckpointFiles && time.Since(b.lastCheck) < driveCheckpointEvery {
		return nil
	}
	if err := b.sess.Flush(ctx); err != nil {
		return repositoryError(err)
	}
	id, err := b.sess.WriteJSON(ctx, "DRIVE-BATCH-SEGMENT", b.pending)
	if err != nil {
		return repositoryError(err)
	}
	if err := b.sess.Flush(ctx); err != nil {
		return repositoryError(err)
	}
	b.cp.Segments = append(b.cp.Segments, id.String())
	b.kept = append(b.kept, b.pending...)
	b.pending, b.lastCheck = nil, time.Now()
	heartbeat(ctx, checkpoint{Segments: append([]string(nil), b.cp.Segments...)})
	return nil
}

// itemError describes a file of the batch: in its library and folder.
func (b *driveBatch) itemError(f *driveEntry, cause m365.Cause, reason string) backup.ItemError {
	return backup.ItemError{Category: backup.FilesCategory, Path: append([]string{b.in.Drive.Name}, f.Dir...), ItemID: f.ID,
		Name: f.Name, Reason: reason, Cause: string(cause)}
}

// itemFailed records a file that could not be backed up, or stops the
// batch with --fail-fast.
func (b *driveBatch) itemFailed(f *driveEntry, reason string) error {
	ie := b.itemError(f, "", reason)
	if b.in.FailFast {
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("file %s in %s cannot be backed up: %s", f.Name, strings.Join(ie.Path, "/"), reason),
			workflows.ErrTypeItemFailed, nil)
	}
	b.leftOut(ie)
	return nil
}

// skip records a file Microsoft 365 will never serve (malware, a OneNote
// section), --fail-fast or not: no retry and no other run would read it.
func (b *driveBatch) skip(f *driveEntry, cause m365.Cause) error {
	b.leftOut(b.itemError(f, cause, cause.Describe()))
	return nil
}

func (b *driveBatch) leftOut(ie backup.ItemError) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.skipped++
	if len(b.errors) < maxCollectionErrors {
		b.errors = append(b.errors, ie)
	}
}
