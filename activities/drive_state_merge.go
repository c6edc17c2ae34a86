package activities

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/corso-temporal/corso/repository"
)

// A drive's state, and the changes an enumeration checkpoints (runs), are
// stored as JSON arrays of entries sorted by id, read an entry at a time.
// The new state is their merge: however large the drive, a worker holds
// one piece of each array it reads, never the drive.

// storedEntries reads a stored array of entries sorted by id.
type storedEntries struct {
	id string
	rd *repository.JSONArrayReader
	// stale: written by an earlier attempt, at a time unknown, so its
	// download URLs may have expired; they are dropped.
	stale bool
	last  string
}

func openEntries(ctx context.Context, r *repository.Repository, id string, stale bool) (*storedEntries, error) {
	rd, err := r.OpenJSONArray(ctx, id)
	if err != nil {
		return nil, err
	}
	return &storedEntries{id: id, rd: rd, stale: stale}, nil
}

// next returns the next entry; false at the end.
func (s *storedEntries) next() (*driveEntry, bool, error) {
	e := new(driveEntry)
	ok, err := s.rd.Next(e)
	if err != nil || !ok {
		return nil, false, err
	}
	if e.ID <= s.last && s.last != "" {
		return nil, false, fmt.Errorf("%w: drive entries %s out of order at %q", repository.ErrDamaged, s.id, e.ID)
	}
	s.last = e.ID
	if s.stale {
		e.DownloadURL = ""
	}
	return e, true, nil
}

func (s *storedEntries) close() { s.rd.Close() }

// eachEntry calls fn with every entry of a stored array, in order.
func eachEntry(ctx context.Context, r *repository.Repository, id string, fn func(*driveEntry) error) error {
	s, err := openEntries(ctx, r, id, false)
	if err != nil {
		return err
	}
	defer s.close()
	for {
		e, ok, err := s.next()
		if err != nil || !ok {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
	}
}

// mergeEntries reads base (a backup's state; may be nil) and runs (each
// sorted by id, later ones newer) side by side, and calls fn once per id,
// in id order, with base's entry and the newest run's (either nil when
// it holds none). Every source is closed on return.
func mergeEntries(base *storedEntries, runs []*storedEntries, fn func(base, newest *driveEntry) error) error {
	m := newSortedMerge(func(a, b *driveEntry) int { return strings.Compare(a.ID, b.ID) })
	defer m.close()
	srcs := runs
	if base != nil {
		srcs = append([]*storedEntries{base}, runs...)
	}
	for i, src := range srcs {
		if err := m.add(src); err != nil {
			closeAll(srcs[i+1:])
			return err
		}
	}
	for {
		head, ok := m.peek()
		if !ok {
			return nil
		}
		var old, newest *driveEntry
		for id := head.ID; ok && head.ID == id; head, ok = m.peek() {
			e, run, _, err := m.nextOfRun()
			if err != nil {
				return err
			}
			if base != nil && run == 0 {
				old = e
			} else {
				newest = e // taken in run order: the last is the newest
			}
		}
		if err := fn(old, newest); err != nil {
			return err
		}
	}
}

func closeAll(srcs []*storedEntries) {
	for _, s := range srcs {
		s.close()
	}
}

// writeRun stores entries, sorted by id here, as a run.
func writeRun(ctx context.Context, sess *repository.Session, entries []*driveEntry) (string, error) {
	slices.SortFunc(entries, func(a, b *driveEntry) int { return strings.Compare(a.ID, b.ID) })
	w := sess.NewJSONArray(ctx, "DRIVE-ENUMERATION-RUN")
	defer w.Close()
	for _, e := range entries {
		if err := w.Add(e); err != nil {
			return "", err
		}
	}
	id, err := w.Result()
	if err != nil {
		return "", err
	}
	return id.String(), nil
}

// compactRuns merges runs into one, newest entries (deletions included)
// winning, and returns its id; the caller flushes.
func compactRuns(ctx context.Context, r *repository.Repository, sess *repository.Session, runs []string, stale func(string) bool) (string, error) {
	srcs := make([]*storedEntries, 0, len(runs))
	for _, id := range runs {
		s, err := openEntries(ctx, r, id, stale(id))
		if err != nil {
			closeAll(srcs)
			return "", err
		}
		srcs = append(srcs, s)
	}
	w := sess.NewJSONArray(ctx, "DRIVE-ENUMERATION-RUN")
	defer w.Close()
	if err := mergeEntries(nil, srcs, func(_, newest *driveEntry) error { return w.Add(newest) }); err != nil {
		return "", err
	}
	id, err := w.Result()
	if err != nil {
		return "", err
	}
	return id.String(), nil
}
