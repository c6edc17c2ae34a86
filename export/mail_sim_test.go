package export

import (
	"archive/zip"
	"bytes"
	"io"
	"io/fs"
	"net/mail"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// hostileSubjects are subjects that try to leave the export's root, name
// devices, or clash with one another.
var hostileSubjects = []string{
	"../../etc/passwd", "..", ".", "/abs/path", `C:\Windows\System32`, "CON", "nul.txt", "Com1",
	"Report", "report", "REPORT", "Report (2)", "", "   ", "trailing dots...", "a\x00b",
	`Re: a/b\c:d*e?f"g<h>i|j`, "Ünïcödé ✓ " + strings.Repeat("長い件名", 40),
}

// postHostileMail puts messages with hostile subjects in the Inbox and in
// a folder whose name holds a slash.
func (tn *tenant) postHostileMail(user string) {
	tn.t.Helper()
	f := tn.post("/v1.0/users/"+user+"/mailFolders", map[string]any{"displayName": "Projects/2024"})
	fid, _ := f["id"].(string)
	for _, folder := range []string{"inbox", fid} {
		for _, s := range hostileSubjects {
			tn.post("/v1.0/users/"+user+"/mailFolders/"+url.PathEscape(folder)+"/messages", map[string]any{
				"subject":      s,
				"body":         map[string]any{"contentType": "text", "content": "Hello"},
				"toRecipients": []any{map[string]any{"emailAddress": map[string]any{"name": "A", "address": "a@example.com"}}},
			})
		}
	}
}

var numbered = regexp.MustCompile(` \(\d+\)$`)

func TestSimulatedMailAsEML(t *testing.T) {
	tn := newTenant(t)
	tn.postHostileMail(tn.mailboxUsers()[0].ID)
	parent := t.TempDir()
	dir := filepath.Join(parent, "export")
	sink, err := NewDirSink(dir)
	if err != nil {
		t.Fatal(err)
	}
	sink.NoSync = true // durability is tested on its own
	n := 0
	for _, u := range tn.mailboxUsers() {
		st := tn.state(u.ID, "mail")
		chains := folderChains(st)
		for _, it := range st.Items {
			if it.Kind != "message" {
				continue
			}
			mime := tn.storedMessage(u.ID, it.ID)
			chain := append([]string{u.UPN}, chains[it.CollectionID]...)
			p, err := WriteItem(sink, Item{Category: CategoryEmail, Folder: chain, Data: mime})
			if err != nil {
				t.Fatalf("message %s: %v", it.ID, err)
			}
			n++
			b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, mime) {
				t.Fatalf("%s: %d bytes differ from the %d bytes of MIME", p, len(b), len(mime))
			}
			msg, err := mail.ReadMessage(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			if _, err := io.Copy(io.Discard, msg.Body); err != nil {
				t.Fatal(err)
			}
			if got := MailSubject(b); got != strings.TrimSpace(it.Name) {
				t.Errorf("%s: subject %q, want %q", p, got, it.Name)
			}
			// Named after the subject, numbered on a clash.
			want := FileName(CategoryEmail, it.Name)
			base := path.Base(p)
			if base != want && numbered.ReplaceAllString(strings.TrimSuffix(base, ".eml"), "")+".eml" != want {
				t.Errorf("%s: named %q, want %q or a numbered form", p, base, want)
			}
			// The folders are the mailbox's, each one directory.
			if segs := strings.Split(p, "/"); len(segs) != len(chain)+1 {
				t.Errorf("%s: %d directories for folders %q", p, len(segs)-1, chain)
			}
		}
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	if sink.Files() != n || n < 100 {
		t.Fatalf("%d messages, %d files", n, sink.Files())
	}
	checkConfined(t, parent, "export")
	for _, want := range []string{
		"Inbox/_._.._etc_passwd.eml", "Inbox/untitled.eml", "Inbox/untitled (2).eml", "Inbox/_abs_path.eml",
		"Inbox/C__Windows_System32.eml", "Inbox/_CON.eml", "Inbox/_nul.txt.eml", "Inbox/_Com1.eml",
		"Inbox/Report.eml", "Inbox/report (2).eml", "Inbox/REPORT (3).eml", "Inbox/Report (2) (2).eml",
		"Inbox/(no subject).eml", "Inbox/trailing dots.eml", "Inbox/a_b.eml", "Inbox/Re_ a_b_c_d_e_f_g_h_i_j.eml",
		"Projects_2024/_._.._etc_passwd.eml",
	} {
		p := filepath.Join(dir, tn.mailboxUsers()[0].UPN, filepath.FromSlash(want))
		if _, err := os.Stat(p); err != nil {
			t.Errorf("expected %s: %v", want, err)
		}
	}
	t.Logf("%d messages, %d bytes", n, sink.Bytes())
}

// checkConfined checks that parent holds nothing but the export directory,
// and that no name below it is unsafe or left over.
func checkConfined(t *testing.T, parent, root string) {
	t.Helper()
	entries, err := os.ReadDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != root {
		t.Errorf("the export's parent holds %v", entries)
	}
	err = filepath.WalkDir(filepath.Join(parent, root), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if p == filepath.Join(parent, root) {
			return nil
		}
		if SafeName(name) != name || strings.HasPrefix(name, ".") || len(name) > MaxNameBytes {
			t.Errorf("unsafe or leftover name %q", p)
		}
		if d.Type()&fs.ModeSymlink != 0 {
			t.Errorf("symlink %s", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSimulatedExportZipMatchesDir exports a whole tenant once to a
// directory and once to a zip archive: both hold the same paths and bytes.
func TestSimulatedExportZipMatchesDir(t *testing.T) {
	tn := newTenant(t)
	user0 := tn.mailboxUsers()[0].ID
	tn.postHostileMail(user0)
	tn.postEvents(user0, craftedEvents)
	for _, c := range craftedContacts {
		tn.post("/v1.0/users/"+user0+"/contacts", c)
	}
	var items []Item
	for _, u := range tn.mailboxUsers() {
		st := tn.state(u.ID, "")
		chains := folderChains(st)
		for _, it := range st.Items {
			folder := append([]string{u.UPN, it.Category}, chains[it.CollectionID]...)
			switch it.Kind {
			case "message":
				items = append(items, Item{CategoryEmail, folder, tn.storedMessage(u.ID, it.ID)})
			case "contact":
				items = append(items, Item{CategoryContacts, folder, tn.storedContact(u.ID, it.ID)})
			case "event":
				items = append(items, Item{CategoryEvents, folder, tn.storedEvent(u.ID, it.ID)})
			}
		}
	}
	dir := t.TempDir()
	ds, err := NewDirSink(dir)
	if err != nil {
		t.Fatal(err)
	}
	ds.NoSync = true
	var buf bytes.Buffer
	zs := NewZipSink(&buf)
	var paths []string
	for _, it := range items {
		dp, err := WriteItem(ds, it)
		if err != nil {
			t.Fatal(err)
		}
		zp, err := WriteItem(zs, it)
		if err != nil {
			t.Fatal(err)
		}
		if dp != zp {
			t.Fatalf("directory path %q, archive path %q", dp, zp)
		}
		paths = append(paths, dp)
	}
	if err := ds.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zs.Close(); err != nil {
		t.Fatal(err)
	}
	if ds.Files() != len(items) || zs.Files() != len(items) || ds.Bytes() != zs.Bytes() {
		t.Fatalf("%d items: directory %d files %d bytes, archive %d files %d bytes", len(items), ds.Files(), ds.Bytes(), zs.Files(), zs.Bytes())
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	files := 0
	for _, f := range zr.File {
		checkArchivePath(t, f.Name)
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		if f.Method != zip.Deflate {
			t.Errorf("%s: method %d", f.Name, f.Method)
		}
		if f.Name != paths[files] {
			t.Errorf("entry %d is %q, want %q", files, f.Name, paths[files])
		}
		files++
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		want, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Name)))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: archive and directory differ", f.Name)
		}
	}
	if files != len(items) {
		t.Errorf("%d file entries, want %d", files, len(items))
	}
	t.Logf("%d items, %d bytes, archive %d bytes", len(items), zs.Bytes(), buf.Len())
}

// checkArchivePath checks that an archive path cannot be extracted outside
// the extraction directory on any system.
func checkArchivePath(t *testing.T, name string) {
	t.Helper()
	if strings.HasPrefix(name, "/") || strings.Contains(name, `\`) || strings.Contains(name, ":") {
		t.Errorf("unsafe archive path %q", name)
	}
	for _, seg := range strings.Split(strings.TrimSuffix(name, "/"), "/") {
		if seg == "" || seg == "." || seg == ".." || SafeName(seg) != seg {
			t.Errorf("unsafe segment %q in archive path %q", seg, name)
		}
	}
}
