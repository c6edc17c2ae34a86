package conformance

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	abs "github.com/microsoft/kiota-abstractions-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/drives"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/corso-temporal/corso/graphsim"
)

func ids[T interface{ GetId() *string }](items []T) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = deref(it.GetId())
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestSDKDeltaFunctionFormsAreAccepted sends the SDK's own delta paths:
// drives/{id}/items/root/delta() (id with '!' escaped), the drive's
// delta(token='…') function form, and
// users/{upn}/mailFolders/inbox/messages/delta() with the UPN's '@'
// escaped; each answers like the link form Graph mints.
func TestSDKDeltaFunctionFormsAreAccepted(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	u := e.user0()

	r1 := e.rootDelta(u.DriveID, 500)
	first := e.requests("/delta")[0]
	if !strings.HasSuffix(first.Path, "/drives/"+u.DriveID+"/items/root/delta()") {
		t.Errorf("SDK drive delta path %q, want …/items/root/delta()", first.Path)
	}
	if strings.Contains(u.DriveID, "!") && !strings.Contains(first.EscPath, "%21") {
		t.Logf("note: drive id sent unescaped: %s", first.EscPath)
	}

	// One change, then the same round twice: by the deltaLink and by the
	// SDK's delta(token='…') builder with the link's token.
	var file string
	for id, it := range r1.items() {
		if it.GetFile() != nil && (file == "" || id < file) {
			file = id
		}
	}
	e.mutate(graphsim.MutateOp{Op: "modify", ID: file})
	byLink := e.fromLink(r1.deltaLink)
	lu, err := url.Parse(r1.deltaLink)
	if err != nil {
		t.Fatal(err)
	}
	tok := lu.Query().Get("token")
	if tok == "" {
		t.Fatalf("drive deltaLink %q carries no token parameter", r1.deltaLink)
	}
	e.resetLog()
	resp, err := e.client.Drives().ByDriveId(u.DriveID).Items().ByDriveItemId("root").DeltaWithToken(&tok).GetAsDeltaWithTokenGetResponse(e.ctx, nil)
	byFunc := e.followDrive(resp, err)
	if reqs := e.requests("/delta"); len(reqs) == 0 || !strings.Contains(reqs[0].Path, "/items/root/delta(token='") {
		t.Errorf("SDK delta(token=) path: %+v", reqs)
	}
	if a, b := sortedKeys(byLink.items()), sortedKeys(byFunc.items()); !slices.Equal(a, b) || !slices.Contains(a, file) {
		t.Errorf("deltaLink round %v, delta(token=) round %v; both should hold exactly the modified %s", a, b, file)
	}

	// Exchange: the SDK's messages delta() with $select and Prefer.
	e.resetLog()
	h := abs.NewRequestHeaders()
	h.Add("Prefer", "odata.maxpagesize=5")
	mresp, err := e.client.Users().ByUserId(u.UPN).MailFolders().ByMailFolderId("inbox").Messages().Delta().GetAsDeltaGetResponse(e.ctx,
		&users.ItemMailFoldersItemMessagesDeltaRequestBuilderGetRequestConfiguration{
			Headers:         h,
			QueryParameters: &users.ItemMailFoldersItemMessagesDeltaRequestBuilderGetQueryParameters{Select: []string{"id", "subject"}},
		})
	if err != nil {
		t.Fatalf("messages delta(): %v", err)
	}
	reqs := e.requests("/messages/delta")
	if len(reqs) != 1 || !strings.HasSuffix(reqs[0].Path, "/users/"+u.UPN+"/mailFolders/inbox/messages/delta()") || !strings.Contains(reqs[0].EscPath, "%40") {
		t.Errorf("SDK messages delta request %+v, want …/users/{upn with %%40}/mailFolders/inbox/messages/delta()", reqs)
	}
	if n := len(mresp.GetValue()); n == 0 || n > 5 {
		t.Errorf("messages delta() page of %d, want 1..5", n)
	}
	if deref(mresp.GetOdataNextLink()) == "" {
		t.Errorf("a 5-message page of the inbox should have an @odata.nextLink")
	}
}

// TestKeyAsSegmentAndParenthesisFormsAddressTheSameResource reads the
// first page of the same deltas through the SDK's key-as-segment paths and
// through the forms Graph documents and mints, sent verbatim with builders
// made from raw URLs: users('upn')/mailFolders('inbox')/messages/
// microsoft.graph.delta(), drives/{id}/root/delta and
// users/{upn}/drive/root/delta. Each form gives the same items.
func TestKeyAsSegmentAndParenthesisFormsAddressTheSameResource(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	u := e.user0()

	h := abs.NewRequestHeaders()
	h.Add("Prefer", "odata.maxpagesize=7")
	cfg := &users.ItemMailFoldersItemMessagesDeltaRequestBuilderGetRequestConfiguration{
		Headers:         h,
		QueryParameters: &users.ItemMailFoldersItemMessagesDeltaRequestBuilderGetQueryParameters{Select: []string{"id", "subject"}},
	}
	seg, err := e.client.Users().ByUserId(u.UPN).MailFolders().ByMailFolderId("inbox").Messages().Delta().GetAsDeltaGetResponse(e.ctx, cfg)
	if err != nil {
		t.Fatalf("key-as-segment messages delta: %v", err)
	}
	raw := graphRoot + "/users('" + url.PathEscape(u.UPN) + "')/mailFolders('inbox')/messages/microsoft.graph.delta()?$select=id,subject"
	par, err := users.NewItemMailFoldersItemMessagesDeltaRequestBuilder(raw, e.adapter).GetAsDeltaGetResponse(e.ctx,
		&users.ItemMailFoldersItemMessagesDeltaRequestBuilderGetRequestConfiguration{Headers: h})
	if err != nil {
		t.Fatalf("parenthesis messages delta %s: %v", raw, err)
	}
	if a, b := ids(seg.GetValue()), ids(par.GetValue()); len(a) == 0 || !slices.Equal(a, b) {
		t.Errorf("messages: key-as-segment page %v, parenthesis page %v", a, b)
	}
	for _, m := range par.GetValue() {
		if m.GetSubject() == nil || m.GetBody() != nil {
			t.Errorf("parenthesis form ignored $select=id,subject on %s", deref(m.GetId()))
			break
		}
	}

	top := int32(6)
	sdk, err := e.client.Drives().ByDriveId(u.DriveID).Items().ByDriveItemId("root").Delta().GetAsDeltaGetResponse(e.ctx,
		&drives.ItemItemsItemDeltaRequestBuilderGetRequestConfiguration{
			QueryParameters: &drives.ItemItemsItemDeltaRequestBuilderGetQueryParameters{Top: &top},
		})
	if err != nil {
		t.Fatalf("SDK drive delta: %v", err)
	}
	want := ids(sdk.GetValue())
	for _, raw := range []string{
		graphRoot + "/drives/" + u.DriveID + "/root/delta?$top=6",
		graphRoot + "/users/" + url.PathEscape(u.UPN) + "/drive/root/delta?$top=6",
		graphRoot + "/users/" + u.ID + "/drive/root/delta()?$top=6",
	} {
		resp, err := drives.NewItemItemsItemDeltaRequestBuilder(raw, e.adapter).GetAsDeltaGetResponse(e.ctx, nil)
		if err != nil {
			t.Errorf("%s: %v", raw, err)
			continue
		}
		if got := ids(resp.GetValue()); len(want) == 0 || !slices.Equal(got, want) {
			t.Errorf("%s: first page %v, SDK form %v", raw, got, want)
		}
	}
}

// TestPageIteratorFollowsMintedUsersNextLinkVerbatim lists users one per
// page with msgraphcore.NewPageIterator: every follow-up request is the
// simulator-minted @odata.nextLink byte for byte, the iteration ends with
// every user of the tenant, and $select, not repeated by the iterator,
// still applies on later pages.
func TestPageIteratorFollowsMintedUsersNextLinkVerbatim(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	top := int32(1)
	resp, err := e.client.Users().Get(e.ctx, &users.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Top: &top, Select: []string{"id", "userPrincipalName"}},
	})
	if err != nil {
		t.Fatalf("users: %v", err)
	}
	links := []string{deref(resp.GetOdataNextLink())}
	if links[0] == "" {
		t.Fatal("first users page has no @odata.nextLink")
	}
	it, err := msgraphcore.NewPageIterator[models.Userable](resp, e.adapter, models.CreateUserCollectionResponseFromDiscriminatorValue)
	if err != nil {
		t.Fatal(err)
	}
	var got []models.Userable
	err = it.Iterate(e.ctx, func(u models.Userable) bool {
		got = append(got, u)
		if l := deref(it.GetOdataNextLink()); l != "" && l != links[len(links)-1] {
			links = append(links, l)
		}
		return true
	})
	if err != nil {
		t.Fatalf("iterate: %v", err)
	}

	var wantIDs []string
	for _, u := range e.info.Users {
		wantIDs = append(wantIDs, u.ID)
	}
	gotIDs := ids(got)
	slices.Sort(wantIDs)
	slices.Sort(gotIDs)
	if !slices.Equal(gotIDs, wantIDs) {
		t.Errorf("iterated users %v, tenant has %v", gotIDs, wantIDs)
	}
	for _, u := range got {
		if u.GetUserPrincipalName() == nil || u.GetDisplayName() != nil {
			t.Errorf("user %s: userPrincipalName %v displayName %v; $select=id,userPrincipalName must stick to nextLinks",
				deref(u.GetId()), u.GetUserPrincipalName() != nil, u.GetDisplayName() != nil)
		}
	}

	var listed []seen
	for _, s := range e.requests("/v1.0/users") {
		if s.Path == "/v1.0/users" {
			listed = append(listed, s)
		}
	}
	if len(listed) != len(wantIDs) || len(links) != len(wantIDs)-1 {
		t.Fatalf("%d list requests and %d nextLinks for %d users at $top=1", len(listed), len(links), len(wantIDs))
	}
	for i, l := range links {
		if !strings.HasPrefix(l, graphRoot+"/users?") {
			t.Errorf("nextLink %q is not an absolute Graph users URL", l)
		}
		lu, _ := url.Parse(l)
		if listed[i+1].RequestURI != lu.RequestURI() {
			t.Errorf("page %d requested %s, nextLink was %s", i+1, listed[i+1].RequestURI, lu.RequestURI())
		}
	}
}
