package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/drives"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/sites"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/corso-temporal/corso/m365"
)

// Drive types are m365's.
type (
	Drive     = m365.Drive
	DriveItem = m365.DriveItem
	DrivePage = m365.DrivePage
)

// driveItemFields are what a DriveItem records: a delta page or a folder
// listing asks for nothing else. fileSystemInfo carries the times a user
// sees (and a restore can set); the item's own times are the fallback.
var driveItemFields = []string{"id", "name", "parentReference", "file", "folder", "package", "root",
	"deleted", "size", "cTag", "eTag", "createdDateTime", "lastModifiedDateTime", "fileSystemInfo",
	"createdBy", "lastModifiedBy", "shared"}

// drivePreferences ask drive delta to report what a backup needs to see:
// items moved out of view as deleted, items whose sharing changed, items
// the app would otherwise skip for lack of permission on a parent, and the
// shared facet only where an item's permissions differ from its parent's.
const drivePreferences = "deltashowremovedasdeleted, deltatraversepermissiongaps, deltashowsharingchanges, hierarchicalsharing"

var driveFields = []string{"id", "name", "driveType", "webUrl"}

// ResolveDrives turns selectors into the drives to back up, in the order
// given and without duplicates.
//
//   - m365.OneDrive: user ids or UPNs, or "*" for every user that has a
//     OneDrive; each user's default drive. A named user without one fails
//     (with the others) as ErrUnknownResource; "*" skips such users.
//   - m365.SharePoint: site URLs (https://contoso.sharepoint.com/sites/x),
//     site ids (host,guid,guid), or "*" for every site except personal
//     (OneDrive) sites; every document library of each site.
func (c *Client) ResolveDrives(ctx context.Context, service string, selectors []string) ([]Drive, error) {
	var out []Drive
	seen := map[string]bool{}
	add := func(ds ...Drive) {
		for _, d := range ds {
			if !seen[d.ID] {
				seen[d.ID] = true
				out = append(out, d)
			}
		}
	}
	var unknown []string
	for _, sel := range selectors {
		sel = strings.TrimSpace(sel)
		if sel == "" {
			continue
		}
		var (
			ds     []Drive
			reason string
			err    error
		)
		switch service {
		case m365.OneDrive:
			if sel == "*" {
				ds, err = c.allOneDrives(ctx)
			} else {
				ds, reason, err = c.oneDriveOf(ctx, sel)
			}
		case m365.SharePoint:
			if sel == "*" {
				ds, err = c.allLibraries(ctx)
			} else {
				ds, reason, err = c.librariesOf(ctx, sel)
			}
		default:
			return nil, fmt.Errorf("resolve drives: unknown service %q (want %s or %s)", service, m365.OneDrive, m365.SharePoint)
		}
		if err != nil {
			return nil, err
		}
		if reason != "" {
			unknown = append(unknown, fmt.Sprintf("%q (%s)", sel, reason))
			continue
		}
		add(ds...)
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("resolve %s drives: %s: %w", service, strings.Join(unknown, ", "), ErrUnknownResource)
	}
	return out, nil
}

// missing reports whether err says the thing looked up does not exist.
func missing(err error) bool {
	var ae *apiError
	return errors.Is(err, ErrUnknownResource) || errors.Is(err, ErrNotFound) ||
		errors.As(err, &ae) && ae.status == http.StatusBadRequest
}

// oneDriveOf resolves one user's OneDrive; reason says why there is none.
func (c *Client) oneDriveOf(ctx context.Context, key string) ([]Drive, string, error) {
	u, err := c.user(ctx, key)
	if missing(err) {
		return nil, "no such user", nil
	}
	if err != nil {
		return nil, "", err
	}
	d, ok, err := c.userDrive(ctx, u)
	if err != nil {
		return nil, "", err
	}
	if !ok {
		return nil, "no OneDrive", nil
	}
	return []Drive{d}, "", nil
}

// userDrive gets a user's default drive; users without a OneDrive (no
// license, or never provisioned) answer 404.
func (c *Client) userDrive(ctx context.Context, u Mailbox) (Drive, bool, error) {
	d, err := c.sdk.Users().ByUserId(u.ID).Drive().Get(ofKind(ctx, "drive.get"), &users.ItemDriveRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.ItemDriveRequestBuilderGetQueryParameters{Select: driveFields},
	})
	if err != nil {
		err = classify("get the OneDrive of "+u.UPN, err)
		if missing(err) {
			return Drive{}, false, nil
		}
		return Drive{}, false, err
	}
	return Drive{ID: deref(d.GetId()), Name: deref(d.GetName()), Service: m365.OneDrive, Owner: u.ID, OwnerName: u.UPN}, true, nil
}

// allOneDrives lists the directory's users and keeps those with a drive.
// Guests cannot have one in this tenant, so they are not probed.
func (c *Client) allOneDrives(ctx context.Context) ([]Drive, error) {
	var candidates []Mailbox
	top := int32(999)
	resp, err := c.sdk.Users().Get(ofKind(ctx, "users.list"), &users.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Select: userFields, Top: &top},
	})
	for {
		if err != nil {
			return nil, classify("list users", err)
		}
		for _, u := range resp.GetValue() {
			if !strings.EqualFold(deref(u.GetUserType()), "Guest") {
				candidates = append(candidates, mailboxOfUser(u))
			}
		}
		next := deref(resp.GetOdataNextLink())
		if next == "" {
			break
		}
		resp, err = users.NewUsersRequestBuilder(next, c.adapter).Get(ofKind(ctx, "users.list"), nil)
	}

	found := make([]Drive, len(candidates))
	has := make([]bool, len(candidates))
	errs := make([]error, len(candidates))
	sem := make(chan struct{}, probeConcurrency)
	var wg sync.WaitGroup
	for i, u := range candidates {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			found[i], has[i], errs[i] = c.userDrive(ctx, u)
		}()
	}
	wg.Wait()
	var out []Drive
	for i := range candidates {
		if errs[i] != nil {
			return nil, errs[i]
		}
		if has[i] {
			out = append(out, found[i])
		}
	}
	return out, nil
}

// site is what a resolution needs of a SharePoint site.
type site struct {
	id, webURL string
}

// librariesOf resolves one site, by URL or id, to its libraries.
func (c *Client) librariesOf(ctx context.Context, key string) ([]Drive, string, error) {
	st, err := c.site(ctx, key)
	if missing(err) {
		return nil, "no such site", nil
	}
	if err != nil {
		return nil, "", err
	}
	ds, err := c.siteLibraries(ctx, st)
	return ds, "", err
}

// site looks a site up by URL (GET /sites/{host}:/{path}) or id.
func (c *Client) site(ctx context.Context, key string) (site, error) {
	raw := ""
	if lower := strings.ToLower(key); strings.HasPrefix(lower, "https://") || strings.HasPrefix(lower, "http://") {
		u, err := url.Parse(key)
		if err != nil || u.Host == "" {
			return site{}, fmt.Errorf("look up site %q: not a site URL: %w", key, ErrUnknownResource)
		}
		raw = c.v1("sites", u.Hostname())
		if p := strings.Trim(u.Path, "/"); p != "" {
			raw += ":/" + escapePath(strings.Split(p, "/"))
		}
	} else {
		raw = c.v1("sites", key)
	}
	raw += "?" + query(url.Values{"$select": {"id,webUrl"}})
	s, err := sites.NewSiteItemRequestBuilder(raw, c.adapter).Get(ofKind(ctx, "site.get"), nil)
	if err != nil {
		return site{}, classify("look up site "+key, err)
	}
	return site{id: deref(s.GetId()), webURL: deref(s.GetWebUrl())}, nil
}

// allLibraries lists every site but personal ones, and their libraries.
func (c *Client) allLibraries(ctx context.Context) ([]Drive, error) {
	var all []site
	top := int32(999)
	resp, err := c.sdk.Sites().Get(ofKind(ctx, "sites.list"), &sites.SitesRequestBuilderGetRequestConfiguration{
		QueryParameters: &sites.SitesRequestBuilderGetQueryParameters{Select: []string{"id", "webUrl"}, Top: &top},
	})
	for {
		if err != nil {
			return nil, classify("list sites", err)
		}
		for _, s := range resp.GetValue() {
			st := site{id: deref(s.GetId()), webURL: deref(s.GetWebUrl())}
			// Personal sites are users' OneDrives, backed up as such.
			if strings.Contains(strings.ToLower(st.webURL), "/personal/") {
				continue
			}
			all = append(all, st)
		}
		next := deref(resp.GetOdataNextLink())
		if next == "" {
			break
		}
		resp, err = sites.NewSitesRequestBuilder(next, c.adapter).Get(ofKind(ctx, "sites.list"), nil)
	}
	var out []Drive
	for _, st := range all {
		ds, err := c.siteLibraries(ctx, st)
		if missing(err) {
			continue // deleted since it was listed
		}
		if err != nil {
			return nil, err
		}
		out = append(out, ds...)
	}
	return out, nil
}

// siteLibraries lists a site's document libraries.
func (c *Client) siteLibraries(ctx context.Context, st site) ([]Drive, error) {
	ctx = ofKind(ctx, "drives.list")
	resp, err := c.sdk.Sites().BySiteId(st.id).Drives().Get(ctx, &sites.ItemDrivesRequestBuilderGetRequestConfiguration{
		QueryParameters: &sites.ItemDrivesRequestBuilderGetQueryParameters{Select: driveFields},
	})
	var out []Drive
	for {
		if err != nil {
			return nil, classify("list the libraries of site "+st.webURL, err)
		}
		for _, d := range resp.GetValue() {
			out = append(out, Drive{ID: deref(d.GetId()), Name: deref(d.GetName()), Service: m365.SharePoint,
				Owner: st.id, OwnerName: st.webURL})
		}
		next := deref(resp.GetOdataNextLink())
		if next == "" {
			return out, nil
		}
		resp, err = sites.NewItemDrivesRequestBuilder(next, c.adapter).Get(ctx, nil)
	}
}

// DriveDeltaPage returns one page of a drive's delta enumeration. An empty
// link starts a full enumeration from the root; otherwise link is a
// NextLink or DeltaLink of an earlier page, followed verbatim. A DeltaLink
// page ends its round; following it later yields what changed since:
// added, changed, moved and renamed items in full, deleted ones (and ones
// moved out of view) with Deleted set. An item may appear more than once in
// a round; its last appearance counts. Parents come before their children
// in a full enumeration.
//
// An expired or unusable link fails with ErrDeltaExpired: enumerate the
// drive again from scratch.
func (c *Client) DriveDeltaPage(ctx context.Context, driveID, link string) (DrivePage, error) {
	op := "delta of drive " + driveID
	ctx = forDrive(ctx, driveID, "drive.delta")
	cfg := &drives.ItemItemsItemDeltaRequestBuilderGetRequestConfiguration{Headers: c.drivePreferHeaders()}
	b := c.sdk.Drives().ByDriveId(driveID).Items().ByDriveItemId("root").Delta()
	if link != "" {
		b = drives.NewItemItemsItemDeltaRequestBuilder(link, c.adapter)
	} else {
		// Query options ride in the links Graph returns; only the first
		// call states them.
		top := int32(c.cfg.PageSize)
		// Download URLs come along, so that files listed here are
		// downloaded without first asking Graph where they are (a
		// request and a resource unit each).
		sel := append(slices.Clip(driveItemFields), "content.downloadUrl")
		cfg.QueryParameters = &drives.ItemItemsItemDeltaRequestBuilderGetQueryParameters{Select: sel, Top: &top}
	}
	resp, err := b.GetAsDeltaGetResponse(ctx, cfg)
	if err != nil {
		err = classify(op, err)
		var ae *apiError
		if errors.As(err, &ae) && ae.kind == nil && link != "" && ae.status == http.StatusBadRequest {
			// The drive no longer understands the token: as with an
			// expired one, the cure is a new enumeration.
			ae.kind = ErrDeltaExpired
		}
		if errors.As(err, &ae) && strings.HasPrefix(strings.ToLower(ae.code), "resync") {
			ae.kind = ErrDeltaExpired
		}
		return DrivePage{}, err
	}
	p := DrivePage{NextLink: deref(resp.GetOdataNextLink()), DeltaLink: deref(resp.GetOdataDeltaLink())}
	if p.NextLink == "" && p.DeltaLink == "" {
		// Following an empty NextLink would restart the round forever.
		return DrivePage{}, fmt.Errorf("%s: Graph's page has neither nextLink nor deltaLink", op)
	}
	p.Items = make([]DriveItem, 0, len(resp.GetValue()))
	for _, it := range resp.GetValue() {
		p.Items = append(p.Items, driveItemOf(it))
	}
	return p, nil
}

// drivePreferHeaders are the Prefer headers of drive delta, sent on every
// page.
func (c *Client) drivePreferHeaders() *abs.RequestHeaders {
	h := c.preferPageSize()
	h.Add("Prefer", drivePreferences)
	return h
}

// DriveChildren lists every child of a folder.
func (c *Client) DriveChildren(ctx context.Context, driveID, folderID string) ([]DriveItem, error) {
	op := fmt.Sprintf("list folder %s of drive %s", folderID, driveID)
	ctx = forDrive(ctx, driveID, "drive.children")
	top := int32(c.cfg.PageSize)
	resp, err := c.sdk.Drives().ByDriveId(driveID).Items().ByDriveItemId(folderID).Children().Get(ctx,
		&drives.ItemItemsItemChildrenRequestBuilderGetRequestConfiguration{
			QueryParameters: &drives.ItemItemsItemChildrenRequestBuilderGetQueryParameters{Select: driveItemFields, Top: &top},
		})
	var out []DriveItem
	for {
		if err != nil {
			return nil, classify(op, err)
		}
		for _, it := range resp.GetValue() {
			out = append(out, driveItemOf(it))
		}
		next := deref(resp.GetOdataNextLink())
		if next == "" {
			return out, nil
		}
		resp, err = drives.NewItemItemsItemChildrenRequestBuilder(next, c.adapter).Get(ctx, nil)
	}
}

// DrivePermissions returns the permissions of an item as Graph lists them
// (GET .../permissions): the raw JSON array, every property kept, for a
// backup to store and RestorePermissions to read.
func (c *Client) DrivePermissions(ctx context.Context, driveID, itemID string) ([]byte, error) {
	op := fmt.Sprintf("permissions of item %s of drive %s", itemID, driveID)
	ctx = forDrive(ctx, driveID, "drive.permissions")
	link := c.v1("drives", driveID, "items", itemID, "permissions")
	var all []json.RawMessage
	for link != "" {
		a, err := c.send(ctx, op, rawCall{method: abs.GET, url: link})
		if err != nil {
			return nil, err
		}
		var page struct {
			Value []json.RawMessage `json:"value"`
			Next  string            `json:"@odata.nextLink"`
		}
		if err := json.Unmarshal(a.body, &page); err != nil {
			return nil, fmt.Errorf("%s: unreadable answer: %w", op, err)
		}
		all = append(all, page.Value...)
		link = page.Next
	}
	if all == nil {
		all = []json.RawMessage{}
	}
	return json.Marshal(all)
}

// driveItemOf maps Graph's driveItem. Folders' sizes (Graph reports their
// contents' total) are left out: only files have a size of their own.
func driveItemOf(it models.DriveItemable) DriveItem {
	d := DriveItem{ID: deref(it.GetId())}
	if pr := it.GetParentReference(); pr != nil {
		d.ParentID = deref(pr.GetId())
	}
	if it.GetDeleted() != nil {
		d.Deleted = true
		return d
	}
	if it.GetRoot() != nil {
		d.Root, d.ParentID = true, ""
	}
	d.Name = deref(it.GetName())
	d.Folder = it.GetFolder() != nil
	if p := it.GetPackageEscaped(); p != nil {
		d.Package = deref(p.GetTypeEscaped())
		if d.Package == "" {
			d.Package = "package"
		}
	}
	if f := it.GetFile(); f != nil && !d.Folder {
		if s := it.GetSize(); s != nil {
			d.Size = *s
		}
		if h := f.GetHashes(); h != nil {
			d.QuickXorHash = deref(h.GetQuickXorHash())
		}
	} else if !d.Folder && d.Package != "" {
		if s := it.GetSize(); s != nil {
			d.Size = *s
		}
	}
	d.CTag = deref(it.GetCTag())
	d.Created, d.Modified = timeOf(it.GetCreatedDateTime()), timeOf(it.GetLastModifiedDateTime())
	if fs := it.GetFileSystemInfo(); fs != nil {
		if t := timeOf(fs.GetCreatedDateTime()); !t.IsZero() {
			d.Created = t
		}
		if t := timeOf(fs.GetLastModifiedDateTime()); !t.IsZero() {
			d.Modified = t
		}
	}
	d.CreatedBy, d.ModifiedBy = identityName(it.GetCreatedBy()), identityName(it.GetLastModifiedBy())
	if !d.Folder {
		d.DownloadURL = stringData(it.GetAdditionalData(), "@microsoft.graph.downloadUrl")
	}
	if sh := it.GetShared(); sh != nil {
		// An empty facet is how delta says sharing was removed.
		d.Shared = sh.GetScope() != nil || sh.GetOwner() != nil || sh.GetSharedBy() != nil || sh.GetSharedDateTime() != nil
	}
	return d
}

// identityName names who created or changed an item: the user's address
// where Graph gives one, else the name it shows.
func identityName(set models.IdentitySetable) string {
	if set == nil {
		return ""
	}
	for _, id := range []models.Identityable{set.GetUser(), set.GetApplication(), set.GetDevice()} {
		if id == nil {
			continue
		}
		if e := stringData(id.GetAdditionalData(), "email"); e != "" {
			return e
		}
		if n := deref(id.GetDisplayName()); n != "" {
			return n
		}
		if n := deref(id.GetId()); n != "" {
			return n
		}
	}
	return ""
}

// stringData reads a string the SDK kept among a model's unknown
// properties.
func stringData(m map[string]any, key string) string {
	switch v := m[key].(type) {
	case string:
		return v
	case *string:
		return deref(v)
	}
	return ""
}

// escapePath escapes names for a path address (items/{id}:/a/b).
func escapePath(names []string) string {
	esc := make([]string, len(names))
	for i, n := range names {
		esc[i] = url.PathEscape(n)
	}
	return strings.Join(esc, "/")
}

// int64String renders a size for a header.
func int64String(n int64) string { return strconv.FormatInt(n, 10) }
