package graph

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/drives"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/sites"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/corso-temporal/corso/backup"
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
// malware marks a file Microsoft 365 will not serve
// (learn.microsoft.com/graph/api/resources/malware; Corso selects it too).
var driveItemFields = []string{"id", "name", "parentReference", "file", "folder", "package", "root",
	"deleted", "size", "cTag", "eTag", "createdDateTime", "lastModifiedDateTime", "fileSystemInfo",
	"createdBy", "lastModifiedBy", "shared", "malware"}

// drivePreferences ask drive delta to report what a backup needs to see:
// items moved out of view as deleted, items whose sharing changed, items
// the app would otherwise skip for lack of permission on a parent, and the
// shared facet only where an item's permissions differ from its parent's.
const drivePreferences = "deltashowremovedasdeleted, deltatraversepermissiongaps, deltashowsharingchanges, hierarchicalsharing"

var driveFields = []string{"id", "name", "driveType", "webUrl"}

// ResolveDrives turns selectors into the drives to back up, in the order
// given and without duplicates, and the users or sites that have none.
//
//   - m365.OneDrive: user ids or UPNs, or "*" for every user; each user's
//     default drive.
//   - m365.SharePoint: site URLs (https://contoso.sharepoint.com/sites/x),
//     site ids (host,guid,guid), or "*" for every site but personal
//     (OneDrive) sites and the search centre; every document library of
//     each site.
//
// "*" also returns the users and sites it finds nothing to back up in,
// with the cause (m365.CauseNoDrive: guests, users without a licence or
// whose OneDrive was never provisioned; m365.CauseLocked: locked or
// offboarded), so that the run can report them; and those the app is
// denied (m365.CauseAccessDenied, Reason quoting Graph), whose backups
// fail alone. When the app is denied every one it probed, it lacks
// consent: ErrAuth. Named selectors with nothing to back up fail the
// resolution, each named with its cause, with an error wrapping
// ErrUnknownResource.
func (c *Client) ResolveDrives(ctx context.Context, service string, selectors []string) ([]Drive, []backup.LeftOut, error) {
	var (
		out      []Drive
		none     []backup.LeftOut
		unknown  []string
		seen     = map[string]bool{}
		seenNone = map[string]bool{}
	)
	add := func(o owned) {
		for _, d := range o.drives {
			if !seen[d.ID] {
				seen[d.ID] = true
				out = append(out, d)
			}
		}
		if o.none.Cause != "" && !seenNone[o.none.ResourceID] {
			seenNone[o.none.ResourceID] = true
			none = append(none, o.none)
		}
	}
	for _, sel := range selectors {
		sel = strings.TrimSpace(sel)
		if sel == "" {
			continue
		}
		var (
			all []owned
			one owned
			err error
		)
		switch service {
		case m365.OneDrive:
			if sel == "*" {
				all, err = c.allOneDrives(ctx)
			} else {
				one, err = c.oneDriveOf(ctx, sel)
			}
		case m365.SharePoint:
			if key, ok := strings.CutPrefix(sel, m365.GroupSelector); ok {
				all, err = c.groupLibraries(ctx, strings.TrimSpace(key))
				if err != nil {
					return nil, nil, err
				}
				for _, o := range all {
					if key != "*" && o.none.Cause != "" {
						unknown = append(unknown, fmt.Sprintf("%q (%s)", sel, o.none.Reason))
						continue
					}
					add(o)
				}
				continue
			}
			if sel == "*" {
				all, err = c.allLibraries(ctx)
			} else {
				one, err = c.librariesOf(ctx, sel)
			}
		default:
			return nil, nil, fmt.Errorf("resolve drives: unknown service %q (want %s or %s)", service, m365.OneDrive, m365.SharePoint)
		}
		if err != nil {
			return nil, nil, err
		}
		if sel != "*" {
			if one.none.Cause != "" {
				unknown = append(unknown, fmt.Sprintf("%q (%s)", sel, one.none.Reason))
				continue
			}
			all = []owned{one}
		}
		for _, o := range all {
			add(o)
		}
	}
	if len(unknown) > 0 {
		return nil, nil, fmt.Errorf("resolve %s drives: %s: %w", service, strings.Join(unknown, ", "), ErrUnknownResource)
	}
	return out, none, nil
}

// owned is what one user or site resolves to: its drives, or (none.Cause
// set) why it has none to back up.
type owned struct {
	drives []Drive
	none   backup.LeftOut
}

// unavailable is a user or site left out of a resolution. A denied one
// carries Graph's answer, which its failed backup shows.
func unavailable(resource, id, name string, cause m365.Cause, answer error) owned {
	reason := cause.Describe()
	if cause == m365.CauseAccessDenied {
		// Describe speaks of Exchange's access policies; a drive is
		// denied by its site's permissions.
		reason = "access denied to the app: " + answer.Error()
	}
	return owned{none: backup.LeftOut{Resource: resource, ResourceID: id, ResourceName: name, Cause: string(cause), Reason: reason}}
}

// noSuch is a named selector that names nothing: only ever an error.
func noSuch(what, key string) owned {
	return owned{none: backup.LeftOut{Resource: key, ResourceID: key, Cause: "noSuchResource", Reason: "no such " + what}}
}

// unavailableCause reads why a user or site has no drive to back up from
// the answer to a drive request, or returns "" for failures that are no
// verdict on the resource (throttling, a transient error): errors.
//
//   - 404 "User's mysite not found", "Tenant does not have a SPO license"
//     and 400 "Unable to retrieve user's mysite URL" (Corso's
//     graph/errors.go MysiteNotFound, MysiteURLNotFound, NoSPLicense): no
//     OneDrive. Other 404s on a resource just looked up say the same.
//   - 423, resourceLocked or notAllowed: locked
//     (learn.microsoft.com/onedrive/developer/rest-api/concepts/errors).
//   - any other 403: the app is denied this one resource.
func unavailableCause(err error) m365.Cause {
	class, cause := m365.FaultOf(err)
	switch {
	case class == m365.ResourceUnavailable:
		return cause
	case class == m365.ResourceDenied:
		return m365.CauseAccessDenied
	case errors.Is(err, ErrUnknownResource) || errors.Is(err, ErrNotFound):
		return m365.CauseNoDrive
	}
	return ""
}

// oneDriveOf resolves one named user's OneDrive.
func (c *Client) oneDriveOf(ctx context.Context, key string) (owned, error) {
	u, err := c.user(ctx, key)
	if errors.Is(err, ErrUnknownResource) || errors.Is(err, ErrNotFound) {
		return noSuch("user", key), nil
	}
	if err != nil {
		return owned{}, err
	}
	return c.userDrive(ctx, u)
}

// userDrive gets a user's default drive, or why the user has none.
func (c *Client) userDrive(ctx context.Context, u Mailbox) (owned, error) {
	d, err := c.sdk.Users().ByUserId(u.ID).Drive().Get(ofKind(ctx, "drive.get"), &users.ItemDriveRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.ItemDriveRequestBuilderGetQueryParameters{Select: driveFields},
	})
	if err != nil {
		err = classify("get the OneDrive of "+u.UPN, err)
		if cause := unavailableCause(err); cause != "" {
			return unavailable(u.UPN, u.ID, u.DisplayName, cause, err), nil
		}
		return owned{}, err
	}
	return owned{drives: []Drive{{ID: deref(d.GetId()), Name: deref(d.GetName()), Service: m365.OneDrive, Owner: u.ID, OwnerName: u.UPN}}}, nil
}

// allOneDrives lists the directory's users and probes each one's drive.
// Guests cannot have a OneDrive in the tenant, so they are not probed.
func (c *Client) allOneDrives(ctx context.Context) ([]owned, error) {
	dir, err := c.listUsers(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]owned, len(dir))
	errs := make([]error, len(dir))
	probe := make([]bool, len(dir))
	for i, u := range dir {
		if u.guest {
			out[i] = unavailable(u.UPN, u.ID, u.DisplayName, m365.CauseNoDrive, nil)
		} else {
			probe[i] = true
		}
	}
	c.probeAll(probe, func(i int) { out[i], errs[i] = c.userDrive(ctx, dir[i].Mailbox) })
	if err := cmp.Or(errs...); err != nil {
		return nil, err
	}
	if deniedAll(out, probe) {
		return nil, fmt.Errorf("resolve OneDrives: SharePoint denied the app every user's OneDrive (grant the Files.Read.All or Sites.Read.All application permission with admin consent): %w", ErrAuth)
	}
	return out, nil
}

// deniedAll says the app was denied every resource it probed: then the
// app, not the resources, lacks the permission.
func deniedAll(out []owned, probed []bool) bool {
	n, denied := 0, 0
	for i := range out {
		if !probed[i] {
			continue
		}
		n++
		if out[i].none.Cause == string(m365.CauseAccessDenied) {
			denied++
		}
	}
	return n > 0 && denied == n
}

// site is what a resolution needs of a SharePoint site.
type site struct {
	id, webURL, name string
}

// librariesOf resolves one named site, by URL or id, to its libraries.
func (c *Client) librariesOf(ctx context.Context, key string) (owned, error) {
	st, err := c.site(ctx, key)
	if errors.Is(err, ErrUnknownResource) || errors.Is(err, ErrNotFound) {
		return noSuch("site", key), nil
	}
	if cause := unavailableCause(err); err != nil && cause != "" {
		return unavailable(key, key, "", cause, err), nil
	}
	if err != nil {
		return owned{}, err
	}
	return c.siteDrives(ctx, st)
}

// siteDrives lists a site's libraries, or says why it has none to back up.
func (c *Client) siteDrives(ctx context.Context, st site) (owned, error) {
	ds, err := c.siteLibraries(ctx, st)
	if err != nil {
		if cause := unavailableCause(err); cause != "" && cause != m365.CauseNoDrive {
			return unavailable(st.webURL, st.id, st.name, cause, err), nil
		}
		return owned{}, err
	}
	return owned{drives: ds}, nil
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
	return c.siteAt(ctx, raw, key)
}

// siteAt looks up the site at raw, a site's address in Graph.
func (c *Client) siteAt(ctx context.Context, raw, key string) (site, error) {
	raw += "?" + query(url.Values{"$select": {"id,webUrl,displayName"}})
	s, err := sites.NewSiteItemRequestBuilder(raw, c.adapter).Get(ofKind(ctx, "site.get"), nil)
	if err != nil {
		err = classify("look up site "+key, err)
		var ae *apiError
		if errors.As(err, &ae) && ae.status == http.StatusBadRequest && ae.kind == nil && ae.class == m365.Unclassified {
			// Graph rejects keys that are no site id or URL of the
			// tenant ("Invalid hostname for this tenancy").
			ae.kind = ErrUnknownResource
		}
		return site{}, err
	}
	return site{id: deref(s.GetId()), webURL: deref(s.GetWebUrl()), name: deref(s.GetDisplayName())}, nil
}

// skippedSite says GET /sites lists a site that is no library of its own:
// personal sites are users' OneDrives (backed up as such), and the search
// centre at the tenant's /search has no libraries to back up (Corso's
// sites.go skips both).
func skippedSite(webURL string) bool {
	u, err := url.Parse(webURL)
	if err != nil {
		return false
	}
	p := strings.ToLower(strings.TrimSuffix(u.Path, "/"))
	return strings.HasPrefix(p, "/personal/") || p == "/search"
}

// allLibraries lists every site but the skipped ones, and their libraries.
func (c *Client) allLibraries(ctx context.Context) ([]owned, error) {
	all, err := c.listSites(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]owned, len(all))
	errs := make([]error, len(all))
	probe, probed := make([]bool, len(all)), make([]bool, len(all))
	for i := range probe {
		probe[i] = true
	}
	c.probeAll(probe, func(i int) {
		out[i], errs[i] = c.siteDrives(ctx, all[i])
		probed[i] = true
		if errors.Is(errs[i], ErrUnknownResource) || errors.Is(errs[i], ErrNotFound) {
			out[i], errs[i], probed[i] = owned{}, nil, false // deleted since it was listed
		}
	})
	if err := cmp.Or(errs...); err != nil {
		return nil, err
	}
	if deniedAll(out, probed) {
		return nil, fmt.Errorf("resolve SharePoint libraries: SharePoint denied the app every site (grant the Sites.Read.All application permission with admin consent): %w", ErrAuth)
	}
	return out, nil
}

// listSites lists every site of the tenant but the skipped ones.
func (c *Client) listSites(ctx context.Context) ([]site, error) {
	var all []site
	top := int32(999)
	resp, err := c.sdk.Sites().Get(ofKind(ctx, "sites.list"), &sites.SitesRequestBuilderGetRequestConfiguration{
		QueryParameters: &sites.SitesRequestBuilderGetQueryParameters{Select: []string{"id", "webUrl", "displayName"}, Top: &top},
	})
	for {
		if err != nil {
			err = classify("list sites", err)
			if class, _ := m365.FaultOf(err); class == m365.ResourceDenied {
				return nil, fmt.Errorf("%w (grant the Sites.Read.All application permission with admin consent): %w", err, ErrAuth)
			}
			return nil, err
		}
		for _, s := range resp.GetValue() {
			st := site{id: deref(s.GetId()), webURL: deref(s.GetWebUrl()), name: deref(s.GetDisplayName())}
			if !skippedSite(st.webURL) {
				all = append(all, st)
			}
		}
		next := deref(resp.GetOdataNextLink())
		if next == "" {
			break
		}
		resp, err = sites.NewSitesRequestBuilder(next, c.adapter).Get(ofKind(ctx, "sites.list"), nil)
	}
	return all, nil
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
	p, _, err := c.DriveDeltaPageUnreadable(ctx, driveID, link)
	return p, err
}

// DriveDeltaPageUnreadable is DriveDeltaPage, and the files of the page
// Microsoft 365 will never serve, by id, with the cause: those carrying
// the malware facet (m365.CauseMalware), whose download answers 403
// malwareDetected (OneDrive/onedrive-api-docs#1626). They are in the
// page's Items too.
func (c *Client) DriveDeltaPageUnreadable(ctx context.Context, driveID, link string) (DrivePage, map[string]m365.Cause, error) {
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
		if errors.As(err, &ae) && ae.kind == nil && ae.class == m365.Unclassified && link != "" && ae.status == http.StatusBadRequest {
			// The drive no longer understands the token: as with an
			// expired one, the cure is a new enumeration.
			ae.kind = ErrDeltaExpired
		}
		if errors.As(err, &ae) && strings.HasPrefix(strings.ToLower(ae.code), "resync") {
			ae.kind = ErrDeltaExpired
		}
		return DrivePage{}, nil, err
	}
	p := DrivePage{NextLink: deref(resp.GetOdataNextLink()), DeltaLink: deref(resp.GetOdataDeltaLink())}
	if p.NextLink == "" && p.DeltaLink == "" {
		// Following an empty NextLink would restart the round forever.
		return DrivePage{}, nil, fmt.Errorf("%s: Graph's page has neither nextLink nor deltaLink", op)
	}
	var unreadable map[string]m365.Cause
	p.Items = make([]DriveItem, 0, len(resp.GetValue()))
	for _, it := range resp.GetValue() {
		d := driveItemOf(it)
		p.Items = append(p.Items, d)
		if it.GetMalware() != nil && !d.Deleted && !d.Folder {
			if unreadable == nil {
				unreadable = map[string]m365.Cause{}
			}
			unreadable[d.ID] = m365.CauseMalware
		}
	}
	return p, unreadable, nil
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
	all, err := listAll[json.RawMessage](ctx, c, op, link)
	if err != nil {
		return nil, err
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
		// A package (a OneNote notebook) has neither file nor folder
		// facet (learn.microsoft.com/graph/api/resources/package) but
		// children, its sections, and no bytes Graph serves (Corso's
		// collection/drive/collection.go never downloads it): it is kept
		// as the folder of its members.
		d.Folder = d.Folder || it.GetFile() == nil
	}
	if f := it.GetFile(); f != nil && !d.Folder {
		if s := it.GetSize(); s != nil {
			d.Size = *s
		}
		if h := f.GetHashes(); h != nil {
			d.QuickXorHash = deref(h.GetQuickXorHash())
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
