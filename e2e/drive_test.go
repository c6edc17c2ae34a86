package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/export"
	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/workflows"
)

func (a exchangeAdmin) driveBackup(t *testing.T, service, flag, resources string) []backup.Summary {
	t.Helper()
	bs := a.create(t, service, "--"+flag, resources)
	for _, b := range bs {
		if b.Status != backup.StatusCompleted {
			t.Fatalf("backup of %s: %s %s", b.ResourceName, b.Status, b.Error)
		}
	}
	return bs
}

// storedFiles reads a drive backup from the repository: library/folder
// path/name → SHA-256 of the stored bytes.
func (a exchangeAdmin) storedFiles(t *testing.T, backupID string) map[string]string {
	t.Helper()
	ctx := context.Background()
	r, idx := a.openBackup(t, backupID)
	out := map[string]string{}
	for _, c := range idx.Collections {
		var state []struct {
			ID       string `json:"id"`
			ObjectID string `json:"objectID"`
		}
		if err := r.ReadJSON(ctx, c.StateID, &state); err != nil {
			t.Fatal(err)
		}
		objects := map[string]string{}
		for _, s := range state {
			objects[s.ID] = s.ObjectID
		}
		var details []backup.Entry
		if err := r.ReadJSON(ctx, c.DetailsID, &details); err != nil {
			t.Fatal(err)
		}
		for _, e := range details {
			rd, err := r.OpenItem(ctx, objects[e.ItemID])
			if err != nil {
				t.Fatal(err)
			}
			h := sha256.New()
			_, err = io.Copy(h, rd)
			rd.Close()
			if err != nil {
				t.Fatal(err)
			}
			out[strings.Join(append(append([]string{e.Library}, e.Path...), e.Name), "/")] = hex.EncodeToString(h.Sum(nil))
		}
	}
	return out
}

// driveTruth is the simulator's ground truth for one user's or site's
// drive in the same shape; library names the drive.
func driveTruth(t *testing.T, sim *simTenant, resourceID, library string) map[string]string {
	t.Helper()
	return driveFacts(t, sim, resourceID, library, false, func(it graphsim.StateItem) string { return it.Hash })
}

// driveModified is the modification time users see of each file of a
// drive, to the second, in driveTruth's shape.
func driveModified(t *testing.T, sim *simTenant, resourceID, library string) map[string]string {
	t.Helper()
	return driveFacts(t, sim, resourceID, library, true, func(it graphsim.StateItem) string { return it.Modified.Format(time.RFC3339) })
}

// driveFacts maps each file of a drive, by library/folder path/name, to
// what fact says of it.
func driveFacts(t *testing.T, sim *simTenant, resourceID, library string, noHashes bool, fact func(graphsim.StateItem) string) map[string]string {
	t.Helper()
	st, err := sim.State(graphsim.StateFilter{Category: "files", NoHashes: noHashes})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, it := range st.Items {
		if it.Kind != "file" || it.ResourceID != resourceID {
			continue
		}
		p := library
		if it.Path != "" {
			p += "/" + it.Path
		}
		out[p+"/"+it.Name] = fact(it)
	}
	return out
}

func userWithDrive(t *testing.T, sim *simTenant) graphsim.InfoUser {
	for _, u := range sim.Info().Users {
		if u.HasDrive {
			return u
		}
	}
	t.Fatal("the simulated tenant has no user with a drive")
	return graphsim.InfoUser{}
}

func TestOneDriveBackupMatchesTenantThroughChanges(t *testing.T) {
	a := newExchangeAdmin(t, tenant, "onedrive-full")
	u := userWithDrive(t, tenant)
	bs := a.driveBackup(t, "onedrive", "user", u.UPN)
	if len(bs) != 1 {
		t.Fatalf("want one backup, got %+v", bs)
	}
	want := driveTruth(t, tenant, u.ID, "OneDrive")
	assertSameItems(t, a.storedFiles(t, bs[0].BackupID), want)

	// Changes: a new file, an edited one, a deleted one, a moved one and a
	// renamed folder; the incremental downloads only the new and edited.
	st, err := tenant.State(graphsim.StateFilter{User: u.UPN, Category: "files", NoHashes: true})
	if err != nil {
		t.Fatal(err)
	}
	var files, folders []graphsim.StateItem
	for _, it := range st.Items {
		switch {
		case it.Kind == "file":
			files = append(files, it)
		case it.Kind == "folder" && it.Name != "root":
			folders = append(folders, it)
		}
	}
	if len(files) < 4 || len(folders) < 1 {
		t.Fatalf("tenant too small: %d files, %d folders", len(files), len(folders))
	}
	res := tenant.Mutate([]graphsim.MutateOp{
		{Op: "add", Kind: "file", User: u.ID, Count: 2},
		{Op: "modify", ID: files[0].ID},
		{Op: "delete", ID: files[1].ID},
		// Renamed too: OneDrive refuses a move onto a name the folder has,
		// the simulator does not.
		{Op: "rename", ID: files[2].ID, Name: "Moved here.bin"},
		{Op: "move", ID: files[2].ID, To: folders[0].ID},
		{Op: "rename", ID: folders[0].ID, Name: "Renamed folder"},
	})
	for _, r := range res {
		if r.Error != "" {
			t.Fatalf("mutate: %+v", r)
		}
	}
	inc := a.driveBackup(t, "onedrive", "user", u.UPN)
	assertSameItems(t, a.storedFiles(t, inc[0].BackupID), driveTruth(t, tenant, u.ID, "OneDrive"))
	if inc[0].Fetched != 3 {
		t.Errorf("incremental downloaded %d files, want 3 (two new, one edited)", inc[0].Fetched)
	}

	// An expired delta token: the drive is enumerated again, nothing
	// unchanged is downloaded, and the backup says so.
	if n, err := tenant.Expire(graphsim.ExpireRequest{Collection: u.DriveID}); err != nil || n != 1 {
		t.Fatalf("expire the drive's delta token: %d %v", n, err)
	}
	again := a.driveBackup(t, "onedrive", "user", u.UPN)
	assertSameItems(t, a.storedFiles(t, again[0].BackupID), driveTruth(t, tenant, u.ID, "OneDrive"))
	if again[0].Fetched != 0 || len(again[0].Resets) != 1 {
		t.Errorf("after expiry: %d files downloaded, resets %v; want none downloaded and the drive named", again[0].Fetched, again[0].Resets)
	}
	for _, b := range []string{bs[0].BackupID, inc[0].BackupID, again[0].BackupID} {
		assertFirstAttempts(t, "CorsoBackupID = '"+b+"'", 1)
	}

	// Export: the files themselves, tree kept.
	dir := t.TempDir()
	mustSucceed(t, a.run(t, "export", "onedrive", dir, "--backup", inc[0].BackupID))
	got := map[string]string{}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		h := sha256.Sum256(b)
		got[filepath.ToSlash(rel)] = hex.EncodeToString(h[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wantFiles := map[string]string{}
	for k, h := range driveTruth(t, tenant, u.ID, "") {
		segs := strings.Split(strings.TrimPrefix(k, "/"), "/")
		for i, s := range segs {
			segs[i] = export.SafeName(s)
		}
		wantFiles[strings.Join(segs, "/")] = h
	}
	assertSameItems(t, got, wantFiles)
}

// siteTruth is the simulator's ground truth for every library of a site,
// in storedFiles' shape: library/folder path/name → hash.
func siteTruth(t *testing.T, sim *simTenant, siteID string) map[string]string {
	t.Helper()
	st, err := sim.State(graphsim.StateFilter{Category: "files"})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, it := range st.Items {
		if it.Kind != "file" || it.ResourceID != siteID {
			continue
		}
		if it.Library == "" {
			t.Fatalf("the ground truth names no library for %s", it.ID)
		}
		out[strings.Join(append(append([]string{it.Library}, pathSegments(it.Path)...), it.Name), "/")] = it.Hash
	}
	return out
}

// siteURL is a site's web URL, from the ground truth.
func siteURL(t *testing.T, sim *simTenant, siteID string) string {
	t.Helper()
	st, err := sim.State(graphsim.StateFilter{Category: "files", NoHashes: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range st.Items {
		if it.ResourceID == siteID {
			return it.Resource
		}
	}
	t.Fatalf("the ground truth has no file of site %s", siteID)
	return ""
}

func pathSegments(p string) []string {
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// librariesOf counts the files of each library in a map keyed
// library/path/name.
func librariesOf(files map[string]string) map[string]int {
	out := map[string]int{}
	for k := range files {
		lib, _, _ := strings.Cut(k, "/")
		out[lib]++
	}
	return out
}

// siteWithLibraries is a site of the tenant with more than one document
// library.
func siteWithLibraries(t *testing.T, sim *simTenant) graphsim.InfoRef {
	t.Helper()
	for _, s := range sim.Info().Sites {
		if len(s.Libraries) > 1 {
			return s
		}
	}
	t.Fatal("the simulated tenant has no site with several document libraries")
	return graphsim.InfoRef{}
}

func TestSharePointBackupOfEverySite(t *testing.T) {
	a := newExchangeAdmin(t, tenant, "sharepoint-all")
	bs := a.driveBackup(t, "sharepoint", "site", "*")
	sites := tenant.Info().Sites
	if len(bs) == 0 || len(bs) != len(sites) {
		t.Fatalf("%d backups for %d sites", len(bs), len(sites))
	}
	libraries := map[string][]graphsim.InfoLibrary{}
	for _, s := range sites {
		libraries[s.ID] = s.Libraries
	}
	several := 0
	for _, b := range bs {
		got := a.storedFiles(t, b.BackupID)
		want := siteTruth(t, tenant, b.Resource)
		assertSameItems(t, got, want)
		// Every library of the site is in its backup, each with its files.
		perLibrary := librariesOf(got)
		for _, l := range libraries[b.Resource] {
			if perLibrary[l.Name] == 0 {
				t.Errorf("%s: the backup holds no file of library %q (%v)", b.ResourceName, l.Name, perLibrary)
			}
		}
		if len(libraries[b.Resource]) > 1 {
			several++
		}
	}
	if several == 0 {
		t.Error("no site backed up had several libraries")
	}
}

// detailsLibraries runs `backup details sharepoint` with args and maps
// each selected file's id to its library.
func (a exchangeAdmin) detailsLibraries(t *testing.T, id string, args ...string) map[string]string {
	t.Helper()
	r := a.run(t, append([]string{"backup", "details", "sharepoint", "--backup", id, "--json"}, args...)...)
	mustSucceed(t, r)
	var d workflows.BackupDetailsResult
	if err := json.Unmarshal([]byte(r.Stdout), &d); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range d.Entries {
		out[e.ItemID] = e.Library
	}
	return out
}

// exportedHashes reads an export directory: slash-separated path → hash.
func exportedHashes(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for name, data := range readExportDir(t, dir) {
		h := sha256.Sum256(data)
		out[name] = hex.EncodeToString(h[:])
	}
	return out
}

// safeKeys makes each segment of library/path/name keys safe as export
// does.
func safeKeys(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, h := range m {
		segs := strings.Split(k, "/")
		for i, s := range segs {
			segs[i] = export.SafeName(s)
		}
		out[strings.Join(segs, "/")] = h
	}
	return out
}

// onlyLibrary keeps the library/path/name entries of one library.
func onlyLibrary(m map[string]string, library string) map[string]string {
	out := map[string]string{}
	for k, h := range m {
		if strings.HasPrefix(k, library+"/") {
			out[k] = h
		}
	}
	return out
}

// TestSharePointLibrariesKeptApart backs up a site with several document
// libraries, whose files share names and folders across libraries with
// other contents, and checks each library on its own through backup,
// details, export and restore.
func TestSharePointLibrariesKeptApart(t *testing.T) {
	a := newExchangeAdmin(t, tenant, "sharepoint-libraries")
	site := siteWithLibraries(t, tenant)
	want := siteTruth(t, tenant, site.ID)
	perLibrary := librariesOf(want)
	for _, l := range site.Libraries {
		if perLibrary[l.Name] == 0 {
			t.Fatalf("library %q of %s holds no file: %v", l.Name, site.Name, perLibrary)
		}
	}
	// By URL: --site splits its value at commas, which site ids hold.
	bs := a.driveBackup(t, "sharepoint", "site", siteURL(t, tenant, site.ID))
	if len(bs) != 1 {
		t.Fatalf("want one backup of %s, got %+v", site.Name, bs)
	}
	id := bs[0].BackupID
	assertSameItems(t, a.storedFiles(t, id), want)

	// The ground truth's ids and libraries, for the selectors.
	st, err := tenant.State(graphsim.StateFilter{Category: "files", NoHashes: true})
	if err != nil {
		t.Fatal(err)
	}
	libraryOf := map[string]string{}
	for _, it := range st.Items {
		if it.Kind == "file" && it.ResourceID == site.ID {
			libraryOf[it.ID] = it.Library
		}
	}
	assertSameMap(t, "details of every library", a.detailsLibraries(t, id), libraryOf)
	for _, l := range site.Libraries {
		wantOne := map[string]string{}
		for item, lib := range libraryOf {
			if lib == l.Name {
				wantOne[item] = lib
			}
		}
		assertSameMap(t, "details --library "+l.Name, a.detailsLibraries(t, id, "--library", strings.ToLower(l.Name)), wantOne)
	}

	// Export: each library under its name, and one library alone.
	dir := t.TempDir()
	mustSucceed(t, a.run(t, "export", "sharepoint", dir, "--backup", id))
	assertSameItems(t, exportedHashes(t, dir), safeKeys(want))
	second := site.Libraries[1].Name
	dir = t.TempDir()
	mustSucceed(t, a.run(t, "export", "sharepoint", dir, "--backup", id, "--library", second))
	assertSameItems(t, exportedHashes(t, dir), safeKeys(onlyLibrary(want, second)))

	// Restore into the site itself: every library's files come back into
	// that library, under the destination.
	restoredIn := func(dest string) map[string]string {
		out := map[string]string{}
		for k, h := range siteTruth(t, tenant, site.ID) {
			lib, rest, _ := strings.Cut(k, "/")
			if r, ok := strings.CutPrefix(rest, dest+"/"); ok {
				out[lib+"/"+r] = h
			}
		}
		return out
	}
	res := a.restoreDrive(t, "sharepoint", "--backup", id, "--destination", "Libraries apart", "--no-permissions")
	if res.Total.Restored != int64(len(want)) || res.Total.Failed != 0 {
		t.Fatalf("restore: %+v, want %d restored", res.Total, len(want))
	}
	assertSameItems(t, restoredIn("Libraries apart"), want)

	// One library by selector: only that library receives files.
	res = a.restoreDrive(t, "sharepoint", "--backup", id, "--destination", "One library", "--library", second, "--no-permissions")
	if res.Total.Restored != int64(perLibrary[second]) || res.Total.Failed != 0 {
		t.Fatalf("restore --library %s: %+v, want %d restored", second, res.Total, perLibrary[second])
	}
	assertSameItems(t, restoredIn("One library"), onlyLibrary(want, second))

	// To a site with only Documents: selecting that library restores it;
	// the others have no library of their name there.
	var other graphsim.InfoRef
	for _, s := range tenant.Info().Sites {
		if len(s.Libraries) == 1 && s.Special == "" {
			other = s
		}
	}
	if other.ID == "" {
		t.Fatal("the simulated tenant has no site with one library")
	}
	first := site.Libraries[0].Name
	res = a.restoreDrive(t, "sharepoint", "--backup", id, "--to-resource", other.ID, "--destination", "From "+site.Name,
		"--library", first, "--no-permissions")
	if res.Total.Restored != int64(perLibrary[first]) || res.Total.Failed != 0 {
		t.Fatalf("restore --library %s to %s: %+v, want %d restored", first, other.Name, res.Total, perLibrary[first])
	}
	got := map[string]string{}
	for k, h := range siteTruth(t, tenant, other.ID) {
		lib, rest, _ := strings.Cut(k, "/")
		if r, ok := strings.CutPrefix(rest, "From "+site.Name+"/"); ok {
			got[lib+"/"+r] = h
		}
	}
	assertSameItems(t, got, onlyLibrary(want, first))
	r := a.run(t, "restore", "sharepoint", "--backup", id, "--to-resource", other.ID, "--destination", "Everything", "--no-permissions")
	mustFail(t, r, time.Minute, "no document library named")
}

// usersWithDrive lists the users that have a OneDrive.
func usersWithDrive(sim *simTenant) []graphsim.InfoUser {
	var out []graphsim.InfoUser
	for _, u := range sim.Info().Users {
		if u.HasDrive {
			out = append(out, u)
		}
	}
	return out
}

// below keeps the entries of m under prefix/, without it.
func below(m map[string]string, prefix string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if rest, ok := strings.CutPrefix(k, prefix+"/"); ok {
			out[rest] = v
		}
	}
	return out
}

func (a exchangeAdmin) restoreDrive(t *testing.T, service string, args ...string) workflows.RestoreResult {
	t.Helper()
	r := a.run(t, append([]string{"restore", service, "--json"}, args...)...)
	mustSucceed(t, r)
	var out restoreJSON
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
		t.Fatalf("parse: %v\n%s", err, r.Stdout)
	}
	return out.RestoreResult
}

func TestOneDriveRestoreToAnotherUser(t *testing.T) {
	a := newExchangeAdmin(t, tenant, "onedrive-restore")
	us := usersWithDrive(tenant)
	if len(us) < 2 {
		t.Fatal("the tenant needs two users with a drive")
	}
	from, to := us[0], us[1]
	// A folder of from's shared with a person, one file with a person and
	// one by link, so permissions are restored too, folders' included.
	c := &simClient{sim: tenant}
	st, err := tenant.State(graphsim.StateFilter{User: from.UPN, Category: "files", NoHashes: true})
	if err != nil {
		t.Fatal(err)
	}
	withFiles := map[string]bool{}
	for _, it := range st.Items {
		if it.Kind == "file" {
			withFiles[it.Path] = true
		}
	}
	for _, it := range st.Items {
		if it.Kind == "folder" && it.Path == "" && it.Name != "root" && withFiles[it.Name] {
			c.post(t, "/v1.0/drives/"+from.DriveID+"/items/"+it.ID+"/invite",
				`{"recipients":[{"email":"`+to.UPN+`"}],"roles":["read"],"requireSignIn":true,"sendInvitation":false}`)
			break
		}
	}
	shared := 0
	for _, it := range st.Items {
		if it.Kind != "file" || shared == 2 {
			continue
		}
		base := "/v1.0/drives/" + from.DriveID + "/items/" + it.ID
		if shared == 0 {
			c.post(t, base+"/invite", `{"recipients":[{"email":"`+to.UPN+`"}],"roles":["write"],"requireSignIn":true,"sendInvitation":false}`)
		} else {
			c.post(t, base+"/createLink", `{"type":"view","scope":"organization"}`)
		}
		shared++
	}
	id := a.driveBackup(t, "onedrive", "user", from.UPN)[0].BackupID
	want := below(driveTruth(t, tenant, from.ID, "x"), "x")
	restored := func() map[string]string { return below(below(driveTruth(t, tenant, to.ID, "x"), "x"), "Restored") }
	args := []string{"--backup", id, "--to-resource", to.UPN, "--destination", "Restored"}

	res := a.restoreDrive(t, "onedrive", args...)
	if res.Total.Restored != int64(len(want)) || res.Total.Failed != 0 {
		t.Fatalf("restore: %+v, want %d restored", res.Total, len(want))
	}
	assertSameItems(t, restored(), want)
	wantModified := below(driveModified(t, tenant, from.ID, "x"), "x")
	restoredModified := func() map[string]string {
		return below(below(driveModified(t, tenant, to.ID, "x"), "x"), "Restored")
	}
	assertSameItems(t, restoredModified(), wantModified)

	assertSameSharing(t, tenant, from, to, "Restored")

	res = a.restoreDrive(t, "onedrive", args...)
	if res.Total.Skipped != int64(len(want)) || res.Total.Restored != 0 {
		t.Fatalf("restore with skip: %+v", res.Total)
	}
	res = a.restoreDrive(t, "onedrive", append(args, "--collisions", "replace")...)
	if res.Total.Replaced != int64(len(want)) {
		t.Fatalf("restore with replace: %+v", res.Total)
	}
	assertSameItems(t, restored(), want)
	assertSameItems(t, restoredModified(), wantModified)
	res = a.restoreDrive(t, "onedrive", append(args, "--collisions", "copy")...)
	if res.Total.Restored != int64(len(want)) {
		t.Fatalf("restore with copy: %+v", res.Total)
	}
	if n := len(restored()); n != 2*len(want) {
		t.Fatalf("after copy: %d files, want %d", n, 2*len(want))
	}
	assertFirstAttempts(t, "CorsoOperation = 'restore' AND CorsoBackupID = '"+id+"'", 4)

	// One folder by selector, into another destination.
	var folder string
	for k := range want {
		if dir, _, ok := strings.Cut(k, "/"); ok {
			folder = dir
			break
		}
	}
	if folder == "" {
		t.Fatal("no file in a folder")
	}
	res = a.restoreDrive(t, "onedrive", "--backup", id, "--to-resource", to.UPN, "--destination", "OneFolder", "--folder", "/"+folder)
	wantFolder := map[string]string{}
	for k, h := range want {
		if strings.HasPrefix(k, folder+"/") {
			wantFolder[k] = h
		}
	}
	assertSameItems(t, below(below(driveTruth(t, tenant, to.ID, "x"), "x"), "OneFolder"), wantFolder)
}

// sharing lists an item's own permissions (not the owner's), without ids:
// "link type scope" or "grant roles email".
func sharing(t *testing.T, c *simClient, driveID, itemID string) []string {
	t.Helper()
	var page struct {
		Value []struct {
			Roles []string `json:"roles"`
			Link  *struct {
				Type  string `json:"type"`
				Scope string `json:"scope"`
			} `json:"link"`
			GrantedToV2 struct {
				User struct {
					Email string `json:"email"`
				} `json:"user"`
			} `json:"grantedToV2"`
		} `json:"value"`
	}
	if err := json.Unmarshal(c.get(t, "/v1.0/drives/"+driveID+"/items/"+itemID+"/permissions"), &page); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range page.Value {
		switch {
		case p.Link != nil:
			out = append(out, "link "+p.Link.Type+" "+p.Link.Scope)
		case len(p.Roles) == 1 && p.Roles[0] == "owner":
		default:
			out = append(out, "grant "+strings.Join(p.Roles, ",")+" "+p.GrantedToV2.User.Email)
		}
	}
	sort.Strings(out)
	return out
}

// assertSameSharing compares the permissions of every shared file of from
// with its restored copy in to's drive under dest.
func assertSameSharing(t *testing.T, sim *simTenant, from, to graphsim.InfoUser, dest string) {
	t.Helper()
	c := &simClient{sim: sim}
	src, err := sim.State(graphsim.StateFilter{User: from.UPN, Category: "files", NoHashes: true})
	if err != nil {
		t.Fatal(err)
	}
	dst, err := sim.State(graphsim.StateFilter{User: to.UPN, Category: "files", NoHashes: true})
	if err != nil {
		t.Fatal(err)
	}
	restored := map[string]string{}
	for _, it := range dst.Items {
		restored[it.Path+"/"+it.Name] = it.ID
	}
	// Restores create the folders on the way to restored files only.
	holdsFiles := map[string]bool{}
	for _, it := range src.Items {
		for p := it.Path; it.Kind == "file" && p != ""; p = parentPath(p) {
			holdsFiles[p] = true
		}
	}
	shared, folders := 0, 0
	for _, it := range src.Items {
		full := it.Name
		if it.Path != "" {
			full = it.Path + "/" + it.Name
		}
		if it.Kind == "folder" && (it.Path == "" && it.Name == "root" || !holdsFiles[full]) {
			continue
		}
		want := sharing(t, c, from.DriveID, it.ID)
		if len(want) == 0 {
			continue
		}
		path := dest
		if it.Path != "" {
			path += "/" + it.Path
		}
		id, ok := restored[path+"/"+it.Name]
		if !ok {
			t.Fatalf("%s/%s was not restored", path, it.Name)
		}
		if got := sharing(t, c, to.DriveID, id); strings.Join(got, "; ") != strings.Join(want, "; ") {
			t.Errorf("%s %s: sharing %q, want %q", it.Kind, it.Name, got, want)
		}
		if it.Kind == "folder" {
			folders++
		} else {
			shared++
		}
	}
	if shared == 0 || folders == 0 {
		t.Fatalf("%d shared files and %d shared folders to compare", shared, folders)
	}
	t.Logf("%d shared files and %d shared folders restored with their permissions", shared, folders)
}

// parentPath drops the last name of a slash-separated path.
func parentPath(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return ""
}

func TestSharePointRestoreToAnotherSite(t *testing.T) {
	a := newExchangeAdmin(t, tenant, "sharepoint-restore")
	sites := tenant.Info().Sites
	if len(sites) < 2 {
		t.Fatalf("the tenant has %d sites, want two", len(sites))
	}
	bs := a.driveBackup(t, "sharepoint", "site", "*")
	by := map[string]string{}
	for _, b := range bs {
		by[b.Resource] = b.BackupID
	}
	from, to := sites[0], sites[1]
	want := map[string]string{}
	for k, h := range driveTruth(t, tenant, from.ID, "") {
		want[strings.TrimPrefix(k, "/")] = h
	}
	res := a.restoreDrive(t, "sharepoint", "--backup", by[from.ID], "--to-resource", to.ID, "--destination", "FromAnotherSite", "--no-permissions")
	if res.Total.Restored != int64(len(want)) || res.Total.Failed != 0 {
		t.Fatalf("restore: %+v, want %d restored", res.Total, len(want))
	}
	got := map[string]string{}
	for k, h := range driveTruth(t, tenant, to.ID, "") {
		if rest, ok := strings.CutPrefix(k, "/FromAnotherSite/"); ok {
			got[rest] = h
		}
	}
	assertSameItems(t, got, want)
}
