package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/localstack"
	"github.com/corso-temporal/corso/repository"
)

// driveRun backs up the OneDrives of a files-only tenant (a few files per
// drive up to c.maxFile) and sets the throughput beside raw kopia ingest of
// the same bytes, with the worker's peak RSS.
func driveRun(ctx context.Context, rep *report, stack *localstack.Stack, conns *repository.Connections, c config) error {
	fmt.Fprintf(os.Stderr, "drive backup: %d users x %d files, largest up to %d MiB, 1 worker\n", c.users, c.driveFiles, c.maxFile>>20)
	t, err := localstack.StartTenant(graphsim.Options{Tenant: graphsim.TenantOptions{
		Seed: 21, Users: c.users, ItemsPerUser: c.driveFiles, Mix: graphsim.ItemMix{Files: 1}, MaxFileSize: c.maxFile, Clean: true,
	}})
	if err != nil {
		return err
	}
	defer t.Close()
	// Unmetered: this measures the engine. Against SharePoint the tenant's
	// budget bounds a fleet to about 0.9 × RU per minute ÷ 60 files/s
	// (a download costs one unit), 18.75 at the default 1,250.
	w, err := stack.StartWorker("bench-drive", t.WorkerEnv(), "--task-queue", "bench-drive", "--drive-ru-per-minute", "0")
	if err != nil {
		return err
	}
	defer localstack.Terminate(w)
	a, err := newAdmin(stack, t, "bench-drive", "--task-queue", "bench-drive")
	if err != nil {
		return err
	}
	meter := meterCPU(process{procWorker, w.Process.Pid}, process{procSimulator, os.Getpid()}, process{procServers, stack.DevPID()})
	r, err := a.run("backup", "create", "onedrive", "--user", "*", "--json")
	if err != nil {
		return err
	}
	backupCPU := meter.stop()
	bs, err := summaries(r.Stdout)
	if err != nil {
		return err
	}
	files, size := totals(bs)
	took := r.Took
	rate := mib(size) / took.Seconds()
	rep.add("drive backup", fmt.Sprintf("%d files, %.1f MiB in %s: %.0f files/s, %.2f MiB/s", files, mib(size), took.Round(time.Millisecond), float64(files)/took.Seconds(), rate))
	rep.add("processor use, drive backup", backupCPU.String())
	peak, _ := localstack.PeakRSS(w.Process.Pid)

	st, err := t.State(graphsim.StateFilter{Category: "files", NoHashes: true})
	if err != nil {
		return err
	}
	var largest int64
	for _, it := range st.Items {
		largest = max(largest, it.Size)
	}
	rep.add("worker peak RSS, drive backup", fmt.Sprintf("%.0f MiB with files up to %.0f MiB", mib(peak), mib(largest)))

	raw, err := newAdmin(stack, t, "bench-drive-raw", "--task-queue", "bench-drive")
	if err != nil {
		return err
	}
	rawTook, err := rawIngestStored(ctx, conns, a, raw, bs, 4, filepath.Join(stack.Dir, "drive-spool"))
	if err != nil {
		return err
	}
	rawRate := mib(size) / rawTook.Seconds()
	rep.add("raw kopia ingest, same bytes", fmt.Sprintf("%d files, %.1f MiB in %s wall time: %.2f MiB/s", files, mib(size), rawTook.Round(time.Millisecond), rawRate))
	rep.check("drive backup / raw ingest", fmt.Sprintf("%.2f", rate/rawRate), ">= 0.8", rate/rawRate >= 0.8)
	return nil
}

// rawIngestStored writes the files the backups stored into another
// repository with the shortest loop kopia allows (one write session, a
// few writers, largest file first, one flush) and returns the elapsed wall
// time from opening the session to the end of the flush, as the backup it
// is compared with is timed. The files are first copied out of the
// backups' repository into spool, untimed, so the timed loop reads local
// files as the backup reads Graph's downloads: it measures kopia's writes,
// not its reads. It fails unless it wrote exactly as many files as the
// backups count.
func rawIngestStored(ctx context.Context, conns *repository.Connections, from, to *admin, bs []backup.Summary, writers int, spool string) (time.Duration, error) {
	src, err := from.open(ctx, conns)
	if err != nil {
		return 0, err
	}
	defer src.Release(ctx)
	type object struct {
		id, path string
		size     int64
	}
	var objects []object
	for _, s := range bs {
		b, err := src.Backup(ctx, s.BackupID)
		if err != nil {
			return 0, err
		}
		idx, err := src.Index(ctx, b)
		if err != nil {
			return 0, err
		}
		for _, c := range idx.Collections {
			var state []struct {
				ObjectID string `json:"objectID"`
				Size     int64  `json:"size"`
			}
			if err := src.ReadJSON(ctx, c.StateID, &state); err != nil {
				return 0, err
			}
			for _, e := range state {
				if e.ObjectID != "" {
					objects = append(objects, object{id: e.ObjectID, size: e.Size})
				}
			}
		}
	}
	if files, _ := totals(bs); int64(len(objects)) != files {
		return 0, fmt.Errorf("raw ingest: the backups count %d files but their state lists %d", files, len(objects))
	}
	if err := os.MkdirAll(spool, 0o700); err != nil {
		return 0, err
	}
	defer os.RemoveAll(spool)
	for i := range objects {
		o := &objects[i]
		o.path = filepath.Join(spool, fmt.Sprint(i))
		if err := copyItem(ctx, src, o.id, o.path, o.size); err != nil {
			return 0, err
		}
	}
	// Largest first, as drive batches go: a large file left for last
	// would stream alone.
	slices.SortStableFunc(objects, func(x, y object) int { return cmp.Compare(y.size, x.size) })

	dst, err := to.open(ctx, conns)
	if err != nil {
		return 0, err
	}
	defer dst.Release(ctx)
	start := time.Now()
	wctx, sess, err := dst.NewSession(ctx, "raw ingest")
	if err != nil {
		return 0, err
	}
	defer sess.Close(wctx)
	var (
		mu      sync.Mutex
		first   error
		written int
		wg      sync.WaitGroup
		next    = make(chan object)
	)
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for o := range next {
				f, err := os.Open(o.path)
				if err == nil {
					_, err = sess.WriteItem(wctx, o.id, time.Time{}, f)
					f.Close()
				}
				mu.Lock()
				if err != nil && first == nil {
					first = err
				} else if err == nil {
					written++
				}
				mu.Unlock()
			}
		}()
	}
	for _, o := range objects {
		next <- o
	}
	close(next)
	wg.Wait()
	if first != nil {
		return 0, first
	}
	if err := sess.Flush(wctx); err != nil {
		return 0, err
	}
	took := time.Since(start)
	if written != len(objects) {
		return 0, fmt.Errorf("raw ingest wrote %d of %d files", written, len(objects))
	}
	return took, nil
}

// copyItem copies a stored item into a local file and checks its size.
func copyItem(ctx context.Context, src *repository.Repository, oid, path string, size int64) error {
	rd, err := src.OpenItem(ctx, oid)
	if err != nil {
		return err
	}
	defer rd.Close()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, rd)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n != size {
		err = fmt.Errorf("stored item %s is %d bytes, its state says %d", oid, n, size)
	}
	return err
}

// largeFileRun measures what one large file adds to a worker's peak RSS: a
// drive of small files is backed up, then the file is added and the drive
// backed up again, which downloads the file alone.
func largeFileRun(rep *report, stack *localstack.Stack, c config) error {
	fmt.Fprintf(os.Stderr, "drive backup of one %d MiB file, 1 worker\n", c.largeFile>>20)
	t, err := localstack.StartTenant(graphsim.Options{Tenant: graphsim.TenantOptions{
		Seed: 22, Users: 1, ItemsPerUser: 50, Mix: graphsim.ItemMix{Files: 1}, MaxFileSize: 1 << 20, Clean: true,
	}})
	if err != nil {
		return err
	}
	defer t.Close()
	const q = "bench-large-file"
	w, err := stack.StartWorker(q, t.WorkerEnv(), "--task-queue", q, "--drive-ru-per-minute", "0")
	if err != nil {
		return err
	}
	defer localstack.Terminate(w)
	a, err := newAdmin(stack, t, q, "--task-queue", q)
	if err != nil {
		return err
	}
	if _, err := a.driveBackup(); err != nil {
		return err
	}
	before, err := localstack.PeakRSS(w.Process.Pid)
	if err != nil {
		return err
	}
	var user string
	for _, u := range t.Info().Users {
		if u.HasDrive {
			user = u.ID
			break
		}
	}
	if res := t.Mutate([]graphsim.MutateOp{{Op: "add", Kind: "file", User: user, Name: "large.bin", Size: c.largeFile}}); len(res) != 1 || res[0].Error != "" {
		return fmt.Errorf("add the large file: %+v", res)
	}
	bs, err := a.driveBackup()
	if err != nil {
		return err
	}
	if len(bs) != 1 || bs[0].Fetched != 1 {
		return fmt.Errorf("the backup after adding the large file downloaded %+v, want the one file", bs)
	}
	after, err := localstack.PeakRSS(w.Process.Pid)
	if err != nil {
		return err
	}
	grew := after - before
	rep.check(fmt.Sprintf("worker peak RSS, then a %d MiB file", c.largeFile>>20),
		fmt.Sprintf("%.0f MiB, then %.0f MiB (+%.0f MiB)", mib(before), mib(after), mib(grew)), "<= +64 MiB", grew <= 64<<20)
	return nil
}

// driveBackup backs up every user's OneDrive.
func (a *admin) driveBackup() ([]backup.Summary, error) {
	r, err := a.run("backup", "create", "onedrive", "--user", "*", "--json")
	if err != nil {
		return nil, err
	}
	return summaries(r.Stdout)
}
