package export

import (
	"archive/zip"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Sink receives exported files.
//
// dir is the chain of folder display names from the mailbox root, e.g.
// ["Inbox", "Projects/2024"]: every element is one folder, so a slash
// inside an element is part of the folder's name, not a separator. Every
// folder name and the file name go through SafeName and a Namer of their
// directory, so no input can reach outside the export's root, and names
// that differ only in letter case get numbered instead of colliding. The
// same dir chain always leads to the same directory.
//
// The io.WriteCloser returned by both sinks in this package is an Entry:
// Close publishes the file, Abort abandons it.
type Sink interface {
	Create(dir []string, name string) (io.WriteCloser, error)
	Close() error
	// Files and Bytes count the files written completely and their size.
	Files() int
	Bytes() int64
}

// Abort abandons a file a Sink is writing: an Entry is aborted, any other
// writer closed.
func Abort(w io.WriteCloser) error {
	if e, ok := w.(Entry); ok {
		return e.Abort()
	}
	return w.Close()
}

// Entry is a file being written to a Sink.
type Entry interface {
	io.WriteCloser
	// Abort abandons the file; Close after Abort does nothing.
	Abort() error
	// Path is the file's path below the root, with "/" separators: the
	// names that were actually used.
	Path() string
}

var (
	// ErrClosed is returned for a sink or entry used after Close.
	ErrClosed = errors.New("export: already closed")
	// ErrEntryOpen is returned by ZipSink.Create while another entry of the
	// archive is still open.
	ErrEntryOpen = errors.New("export: the previous archive entry is still open")
)

// dirNode is one directory of an export: the names handed out in it and
// the subdirectories made for folder names so far.
type dirNode struct {
	path     []string            // names from the root
	names    *Namer              // names of files and subdirectories
	children map[string]*dirNode // by folder name as given
}

func newDirNode(path []string) *dirNode {
	return &dirNode{path: path, names: NewNamer(), children: map[string]*dirNode{}}
}

// walk returns the node for dir. A missing directory gets a node from
// newNode and is made by mk, which reports whether its name could be used
// (false: pick the next one).
func (n *dirNode) walk(dir []string, newNode func(path []string) *dirNode, mk func(c *dirNode) (bool, error)) (*dirNode, error) {
	for _, seg := range dir {
		c, ok := n.children[seg]
		if !ok {
			for {
				name := n.names.NameDir(seg)
				c = newNode(append(append([]string(nil), n.path...), name))
				used, err := mk(c)
				if err != nil {
					n.names.Release(name)
					return nil, err
				}
				if used {
					break
				}
			}
			n.children[seg] = c
		}
		n = c
	}
	return n, nil
}

func (n *dirNode) rel(name string) string {
	return strings.Join(append(append([]string(nil), n.path...), name), "/")
}

// DirSink writes files below a root directory.
//
// A file is written under a temporary name (".corso-*.partial") in its
// final directory, flushed to stable storage, and only then given its
// final name, so a file under its final name is always complete. Files and
// directories that exist already are never overwritten or entered: their
// names count as taken. Files are created readable by their owner only
// (0600, directories 0700), as the mail they hold is private.
//
// Create, and Write and Close of different files, may be called
// concurrently.
type DirSink struct {
	root string
	// NoSync skips flushing each file to stable storage before it gets its
	// final name: faster, but after a power loss (not a crash of the
	// program) a file may be empty under its final name.
	NoSync bool

	mu     sync.Mutex
	tree   *dirNode
	open   map[*dirFile]struct{}
	files  int
	bytes  int64
	closed bool
	// existing: the root's names when the export began. resumed: the
	// sink goes on with an export an earlier attempt began (ResumeDirSink).
	existing []string
	resumed  bool
}

// NewDirSink prepares root, which must exist or be creatable, and be a
// writable directory.
func NewDirSink(root string) (*DirSink, error) {
	if root == "" {
		return nil, errors.New("export directory is not set")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("export directory %s: %w", root, err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("export directory %s cannot be created: %w", abs, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("export directory %s: %w", abs, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("export directory %s is not a directory", abs)
	}
	probe, err := os.CreateTemp(abs, ".corso-probe-*")
	if err == nil {
		_, err = probe.Write([]byte("probe"))
		if cerr := probe.Close(); err == nil {
			err = cerr
		}
		if rerr := os.Remove(probe.Name()); err == nil {
			err = rerr
		}
	}
	if err != nil {
		return nil, fmt.Errorf("export directory %s is not writable: %w", abs, err)
	}
	s := &DirSink{root: abs, open: map[*dirFile]struct{}{}}
	if ents, err := os.ReadDir(abs); err == nil {
		for _, e := range ents {
			s.existing = append(s.existing, e.Name())
		}
	}
	s.tree = s.node(nil)
	return s, nil
}

// ResumeDirSink goes on with an export that an earlier attempt began in
// root and did not finish, when root held existing (DirSink.Existing of
// that attempt's sink). Given the same Create calls in the same order, it
// hands out the same names as that attempt did: the folders it made are
// entered, not numbered as if they were someone else's, and the files it
// finished are passed over with Skip. Names that were there before the
// export stay taken.
func ResumeDirSink(root string, existing []string) (*DirSink, error) {
	s, err := NewDirSink(root)
	if err != nil {
		return nil, err
	}
	s.existing, s.resumed = existing, true
	s.tree = s.node(nil)
	return s, nil
}

// Existing lists the names the root held when the export began.
func (s *DirSink) Existing() []string { return s.existing }

// Root is the absolute path of the export directory.
func (s *DirSink) Root() string { return s.root }

// node makes a directory node whose Namer counts names present on disk as
// taken: those there when the node is made, in any letter case, and any
// that turn up later.
func (s *DirSink) node(path []string) *dirNode {
	n := newDirNode(path)
	if s.resumed {
		// What is on disk now is the earlier attempt's work, which the
		// names handed out again cover, plus the root's names from before
		// it.
		if len(path) == 0 {
			for _, name := range s.existing {
				n.names.Reserve(name)
			}
		}
		return n
	}
	dir := s.abs(path)
	if ents, err := os.ReadDir(dir); err == nil {
		for _, e := range ents {
			n.names.Reserve(e.Name())
		}
	}
	n.names.Taken = func(name string) bool {
		_, err := os.Lstat(filepath.Join(dir, name))
		return !errors.Is(err, fs.ErrNotExist)
	}
	return n
}

func (s *DirSink) abs(path []string) string {
	return filepath.Join(append([]string{s.root}, path...)...)
}

// Create starts a file. The returned writer is an Entry.
func (s *DirSink) Create(dir []string, name string) (io.WriteCloser, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	node, final, err := s.place(dir, name)
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}

	f, err := os.CreateTemp(s.abs(node.path), ".corso-*.partial")
	if err != nil {
		s.mu.Lock()
		node.names.Release(final)
		s.mu.Unlock()
		return nil, fmt.Errorf("export: create %s: %w", node.rel(final), err)
	}
	df := &dirFile{s: s, f: f, node: node, asked: name, name: final}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		// The sink was closed meanwhile.
		_ = f.Close()
		_ = os.Remove(f.Name())
		node.names.Release(final)
		return nil, ErrClosed
	}
	s.open[df] = struct{}{}
	return df, nil
}

// place makes dir's folders and reserves the file's name in it. s.mu is
// held.
func (s *DirSink) place(dir []string, name string) (*dirNode, string, error) {
	node, err := s.tree.walk(dir, s.node, func(c *dirNode) (bool, error) {
		p := s.abs(c.path)
		err := os.Mkdir(p, 0o700)
		if errors.Is(err, fs.ErrExist) {
			// Someone else's, unless the earlier attempt of a resumed
			// export made it under the name handed out again.
			fi, serr := os.Lstat(p)
			return s.resumed && serr == nil && fi.IsDir(), nil
		}
		if err != nil {
			return false, fmt.Errorf("export: create folder %s: %w", strings.Join(c.path, "/"), err)
		}
		return true, nil
	})
	if err != nil {
		return nil, "", err
	}
	return node, node.names.Name(name), nil
}

// Skip passes over a file that the earlier attempt of a resumed export
// finished: it takes the name Create would and counts the file, without
// writing it again. A file that attempt abandoned is not there: its name
// is given back, as Abort did.
func (s *DirSink) Skip(dir []string, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	node, final, err := s.place(dir, name)
	if err != nil {
		return err
	}
	fi, err := os.Lstat(filepath.Join(s.abs(node.path), final))
	if err != nil || !fi.Mode().IsRegular() {
		node.names.Release(final)
		return nil
	}
	s.files++
	s.bytes += fi.Size()
	return nil
}

// Files is the number of files written completely.
func (s *DirSink) Files() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.files
}

// Bytes is the size of the files written completely.
func (s *DirSink) Bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes
}

// Close ends the export. Files still being written are discarded, and
// reported as an error.
func (s *DirSink) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	var open []*dirFile
	for f := range s.open {
		open = append(open, f)
	}
	s.mu.Unlock()
	var paths []string
	for _, f := range open {
		paths = append(paths, f.Path())
		_ = f.Abort()
	}
	if len(paths) > 0 {
		return fmt.Errorf("export: %d files were still being written and were discarded: %s", len(paths), strings.Join(paths, ", "))
	}
	return nil
}

// dirFile is a file being written by a DirSink.
type dirFile struct {
	s     *DirSink
	f     *os.File
	node  *dirNode
	asked string // the name Create was given
	mu    sync.Mutex
	name  string // the final name
	n     int64
	err   error
	done  bool
}

func (f *dirFile) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done {
		return 0, ErrClosed
	}
	if f.err != nil {
		return 0, f.err
	}
	n, err := f.f.Write(p)
	f.n += int64(n)
	if err != nil {
		f.err = fmt.Errorf("export: write %s: %w", f.node.rel(f.name), err)
		return n, f.err
	}
	return n, nil
}

func (f *dirFile) Path() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.node.rel(f.name)
}

// Close publishes the file under its final name. After a failed Write, or
// if publishing fails, the temporary file is removed and the error
// returned.
func (f *dirFile) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done {
		return nil
	}
	f.done = true
	err := f.err
	if err == nil && !f.s.NoSync {
		err = f.f.Sync()
	}
	if cerr := f.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = f.publish()
	}
	s := f.s
	s.mu.Lock()
	delete(s.open, f)
	if err == nil {
		s.files++
		s.bytes += f.n
	} else {
		f.node.names.Release(f.name)
	}
	s.mu.Unlock()
	if err != nil {
		_ = os.Remove(f.f.Name())
		if f.err == nil {
			err = fmt.Errorf("export: %s: %w", f.node.rel(f.name), err)
		}
	}
	return err
}

// publish gives the temporary file its final name without ever replacing
// a file: a hard link fails if the name exists, and then the next free
// name is used. Where hard links are not supported, the name is checked
// and the file renamed.
func (f *dirFile) publish() error {
	tmp := f.f.Name()
	dir := filepath.Dir(tmp)
	for tries := 0; ; tries++ {
		final := filepath.Join(dir, f.name)
		err := os.Link(tmp, final)
		if err == nil {
			// Published; a temporary name left behind is only clutter.
			_ = os.Remove(tmp)
			return nil
		}
		if !errors.Is(err, fs.ErrExist) {
			if _, lerr := os.Lstat(final); errors.Is(lerr, fs.ErrNotExist) {
				return os.Rename(tmp, final)
			}
		}
		if tries > 100 {
			return err
		}
		// Someone else took the name meanwhile: take the next one.
		f.s.mu.Lock()
		f.name = f.node.names.Name(f.asked)
		f.s.mu.Unlock()
	}
}

// Abort removes the partly written file.
func (f *dirFile) Abort() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done {
		return nil
	}
	f.done = true
	_ = f.f.Close()
	err := os.Remove(f.f.Name())
	s := f.s
	s.mu.Lock()
	delete(s.open, f)
	f.node.names.Release(f.name)
	s.mu.Unlock()
	if errors.Is(err, fs.ErrNotExist) {
		err = nil
	}
	return err
}

// ZipSink streams files into a zip archive (Deflate), with the same safe
// names a DirSink would use, separated by "/". Content is compressed as it
// is written and never held in memory.
//
// An archive is written front to back, so only one entry can be open at a
// time: Create fails with ErrEntryOpen until the previous entry is closed
// or aborted. For the same reason an entry aborted after some of it was
// written cannot be taken back: it stays in the archive with what was
// written of it, and Aborted lists it. An entry aborted before its first
// byte leaves nothing.
type ZipSink struct {
	// Modified, if set, is the modification time of every entry;
	// otherwise it is the time the entry is created.
	Modified time.Time

	mu      sync.Mutex
	zw      *zip.Writer
	tree    *dirNode
	cur     *zipEntry
	files   int
	bytes   int64
	aborted []string
	closed  bool
}

// Entries are compressed at Deflate's fastest level: about three times as
// fast as its default on mail, for an archive a few percent larger.
// Compressors are reused across entries, as each holds buffers of several
// hundred kilobytes.
var deflaters sync.Pool

func newDeflater(w io.Writer) (io.WriteCloser, error) {
	if fw, ok := deflaters.Get().(*flate.Writer); ok {
		fw.Reset(w)
		return &deflater{fw}, nil
	}
	fw, err := flate.NewWriter(w, flate.BestSpeed)
	if err != nil {
		return nil, err
	}
	return &deflater{fw}, nil
}

type deflater struct{ *flate.Writer }

func (d *deflater) Close() error {
	err := d.Writer.Close()
	deflaters.Put(d.Writer)
	d.Writer = nil
	return err
}

// NewZipSink writes an archive to w.
func NewZipSink(w io.Writer) *ZipSink {
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, newDeflater)
	return &ZipSink{zw: zw, tree: newDirNode(nil)}
}

func (s *ZipSink) modified() time.Time {
	if !s.Modified.IsZero() {
		return s.Modified
	}
	return time.Now()
}

// Create starts an entry. The returned writer is an Entry. The entry's
// header goes out with its first byte (or on Close), so an entry aborted
// before anything was written to it leaves nothing in the archive.
func (s *ZipSink) Create(dir []string, name string) (io.WriteCloser, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if s.cur != nil {
		return nil, ErrEntryOpen
	}
	node, err := s.tree.walk(dir, newDirNode, func(c *dirNode) (bool, error) {
		_, err := s.zw.CreateHeader(&zip.FileHeader{Name: strings.Join(c.path, "/") + "/", Method: zip.Store, Modified: s.modified()})
		return true, err
	})
	if err != nil {
		return nil, fmt.Errorf("export: archive: %w", err)
	}
	final := node.names.Name(name)
	s.cur = &zipEntry{s: s, node: node, name: final, path: node.rel(final),
		hdr: &zip.FileHeader{Name: node.rel(final), Method: zip.Deflate, Modified: s.modified()}}
	return s.cur, nil
}

// Files is the number of entries written completely.
func (s *ZipSink) Files() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.files
}

// Bytes is the uncompressed size of the entries written completely.
func (s *ZipSink) Bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes
}

// Aborted lists the entries that were abandoned part way and so are in the
// archive incomplete.
func (s *ZipSink) Aborted() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.aborted...)
}

// Close writes the archive's central directory; it does not close the
// underlying writer. An entry still open is reported as an error (and, if
// anything was written to it, counted as aborted).
func (s *ZipSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var open error
	if e := s.cur; e != nil {
		e.end(false)
		open = fmt.Errorf("export: archive entry %s was still being written", e.path)
	}
	if err := s.zw.Close(); err != nil {
		return fmt.Errorf("export: archive: %w", err)
	}
	return open
}

type zipEntry struct {
	s    *ZipSink
	node *dirNode
	name string
	path string
	hdr  *zip.FileHeader
	w    io.Writer // nil until the header is written
	n    int64
	err  error
	done bool
}

// start writes the entry's header.
func (e *zipEntry) start() error {
	if e.w == nil && e.err == nil {
		w, err := e.s.zw.CreateHeader(e.hdr)
		if err != nil {
			e.err = fmt.Errorf("export: archive entry %s: %w", e.path, err)
		}
		e.w = w
	}
	return e.err
}

func (e *zipEntry) Write(p []byte) (int, error) {
	if e.done {
		return 0, ErrClosed
	}
	if err := e.start(); err != nil {
		return 0, err
	}
	n, err := e.w.Write(p)
	e.n += int64(n)
	if err != nil {
		e.err = fmt.Errorf("export: archive entry %s: %w", e.path, err)
		return n, e.err
	}
	return n, nil
}

func (e *zipEntry) Path() string { return e.path }

// Close ends the entry. After a failed Write it reports that error and the
// entry counts as aborted.
func (e *zipEntry) Close() error {
	e.s.mu.Lock()
	defer e.s.mu.Unlock()
	if e.done {
		return nil
	}
	_ = e.start()
	if e.err != nil {
		e.end(false)
		return e.err
	}
	e.end(true)
	return nil
}

// Abort ends the entry as it is: if nothing was written to it, it is not
// in the archive at all; otherwise it stays with what was written (see
// ZipSink).
func (e *zipEntry) Abort() error {
	e.s.mu.Lock()
	defer e.s.mu.Unlock()
	if !e.done {
		e.end(false)
	}
	return nil
}

// end settles the entry's accounts; the sink's lock is held.
func (e *zipEntry) end(ok bool) {
	s := e.s
	e.done = true
	if s.cur == e {
		s.cur = nil
	}
	switch {
	case ok:
		s.files++
		s.bytes += e.n
	case e.w == nil:
		e.node.names.Release(e.name)
	default:
		s.aborted = append(s.aborted, e.path)
	}
}
