package export

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func create(t *testing.T, s Sink, dir []string, name, content string) string {
	t.Helper()
	w, err := s.Create(dir, name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, content); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.(Entry).Path()
}

func readAll(t *testing.T, root string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		files[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestNewDirSink(t *testing.T) {
	root := filepath.Join(t.TempDir(), "a", "b", "export")
	s, err := NewDirSink(root)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		t.Fatalf("root not created: %v", err)
	}
	if ents, _ := os.ReadDir(root); len(ents) != 0 {
		t.Errorf("the write probe was left behind: %v", ents)
	}
	if s.Root() != root {
		t.Errorf("Root %q", s.Root())
	}

	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{file, filepath.Join(file, "below"), ""} {
		if _, err := NewDirSink(bad); err == nil || !strings.Contains(err.Error(), "export directory") {
			t.Errorf("NewDirSink(%q): %v", bad, err)
		}
	}
}

func TestNewDirSinkNotWritable(t *testing.T) {
	if os.Geteuid() == 0 {
		// Root writes whatever the mode bits say: run this test as an
		// unprivileged user, for whom they hold.
		runAsNobody(t, "TestNewDirSinkNotWritable")
		return
	}
	ro := filepath.Join(t.TempDir(), "readonly")
	if err := os.Mkdir(ro, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(ro, 0o700) })
	if f, err := os.CreateTemp(ro, "probe"); err == nil {
		f.Close()
		os.Remove(f.Name())
		t.Fatalf("uid %d can write into a directory of mode 0500 it owns: permissions are not enforced, so this test proves nothing", os.Geteuid())
	}
	_, err := NewDirSink(ro)
	if err == nil || !strings.Contains(err.Error(), "export directory "+ro+" is not writable") {
		t.Fatalf("NewDirSink on a read-only directory: %v", err)
	}
	if _, err := NewDirSink(filepath.Join(ro, "sub")); err == nil || !strings.Contains(err.Error(), "cannot be created") {
		t.Fatalf("NewDirSink below a read-only directory: %v", err)
	}
}

// nobodyUID is the unprivileged user tests run as when they need mode bits
// to hold.
const nobodyUID = 65534

// runAsNobody runs one test of this binary again as an unprivileged user
// and fails unless it passes there.
func runAsNobody(t *testing.T, name string) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The child needs a binary and a temporary directory it can reach;
	// the test binary's own directory is private to root.
	base, err := os.MkdirTemp("", "corso-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(base, "test.bin")
	b, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(base, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(tmp, nobodyUID, nobodyUID); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^"+name+"$", "-test.count=1", "-test.v")
	cmd.Dir = tmp
	cmd.Env = []string{"TMPDIR=" + tmp, "PATH=" + os.Getenv("PATH")}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobodyUID, Gid: nobodyUID, NoSetGroups: true}}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+name) {
		t.Fatalf("%s as uid %d: %v\n%s", name, nobodyUID, err, out)
	}
	t.Logf("ran as uid %d:\n%s", nobodyUID, out)
}

// TestNewDirSinkProcfs uses a directory nobody can write, not even root.
func TestNewDirSinkProcfs(t *testing.T) {
	if fi, err := os.Stat("/proc/self"); err != nil || !fi.IsDir() {
		t.Skip("no /proc")
	}
	_, err := NewDirSink("/proc")
	if err == nil || !strings.Contains(err.Error(), "export directory /proc is not writable") {
		t.Fatalf("NewDirSink(/proc): %v", err)
	}
}

func TestDirSinkWrites(t *testing.T) {
	root := t.TempDir()
	s, err := NewDirSink(root)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range []struct{ dir []string }{
		{[]string{"Inbox"}}, {[]string{"Inbox"}}, {[]string{"INBOX"}}, {[]string{"Inbox", "Projects/2024"}},
		{[]string{"Inbox", "Projects_2024"}}, {[]string{"Inbox", "Projects/2024"}}, {nil}, {[]string{"v1.5"}}, {[]string{"V1.5"}},
	} {
		paths = append(paths, create(t, s, f.dir, "Report.eml", strings.Join(f.dir, ">")))
	}
	want := []string{
		"Inbox/Report.eml", "Inbox/Report (2).eml", "INBOX (2)/Report.eml", "Inbox/Projects_2024/Report.eml",
		"Inbox/Projects_2024 (2)/Report.eml", "Inbox/Projects_2024/Report (2).eml", "Report.eml", "v1.5/Report.eml", "V1.5 (2)/Report.eml",
	}
	if !slices.Equal(paths, want) {
		t.Errorf("paths\n%q\nwant\n%q", paths, want)
	}
	files := readAll(t, root)
	if len(files) != len(want) || files["Inbox/Projects_2024 (2)/Report.eml"] != "Inbox>Projects_2024" {
		t.Errorf("files %v", files)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s.Files() != len(want) || s.Bytes() != int64(len(strings.Join([]string{
		"Inbox", "Inbox", "INBOX", "Inbox>Projects/2024", "Inbox>Projects_2024", "Inbox>Projects/2024", "", "v1.5", "V1.5"}, ""))) {
		t.Errorf("Files %d Bytes %d", s.Files(), s.Bytes())
	}
	if _, err := s.Create(nil, "late.eml"); !errors.Is(err, ErrClosed) {
		t.Errorf("Create after Close: %v", err)
	}
	if fi, _ := os.Stat(filepath.Join(root, "Report.eml")); fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v", fi.Mode())
	}
}

func TestDirSinkTraversal(t *testing.T) {
	parent := t.TempDir()
	s, err := NewDirSink(filepath.Join(parent, "root"))
	if err != nil {
		t.Fatal(err)
	}
	s.NoSync = true
	longDir := strings.Repeat("フォルダ", 40)         // 480 bytes
	longName := strings.Repeat("ñ", 300) + ".eml" // 604 bytes
	hostile := []string{"..", ".", "../..", "../../etc", "/etc", "/", `\`, `..\..\Windows`, `C:\Windows`, "C:", "a\x00b",
		"", " ", "CON", "nul.txt", longDir, "~", "$HOME", "%SystemRoot%", ".git", "a\nb", "\u202Eexe.txt"}
	for _, d := range hostile {
		for _, n := range hostile {
			create(t, s, []string{d}, n, d+"|"+n)
		}
		create(t, s, []string{d, d, "..", d}, longName, "deep")
		create(t, s, nil, d, "top")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	checkConfined(t, parent, "root")
	if got, want := len(readAll(t, filepath.Join(parent, "root"))), s.Files(); got != want || want != len(hostile)*(len(hostile)+2) {
		t.Errorf("%d files on disk, %d written", got, want)
	}
}

func TestDirSinkPublishesOnlyComplete(t *testing.T) {
	root := t.TempDir()
	s, err := NewDirSink(root)
	if err != nil {
		t.Fatal(err)
	}
	listing := func() []string {
		var names []string
		ents, _ := os.ReadDir(filepath.Join(root, "Inbox"))
		for _, e := range ents {
			names = append(names, e.Name())
		}
		return names
	}

	// While written, the file is only under a temporary name.
	w, err := s.Create([]string{"Inbox"}, "Big.eml")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "half of it")
	if l := listing(); len(l) != 1 || !strings.HasPrefix(l[0], ".corso-") || !strings.HasSuffix(l[0], ".partial") {
		t.Errorf("while writing: %v", l)
	}
	io.WriteString(w, ", and the rest")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if l := listing(); !slices.Equal(l, []string{"Big.eml"}) {
		t.Errorf("after Close: %v", l)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "Inbox", "Big.eml")); string(b) != "half of it, and the rest" {
		t.Errorf("content %q", b)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := w.Write([]byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close: %v", err)
	}

	// An aborted file leaves nothing, and its name is free again.
	w, _ = s.Create([]string{"Inbox"}, "Aborted.eml")
	io.WriteString(w, "partial")
	if err := Abort(w); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("Close after Abort: %v", err)
	}
	if l := listing(); !slices.Equal(l, []string{"Big.eml"}) {
		t.Errorf("after Abort: %v", l)
	}
	if p := create(t, s, []string{"Inbox"}, "Aborted.eml", "again"); p != "Inbox/Aborted.eml" {
		t.Errorf("after Abort the name is %q", p)
	}

	// A failed write makes Close remove the file and report the error.
	w, _ = s.Create([]string{"Inbox"}, "Failed.eml")
	io.WriteString(w, "some")
	w.(*dirFile).f.Close() // the disk goes away
	if _, err := w.Write([]byte("more")); err == nil {
		t.Fatal("write to a closed file succeeded")
	}
	if err := w.Close(); err == nil {
		t.Error("Close after a failed write succeeded")
	}
	if l := listing(); !slices.Equal(l, []string{"Aborted.eml", "Big.eml"}) {
		t.Errorf("after a failed write: %v", l)
	}

	// Closing the sink discards files still being written.
	w, _ = s.Create([]string{"Inbox"}, "Open.eml")
	io.WriteString(w, "never finished")
	if err := s.Close(); err == nil || !strings.Contains(err.Error(), "Inbox/Open.eml") {
		t.Errorf("Close with an open file: %v", err)
	}
	if l := listing(); !slices.Equal(l, []string{"Aborted.eml", "Big.eml"}) {
		t.Errorf("after closing the sink: %v", l)
	}
	if s.Files() != 2 || s.Bytes() != int64(len("half of it, and the rest")+len("again")) {
		t.Errorf("Files %d Bytes %d", s.Files(), s.Bytes())
	}
}

func TestDirSinkNeverOverwrites(t *testing.T) {
	parent := t.TempDir()
	root := filepath.Join(parent, "root")
	outside := filepath.Join(parent, "outside")
	for _, d := range []string{root, outside} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(root, "Report.eml"), []byte("from before"), 0o600)
	if err := os.Symlink(outside, filepath.Join(root, "Inbox")); err != nil {
		t.Skip("no symlinks:", err)
	}
	os.Symlink(filepath.Join(outside, "target.eml"), filepath.Join(root, "Link.eml"))
	s, err := NewDirSink(root)
	if err != nil {
		t.Fatal(err)
	}
	if p := create(t, s, nil, "Report.eml", "new"); p != "Report (2).eml" {
		t.Errorf("next to an existing file: %q", p)
	}
	if p := create(t, s, []string{"Inbox"}, "x.eml", "new"); p != "Inbox (2)/x.eml" {
		t.Errorf("next to a symlinked folder: %q", p)
	}
	if p := create(t, s, nil, "link.eml", "new"); p != "link (2).eml" {
		t.Errorf("next to a symlink: %q", p)
	}
	// A file that appears under the chosen name while the export writes
	// is not replaced either.
	w, _ := s.Create(nil, "Race.eml")
	os.WriteFile(filepath.Join(root, "Race.eml"), []byte("someone else's"), 0o600)
	io.WriteString(w, "ours")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if p := w.(Entry).Path(); p != "Race (2).eml" {
		t.Errorf("after a race: %q", p)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "Race.eml")); string(b) != "someone else's" {
		t.Errorf("overwritten: %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "Report.eml")); string(b) != "from before" {
		t.Errorf("overwritten: %q", b)
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Errorf("wrote through a symlink: %v", ents)
	}
	s.Close()
}

func TestDirSinkConcurrent(t *testing.T) {
	root := t.TempDir()
	s, err := NewDirSink(root)
	if err != nil {
		t.Fatal(err)
	}
	s.NoSync = true
	const workers, each = 8, 40
	paths := make([][]string, workers)
	var wg sync.WaitGroup
	for g := range workers {
		wg.Go(func() {
			for i := range each {
				dir := []string{fmt.Sprintf("Folder %d", i%3), "Sub"}
				w, err := s.Create(dir, "Same name.eml")
				if err != nil {
					t.Error(err)
					return
				}
				fmt.Fprintf(w, "%d/%d", g, i)
				if err := w.Close(); err != nil {
					t.Error(err)
				}
				paths[g] = append(paths[g], w.(Entry).Path())
			}
		})
	}
	wg.Wait()
	s.Close()
	seen := map[string]bool{}
	for _, ps := range paths {
		for _, p := range ps {
			if seen[strings.ToLower(p)] {
				t.Errorf("%s handed out twice", p)
			}
			seen[strings.ToLower(p)] = true
		}
	}
	if files := readAll(t, root); len(files) != workers*each || s.Files() != workers*each {
		t.Errorf("%d files on disk, %d counted", len(files), s.Files())
	}
}

func TestZipSink(t *testing.T) {
	var buf bytes.Buffer
	s := NewZipSink(&buf)
	s.Modified = time.Date(2025, 7, 1, 12, 0, 0, 0, time.UTC)
	want := map[string]string{}
	put := func(dir []string, name, content string) string {
		p := create(t, s, dir, name, content)
		want[p] = content
		return p
	}
	for _, tc := range []struct {
		dir        []string
		name, path string
	}{
		{[]string{"Inbox"}, "Report.eml", "Inbox/Report.eml"},
		{[]string{"inbox"}, "Report.eml", "inbox (2)/Report.eml"},
		{[]string{"Inbox"}, "report.eml", "Inbox/report (2).eml"},
		{[]string{"Inbox", "Projects/2024"}, "a.eml", "Inbox/Projects_2024/a.eml"},
		{[]string{"..", "../..", "/etc"}, "../passwd", "untitled/_._/_etc/_._passwd"},
		{[]string{`C:\Windows`}, "CON", `C__Windows/_CON`},
		{nil, "", "untitled (2)"}, // files and folders share names
	} {
		if p := put(tc.dir, tc.name, "content of "+tc.path); p != tc.path {
			t.Errorf("Create(%q, %q) = %q, want %q", tc.dir, tc.name, p, tc.path)
		}
	}

	// One entry at a time.
	w, err := s.Create([]string{"Inbox"}, "open.eml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create([]string{"Inbox"}, "second.eml"); !errors.Is(err, ErrEntryOpen) {
		t.Errorf("a second open entry: %v", err)
	}
	io.WriteString(w, "partial")
	w.(Entry).Abort()
	if _, err := w.Write([]byte("x")); err == nil {
		t.Error("write after Abort")
	}
	if got := s.Aborted(); !slices.Equal(got, []string{"Inbox/open.eml"}) {
		t.Errorf("Aborted %q", got)
	}
	put([]string{"Inbox"}, "after.eml", strings.Repeat("compressible ", 1000))

	// Abandoned before its first byte, an entry leaves nothing.
	w, _ = s.Create([]string{"Inbox"}, "never.eml")
	Abort(w)
	if p := put([]string{"Inbox"}, "never.eml", "this time"); p != "Inbox/never.eml" {
		t.Errorf("after an empty abort the name is %q", p)
	}
	if p := put([]string{"Inbox"}, "empty.eml", ""); p != "Inbox/empty.eml" {
		t.Errorf("empty entry %q", p)
	}

	// An entry left open is reported at Close.
	w, _ = s.Create(nil, "left open.eml")
	io.WriteString(w, "x")
	if err := s.Close(); err == nil || !strings.Contains(err.Error(), "left open.eml") {
		t.Errorf("Close with an open entry: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := s.Create(nil, "late"); !errors.Is(err, ErrClosed) {
		t.Errorf("Create after Close: %v", err)
	}

	var total int64
	for _, c := range want {
		total += int64(len(c))
	}
	if s.Files() != len(want) || s.Bytes() != total {
		t.Errorf("Files %d Bytes %d, want %d %d", s.Files(), s.Bytes(), len(want), total)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	var dirs []string
	for _, f := range zr.File {
		checkArchivePath(t, f.Name)
		if !f.Modified.Equal(s.Modified) {
			t.Errorf("%s: modified %v", f.Name, f.Modified)
		}
		if strings.HasSuffix(f.Name, "/") {
			dirs = append(dirs, f.Name)
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		if f.Name == "Inbox/open.eml" || f.Name == "left open.eml" {
			continue // aborted: in the archive, as documented
		}
		if _, dup := got[f.Name]; dup {
			t.Errorf("%s is in the archive twice", f.Name)
		}
		got[f.Name] = string(b)
	}
	if len(got) != len(want) {
		t.Errorf("archive holds %d files, want %d: %q", len(got), len(want), got)
	}
	for p, c := range want {
		if got[p] != c {
			t.Errorf("%s: %q, want %q", p, got[p], c)
		}
	}
	if wantDirs := []string{"Inbox/", "inbox (2)/", "Inbox/Projects_2024/", "untitled/", "untitled/_._/", "untitled/_._/_etc/", "C__Windows/"}; !slices.Equal(dirs, wantDirs) {
		t.Errorf("directory entries %q, want %q", dirs, wantDirs)
	}
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// TestZipSinkStreams writes 200 MB through a ZipSink and checks that the
// heap does not grow with it.
func TestZipSinkStreams(t *testing.T) {
	total := int64(200 << 20)
	if testing.Short() {
		total = 32 << 20
	}
	out := &countingWriter{}
	s := NewZipSink(out)
	// Mail-like text: compressible, but not a single repeated byte.
	var chunk bytes.Buffer
	for i := 0; chunk.Len() < 256<<10; i++ {
		fmt.Fprintf(&chunk, "Line %d of a long message body, with some words and numbers %x.\r\n", i, i*7919)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak uint64
	start := time.Now()
	var written int64
	for f := 0; written < total; f++ {
		w, err := s.Create([]string{"Big"}, fmt.Sprintf("part %d.eml", f))
		if err != nil {
			t.Fatal(err)
		}
		for n := int64(0); n < 50<<20 && written < total; {
			m, err := w.Write(chunk.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			n += int64(m)
			written += int64(m)
			if written%(16<<20) < int64(chunk.Len()) {
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&ms)
	peak = max(peak, ms.HeapInuse)
	growth := int64(peak) - int64(base)
	t.Logf("%d MB in %v, archive %d MB, heap in use grew by %d KB", written>>20, time.Since(start).Round(time.Millisecond), out.n>>20, growth>>10)
	if s.Bytes() != written {
		t.Errorf("Bytes %d, wrote %d", s.Bytes(), written)
	}
	if growth > 16<<20 {
		t.Errorf("heap in use grew by %d MB while streaming %d MB", growth>>20, written>>20)
	}
}

var (
	_ Sink = (*DirSink)(nil)
	_ Sink = (*ZipSink)(nil)
)

func TestWriteItemAbandonsFailures(t *testing.T) {
	root := t.TempDir()
	s, err := NewDirSink(root)
	if err != nil {
		t.Fatal(err)
	}
	bad := `{"subject":"Broken","attachments":[{"name":"x","contentBytes":"***"}]}`
	for _, it := range []Item{
		{Category: CategoryEvents, Folder: []string{"Calendar"}, Data: []byte(bad)},
		{Category: CategoryContacts, Folder: []string{"Contacts"}, Data: []byte(`{"displayName":`)},
		{Category: "tasks", Data: []byte(`{}`)},
	} {
		if p, err := WriteItem(s, it); err == nil {
			t.Errorf("%s item written as %q", it.Category, p)
		}
	}
	p, err := WriteItem(s, Item{Category: CategoryEvents, Folder: []string{"Calendar"}, Data: []byte(`{"subject":"Broken"}`)})
	if err != nil || p != "Calendar/Broken.ics" {
		t.Errorf("after a failure the name is %q (%v)", p, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if files := readAll(t, root); len(files) != 1 || s.Files() != 1 {
		t.Errorf("files %q", files)
	}
}
