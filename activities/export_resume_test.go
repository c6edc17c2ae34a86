package activities

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/corso-temporal/corso/export"
	"github.com/corso-temporal/corso/workflows"
)

// exportFiles writes files through an export's sink in order, stopping
// (the attempt failing) while writing file stop; -1 finishes them all.
func exportFiles(t *testing.T, x *Exporter, in workflows.ExportInput, files []string, stop int) {
	t.Helper()
	sink, finish, err := x.openSink(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range files {
		dir, name, _ := strings.Cut(f, "/")
		w, err := sink.Create([]string{dir}, name)
		if err != nil {
			t.Fatal(err)
		}
		if i == stop {
			_, _ = io.WriteString(w, "half")
			_ = export.Abort(w)
			if err := finish(false); err != nil {
				t.Fatal(err)
			}
			return
		}
		if _, err := io.WriteString(w, f+" #"+string(rune('0'+i))); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := finish(true); err != nil {
		t.Fatal(err)
	}
	if sink.Files() != len(files) {
		t.Errorf("the finished export counts %d files, want %d", sink.Files(), len(files))
	}
}

func exportTree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			rel, _ := filepath.Rel(root, p)
			out[filepath.ToSlash(rel)] = string(b)
		}
		return err
	})
	return out
}

// A retried folder export goes on from the files its failed attempt
// finished: none is written twice or numbered beside itself, and the
// export counts them all.
func TestRetriedExportGoesOnFromFinishedFiles(t *testing.T) {
	files := []string{"Inbox/a.eml", "Inbox/a.eml", "Sent/b.eml", "Inbox/c.eml", "Sent/b.eml"}
	whole := workflows.ExportInput{Dir: t.TempDir()}
	exportFiles(t, &Exporter{}, whole, files, -1)
	want := exportTree(t, whole.Dir)

	in := workflows.ExportInput{Dir: t.TempDir()}
	x := &Exporter{}
	exportFiles(t, x, in, files, 3) // fails while writing the fourth file
	exportFiles(t, x, in, files, -1)
	if got := exportTree(t, in.Dir); !reflect.DeepEqual(got, want) {
		t.Errorf("retried export:\n got %v\nwant %v", got, want)
	}
	// Finished, the export's record is gone: another one starts afresh.
	if _, ok := x.progress.Load(""); ok {
		t.Error("a finished export's progress is kept")
	}
}
