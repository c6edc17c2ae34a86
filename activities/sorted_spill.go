package activities

import (
	"container/heap"
	"context"
	"slices"

	"github.com/corso-temporal/corso/repository"
)

// spillRunSize is how many records a sortedSpill holds before storing them
// as a run: a few MB of records, and runs few enough that merging a
// million records reads a few dozen side by side.
var spillRunSize = 50_000

// sortedSpill sorts more records than a worker can hold: it keeps up to a
// run of them, stores each full run sorted in the session (encrypted in
// the repository, never on the worker's disk), and reads every record
// back in order, merging the runs. Records cmp finds equal come back in
// the order they were added.
type sortedSpill[T any] struct {
	sess        *repository.Session
	description string
	cmp         func(a, b T) int
	limit       int
	buf         []T
	runs        []string
}

func newSortedSpill[T any](sess *repository.Session, description string, cmp func(a, b T) int) *sortedSpill[T] {
	return &sortedSpill[T]{sess: sess, description: description, cmp: cmp, limit: spillRunSize}
}

func (s *sortedSpill[T]) add(ctx context.Context, v T) error {
	s.buf = append(s.buf, v)
	if len(s.buf) < s.limit {
		return nil
	}
	return s.spill(ctx)
}

// spill stores the records held as a run.
func (s *sortedSpill[T]) spill(ctx context.Context) error {
	slices.SortStableFunc(s.buf, s.cmp)
	w := s.sess.NewJSONArray(ctx, s.description)
	defer w.Close()
	for _, v := range s.buf {
		if err := w.Add(v); err != nil {
			return err
		}
	}
	id, err := w.Result()
	if err != nil {
		return err
	}
	s.runs = append(s.runs, id.String())
	clear(s.buf)
	s.buf = s.buf[:0]
	return nil
}

// sorted returns every record added, in order; close it when done. The
// spill takes no more records.
func (s *sortedSpill[T]) sorted(ctx context.Context) (*sortedMerge[T], error) {
	slices.SortStableFunc(s.buf, s.cmp)
	m := newSortedMerge(s.cmp)
	for _, id := range s.runs {
		rd, err := s.sess.OpenJSONArray(ctx, id)
		if err != nil {
			m.close()
			return nil, err
		}
		if err := m.add(storedRun[T]{rd}); err != nil {
			m.close()
			return nil, err
		}
	}
	if err := m.add(&heldRun[T]{s.buf}); err != nil {
		m.close()
		return nil, err
	}
	s.buf = nil
	return m, nil
}

// sortedSource is a run of records in order.
type sortedSource[T any] interface {
	// next returns the next record; false at the end.
	next() (T, bool, error)
	close()
}

// storedRun reads a run stored as a JSON array.
type storedRun[T any] struct{ rd *repository.JSONArrayReader }

func (s storedRun[T]) next() (T, bool, error) {
	var v T
	ok, err := s.rd.Next(&v)
	return v, ok, err
}

func (s storedRun[T]) close() { s.rd.Close() }

// heldRun is a run still in memory.
type heldRun[T any] struct{ recs []T }

func (s *heldRun[T]) next() (T, bool, error) {
	if len(s.recs) == 0 {
		var zero T
		return zero, false, nil
	}
	v := s.recs[0]
	s.recs = s.recs[1:]
	return v, true, nil
}

func (s *heldRun[T]) close() {}

// mergeCursor is a run being merged, at its current record.
type mergeCursor[T any] struct {
	src   sortedSource[T]
	head  T
	order int
}

// sortedMerge reads runs side by side, the least record first; of equal
// records, the one of the run added first. It holds one record of each
// run.
type sortedMerge[T any] struct {
	cmp   func(a, b T) int
	cur   []*mergeCursor[T]
	added int
}

func newSortedMerge[T any](cmp func(a, b T) int) *sortedMerge[T] { return &sortedMerge[T]{cmp: cmp} }

func (m *sortedMerge[T]) Len() int { return len(m.cur) }
func (m *sortedMerge[T]) Less(i, j int) bool {
	if c := m.cmp(m.cur[i].head, m.cur[j].head); c != 0 {
		return c < 0
	}
	return m.cur[i].order < m.cur[j].order
}
func (m *sortedMerge[T]) Swap(i, j int) { m.cur[i], m.cur[j] = m.cur[j], m.cur[i] }
func (m *sortedMerge[T]) Push(x any)    { m.cur = append(m.cur, x.(*mergeCursor[T])) }
func (m *sortedMerge[T]) Pop() any {
	c := m.cur[len(m.cur)-1]
	m.cur = m.cur[:len(m.cur)-1]
	return c
}

// add merges a run in at its first record (the merge closes it), as the
// run numbered by how many were added before it.
func (m *sortedMerge[T]) add(src sortedSource[T]) error {
	order := m.added
	m.added++
	v, ok, err := src.next()
	if err != nil || !ok {
		src.close()
		return err
	}
	heap.Push(m, &mergeCursor[T]{src: src, head: v, order: order})
	return nil
}

// peek returns the least record without taking it; false at the end.
func (m *sortedMerge[T]) peek() (T, bool) {
	if len(m.cur) == 0 {
		var zero T
		return zero, false
	}
	return m.cur[0].head, true
}

// next takes the least record; false at the end.
func (m *sortedMerge[T]) next() (T, bool, error) {
	v, _, ok, err := m.nextOfRun()
	return v, ok, err
}

// nextOfRun takes the least record and says which run it came from.
func (m *sortedMerge[T]) nextOfRun() (T, int, bool, error) {
	if len(m.cur) == 0 {
		var zero T
		return zero, 0, false, nil
	}
	c := m.cur[0]
	v, order := c.head, c.order
	head, ok, err := c.src.next()
	switch {
	case err != nil:
		return v, order, false, err
	case ok:
		c.head = head
		heap.Fix(m, 0)
	default:
		heap.Pop(m)
		c.src.close()
	}
	return v, order, true, nil
}

// close closes every run still open.
func (m *sortedMerge[T]) close() {
	for _, c := range m.cur {
		c.src.close()
	}
	m.cur = nil
}
