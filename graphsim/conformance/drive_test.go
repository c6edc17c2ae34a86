package conformance

import (
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/microsoftgraph/msgraph-sdk-go/drives"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/corso-temporal/corso/graphsim"
)

// deltaRound is one drive delta round followed to its deltaLink.
type deltaRound struct {
	pages     [][]models.DriveItemable
	nextLinks []string
	deltaLink string
}

// items returns the round's items by id; a later occurrence wins, as Graph
// documents for items that appear more than once.
func (r deltaRound) items() map[string]models.DriveItemable {
	out := map[string]models.DriveItemable{}
	for _, p := range r.pages {
		for _, it := range p {
			out[deref(it.GetId())] = it
		}
	}
	return out
}

func (r deltaRound) count() int {
	n := 0
	for _, p := range r.pages {
		n += len(p)
	}
	return n
}

// deltaPage is what both the delta() and the delta(token=) responses offer.
type deltaPage interface {
	GetValue() []models.DriveItemable
	GetOdataNextLink() *string
	GetOdataDeltaLink() *string
}

// followDrive pages a drive delta round from its first response, following
// each @odata.nextLink verbatim with a builder made from the raw URL, as
// clients must (the SDK does not re-apply $top or $select to raw URLs).
func (e *env) followDrive(first deltaPage, err error) deltaRound {
	e.t.Helper()
	var r deltaRound
	page := first
	for i := 0; ; i++ {
		if err != nil {
			e.t.Fatalf("delta page %d: %v", i, err)
		}
		if i > 200 {
			e.t.Fatalf("delta round did not end after %d pages", i)
		}
		r.pages = append(r.pages, page.GetValue())
		next, delta := deref(page.GetOdataNextLink()), deref(page.GetOdataDeltaLink())
		switch {
		case next != "" && delta != "":
			e.t.Fatalf("page %d has both @odata.nextLink and @odata.deltaLink", i)
		case next == "" && delta == "":
			e.t.Fatalf("page %d has neither @odata.nextLink nor @odata.deltaLink", i)
		case delta != "":
			r.deltaLink = delta
			return r
		}
		r.nextLinks = append(r.nextLinks, next)
		page, err = drives.NewItemItemsItemDeltaRequestBuilder(next, e.adapter).GetAsDeltaGetResponse(e.ctx, nil)
	}
}

// rootDelta runs an initial round of the SDK's
// Drives().ByDriveId(id).Items().ByDriveItemId("root").Delta() with $top.
func (e *env) rootDelta(driveID string, top int32) deltaRound {
	e.t.Helper()
	cfg := &drives.ItemItemsItemDeltaRequestBuilderGetRequestConfiguration{
		QueryParameters: &drives.ItemItemsItemDeltaRequestBuilderGetQueryParameters{Top: &top},
	}
	resp, err := e.client.Drives().ByDriveId(driveID).Items().ByDriveItemId("root").Delta().GetAsDeltaGetResponse(e.ctx, cfg)
	return e.followDrive(resp, err)
}

// fromLink runs a round from a deltaLink (or any delta URL).
func (e *env) fromLink(link string) deltaRound {
	e.t.Helper()
	resp, err := drives.NewItemItemsItemDeltaRequestBuilder(link, e.adapter).GetAsDeltaGetResponse(e.ctx, nil)
	return e.followDrive(resp, err)
}

// parentPath is the parentReference.path of an item in folder dir (a
// path below the root, "" for the root itself).
func parentPath(dir string) string {
	if dir == "" {
		return "/drive/root:"
	}
	return "/drive/root:/" + dir
}

// downloadURL returns the item's @microsoft.graph.downloadUrl annotation.
func downloadURL(it models.DriveItemable) string {
	switch v := it.GetAdditionalData()["@microsoft.graph.downloadUrl"].(type) {
	case *string:
		return deref(v)
	case string:
		return v
	}
	return ""
}

func quickXorOf(it models.DriveItemable) string {
	if f := it.GetFile(); f != nil && f.GetHashes() != nil {
		return deref(f.GetHashes().GetQuickXorHash())
	}
	return ""
}

func parentID(it models.DriveItemable) string {
	if p := it.GetParentReference(); p != nil {
		return deref(p.GetId())
	}
	return ""
}

func stateByID(st graphsim.State, resourceID string) map[string]graphsim.StateItem {
	out := map[string]graphsim.StateItem{}
	for _, it := range st.Items {
		if resourceID == "" || it.ResourceID == resourceID {
			out[it.ID] = it
		}
	}
	return out
}

// checkInitialRound compares an initial round with the ground truth: the
// same live items, each file with its download URL, quickXorHash and size,
// folders with a folder facet, one root, and parentReference without a
// path (delta never sends one).
func checkInitialRound(t *testing.T, r deltaRound, truth map[string]graphsim.StateItem, driveID string) {
	t.Helper()
	got := r.items()
	for id := range truth {
		if _, ok := got[id]; !ok {
			t.Errorf("item %s (%s) of the ground truth is missing from the delta round", id, truth[id].Name)
		}
	}
	roots := 0
	for id, it := range got {
		want, ok := truth[id]
		if !ok {
			t.Errorf("delta returned %s (%s), which is not in the ground truth", id, deref(it.GetName()))
			continue
		}
		if it.GetDeleted() != nil {
			t.Errorf("initial round returned %s with a deleted facet", id)
		}
		if it.GetRoot() != nil {
			roots++
			if it.GetFolder() == nil {
				t.Errorf("root %s has no folder facet", id)
			}
			continue
		}
		if got := deref(it.GetName()); got != want.Name {
			t.Errorf("%s: name %q, want %q", id, got, want.Name)
		}
		pr := it.GetParentReference()
		switch {
		case pr == nil || deref(pr.GetId()) == "":
			t.Errorf("%s: no parentReference.id", id)
		case deref(pr.GetDriveId()) != driveID:
			t.Errorf("%s: parentReference.driveId %q, want %q", id, deref(pr.GetDriveId()), driveID)
		case deref(pr.GetPath()) != parentPath(want.Path):
			// Business drives and document libraries name the parent's
			// path in delta too (graphsim/drive.go driveItemObject).
			t.Errorf("%s: parentReference.path %q in delta, want %q", id, deref(pr.GetPath()), parentPath(want.Path))
		}
		switch want.Kind {
		case "folder":
			if it.GetFolder() == nil || it.GetFile() != nil {
				t.Errorf("%s: folder without a folder facet (or with a file facet)", id)
			}
			if downloadURL(it) != "" {
				t.Errorf("%s: folder carries @microsoft.graph.downloadUrl", id)
			}
		case "file":
			if it.GetFile() == nil {
				t.Errorf("%s: file without a file facet", id)
				continue
			}
			if q := quickXorOf(it); q == "" || q != want.QuickXorHash {
				t.Errorf("%s: quickXorHash %q, ground truth %q", id, q, want.QuickXorHash)
			}
			if s := deref(it.GetSize()); s != want.Size {
				t.Errorf("%s: size %d, ground truth %d", id, s, want.Size)
			}
			u, err := url.Parse(downloadURL(it))
			if err != nil || !u.IsAbs() || u.Query().Get("tempauth") == "" {
				t.Errorf("%s: @microsoft.graph.downloadUrl %q is not a pre-authenticated (tempauth) URL", id, downloadURL(it))
			}
		}
	}
	if roots != 1 {
		t.Errorf("round has %d items with a root facet, want 1", roots)
	}
}

// TestDriveDeltaPagesWithTopUntilDeltaLink enumerates a OneDrive with the
// SDK's root delta() and $top: several pages of at most $top items, each
// but the last with only an absolute Graph @odata.nextLink (carrying the
// query options: the SDK does not repeat $top on raw URLs), the last with
// only an @odata.deltaLink; together exactly the ground truth's items.
func TestDriveDeltaPagesWithTopUntilDeltaLink(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	u := e.user0()
	const top = 8
	r := e.rootDelta(u.DriveID, top)
	if len(r.pages) < 3 {
		t.Fatalf("%d pages with $top=%d, want several", len(r.pages), top)
	}
	for i, p := range r.pages {
		if len(p) > top {
			t.Errorf("page %d has %d items, more than $top=%d", i, len(p), top)
		}
	}
	for _, l := range append(append([]string{}, r.nextLinks...), r.deltaLink) {
		if !strings.HasPrefix(l, graphRoot+"/") {
			t.Errorf("link %q is not an absolute Graph v1.0 URL", l)
		}
	}
	if r.count() != len(r.items()) {
		t.Logf("note: %d entries for %d items (duplicates are allowed by Graph)", r.count(), len(r.items()))
	}
	// Every follow-up request was the nextLink, verbatim.
	reqs := e.requests("/delta")
	if len(reqs) != len(r.pages) {
		t.Fatalf("%d delta requests for %d pages", len(reqs), len(r.pages))
	}
	for i, l := range r.nextLinks {
		lu, _ := url.Parse(l)
		if reqs[i+1].RequestURI != lu.RequestURI() {
			t.Errorf("page %d requested %s, nextLink was %s", i+1, reqs[i+1].RequestURI, lu.RequestURI())
		}
	}
	truth := stateByID(e.state(u.ID, "files"), u.ID)
	checkInitialRound(t, r, truth, u.DriveID)
}

// TestDriveDeltaSecondRoundReportsExactlyTheMutations applies one add,
// modify, delete, move and rename (of a file and of a folder) through
// /_sim/mutate and checks that the deltaLink round reports each with its
// new state (deleted items with a deleted facet), nothing unrelated, not
// the descendants of the renamed folder, and that a third round is empty.
func TestDriveDeltaSecondRoundReportsExactlyTheMutations(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	u := e.user0()
	r1 := e.rootDelta(u.DriveID, 50)
	before := r1.items()

	parent := map[string]string{}
	children := map[string][]string{}
	var files, folders []string
	rootID := ""
	for id, it := range before {
		switch {
		case it.GetRoot() != nil:
			rootID = id
		case it.GetFolder() != nil:
			folders = append(folders, id)
		default:
			files = append(files, id)
		}
		if it.GetRoot() == nil {
			parent[id] = parentID(it)
			children[parentID(it)] = append(children[parentID(it)], id)
		}
	}
	sort.Strings(files)
	sort.Strings(folders)
	if len(folders) < 2 || len(files) < 4 {
		t.Fatalf("tenant too small: %d folders, %d files", len(folders), len(files))
	}
	// The destination of the add and the move, and a renamed folder with
	// children that is neither the destination nor above it.
	dest := folders[0]
	renFolder := ""
	for _, f := range folders[1:] {
		if len(children[f]) > 0 && !isAncestor(parent, f, dest) {
			renFolder = f
			break
		}
	}
	if renFolder == "" {
		t.Fatal("no folder with children to rename")
	}
	// Files outside the renamed folder, so that its children stay
	// unchanged, and outside the destination for the move.
	var pick []string
	for _, f := range files {
		if parent[f] != dest && !isAncestor(parent, renFolder, f) {
			pick = append(pick, f)
		}
	}
	if len(pick) < 4 {
		t.Fatalf("only %d candidate files", len(pick))
	}
	modFile, delFile, movFile, renFile := pick[0], pick[1], pick[2], pick[3]
	const newFileName, newFolderName, addedName = "renamed by conformance.bin", "Renamed folder", "added by conformance.txt"

	res := e.mutate(
		graphsim.MutateOp{Op: "add", Kind: "file", User: u.UPN, Parent: dest, Name: addedName},
		graphsim.MutateOp{Op: "modify", ID: modFile},
		graphsim.MutateOp{Op: "delete", ID: delFile},
		graphsim.MutateOp{Op: "move", ID: movFile, To: dest},
		graphsim.MutateOp{Op: "rename", ID: renFile, Name: newFileName},
		graphsim.MutateOp{Op: "rename", ID: renFolder, Name: newFolderName},
	)
	added := res[0].ID
	for _, m := range res {
		if m.NewID != "" {
			t.Errorf("%s of %s gave a new id %s; drive items keep their ids", m.Op, m.ID, m.NewID)
		}
	}

	r2 := e.fromLink(r1.deltaLink)
	got := r2.items()
	truth := stateByID(e.state(u.ID, "files"), u.ID)
	want := map[string]bool{added: true, modFile: true, delFile: true, movFile: true, renFile: true, renFolder: true}
	for id := range want {
		if _, ok := got[id]; !ok {
			t.Errorf("second round misses changed item %s", id)
		}
	}

	// Real OneDrive for Business may also report the ancestors of changed
	// items (their eTags change); anything else is unrelated.
	allowed := map[string]bool{rootID: true}
	for _, id := range []string{dest, parent[modFile], parent[delFile], parent[movFile], parent[renFile], parent[renFolder]} {
		for a := id; a != ""; a = parent[a] {
			allowed[a] = true
		}
	}
	for id, it := range got {
		switch {
		case want[id]:
		case allowed[id] && it.GetFolder() != nil && it.GetDeleted() == nil:
			t.Logf("note: ancestor folder %s reported in the second round", id)
		case parent[id] == renFolder:
			t.Errorf("child %s of the renamed folder was reported; Graph does not emit descendants of a renamed folder", id)
		default:
			t.Errorf("unchanged item %s (%s) reported in the second round", id, deref(it.GetName()))
		}
	}

	if it := got[added]; it != nil {
		if deref(it.GetName()) != addedName || parentID(it) != dest || it.GetFile() == nil || it.GetDeleted() != nil {
			t.Errorf("added item: name %q parent %s file %v deleted %v", deref(it.GetName()), parentID(it), it.GetFile() != nil, it.GetDeleted() != nil)
		}
		if q := quickXorOf(it); q == "" || q != truth[added].QuickXorHash {
			t.Errorf("added item: quickXorHash %q, ground truth %q", q, truth[added].QuickXorHash)
		}
		if downloadURL(it) == "" {
			t.Error("added item has no @microsoft.graph.downloadUrl")
		}
	}
	if it := got[modFile]; it != nil {
		old := before[modFile]
		if it.GetDeleted() != nil {
			t.Error("modified item reported deleted")
		}
		if quickXorOf(it) == quickXorOf(old) || quickXorOf(it) != truth[modFile].QuickXorHash {
			t.Errorf("modified item: quickXorHash %q (was %q, ground truth %q)", quickXorOf(it), quickXorOf(old), truth[modFile].QuickXorHash)
		}
		if deref(it.GetETag()) == deref(old.GetETag()) || deref(it.GetCTag()) == deref(old.GetCTag()) {
			t.Errorf("modified item kept eTag %q / cTag %q", deref(it.GetETag()), deref(it.GetCTag()))
		}
	}
	if it := got[delFile]; it != nil {
		if it.GetDeleted() == nil || deref(it.GetDeleted().GetState()) != "deleted" {
			t.Errorf("deleted item has no deleted facet with state \"deleted\"")
		}
		if pr := it.GetParentReference(); pr == nil || deref(pr.GetDriveId()) != u.DriveID {
			t.Errorf("deleted item without parentReference.driveId")
		}
		if _, live := truth[delFile]; live {
			t.Error("deleted item is still in the ground truth")
		}
	}
	if it := got[movFile]; it != nil {
		if parentID(it) != dest || it.GetDeleted() != nil {
			t.Errorf("moved item: parent %s, want %s (deleted %v)", parentID(it), dest, it.GetDeleted() != nil)
		}
	}
	if it := got[renFile]; it != nil {
		if deref(it.GetName()) != newFileName || parentID(it) != parent[renFile] {
			t.Errorf("renamed file: name %q parent %s", deref(it.GetName()), parentID(it))
		}
	}
	if it := got[renFolder]; it != nil {
		if deref(it.GetName()) != newFolderName || it.GetFolder() == nil {
			t.Errorf("renamed folder: name %q folder %v", deref(it.GetName()), it.GetFolder() != nil)
		}
	}
	for id := range want {
		if id == delFile {
			continue
		}
		if it := got[id]; it != nil && truth[id].Name != deref(it.GetName()) {
			t.Errorf("%s: name %q, ground truth %q", id, deref(it.GetName()), truth[id].Name)
		}
	}

	r3 := e.fromLink(r2.deltaLink)
	if n := r3.count(); n != 0 {
		t.Errorf("third round without changes returned %d items", n)
	}
}

// isAncestor reports whether a is a proper ancestor of id in the parent map.
func isAncestor(parent map[string]string, a, id string) bool {
	for p := parent[id]; p != ""; p = parent[p] {
		if p == a {
			return true
		}
	}
	return false
}

// TestDriveDeltaTokenLatestReportsOnlyLaterChanges calls the SDK's
// delta(token='latest'): an empty page with only a deltaLink, whose round
// then holds exactly the item changed afterwards.
func TestDriveDeltaTokenLatestReportsOnlyLaterChanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	u := e.user0()
	latest := "latest"
	resp, err := e.client.Drives().ByDriveId(u.DriveID).Items().ByDriveItemId("root").DeltaWithToken(&latest).GetAsDeltaWithTokenGetResponse(e.ctx, nil)
	r := e.followDrive(resp, err)
	if len(r.pages) != 1 || r.count() != 0 {
		t.Fatalf("token=latest: %d pages, %d items; want one empty page with a deltaLink", len(r.pages), r.count())
	}
	res := e.mutate(graphsim.MutateOp{Op: "add", Kind: "file", User: u.UPN, Name: "after latest.txt"})
	got := e.fromLink(r.deltaLink).items()
	if len(got) != 1 || got[res[0].ID] == nil {
		t.Errorf("round after token=latest holds %v, want only the added %s", sortedKeys(got), res[0].ID)
	}
}

// TestExpiredDriveDeltaTokenIs410ResyncRequiredWithLocation expires the
// drive's delta tokens through /_sim/expire: following the old deltaLink
// gives *ODataError 410 resyncRequired whose innerError code is
// resyncChangesApplyDifferences and whose Location header is a fresh delta
// URL, and that URL enumerates the whole drive again.
func TestExpiredDriveDeltaTokenIs410ResyncRequiredWithLocation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	u := e.user0()
	r1 := e.rootDelta(u.DriveID, 200)
	e.control(http.MethodPost, "expire", graphsim.ExpireRequest{Collection: u.DriveID}, nil)

	_, err := drives.NewItemItemsItemDeltaRequestBuilder(r1.deltaLink, e.adapter).GetAsDeltaGetResponse(e.ctx, nil)
	oe := odataError(t, err, http.StatusGone, "resyncRequired")
	inner := ""
	if ie := oe.GetErrorEscaped().GetInnerError(); ie != nil {
		switch v := ie.GetAdditionalData()["code"].(type) {
		case *string:
			inner = deref(v)
		case string:
			inner = v
		}
	}
	if inner != "resyncChangesApplyDifferences" && inner != "resyncChangesUploadDifferences" {
		t.Errorf("innerError.code %q, want a resyncChanges… code", inner)
	}
	var loc string
	if h := oe.GetResponseHeaders(); h != nil && len(h.Get("Location")) > 0 {
		loc = h.Get("Location")[0]
	}
	if !strings.HasPrefix(loc, graphRoot+"/") {
		t.Fatalf("410 Location %q, want a fresh absolute Graph delta URL", loc)
	}
	r2 := e.fromLink(loc)
	if a, b := sortedKeys(r2.items()), sortedKeys(r1.items()); !slices.Equal(a, b) {
		t.Errorf("re-enumeration from Location returned %d items, the first round %d", len(a), len(b))
	}
}
