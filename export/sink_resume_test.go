package export

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// resumeItem is one file of an export, in export order; abort marks an
// item the export abandons (its stored form cannot be converted).
type resumeItem struct {
	dir        []string
	name, body string
	abort      bool
}

var resumeItems = []resumeItem{
	{nil, "Hello.eml", "a", false}, // the root has a Hello.eml already
	{[]string{"Inbox"}, "x.eml", "b", false},
	{[]string{"Inbox"}, "x.eml", "c", true},
	{[]string{"Inbox"}, "x.eml", "d", false},
	{[]string{"Inbox", "Sub"}, "y.eml", "e", false},
	{nil, "Hello.eml", "f", false},
	{[]string{"Inbox"}, "X.eml", "g", false},
	{[]string{"Other"}, "z.eml", "h", false},
}

// exportRoot makes a root that holds what a user had there before.
func exportRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "Hello.eml"), []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(root, "Inbox"), 0o700); err != nil {
		t.Fatal(err)
	}
	return root
}

func writeResumeItem(t *testing.T, s *DirSink, it resumeItem) {
	t.Helper()
	w, err := s.Create(it.dir, it.name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, it.body); err != nil {
		t.Fatal(err)
	}
	if it.abort {
		_ = Abort(w)
		return
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func treeOf(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// An export interrupted after any file and resumed leaves the same tree
// as one that was not: the files finished are not written again or
// numbered beside themselves, the folders made are entered, and what the
// user had in the root stays untouched.
func TestResumedDirSinkFinishesTheSameTree(t *testing.T) {
	whole := exportRoot(t)
	s, err := NewDirSink(whole)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range resumeItems {
		writeResumeItem(t, s, it)
	}
	want, wantFiles, wantBytes := treeOf(t, whole), s.Files(), s.Bytes()

	for done := 0; done <= len(resumeItems); done++ {
		root := exportRoot(t)
		first, err := NewDirSink(root)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range resumeItems[:done] {
			writeResumeItem(t, first, it)
		}
		if done < len(resumeItems) {
			// Interrupted while writing the next file.
			w, err := first.Create(resumeItems[done].dir, resumeItems[done].name)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.WriteString(w, "partial")
			_ = Abort(w)
		}
		_ = first.Close()

		again, err := ResumeDirSink(root, first.Existing())
		if err != nil {
			t.Fatal(err)
		}
		for i, it := range resumeItems {
			if i < done {
				if err := again.Skip(it.dir, it.name); err != nil {
					t.Fatal(err)
				}
				continue
			}
			writeResumeItem(t, again, it)
		}
		if got := treeOf(t, root); !reflect.DeepEqual(got, want) {
			t.Errorf("resumed after %d files:\n got %v\nwant %v", done, got, want)
		}
		if again.Files() != wantFiles || again.Bytes() != wantBytes {
			t.Errorf("resumed after %d files: %d files, %d bytes; want %d, %d", done, again.Files(), again.Bytes(), wantFiles, wantBytes)
		}
	}
}
