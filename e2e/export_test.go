package e2e

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"net/mail"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/emersion/go-ical"
	"github.com/emersion/go-vcard"

	"github.com/corso-temporal/corso/export"
	"github.com/corso-temporal/corso/workflows"
)

// exportedTree reads an export, from a directory or a zip, as
// "category/folder path" → parsed facts of each file, sorted.
type exportedTree map[string][]string

func (tr exportedTree) add(t *testing.T, name string, data []byte) {
	t.Helper()
	dir := path.Dir(name)
	var fact string
	switch path.Ext(name) {
	case ".eml":
		if _, err := mail.ReadMessage(bytes.NewReader(data)); err != nil {
			t.Fatalf("%s: not a message: %v", name, err)
		}
		h := sha256.Sum256(data)
		fact = hex.EncodeToString(h[:])
	case ".vcf":
		card, err := vcard.NewDecoder(bytes.NewReader(data)).Decode()
		if err != nil {
			t.Fatalf("%s: not a vCard: %v", name, err)
		}
		fact = card.PreferredValue(vcard.FieldFormattedName)
	case ".ics":
		cal, err := ical.NewDecoder(bytes.NewReader(data)).Decode()
		if err != nil {
			t.Fatalf("%s: not an iCalendar: %v", name, err)
		}
		for _, ev := range cal.Events() {
			if ev.Props.Get(ical.PropRecurrenceID) == nil {
				fact, _ = ev.Props.Text(ical.PropSummary)
			}
		}
	default:
		t.Fatalf("unexpected file %s", name)
	}
	tr[dir] = append(tr[dir], fact)
}

func readExportDir(t *testing.T, root string) exportedTree {
	t.Helper()
	tr := exportedTree{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		tr.add(t, filepath.ToSlash(rel), data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func readExportZip(t *testing.T, file string) exportedTree {
	t.Helper()
	zr, err := zip.OpenReader(file)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	tr := exportedTree{}
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		tr.add(t, f.Name, data)
	}
	return tr
}

// expectedExport is what an export of a backup must hold, from the backup
// itself: mail by content hash, contacts by name, events by subject.
func (a exchangeAdmin) expectedExport(t *testing.T, id string) exportedTree {
	t.Helper()
	r := a.run(t, "backup", "details", "exchange", "--backup", id, "--json")
	mustSucceed(t, r)
	var d workflows.BackupDetailsResult
	if err := json.Unmarshal([]byte(r.Stdout), &d); err != nil {
		t.Fatal(err)
	}
	hashes := a.stored(t, id)
	tr := exportedTree{}
	for _, e := range d.Entries {
		segs := []string{e.Category}
		for _, p := range e.Path {
			segs = append(segs, export.SafeName(p))
		}
		dir := strings.Join(segs, "/")
		switch e.Category {
		case "email":
			tr[dir] = append(tr[dir], hashes["email/"+strings.Join(e.Path, "/")+"/"+e.ItemID])
		case "contacts":
			tr[dir] = append(tr[dir], e.DisplayName)
		case "events":
			tr[dir] = append(tr[dir], e.Subject)
		}
	}
	return tr
}

func assertSameTree(t *testing.T, what string, got, want exportedTree) {
	t.Helper()
	n := 0
	for dir, w := range want {
		g := got[dir]
		sort.Strings(g)
		sort.Strings(w)
		n += len(w)
		if strings.Join(g, "\n") != strings.Join(w, "\n") {
			t.Errorf("%s: %s holds %d files, want %d (or their content differs)", what, dir, len(g), len(w))
		}
	}
	for dir := range got {
		if _, ok := want[dir]; !ok {
			t.Errorf("%s: unexpected folder %s", what, dir)
		}
	}
	if n == 0 {
		t.Fatalf("%s: nothing to compare", what)
	}
}

func TestExchangeExport(t *testing.T) {
	a := newExchangeAdmin(t, tenant, "exchange-export")
	id := a.backup(t, mailboxes(t, tenant)[0])[0].BackupID
	want := a.expectedExport(t, id)

	dir := t.TempDir()
	r := a.run(t, "export", "exchange", dir, "--backup", id, "--json")
	mustSucceed(t, r)
	var res workflows.ExportResult
	if err := json.Unmarshal([]byte(r.Stdout), &res); err != nil {
		t.Fatal(err)
	}
	assertSameTree(t, "export", readExportDir(t, dir), want)
	if res.Files == 0 || len(res.Errors) != 0 {
		t.Fatalf("export result: %+v", res)
	}

	zipDir := t.TempDir()
	mustSucceed(t, a.run(t, "export", "exchange", zipDir, "--backup", id, "--archive"))
	zips, _ := filepath.Glob(filepath.Join(zipDir, "Corso_Export_*.zip"))
	all, _ := os.ReadDir(zipDir)
	if len(zips) != 1 || len(all) != 1 {
		t.Fatalf("archive export left %v in its directory, want one Corso_Export_*.zip", all)
	}
	assertSameTree(t, "archive", readExportZip(t, zips[0]), want)

	// A selection exports only what it selects.
	sel := t.TempDir()
	mustSucceed(t, a.run(t, "export", "exchange", sel, "--backup", id, "--email-folder", "Inbox"))
	for dir := range readExportDir(t, sel) {
		if !strings.HasPrefix(dir, "email/Inbox") {
			t.Errorf("--email-folder Inbox exported %s", dir)
		}
	}
}

func TestExchangeExportBadInput(t *testing.T) {
	a := newExchangeAdmin(t, tenant, "exchange-export-bad")
	id := a.backup(t, mailboxes(t, tenant)[0])[0].BackupID
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	for _, tc := range []struct {
		name  string
		args  []string
		wants []string
	}{
		{"unknown backup", []string{empty, "--backup", "0123456789abcdef"}, []string{"no backup with id 0123456789abcdef"}},
		{"not a directory", []string{filepath.Join(file, "sub"), "--backup", id}, []string{"a-file"}},
		{"unwritable", []string{"/proc/corso-export", "--backup", id}, []string{"/proc/corso-export"}},
		{"bad selector", []string{empty, "--backup", id, "--event-starts-before", "soon"}, []string{"--event-starts-before"}},
		{"no directory", []string{"--backup", id}, []string{"accepts 1 arg"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mustFail(t, a.run(t, append([]string{"export", "exchange"}, tc.args...)...), 30e9, tc.wants...)
		})
	}
	if left, _ := os.ReadDir(empty); len(left) != 0 {
		t.Fatalf("a refused export left %d entries behind", len(left))
	}
}
