package conformance

import (
	"testing"
)

// TestSiteDrivesListsDocumentLibraryAndItsRootDeltaWorks lists a
// SharePoint site's drives with Sites().BySiteId(id).Drives().Get() (the
// site id "host,guid,guid" escaped by the SDK): exactly its document
// library. The library's root delta pages to a deltaLink with the site's
// ground truth, parentReferences of type documentLibrary with the siteId.
func TestSiteDrivesListsDocumentLibraryAndItsRootDeltaWorks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	if len(e.info.Sites) == 0 {
		t.Fatal("tenant has no site")
	}
	site := e.info.Sites[0]

	got, err := e.client.Sites().BySiteId(site.ID).Get(e.ctx, nil)
	if err != nil {
		t.Fatalf("site %s: %v", site.ID, err)
	}
	if deref(got.GetId()) != site.ID {
		t.Errorf("site id %q, want %q", deref(got.GetId()), site.ID)
	}

	list, err := e.client.Sites().BySiteId(site.ID).Drives().Get(e.ctx, nil)
	if err != nil {
		t.Fatalf("site drives: %v", err)
	}
	ds := list.GetValue()
	if len(ds) != 1 {
		t.Fatalf("site lists %d drives, want its one document library", len(ds))
	}
	d := ds[0]
	if deref(d.GetId()) != site.DriveID || deref(d.GetDriveType()) != "documentLibrary" {
		t.Errorf("site drive %q type %q, want %q documentLibrary", deref(d.GetId()), deref(d.GetDriveType()), site.DriveID)
	}
	if deref(list.GetOdataNextLink()) != "" {
		t.Errorf("one drive, yet a nextLink %q", deref(list.GetOdataNextLink()))
	}

	r := e.rootDelta(site.DriveID, 15)
	if len(r.pages) < 2 {
		t.Errorf("%d pages at $top=15, want several", len(r.pages))
	}
	truth := stateByID(e.state("", "files"), site.ID)
	if len(truth) < 2 {
		t.Fatalf("ground truth has %d items for site %s", len(truth), site.ID)
	}
	checkInitialRound(t, r, truth, site.DriveID)
	for id, it := range r.items() {
		pr := it.GetParentReference()
		if pr == nil {
			continue
		}
		if deref(pr.GetDriveType()) != "documentLibrary" {
			t.Errorf("%s: parentReference.driveType %q, want documentLibrary", id, deref(pr.GetDriveType()))
		}
		if it.GetRoot() == nil && deref(pr.GetSiteId()) != site.ID {
			t.Errorf("%s: parentReference.siteId %q, want %q", id, deref(pr.GetSiteId()), site.ID)
		}
	}
}
