package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/m365"
)

// children lists a folder by name.
func children(t *testing.T, c *Client, driveID, folderID string) map[string]DriveItem {
	t.Helper()
	kids, err := c.DriveChildren(context.Background(), driveID, folderID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]DriveItem{}
	for _, k := range kids {
		if _, dup := out[k.Name]; dup {
			t.Errorf("two children named %q", k.Name)
		}
		out[k.Name] = k
	}
	return out
}

func TestEnsureDriveFolder(t *testing.T) {
	e := newDriveEnv(t, driveTenant, nil, nil)
	c := e.client(nil)
	ctx := context.Background()
	driveID := e.user(0).DriveID
	creates := func() int64 { return c.Stats().Requests["drive.folder.create"] }

	items, _, _ := driveDelta(t, c, driveID, "")
	tr := tree{}
	tr.apply(items)
	var rootID string
	for _, it := range items {
		if it.Root {
			rootID = it.ID
		}
	}
	if got, err := c.EnsureDriveFolder(ctx, driveID, nil); err != nil || got != rootID {
		t.Errorf("root: %q, %v; want %s", got, err, rootID)
	}

	// An existing folder is found, in any letter case, with one request.
	var existing DriveItem
	for _, it := range items {
		if it.Folder && !it.Root && tr[it.ParentID].Root {
			existing = it
			break
		}
	}
	before := c.Stats().Total()
	if got, err := c.EnsureDriveFolder(ctx, driveID, []string{strings.ToUpper(existing.Name)}); err != nil || got != existing.ID {
		t.Errorf("existing %q: %q, %v", existing.Name, got, err)
	}
	if n := c.Stats().Total() - before; n != 1 || creates() != 0 {
		t.Errorf("%d requests, %d creations for an existing folder", n, creates())
	}

	path := []string{"Restore 2025", existing.Name, `O'Brien # 100% & more ünï 📁`, "deep"}
	id, err := c.EnsureDriveFolder(ctx, driveID, path)
	if err != nil {
		t.Fatal(err)
	}
	if n := creates(); n != 4 {
		t.Errorf("%d folders created, want 4", n)
	}
	parent := rootID
	for i, name := range path {
		kid, ok := children(t, c, driveID, parent)[name]
		if !ok || !kid.Folder {
			t.Fatalf("level %d (%q) missing", i, name)
		}
		parent = kid.ID
	}
	if parent != id {
		t.Errorf("id %s, the folder is %s", id, parent)
	}
	before = creates()
	again, err := c.EnsureDriveFolder(ctx, driveID, path)
	if err != nil || again != id || creates() != before {
		t.Errorf("again: %q, %v, %d more creations", again, err, creates()-before)
	}
	// A deeper path below it creates only what is missing.
	if _, err := c.EnsureDriveFolder(ctx, driveID, append(slices.Clone(path), "deeper")); err != nil || creates() != before+1 {
		t.Errorf("deeper: %v, %d creations", err, creates()-before)
	}

	// A file where a folder should be.
	var file DriveItem
	for _, it := range items {
		if !it.Folder && tr[it.ParentID].Root {
			file = it
			break
		}
	}
	if _, err := c.EnsureDriveFolder(ctx, driveID, []string{file.Name, "x"}); !errors.Is(err, m365.ErrNameConflict) {
		t.Errorf("file in the way: %v", err)
	}
	if _, err := c.EnsureDriveFolder(ctx, driveID, []string{"a", " "}); err == nil {
		t.Error("empty name accepted")
	}
}

// A folder made by someone else between looking for it and creating it is
// found after the creation's conflict.
func TestEnsureDriveFolderConflict(t *testing.T) {
	var hidden atomic.Bool
	hideOnce := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "Taken") && hidden.CompareAndSwap(false, true) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusNotFound)
				_, _ = io.WriteString(w, `{"error":{"code":"itemNotFound","message":"The resource could not be found."}}`)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	e := newDriveEnv(t, driveTenant, hideOnce, nil)
	c := e.client(nil)
	driveID := e.user(0).DriveID
	id := e.mutate(graphsim.MutateOp{Op: "add", Kind: "driveFolder", Drive: driveID, Name: "Taken"})[0].ID
	got, err := c.EnsureDriveFolder(context.Background(), driveID, []string{"Taken"})
	if err != nil || got != id {
		t.Fatalf("got %q, %v; want %s", got, err, id)
	}
	if !hidden.Load() || c.Stats().Requests["drive.folder.create"] != 1 {
		t.Errorf("no conflict happened")
	}
}

func TestDriveChildren(t *testing.T) {
	e := newDriveEnv(t, driveTenant, nil, nil)
	c := e.client(func(cfg *Config) { cfg.PageSize = 4 })
	driveID := e.info.Sites[0].DriveID
	truth := e.driveState(driveID)
	// The state's root-level items against the root's children.
	root, err := c.EnsureDriveFolder(context.Background(), driveID, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := children(t, c, driveID, root)
	want := 0
	for _, it := range truth {
		if it.Path != "" || it.Name == "root" {
			continue
		}
		want++
		k, ok := got[it.Name]
		if !ok || k.ID != it.ID || k.ParentID != root || k.Folder != (it.Kind == "folder") ||
			it.Kind == "file" && (k.Size != it.Size || k.QuickXorHash != it.QuickXorHash) {
			t.Errorf("%q: %+v", it.Name, k)
		}
	}
	if len(got) != want || want <= 4 {
		t.Errorf("%d children, want %d (more than a page)", len(got), want)
	}
	if n := c.Stats().Requests["drive.children"]; n < 2 {
		t.Errorf("%d pages", n)
	}
}

// patterned is n bytes of a pattern, read a little at a time.
type patterned struct {
	r    *rand.Rand
	left int64
}

func newPatterned(seed uint64, n int64) *patterned {
	return &patterned{r: rand.New(rand.NewPCG(seed, seed)), left: n}
}

func (p *patterned) Read(b []byte) (int, error) {
	if p.left == 0 {
		return 0, io.EOF
	}
	n := min(int64(len(b)), p.left, 7000)
	for i := range b[:n] {
		b[i] = byte(p.r.Uint32())
	}
	p.left -= n
	return int(n), nil
}

func patternBytes(seed uint64, n int64) []byte {
	b, _ := io.ReadAll(newPatterned(seed, n))
	return b
}

// uploadWatch records what uploads send.
type uploadWatch struct {
	mu             sync.Mutex
	sessionBodies  []map[string]any
	patchBodies    []map[string]any
	chunksWithAuth int
	chunks         int
}

func (u *uploadWatch) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		record := func(dst *[]map[string]any) {
			b, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(b))
			var doc map[string]any
			_ = json.Unmarshal(b, &doc)
			u.mu.Lock()
			*dst = append(*dst, doc)
			u.mu.Unlock()
		}
		switch {
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/createUploadSession"):
			record(&u.sessionBodies)
		case r.Method == http.MethodPatch && strings.Contains(r.URL.Path, "/drives/"):
			record(&u.patchBodies)
		case strings.HasPrefix(r.URL.Path, "/_upload/") && r.Method == http.MethodPut:
			u.mu.Lock()
			u.chunks++
			if r.Header.Get("Authorization") != "" {
				u.chunksWithAuth++
			}
			u.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	})
}

func TestUploadFile(t *testing.T) {
	watch := &uploadWatch{}
	e := newDriveEnv(t, driveTenant, watch.wrap, nil)
	c := e.client(nil)
	c.driveChunk = 2 * 320 << 10 // 640 KiB chunks
	ctx := context.Background()
	driveID := e.user(2).DriveID
	folder, err := c.EnsureDriveFolder(ctx, driveID, []string{"Uploads"})
	if err != nil {
		t.Fatal(err)
	}
	modified := time.Date(2024, 3, 4, 5, 6, 7, 0, time.UTC)

	check := func(it DriveItem, name string, data []byte) {
		t.Helper()
		if it.Name != name || it.Size != int64(len(data)) || it.ParentID != folder || it.Folder {
			t.Errorf("uploaded as %+v, want %q of %d bytes", it, name, len(data))
		}
		q := NewQuickXorHash()
		q.Write(data)
		if it.QuickXorHash != q.Base64() {
			t.Errorf("%q: hash %s, content's %s", name, it.QuickXorHash, q.Base64())
		}
		got, err := readAllFile(t, c, driveID, it)
		if err != nil {
			t.Fatal(err)
		}
		sameBytes(t, name, got, data)
		for _, s := range stateHashes(e, driveID) {
			if s.ID == it.ID && s.Hash != sha256Hex(data) {
				t.Errorf("%q: state hash differs", name)
			}
		}
	}

	for _, tc := range []struct {
		name string
		size int64
	}{{"empty.txt", 0}, {"small.bin", 3000}, {"simple max.bin", 4 << 20}, {"large.bin", 4<<20 + 12345}, {"whole chunks.bin", 8 * 640 << 10}} {
		data := patternBytes(uint64(tc.size), tc.size)
		it, err := c.UploadFile(ctx, driveID, folder, tc.name, tc.size, modified, newPatterned(uint64(tc.size), tc.size), m365.ConflictFail)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		check(it, tc.name, data)

		// Conflicts, each way.
		other := patternBytes(99, tc.size)
		_, err = c.UploadFile(ctx, driveID, folder, tc.name, tc.size, modified, bytes.NewReader(other), m365.ConflictFail)
		if !errors.Is(err, m365.ErrNameConflict) {
			t.Errorf("%s, fail: %v", tc.name, err)
		}
		renamed, err := c.UploadFile(ctx, driveID, folder, tc.name, tc.size, modified, bytes.NewReader(other), m365.ConflictRename)
		if err != nil {
			t.Fatalf("%s, rename: %v", tc.name, err)
		}
		dot := strings.LastIndexByte(tc.name, '.')
		check(renamed, tc.name[:dot]+" 1"+tc.name[dot:], other)
		replaced, err := c.UploadFile(ctx, driveID, folder, tc.name, tc.size, modified, bytes.NewReader(other), m365.ConflictReplace)
		if err != nil {
			t.Fatalf("%s, replace: %v", tc.name, err)
		}
		if replaced.ID != it.ID {
			t.Errorf("%s: replaced as a new item %s", tc.name, replaced.ID)
		}
		check(replaced, tc.name, other)
	}
	kids := children(t, c, driveID, folder)
	if len(kids) != 10 {
		t.Errorf("%d files in the folder, want 10", len(kids))
	}

	st := c.Stats().Requests
	t.Logf("%d simple uploads, %d sessions, %d chunks", st["drive.upload"], st["drive.uploadSession"], st["drive.uploadChunk"])
	// Four writes of each size, one refused for the conflict; the simple
	// ones that succeed are patched with their time, the sessions carry it.
	if st["drive.upload"] != 3*4 || st["drive.uploadSession"] != 2*4 || st["drive.item.update"] != 3*3 {
		t.Errorf("%d simple uploads, %d sessions, %d updates", st["drive.upload"], st["drive.uploadSession"], st["drive.item.update"])
	}
	// 4 MB + 12345 B in 640 KiB chunks is 7 chunks, 5 MiB 8; the session
	// whose name conflicts learns it at its end.
	if st["drive.uploadChunk"] != 4*(7+8) || watch.chunks != int(st["drive.uploadChunk"]) {
		t.Errorf("%d chunks (%d seen)", st["drive.uploadChunk"], watch.chunks)
	}
	if watch.chunksWithAuth != 0 {
		t.Errorf("%d chunks carried the app's token", watch.chunksWithAuth)
	}
	for _, b := range watch.sessionBodies {
		item, _ := b["item"].(map[string]any)
		fs, _ := item["fileSystemInfo"].(map[string]any)
		if item["@microsoft.graph.conflictBehavior"] == nil || fs["lastModifiedDateTime"] != "2024-03-04T05:06:07Z" || item["fileSize"] == nil {
			t.Errorf("upload session asked as %v", b)
		}
	}
	for _, b := range watch.patchBodies {
		fs, _ := b["fileSystemInfo"].(map[string]any)
		delete(b, "@odata.type")
		if fs["lastModifiedDateTime"] != "2024-03-04T05:06:07Z" || len(b) != 1 {
			t.Errorf("patched with %v", b)
		}
	}

	// Content that does not match its size.
	if _, err := c.UploadFile(ctx, driveID, folder, "short.bin", 10, time.Time{}, strings.NewReader("12345"), m365.ConflictFail); err == nil {
		t.Error("short content uploaded")
	}
	if _, err := c.UploadFile(ctx, driveID, folder, "long.bin", 3, time.Time{}, strings.NewReader("12345"), m365.ConflictFail); err == nil {
		t.Error("long content uploaded")
	}
	if _, err := c.UploadFile(ctx, driveID, folder, "short session.bin", 5<<20, time.Time{}, newPatterned(1, 1<<20), m365.ConflictFail); err == nil {
		t.Error("short content uploaded through a session")
	}
	if _, ok := children(t, c, driveID, folder)["short session.bin"]; ok {
		t.Error("short content left a file")
	}
	if _, err := c.UploadFile(ctx, driveID, folder, "x", 1, time.Time{}, strings.NewReader("1"), "merge"); err == nil {
		t.Error("unknown conflict behaviour accepted")
	}
	// A folder that is gone.
	if _, err := c.UploadFile(ctx, driveID, "01NOSUCHFOLDER", "x", 1, time.Time{}, strings.NewReader("1"), m365.ConflictFail); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing folder: %v", err)
	}
}

// Chunks that fail on the way are sent again from where the session
// stands: one lost before the session saw it, one whose answer was lost.
func TestUploadFileChunkRecovery(t *testing.T) {
	var puts atomic.Int64
	lose := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPut || !strings.HasPrefix(r.URL.Path, "/_upload/") {
				h.ServeHTTP(w, r)
				return
			}
			switch puts.Add(1) {
			case 2: // lost on the way
				_, _ = io.Copy(io.Discard, r.Body)
				panic(http.ErrAbortHandler)
			case 4: // arrived, but the answer is lost
				h.ServeHTTP(httptest.NewRecorder(), r)
				panic(http.ErrAbortHandler)
			}
			h.ServeHTTP(w, r)
		})
	}
	e := newDriveEnv(t, driveTenant, lose, nil)
	c := e.client(nil)
	c.driveChunk = 320 << 10
	ctx := context.Background()
	driveID := e.user(0).DriveID
	size := int64(4<<20 + 1)
	it, err := c.UploadFile(ctx, driveID, "root", "recovered.bin", size, time.Time{}, newPatterned(7, size), m365.ConflictFail)
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAllFile(t, c, driveID, it)
	if err != nil {
		t.Fatal(err)
	}
	sameBytes(t, "recovered", got, patternBytes(7, size))
	st := c.Stats().Requests
	// 13 chunks, one of them sent twice.
	if st["drive.uploadStatus"] != 2 || st["drive.uploadChunk"] != 13+1 {
		t.Errorf("%d status requests, %d chunks sent", st["drive.uploadStatus"], st["drive.uploadChunk"])
	}
}

// comparablePerms reduces a permissions array to what a restore keeps:
// roles, link type and scope, grantees; not ids or link addresses.
func comparablePerms(t *testing.T, raw []byte) []string {
	t.Helper()
	var perms []struct {
		Roles []string `json:"roles"`
		Link  *struct {
			Type, Scope string
		} `json:"link"`
		GrantedToV2 map[string]struct {
			Email string `json:"email"`
		} `json:"grantedToV2"`
	}
	if err := json.Unmarshal(raw, &perms); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range perms {
		s := strings.Join(p.Roles, ",")
		if p.Link != nil {
			s += " link " + p.Link.Type + "/" + p.Link.Scope
		}
		var who []string
		for k, id := range p.GrantedToV2 {
			who = append(who, k+":"+id.Email)
		}
		sort.Strings(who)
		out = append(out, s+" "+strings.Join(who, " "))
	}
	sort.Strings(out)
	return out
}

func TestRestorePermissions(t *testing.T) {
	e := newDriveEnv(t, driveTenant, nil, nil)
	c := e.client(nil)
	ctx := context.Background()
	restored, usersLinks := 0, 0
	var driveIDs []string
	for _, u := range e.info.Users {
		if u.HasDrive && u.Special != "lockeddrive" { // 423 to every call
			driveIDs = append(driveIDs, u.DriveID)
		}
	}
	for _, s := range e.info.Sites {
		driveIDs = append(driveIDs, s.DriveID)
	}
	for _, driveID := range driveIDs {
		items, _, _ := driveDelta(t, c, driveID, "")
		target, err := c.EnsureDriveFolder(ctx, driveID, []string{"Restored permissions"})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if !it.Shared {
				continue
			}
			perms, err := c.DrivePermissions(ctx, driveID, it.ID)
			if err != nil {
				t.Fatal(err)
			}
			want := comparablePerms(t, perms)
			// Links for specific people who are not recorded cannot be
			// re-created.
			unrestorable := slices.ContainsFunc(want, func(s string) bool { return strings.Contains(s, "/users") })
			want = slices.DeleteFunc(want, func(s string) bool { return strings.Contains(s, "/users") })
			copyItem, err := c.UploadFile(ctx, driveID, target, it.ID+".txt", 5, time.Time{}, strings.NewReader("hello"), m365.ConflictReplace)
			if err != nil {
				t.Fatal(err)
			}
			err = c.RestorePermissions(ctx, driveID, copyItem.ID, perms)
			if unrestorable {
				usersLinks++
				if !errors.Is(err, ErrUnrestorable) {
					t.Errorf("%q: %v", it.Name, err)
				}
			} else if err != nil {
				t.Errorf("%q: %v", it.Name, err)
			}
			after, err := c.DrivePermissions(ctx, driveID, copyItem.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got := comparablePerms(t, after); !slices.Equal(got, want) {
				t.Errorf("%q: permissions\n%q\nafter the restore, want\n%q", it.Name, got, want)
			}
			restored++
		}
	}
	t.Logf("%d items' permissions restored (%d with links for specific people)", restored, usersLinks)
	if restored < 3 {
		t.Fatalf("only %d shared items", restored)
	}
	st := c.Stats().Requests
	if st["drive.invite"] == 0 || st["drive.createLink"] == 0 {
		t.Errorf("%d invitations, %d links", st["drive.invite"], st["drive.createLink"])
	}
}

// Stored permissions of every kind: what can be re-created is, the rest is
// reported.
func TestRestorePermissionsKinds(t *testing.T) {
	e := newDriveEnv(t, driveTenant, nil, nil)
	c := e.client(nil)
	ctx := context.Background()
	driveID := e.user(0).DriveID
	it, err := c.UploadFile(ctx, driveID, "root", "shared.txt", 5, time.Time{}, strings.NewReader("hello"), m365.ConflictFail)
	if err != nil {
		t.Fatal(err)
	}
	u2, u3 := e.user(2), e.user(3)
	future := time.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339)
	stored := fmt.Sprintf(`[
	 {"id":"owner","roles":["owner"],"grantedToV2":{"user":{"id":%q,"email":%q}}},
	 {"id":"inherited","roles":["write"],"inheritedFrom":{"driveId":"x","id":"y"},"grantedToV2":{"user":{"email":%q}}},
	 {"id":"grant","roles":["write"],"grantedToV2":{"user":{"email":%q,"displayName":"B"}},"grantedToIdentitiesV2":[{"user":{"email":%q}}]},
	 {"id":"byid","roles":["read"],"grantedToV2":{"user":{"id":%q}}},
	 {"id":"anon","roles":["write"],"link":{"type":"edit","scope":"anonymous"},"expirationDateTime":%q},
	 {"id":"org","roles":["read"],"link":{"type":"view","scope":"organization"},"hasPassword":false},
	 {"id":"expired","roles":["read"],"link":{"type":"view","scope":"anonymous"},"expirationDateTime":"2020-01-01T00:00:00Z"},
	 {"id":"password","roles":["read"],"link":{"type":"view","scope":"anonymous"},"hasPassword":true},
	 {"id":"sitegroup","roles":["read"],"grantedToV2":{"siteGroup":{"displayName":"Site Members","id":"3"}}},
	 {"id":"stranger","roles":["read"],"grantedToV2":{"user":{"email":"someone@elsewhere.example"}}},
	 {"id":"fullcontrol","roles":["sp.full control"],"grantedToV2":{"user":{"email":%q}}}
	]`, e.user(0).ID, e.user(0).UPN, u2.UPN, u2.UPN, u2.UPN, u3.ID, future, u3.UPN)
	err = c.RestorePermissions(ctx, driveID, it.ID, []byte(stored))
	if !errors.Is(err, ErrUnrestorable) {
		t.Fatalf("want ErrUnrestorable, got %v", err)
	}
	for _, id := range []string{"password", "sitegroup", "stranger", "fullcontrol"} {
		if !strings.Contains(err.Error(), id+" (") {
			t.Errorf("%s not reported: %v", id, err)
		}
	}
	for _, id := range []string{"owner", "inherited", "grant", "byid", "anon", "org", "expired"} {
		if strings.Contains(err.Error(), id+" (") {
			t.Errorf("%s reported: %v", id, err)
		}
	}
	after, err := c.DrivePermissions(ctx, driveID, it.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := comparablePerms(t, after)
	want := []string{
		"owner siteUser:" + e.user(0).UPN + " user:" + e.user(0).UPN,
		"read link view/organization ",
		"read user:" + u3.UPN,
		"write link edit/anonymous ",
		"write user:" + u2.UPN,
	}
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("after the restore:\n%q\nwant\n%q", got, want)
	}
	if err := c.RestorePermissions(ctx, driveID, it.ID, []byte(`{"not":"an array"}`)); !errors.Is(err, ErrUnrestorable) {
		t.Errorf("unreadable: %v", err)
	}
	if err := c.RestorePermissions(ctx, driveID, it.ID, []byte(`[]`)); err != nil {
		t.Errorf("none: %v", err)
	}
}

func TestDeleteDriveItem(t *testing.T) {
	e := newDriveEnv(t, driveTenant, nil, nil)
	c := e.client(nil)
	ctx := context.Background()
	driveID := e.user(0).DriveID
	folder, err := c.EnsureDriveFolder(ctx, driveID, []string{"Doomed"})
	if err != nil {
		t.Fatal(err)
	}
	it, err := c.UploadFile(ctx, driveID, folder, "a.txt", 1, time.Time{}, strings.NewReader("a"), m365.ConflictFail)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second time it is gone already
		if err := c.DeleteDriveItem(ctx, driveID, it.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := children(t, c, driveID, folder)["a.txt"]; ok {
		t.Error("file still listed")
	}
	if _, err := c.OpenFile(ctx, driveID, DriveItem{ID: it.ID, Size: 1}); !errors.Is(err, ErrNotFound) {
		t.Errorf("open after delete: %v", err)
	}
	if err := c.DeleteDriveItem(ctx, driveID, folder); err != nil {
		t.Fatal(err)
	}
	for _, s := range e.driveState(driveID) {
		if s.ID == folder || s.ID == it.ID {
			t.Errorf("%q still in the state", s.Name)
		}
	}
}
