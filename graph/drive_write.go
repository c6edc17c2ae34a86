package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	absser "github.com/microsoft/kiota-abstractions-go/serialization"
	"github.com/microsoftgraph/msgraph-sdk-go/drives"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/corso-temporal/corso/m365"
)

// Restores write files back into a drive: folders by name from the root,
// files by upload (small ones in one request, large ones through an upload
// session, chunk by chunk, never held whole), and the sharing a backup
// recorded.

const (
	// maxSimpleDriveUpload: files up to this size are uploaded in one
	// request, as Graph recommends for up to 4 MB.
	maxSimpleDriveUpload = 4 << 20
	// driveUploadChunk is the size of each upload to an upload session: a
	// multiple of 320 KiB, as Graph requires, of 10 MiB.
	driveUploadChunk = 32 * 320 << 10
	// maxChunkAttempts is how often one chunk is sent before an upload
	// gives up.
	maxChunkAttempts = 3
)

// EnsureDriveFolder returns the id of the folder at path (names from the
// drive's root), creating the levels that are missing; an empty path is
// the root. Existing folders are found by name, without regard to case as
// SharePoint names go, so calling it again creates nothing. A file where a
// folder is needed fails with m365.ErrNameConflict.
func (c *Client) EnsureDriveFolder(ctx context.Context, driveID string, path []string) (string, error) {
	op := fmt.Sprintf("ensure folder %q of drive %s", path, driveID)
	for _, name := range path {
		if strings.TrimSpace(name) == "" {
			return "", errors.New(op + ": empty name in path")
		}
	}
	if len(path) == 0 {
		it, err := c.driveItemAt(ctx, op, driveID, "root", nil)
		if err != nil {
			return "", err
		}
		return deref(it.GetId()), nil
	}
	// Find the deepest level that exists, from the whole path up: a folder
	// restored into before takes one request, a new folder in an existing
	// one two before it is created.
	parent, known := "root", 0
	for n := len(path); n > 0; n-- {
		id, err := c.folderAt(ctx, op, driveID, "root", path[:n])
		if err == nil {
			parent, known = id, n
			break
		}
		if !errors.Is(err, ErrNotFound) {
			return "", err
		}
	}
	for _, name := range path[known:] {
		id, err := c.createFolder(ctx, op, driveID, parent, name)
		if err != nil {
			return "", err
		}
		parent = id
	}
	return parent, nil
}

// createFolder creates name in parent, or finds the folder of that name
// already there.
func (c *Client) createFolder(ctx context.Context, op, driveID, parent, name string) (string, error) {
	item := models.NewDriveItem()
	item.SetName(&name)
	item.SetFolder(models.NewFolder())
	item.SetAdditionalData(map[string]any{"@microsoft.graph.conflictBehavior": m365.ConflictFail})
	created, err := c.sdk.Drives().ByDriveId(driveID).Items().ByDriveItemId(parent).Children().Post(
		forDrive(ctx, driveID, "drive.folder.create"), item, nil)
	if err == nil {
		return deref(created.GetId()), nil
	}
	err = classify(op, err)
	var ae *apiError
	if errors.As(err, &ae) && ae.status == http.StatusConflict {
		return c.folderAt(ctx, op, driveID, parent, []string{name})
	}
	return "", unrestorable(err)
}

// folderAt finds the folder at path below the folder parent.
func (c *Client) folderAt(ctx context.Context, op, driveID, parent string, path []string) (string, error) {
	it, err := c.driveItemAt(ctx, op, driveID, parent, path)
	if err != nil {
		return "", err
	}
	if it.GetFolder() == nil {
		return "", fmt.Errorf("%s: %q is a file, not a folder: %w", op, strings.Join(path, "/"), m365.ErrNameConflict)
	}
	return deref(it.GetId()), nil
}

// driveItemAt gets the item at path below the item base (path addressing:
// GET /drives/{d}/items/{base}:/{path}).
func (c *Client) driveItemAt(ctx context.Context, op, driveID, base string, path []string) (models.DriveItemable, error) {
	raw := c.v1("drives", driveID, "items", base)
	if len(path) > 0 {
		raw += ":/" + escapePath(path) + ":"
	}
	raw += "?" + query(url.Values{"$select": {"id,name,folder,file,package"}})
	it, err := drives.NewItemItemsDriveItemItemRequestBuilder(raw, c.adapter).Get(forDrive(ctx, driveID, "drive.item.get"), nil)
	if err != nil {
		return nil, classify(op, err)
	}
	return it, nil
}

// UploadFile writes a file of size bytes, read from content, into a
// folder, and returns the item it became. conflict says what happens when
// the folder has an item of that name: m365.ConflictFail fails with
// m365.ErrNameConflict, m365.ConflictRename picks a free name ("a 1.txt"),
// m365.ConflictReplace writes a new version of the existing file. modified
// (unless zero) becomes the file's last modification time as users see it.
//
// Files up to 4 MB go up in one request; larger ones through an upload
// session in chunks, so no more than one chunk (10 MiB) is held at a time.
// Content Graph refuses for good (a name it does not allow, a file too
// large) fails with ErrUnrestorable.
func (c *Client) UploadFile(ctx context.Context, driveID, folderID, name string, size int64, modified time.Time,
	content io.Reader, conflict string) (DriveItem, error) {
	op := fmt.Sprintf("upload %q into folder %s of drive %s", name, folderID, driveID)
	if conflict == "" {
		conflict = m365.ConflictFail
	}
	switch conflict {
	case m365.ConflictFail, m365.ConflictRename, m365.ConflictReplace:
	default:
		return DriveItem{}, fmt.Errorf("%s: unknown conflict behaviour %q", op, conflict)
	}
	if strings.TrimSpace(name) == "" {
		return DriveItem{}, errors.New(op + ": empty name")
	}
	if size < 0 {
		return DriveItem{}, fmt.Errorf("%s: negative size %d", op, size)
	}
	var (
		it  models.DriveItemable
		err error
	)
	if size <= c.simpleUploadMax {
		it, err = c.uploadSimple(ctx, op, driveID, folderID, name, size, modified, content, conflict)
	} else {
		it, err = c.uploadSession(ctx, op, driveID, folderID, name, size, modified, content, conflict)
	}
	if err != nil {
		return DriveItem{}, nameConflict(unrestorable(err))
	}
	return driveItemOf(it), nil
}

// nameConflict marks Graph's 409 (nameAlreadyExists) as ErrNameConflict.
func nameConflict(err error) error {
	var ae *apiError
	if errors.As(err, &ae) && ae.kind == nil && ae.status == http.StatusConflict {
		ae.kind = m365.ErrNameConflict
	}
	return err
}

// readExactly reads exactly size bytes of content into buf.
func readExactly(op string, content io.Reader, buf []byte, last bool) error {
	if _, err := io.ReadFull(content, buf); err != nil {
		return fmt.Errorf("%s: the content is shorter than its size: %w", op, err)
	}
	if last {
		var one [1]byte
		if n, _ := io.ReadFull(content, one[:]); n > 0 {
			return fmt.Errorf("%s: the content is longer than its size", op)
		}
	}
	return nil
}

// uploadSimple puts the file in one request (PUT .../{folder}:/{name}:/content),
// then sets its modification time, which that request cannot carry.
func (c *Client) uploadSimple(ctx context.Context, op, driveID, folderID, name string, size int64, modified time.Time,
	content io.Reader, conflict string) (models.DriveItemable, error) {
	buf := make([]byte, size)
	if err := readExactly(op, content, buf, true); err != nil {
		return nil, err
	}
	raw := c.v1("drives", driveID, "items", folderID) + ":/" + url.PathEscape(name) + ":/content" +
		"?@microsoft.graph.conflictBehavior=" + conflict
	h := abs.NewRequestHeaders()
	h.Add("Content-Length", int64String(size))
	it, err := drives.NewItemItemsItemContentRequestBuilder(raw, c.adapter).Put(forDrive(ctx, driveID, "drive.upload"), buf,
		&drives.ItemItemsItemContentRequestBuilderPutRequestConfiguration{Headers: h})
	if err != nil {
		return nil, classify(op, err)
	}
	if modified.IsZero() {
		return it, nil
	}
	patch := models.NewDriveItem()
	fs := models.NewFileSystemInfo()
	fs.SetLastModifiedDateTime(&modified)
	patch.SetFileSystemInfo(fs)
	updated, err := c.sdk.Drives().ByDriveId(driveID).Items().ByDriveItemId(deref(it.GetId())).Patch(
		forDrive(ctx, driveID, "drive.item.update"), patch, nil)
	if err != nil {
		return nil, classify(op+": set its modification time", err)
	}
	return updated, nil
}

// uploadSession uploads through an upload session: the session is created
// with the item's name, size, conflict behaviour and times, then takes the
// content chunk by chunk at its pre-authenticated URL.
func (c *Client) uploadSession(ctx context.Context, op, driveID, folderID, name string, size int64, modified time.Time,
	content io.Reader, conflict string) (models.DriveItemable, error) {
	props := models.NewDriveItemUploadableProperties()
	props.SetName(&name)
	props.SetFileSize(&size)
	if !modified.IsZero() {
		fs := models.NewFileSystemInfo()
		fs.SetLastModifiedDateTime(&modified)
		props.SetFileSystemInfo(fs)
	}
	props.SetAdditionalData(map[string]any{"@microsoft.graph.conflictBehavior": conflict})
	body := drives.NewItemItemsItemCreateUploadSessionPostRequestBody()
	body.SetItem(props)
	raw := c.v1("drives", driveID, "items", folderID) + ":/" + url.PathEscape(name) + ":/createUploadSession"
	sess, err := drives.NewItemItemsItemCreateUploadSessionRequestBuilder(raw, c.adapter).Post(
		forDrive(ctx, driveID, "drive.uploadSession"), body, nil)
	if err != nil {
		return nil, classify(op, err)
	}
	uploadURL := deref(sess.GetUploadUrl())
	if uploadURL == "" {
		return nil, fmt.Errorf("%s: upload session without an upload URL", op)
	}
	it, err := c.uploadChunks(ctx, op, driveID, uploadURL, size, content)
	if err != nil {
		// Leave no session behind, even when the caller's context ended.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		_, _ = c.send(forDrive(cctx, driveID, "drive.uploadCancel"), op, rawCall{method: abs.DELETE, url: uploadURL})
		return nil, err
	}
	return it, nil
}

// uploadChunks sends the content to an upload session. The upload URL is
// pre-authenticated and outside Graph's hosts, so no token goes there. A
// chunk whose sending failed on the way is sent again from where the
// session says it stands.
func (c *Client) uploadChunks(ctx context.Context, op, driveID, uploadURL string, size int64, content io.Reader) (models.DriveItemable, error) {
	buf := make([]byte, min(int64(c.driveChunk), size))
	var last rawAnswer
	for off := int64(0); off < size; {
		n := min(int64(len(buf)), size-off)
		if err := readExactly(op, content, buf[:n], off+n == size); err != nil {
			return nil, err
		}
		from := off // the first byte of the chunk the session still needs
		for attempt := 1; from < off+n; attempt++ {
			a, err := c.send(forDrive(ctx, driveID, "drive.uploadChunk"), op, rawCall{method: abs.PUT, url: uploadURL,
				body: buf[from-off : n], contentType: "application/octet-stream",
				headers: [][2]string{{"Content-Range", fmt.Sprintf("bytes %d-%d/%d", from, off+n-1, size)}}})
			if err == nil {
				last = a
				break
			}
			if attempt >= maxChunkAttempts || !chunkRetryable(err) || ctx.Err() != nil {
				return nil, err
			}
			next, serr := c.uploadSessionNext(ctx, op, driveID, uploadURL)
			if serr != nil || next < off || next > off+n {
				return nil, err
			}
			if next == off+n && off+n == size {
				// The last chunk arrived, its answer did not: the item
				// exists, but which one is unknown.
				return nil, err
			}
			from = next
		}
		off += n
	}
	if size == 0 {
		return nil, fmt.Errorf("%s: an upload session needs content", op)
	}
	return parseDriveItem(op, last.body)
}

// chunkRetryable says a chunk may be sent again: it failed on the way or
// the service failed, not by a verdict on the chunk.
func chunkRetryable(err error) bool {
	var ae *apiError
	var te *ThrottledError
	if errors.As(err, &te) {
		return false
	}
	if errors.As(err, &ae) {
		return ae.status >= 500
	}
	return transient(nil, err)
}

// uploadSessionNext asks an upload session for the next byte it expects.
func (c *Client) uploadSessionNext(ctx context.Context, op, driveID, uploadURL string) (int64, error) {
	a, err := c.send(forDrive(ctx, driveID, "drive.uploadStatus"), op, rawCall{method: abs.GET, url: uploadURL})
	if err != nil {
		return 0, err
	}
	var st struct {
		Next []string `json:"nextExpectedRanges"`
	}
	if err := json.Unmarshal(a.body, &st); err != nil || len(st.Next) == 0 {
		return 0, fmt.Errorf("%s: unreadable upload session status", op)
	}
	from, _, _ := strings.Cut(st.Next[0], "-")
	var next int64
	if _, err := fmt.Sscan(from, &next); err != nil {
		return 0, fmt.Errorf("%s: unreadable upload session status %q", op, st.Next[0])
	}
	return next, nil
}

// parseDriveItem reads a driveItem's JSON as the SDK's model.
func parseDriveItem(op string, b []byte) (models.DriveItemable, error) {
	// The SDK's client registered its JSON reader as the default one.
	node, err := absser.DefaultParseNodeFactoryInstance.GetRootParseNode("application/json", b)
	if err != nil {
		return nil, fmt.Errorf("%s: unreadable item: %w", op, err)
	}
	v, err := node.GetObjectValue(models.CreateDriveItemFromDiscriminatorValue)
	if err != nil {
		return nil, fmt.Errorf("%s: unreadable item: %w", op, err)
	}
	it, ok := v.(models.DriveItemable)
	if !ok || deref(it.GetId()) == "" {
		return nil, fmt.Errorf("%s: the upload's answer names no item", op)
	}
	return it, nil
}

// DeleteDriveItem deletes a file or folder (with its contents); one
// already gone counts as deleted.
func (c *Client) DeleteDriveItem(ctx context.Context, driveID, itemID string) error {
	err := c.sdk.Drives().ByDriveId(driveID).Items().ByDriveItemId(itemID).Delete(forDrive(ctx, driveID, "drive.item.delete"), nil)
	if err == nil {
		return nil
	}
	err = classify(fmt.Sprintf("delete item %s of drive %s", itemID, driveID), err)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// storedPermission is what RestorePermissions reads of a permission as
// DrivePermissions stored it.
type storedPermission struct {
	ID    string   `json:"id"`
	Roles []string `json:"roles"`
	Link  *struct {
		Type  string `json:"type"`
		Scope string `json:"scope"`
	} `json:"link"`
	HasPassword           bool            `json:"hasPassword"`
	InheritedFrom         json.RawMessage `json:"inheritedFrom"`
	Expiration            string          `json:"expirationDateTime"`
	GrantedToV2           *identitySet    `json:"grantedToV2"`
	GrantedToIdentitiesV2 []identitySet   `json:"grantedToIdentitiesV2"`
	GrantedTo             *identitySet    `json:"grantedTo"`
	GrantedToIdentities   []identitySet   `json:"grantedToIdentities"`
	Invitation            *struct {
		Email string `json:"email"`
	} `json:"invitation"`
}

type identitySet struct {
	User, Group, SiteUser, SiteGroup, Application, Device *identity
}

type identity struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	Email       string `json:"email"`
}

// Link types createLink takes.
var linkTypes = []string{"view", "edit", "embed", "blocksDownload", "createOnly"}

// RestorePermissions re-creates on an item the permissions of its own that
// a stored permissions array (see DrivePermissions) lists: grants to users
// and groups through invite (the same roles, by address, sign-in required,
// no invitation mail sent) and sharing links through createLink (the same
// type and scope, and expiry when it has not passed). Inherited
// permissions and the owner's are left alone: the target has its own.
//
// Permissions that cannot be re-created (password-protected links, whose
// password Graph never returns; SharePoint groups; roles invite does not
// grant; recipients Graph refuses) are skipped and reported together in an
// error wrapping ErrUnrestorable, after the others are in place. Failures
// retrying may cure (throttling, the service) return at once.
func (c *Client) RestorePermissions(ctx context.Context, driveID, itemID string, perms []byte) error {
	op := fmt.Sprintf("restore permissions of item %s of drive %s", itemID, driveID)
	var stored []storedPermission
	if err := json.Unmarshal(perms, &stored); err != nil {
		return fmt.Errorf("%s: stored permissions: %w: %v", op, ErrUnrestorable, err)
	}
	var skipped []string
	skip := func(p storedPermission, why string) {
		skipped = append(skipped, fmt.Sprintf("%s (%s)", p.ID, why))
	}
	now := time.Now()
	for _, p := range stored {
		if inherited(p.InheritedFrom) || slices.Contains(p.Roles, "owner") {
			continue
		}
		var expires *time.Time
		if p.Expiration != "" {
			t, err := time.Parse(time.RFC3339Nano, p.Expiration)
			if err == nil && !t.After(now) {
				continue // expired: it grants nothing any more
			}
			if err == nil {
				expires = &t
			}
		}
		var err error
		if p.Link != nil {
			err = c.restoreLink(ctx, op, driveID, itemID, p, expires, skip)
		} else {
			err = c.restoreGrant(ctx, op, driveID, itemID, p, skip)
		}
		if err != nil {
			return err
		}
	}
	if len(skipped) > 0 {
		return fmt.Errorf("%s: %d of %d permissions not re-created: %s: %w", op, len(skipped), len(stored),
			strings.Join(skipped, "; "), ErrUnrestorable)
	}
	return nil
}

func inherited(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return s != "" && s != "null" && s != "{}"
}

func (c *Client) restoreLink(ctx context.Context, op, driveID, itemID string, p storedPermission, expires *time.Time,
	skip func(storedPermission, string)) error {
	typ, scope := p.Link.Type, p.Link.Scope
	switch {
	case p.HasPassword:
		skip(p, "password-protected link")
		return nil
	case !slices.Contains(linkTypes, typ):
		skip(p, fmt.Sprintf("link of type %q", typ))
		return nil
	}
	body := drives.NewItemItemsItemCreateLinkPostRequestBody()
	body.SetTypeEscaped(&typ)
	switch scope {
	case "anonymous", "organization":
	case "users":
		// A link for specific people: the same people.
		recipients, _ := p.recipients()
		if len(recipients) == 0 {
			skip(p, "link for specific people who are not recorded")
			return nil
		}
		body.SetRecipients(recipients)
	default:
		skip(p, fmt.Sprintf("link of scope %q", scope))
		return nil
	}
	body.SetScope(&scope)
	if expires != nil {
		body.SetExpirationDateTime(expires)
	}
	_, err := c.sdk.Drives().ByDriveId(driveID).Items().ByDriveItemId(itemID).CreateLink().Post(
		forDrive(ctx, driveID, "drive.createLink"), body, nil)
	return refused(classify(op, err), p, skip)
}

func (c *Client) restoreGrant(ctx context.Context, op, driveID, itemID string, p storedPermission,
	skip func(storedPermission, string)) error {
	recipients, why := p.recipients()
	if len(recipients) == 0 {
		skip(p, why)
		return nil
	}
	var roles []string
	for _, r := range p.Roles {
		if r == "read" || r == "write" {
			roles = append(roles, r)
		}
	}
	if len(roles) == 0 {
		skip(p, fmt.Sprintf("roles %q", p.Roles))
		return nil
	}
	body := drives.NewItemItemsItemInvitePostRequestBody()
	body.SetRecipients(recipients)
	body.SetRoles(roles)
	yes, no := true, false
	body.SetRequireSignIn(&yes)
	body.SetSendInvitation(&no)
	_, err := c.sdk.Drives().ByDriveId(driveID).Items().ByDriveItemId(itemID).Invite().PostAsInvitePostResponse(
		forDrive(ctx, driveID, "drive.invite"), body, nil)
	return refused(classify(op, err), p, skip)
}

// refused turns Graph's final refusal of one permission into a skip: the
// permission is invalid here (400 and kin) or forbidden, as sharing
// policies forbid links of some scopes; the rest of the restore goes on.
func refused(err error, p storedPermission, skip func(storedPermission, string)) error {
	if err == nil {
		return nil
	}
	var ae *apiError
	if errors.Is(unrestorable(err), ErrUnrestorable) || errors.As(err, &ae) && ae.status == http.StatusForbidden {
		skip(p, "refused: "+err.Error())
		return nil
	}
	return err
}

// recipients are the people and groups a permission is granted to, by
// address where known, else by directory id; why says why there are none.
func (p storedPermission) recipients() ([]models.DriveRecipientable, string) {
	sets := p.GrantedToIdentitiesV2
	if len(sets) == 0 && p.GrantedToV2 != nil {
		sets = []identitySet{*p.GrantedToV2}
	}
	if len(sets) == 0 {
		sets = p.GrantedToIdentities
	}
	if len(sets) == 0 && p.GrantedTo != nil {
		sets = []identitySet{*p.GrantedTo}
	}
	var out []models.DriveRecipientable
	seen := map[string]bool{}
	addr := func(email, objectID string) {
		key := strings.ToLower(email + "|" + objectID)
		if seen[key] {
			return
		}
		seen[key] = true
		r := models.NewDriveRecipient()
		if email != "" {
			r.SetEmail(&email)
		} else {
			r.SetObjectId(&objectID)
		}
		out = append(out, r)
	}
	why := "no recipient recorded"
	for _, s := range sets {
		switch {
		case s.User != nil && (s.User.Email != "" || s.User.ID != ""):
			addr(s.User.Email, s.User.ID)
		case s.Group != nil && (s.Group.Email != "" || s.Group.ID != ""):
			addr(s.Group.Email, s.Group.ID)
		case s.SiteUser != nil && s.SiteUser.Email != "":
			addr(s.SiteUser.Email, "")
		case s.SiteGroup != nil:
			why = fmt.Sprintf("SharePoint group %q", s.SiteGroup.DisplayName)
		case s.Application != nil:
			why = fmt.Sprintf("application %q", s.Application.DisplayName)
		}
	}
	if len(out) == 0 && p.Invitation != nil && p.Invitation.Email != "" {
		addr(p.Invitation.Email, "")
	}
	return out, why
}
