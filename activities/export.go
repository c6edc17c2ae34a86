package activities

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"go.temporal.io/sdk/activity"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/export"
	"github.com/corso-temporal/corso/repository"
	"github.com/corso-temporal/corso/workflows"
)

// Exporter writes backed-up items as files on the machine it runs on: the
// CLI runs it for its own export requests.
type Exporter struct {
	Repos *Repositories
	// Progress, if set, counts the export as it runs, for the
	// requester's progress line.
	Progress *ExportProgress

	// progress holds each unfinished export's exportProgress by activity,
	// for its retries.
	progress sync.Map
}

// exportProgress is how far the attempts of one export to a folder got:
// the folder's names before it began, and how many files, in export
// order, are finished. An export's attempts all run in the process that
// asked for it (the task queue is its own), so the record is kept here,
// exact; heartbeat details would lag behind the files by up to the
// heartbeat throttle, and a retry would write those files again, numbered
// beside themselves.
type exportProgress struct {
	mu       sync.Mutex
	existing []string
	done     int
}

// ExportProgress is where an Exporter's export stands: the items of the
// selection handled (exported, or failed and reported) and their bytes as
// backed up, of the selection's totals. An attempt counts from the start,
// as it reads every item again (files a failed attempt finished are not
// written twice). Safe to read while the export runs.
type ExportProgress struct {
	planned                              atomic.Bool
	items, itemsTotal, bytes, bytesTotal atomic.Int64
}

// ExportCounts are an ExportProgress read at one time; the totals are 0
// until Planned.
type ExportCounts struct {
	Planned           bool
	Items, ItemsTotal int64
	Bytes, BytesTotal int64
}

// Counts reads p.
func (p *ExportProgress) Counts() ExportCounts {
	return ExportCounts{Planned: p.planned.Load(), Items: p.items.Load(), ItemsTotal: p.itemsTotal.Load(),
		Bytes: p.bytes.Load(), BytesTotal: p.bytesTotal.Load()}
}

// plan starts an attempt of items (bytes as backed up) selected. A nil p
// counts nothing.
func (p *ExportProgress) plan(items, bytes int64) {
	if p == nil {
		return
	}
	p.planned.Store(false)
	p.items.Store(0)
	p.bytes.Store(0)
	p.itemsTotal.Store(items)
	p.bytesTotal.Store(bytes)
	p.planned.Store(true)
}

// handled counts one item of the selection done with, exported or not.
func (p *ExportProgress) handled(e backup.Entry) {
	if p == nil {
		return
	}
	p.items.Add(1)
	p.bytes.Add(e.Size)
}

// planExport counts the items of collections that sel selects, and their
// bytes as backed up, into p. The export reads each collection's details
// again as it goes, so that its memory does not grow with the backup.
func planExport(ctx context.Context, r *repository.Repository, p *ExportProgress, cols []repository.Collection, sel backup.Selector) error {
	if p == nil {
		return nil
	}
	var items, bytes int64
	for _, c := range cols {
		entries, err := readDetails(ctx, r, c.DetailsID)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if sel.Matches(e) {
				items++
				bytes += e.Size
			}
		}
	}
	p.plan(items, bytes)
	return nil
}

// openSink opens where the export goes. finish(ok) completes it: a zip is
// renamed into place only when ok, and removed otherwise. A folder export
// that an earlier attempt began goes on from the files that attempt
// finished; a zip starts again.
func (x *Exporter) openSink(ctx context.Context, in workflows.ExportInput) (export.Sink, func(ok bool) error, error) {
	if !in.Archive {
		key := ""
		if activity.IsActivity(ctx) {
			info := activity.GetInfo(ctx)
			key = info.WorkflowExecution.ID + "/" + info.WorkflowExecution.RunID + "/" + info.ActivityID
		}
		v, resumed := x.progress.LoadOrStore(key, &exportProgress{})
		p := v.(*exportProgress)
		p.mu.Lock()
		var s *export.DirSink
		var err error
		if resumed {
			s, err = export.ResumeDirSink(in.Dir, p.existing)
		} else {
			s, err = export.NewDirSink(in.Dir)
		}
		if err == nil {
			p.existing = s.Existing()
		}
		p.mu.Unlock()
		if err != nil {
			x.progress.Delete(key)
			return nil, nil, invalidInput(err.Error())
		}
		// Files are published by rename once complete; syncing each one
		// would cost a disk flush per item for little: a crash leaves only
		// temporary files behind, never a truncated one under its name.
		s.NoSync = true
		return &resumingSink{DirSink: s, p: p}, func(ok bool) error {
			if ok {
				x.progress.Delete(key)
			}
			return s.Close()
		}, nil
	}
	f, err := os.CreateTemp(filepath.Dir(in.Dir), "."+filepath.Base(in.Dir)+".*")
	if err != nil {
		return nil, nil, invalidInput("cannot write the export archive: " + err.Error())
	}
	z := export.NewZipSink(f)
	return z, func(ok bool) error {
		err := z.Close()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if ok && err == nil {
			err = os.Rename(f.Name(), in.Dir)
		}
		if !ok || err != nil {
			_ = os.Remove(f.Name())
		}
		return err
	}, nil
}

// resumingSink passes over the files an earlier attempt finished and
// records each file it finishes.
type resumingSink struct {
	*export.DirSink
	p       *exportProgress
	created int
}

func (r *resumingSink) Create(dir []string, name string) (io.WriteCloser, error) {
	r.p.mu.Lock()
	i, done := r.created, r.p.done
	r.p.mu.Unlock()
	r.created++
	if i < done {
		// The item is read and converted again, as the first time, so
		// that the export's counts come out whole; only the file is not
		// written twice.
		if err := r.DirSink.Skip(dir, name); err != nil {
			return nil, err
		}
		return discard{}, nil
	}
	w, err := r.DirSink.Create(dir, name)
	if err != nil {
		return nil, err
	}
	return &finishing{Entry: w.(export.Entry), finished: func() {
		r.p.mu.Lock()
		r.p.done = i + 1
		r.p.mu.Unlock()
	}}, nil
}

// finishing is an exported file that records its completion.
type finishing struct {
	export.Entry
	finished func()
}

func (f *finishing) Close() error {
	err := f.Entry.Close()
	if err == nil {
		f.finished()
	}
	return err
}

// discard takes the bytes of a file written already.
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
func (discard) Close() error                { return nil }
