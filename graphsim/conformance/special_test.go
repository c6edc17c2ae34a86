package conformance

import (
	"net/http"
	"strings"
	"testing"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/sites"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/corso-temporal/corso/graphsim"
)

// The special resources' persistent answers, as the real SDK sees them.

// specialUser finds the tenant's special user of a kind.
func (e *env) specialUser(kind string) graphsim.InfoUser {
	e.t.Helper()
	for _, u := range e.info.Users {
		if u.Special == kind {
			return u
		}
	}
	e.t.Fatalf("tenant has no %s user", kind)
	return graphsim.InfoUser{}
}

func odataMessage(t *testing.T, err error, status int, code, message string) {
	t.Helper()
	oe := odataError(t, err, status, code)
	if got := deref(oe.GetErrorEscaped().GetMessage()); got != message {
		t.Errorf("message %q, want %q", got, message)
	}
	checkRequestID(t, oe)
}

// TestUnlicensedUserMailboxIsAuthenticationErrorAndDriveIsMysiteNotFound
// reads an unlicensed user's mailbox and OneDrive: every mailbox call is
// *ODataError 400 AuthenticationError "Error authenticating with resource"
// (not retried, the same each time) and the drive 404 ResourceNotFound
// "User's mysite not found.".
func TestUnlicensedUserMailboxIsAuthenticationErrorAndDriveIsMysiteNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	u := e.specialUser("unlicensed")
	for i := 0; i < 2; i++ {
		_, err := e.client.Users().ByUserId(u.ID).MailFolders().ByMailFolderId("inbox").Get(e.ctx, nil)
		odataMessage(t, err, http.StatusBadRequest, "AuthenticationError", "Error authenticating with resource")
		_, err = e.client.Users().ByUserId(u.ID).MailFolders().Get(e.ctx, nil)
		odataMessage(t, err, http.StatusBadRequest, "AuthenticationError", "Error authenticating with resource")
	}
	_, err := e.client.Users().ByUserId(u.ID).Drive().Get(e.ctx, nil)
	odataMessage(t, err, http.StatusNotFound, "ResourceNotFound", "User's mysite not found.")
	if n := len(e.requests("/users/" + u.ID + "/mailFolders/inbox")); n != 2 {
		t.Errorf("%d inbox requests for 2 calls: a 400 must not be retried", n)
	}
	got, err := e.client.Users().ByUserId(u.ID).Get(e.ctx, &users.UserItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: []string{"id", "mail", "assignedLicenses"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if deref(got.GetMail()) == "" || len(got.GetAssignedLicenses()) != 0 {
		t.Errorf("unlicensed user mail %q licences %d", deref(got.GetMail()), len(got.GetAssignedLicenses()))
	}
}

// TestAccessPolicyBlockedMailboxIsErrorAccessDenied: every Exchange call
// for a mailbox an application access policy excludes is 403
// ErrorAccessDenied with the RAOP message; the same user's OneDrive reads.
func TestAccessPolicyBlockedMailboxIsErrorAccessDenied(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	u := e.specialUser("policyblocked")
	msg := "Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly AccessPolicy settings."
	_, err := e.client.Users().ByUserId(u.ID).MailFolders().ByMailFolderId("inbox").Get(e.ctx, nil)
	odataMessage(t, err, http.StatusForbidden, "ErrorAccessDenied", msg)
	_, err = e.client.Users().ByUserId(u.ID).MailFolders().Delta().GetAsDeltaGetResponse(e.ctx, nil)
	odataMessage(t, err, http.StatusForbidden, "ErrorAccessDenied", msg)
	_, err = e.client.Users().ByUserId(u.ID).ContactFolders().Get(e.ctx, nil)
	odataMessage(t, err, http.StatusForbidden, "ErrorAccessDenied", msg)
	_, err = e.client.Users().ByUserId(u.ID).Calendars().Get(e.ctx, nil)
	odataMessage(t, err, http.StatusForbidden, "ErrorAccessDenied", msg)
	_, err = e.client.Users().ByUserId(u.ID).MailboxSettings().Get(e.ctx, nil)
	odataMessage(t, err, http.StatusForbidden, "ErrorAccessDenied", msg)
	if r := e.rootDelta(u.DriveID, 200); r.count() < 2 {
		t.Errorf("policy-blocked user's OneDrive delta has %d items", r.count())
	}
}

// TestOverQuotaMailboxDeltaIsErrorQuotaExceededWhileListingWorks: folder
// and message delta are 403 ErrorQuotaExceeded; listing folders and
// messages and reading a message succeed.
func TestOverQuotaMailboxDeltaIsErrorQuotaExceededWhileListingWorks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	u := e.specialUser("overquota")
	msg := "The process failed to get the correct properties."
	_, err := e.client.Users().ByUserId(u.ID).MailFolders().Delta().GetAsDeltaGetResponse(e.ctx, nil)
	odataMessage(t, err, http.StatusForbidden, "ErrorQuotaExceeded", msg)
	_, err = e.client.Users().ByUserId(u.ID).MailFolders().ByMailFolderId("inbox").Messages().Delta().GetAsDeltaGetResponse(e.ctx, nil)
	odataMessage(t, err, http.StatusForbidden, "ErrorQuotaExceeded", msg)

	folders, err := e.client.Users().ByUserId(u.ID).MailFolders().Get(e.ctx, nil)
	if err != nil || len(folders.GetValue()) == 0 {
		t.Fatalf("list folders: %v", err)
	}
	msgs, err := e.client.Users().ByUserId(u.ID).MailFolders().ByMailFolderId("inbox").Messages().Get(e.ctx, nil)
	if err != nil || len(msgs.GetValue()) == 0 {
		t.Fatalf("list inbox: %v", err)
	}
	id := deref(msgs.GetValue()[0].GetId())
	if _, err := e.client.Users().ByUserId(u.ID).Messages().ByMessageId(id).Get(e.ctx, nil); err != nil {
		t.Fatalf("get message: %v", err)
	}
	if b, err := e.client.Users().ByUserId(u.ID).Messages().ByMessageId(id).Content().Get(e.ctx, nil); err != nil || len(b) == 0 {
		t.Fatalf("get MIME: %v", err)
	}
	if _, err := e.client.Users().ByUserId(u.ID).ContactFolders().Delta().GetAsDeltaGetResponse(e.ctx, nil); err != nil {
		t.Fatalf("contact folders delta: %v", err)
	}
}

// TestLockedOneDriveIsResourceLocked: the OneDrive of a locked site is 423
// notAllowed with innerError.code resourceLocked.
func TestLockedOneDriveIsResourceLocked(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	u := e.specialUser("lockeddrive")
	_, err := e.client.Users().ByUserId(u.ID).Drive().Get(e.ctx, nil)
	odataMessage(t, err, http.StatusLocked, "notAllowed", "Access to this site has been blocked. Please contact the administrator to resolve this problem.")
	_, err = e.client.Drives().ByDriveId(u.DriveID).Items().ByDriveItemId("root").Children().Get(e.ctx, nil)
	inner := odataError(t, err, http.StatusLocked, "notAllowed").GetErrorEscaped().GetInnerError()
	if inner == nil {
		t.Fatal("no innerError")
	}
	if code, _ := inner.GetAdditionalData()["code"].(*string); deref(code) != "resourceLocked" {
		t.Errorf("innerError.code %v, want resourceLocked", inner.GetAdditionalData()["code"])
	}
}

// quirkyItems lists the quirky user's OneDrive by name. Its delta answers
// one transient 400 invalidRequest first (graphsim transient.go), which is
// retried here as a correct client does.
func (e *env) quirkyItems() (graphsim.InfoUser, map[string]models.DriveItemable) {
	u := e.specialUser("quirky")
	_, err := e.client.Drives().ByDriveId(u.DriveID).Items().ByDriveItemId("root").Delta().GetAsDeltaGetResponse(e.ctx, nil)
	odataMessage(e.t, err, http.StatusBadRequest, "invalidRequest", "Invalid request")
	byName := map[string]models.DriveItemable{}
	for _, it := range e.rootDelta(u.DriveID, 200).items() {
		byName[deref(it.GetName())] = it
	}
	return u, byName
}

// TestMalwareFileHasFacetAndContentIsMalwareDetected: delta and GET carry
// the malware facet; /content is 403 malwareDetected "Malware detected"
// with X-Virus-Infected: true, on every attempt.
func TestMalwareFileHasFacetAndContentIsMalwareDetected(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	u, items := e.quirkyItems()
	mal := items["invoice-viewer.exe"]
	if mal == nil || mal.GetMalware() == nil || deref(mal.GetMalware().GetDescription()) == "" {
		t.Fatalf("malware item %v", mal)
	}
	got, err := e.client.Drives().ByDriveId(u.DriveID).Items().ByDriveItemId(deref(mal.GetId())).Get(e.ctx, nil)
	if err != nil || got.GetMalware() == nil {
		t.Fatalf("GET malware item: %v", err)
	}
	for i := 0; i < 2; i++ {
		_, err = e.client.Drives().ByDriveId(u.DriveID).Items().ByDriveItemId(deref(mal.GetId())).Content().Get(e.ctx, nil)
		oe := odataError(t, err, http.StatusForbidden, "malwareDetected")
		if deref(oe.GetErrorEscaped().GetMessage()) != "Malware detected" {
			t.Errorf("message %q", deref(oe.GetErrorEscaped().GetMessage()))
		}
		if h := oe.GetResponseHeaders(); h == nil || len(h.Get("X-Virus-Infected")) == 0 || h.Get("X-Virus-Infected")[0] != "true" {
			t.Errorf("no X-Virus-Infected: true header")
		}
	}
}

// TestOneNoteNotebookIsPackageWithoutFolderOrFileFacet: the notebook is a
// package item with neither folder nor file facet; its children (listed by
// the SDK's children call) are files with the OneNote MIME type.
func TestOneNoteNotebookIsPackageWithoutFolderOrFileFacet(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	u, items := e.quirkyItems()
	nb := items["Team Notebook"]
	if nb == nil || nb.GetPackageEscaped() == nil || deref(nb.GetPackageEscaped().GetTypeEscaped()) != "oneNote" {
		t.Fatalf("notebook %v", nb)
	}
	if nb.GetFolder() != nil || nb.GetFile() != nil {
		t.Errorf("package item has a folder or file facet")
	}
	kids, err := e.client.Drives().ByDriveId(u.DriveID).Items().ByDriveItemId(deref(nb.GetId())).Children().Get(e.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, k := range kids.GetValue() {
		names[deref(k.GetName())] = true
		if k.GetFile() == nil || deref(k.GetFile().GetMimeType()) != "application/msonenote" || parentID(k) != deref(nb.GetId()) {
			t.Errorf("notebook child %s: file %v parent %s", deref(k.GetName()), k.GetFile(), parentID(k))
		}
	}
	if !names["General.one"] || !names["Open Notebook.onetoc2"] {
		t.Errorf("notebook children %v", names)
	}
}

// TestSitesListIncludesPersonalAndSearchSites lists sites the way backup
// tools do (GET sites?$select=id,webUrl&$top=999): a personal OneDrive site
// and the nameless /search site are there with the regular ones; the
// search site has no document library.
func TestSitesListIncludesPersonalAndSearchSites(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	top := int32(999)
	resp, err := e.client.Sites().Get(e.ctx, &sites.SitesRequestBuilderGetRequestConfiguration{
		QueryParameters: &sites.SitesRequestBuilderGetQueryParameters{Select: []string{"id", "webUrl"}, Top: &top},
	})
	if err != nil {
		t.Fatal(err)
	}
	var personal, search string
	for _, s := range resp.GetValue() {
		u := deref(s.GetWebUrl())
		switch {
		case strings.Contains(u, "-my.sharepoint.com/personal/"):
			personal = deref(s.GetId())
		case strings.HasSuffix(u, ".sharepoint.com/search"):
			search = deref(s.GetId())
		}
	}
	if personal == "" || search == "" {
		t.Fatalf("sites lack a personal or the search site: %d sites", len(resp.GetValue()))
	}
	if len(resp.GetValue()) != len(e.info.Sites)+2 {
		t.Errorf("%d sites listed, tenant has %d backup sites + 2", len(resp.GetValue()), len(e.info.Sites))
	}
	d, err := e.client.Sites().BySiteId(search).Drives().Get(e.ctx, nil)
	if err != nil || len(d.GetValue()) != 0 {
		t.Errorf("search site drives: %v", err)
	}
	d, err = e.client.Sites().BySiteId(personal).Drives().Get(e.ctx, nil)
	if err != nil || len(d.GetValue()) != 1 || deref(d.GetValue()[0].GetId()) != e.user0().DriveID {
		t.Errorf("personal site drives: %v", err)
	}
}
