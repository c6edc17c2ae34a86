package graph

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/corso-temporal/corso/m365"
)

// Restores write backed-up items back into a mailbox: the exact bytes a
// backup stored (a message's MIME, a contact's or an event's JSON), minus
// what Exchange assigns itself. Bodies are sent raw, through the SDK's
// adapter and the client's whole pipeline (authentication, mailbox slots,
// throttling), never through the SDK's models, which would drop properties
// they do not know.

const (
	// maxInlineAttachment: smaller files are posted with the attachment's
	// metadata; Graph takes requests of at most 4 MB, which 3 MB of base64
	// content fills. Larger ones go through an upload session.
	maxInlineAttachment = 3 << 20
	// attachmentChunk is the size of each upload to an upload session,
	// a multiple of 320 KiB below Graph's 4 MB.
	attachmentChunk = 10 * 320 << 10
)

// Properties Exchange assigns itself, which a restore leaves out of the
// items it creates; annotations (@odata.etag, ...) go too.
var (
	contactServerProps = serverAssigned("id", "createdDateTime", "lastModifiedDateTime", "changeKey", "parentFolderId")
	eventServerProps   = serverAssigned("id", "createdDateTime", "lastModifiedDateTime", "changeKey", "webLink",
		"iCalUId", "uid", "seriesMasterId", "type", "originalStart", "occurrenceId", "exceptionOccurrences",
		"cancelledOccurrences", "instances", "attachments", "hasAttachments", "responseStatus", "calendar", "calendarId",
		// transactionId is an idempotency key: posted again, Graph returns
		// the event that carries it instead of creating one (Corso's
		// transform.go toEventSimplified strips it, with iCalUId_v2).
		"transactionId", "iCalUId_v2")
	// Attachments keep their type, which says what kind of attachment to
	// create.
	attachmentServerProps = exceptType(serverAssigned("id", "lastModifiedDateTime", "size"))
	attachedItemProps     = exceptType(serverAssigned("id", "changeKey", "parentFolderId"))
)

// exceptionProps are what a series' exception may change about its
// occurrence and a restore re-applies when it differs.
var exceptionProps = []string{"subject", "body", "start", "end", "location", "locations", "isAllDay",
	"showAs", "importance", "sensitivity", "isReminderOn", "reminderMinutesBeforeStart", "categories"}

func exceptType(drop func(string) bool) func(string) bool {
	return func(k string) bool { return k != "@odata.type" && drop(k) }
}

// EnsureContainer returns the id of the container at path (display names
// from the mailbox root, as Containers reports them), creating the levels
// that are missing. Mail folders and contact folders nest; calendars do not,
// so an events path has exactly one name. Existing folders are found by
// name (a well-known folder such as "Inbox" included), so calling it again
// creates nothing.
func (c *Client) EnsureContainer(ctx context.Context, mailboxID string, cat Category, path []string) (string, error) {
	op := fmt.Sprintf("ensure %s container %q of %s", cat, path, mailboxID)
	if len(path) == 0 {
		return "", errors.New(op + ": empty path")
	}
	for _, name := range path {
		if strings.TrimSpace(name) == "" {
			return "", errors.New(op + ": empty name in path")
		}
	}
	user := c.v1("users", mailboxID)
	switch cat {
	case m365.ChannelMessages:
		return c.ensureChannel(ctx, op, mailboxID, path)
	case Email:
		parent := ""
		for _, name := range path {
			list := user + "/mailFolders"
			if parent != "" {
				list = user + "/mailFolders/" + url.PathEscape(parent) + "/childFolders"
			}
			id, err := c.ensureFolder(ctx, op, mailboxID, "mailFolders", list, "displayName", name)
			if err != nil {
				return "", err
			}
			parent = id
		}
		return parent, nil
	case Contacts:
		parent, rest, err := c.defaultContactFolder(ctx, op, mailboxID, path)
		if err != nil {
			return "", err
		}
		for _, name := range rest {
			list := user + "/contactFolders"
			if parent != "" {
				list = user + "/contactFolders/" + url.PathEscape(parent) + "/childFolders"
			}
			id, err := c.ensureFolder(ctx, op, mailboxID, "contactFolders", list, "displayName", name)
			if err != nil {
				return "", err
			}
			parent = id
		}
		return parent, nil
	case Events:
		if len(path) != 1 {
			return "", errors.New(op + ": calendars do not nest; the path must be one name")
		}
		return c.ensureFolder(ctx, op, mailboxID, "calendars", user+"/calendars", "name", path[0])
	}
	return "", fmt.Errorf("%s: unknown category", op)
}

// defaultContactFolder resolves the top of a contacts path. Graph lists
// the folders below the default Contacts folder as the top-level ones, and
// Containers reports the default folder as the root of its tree, so a path
// that starts with its name starts there.
func (c *Client) defaultContactFolder(ctx context.Context, op, mailboxID string, path []string) (string, []string, error) {
	a, err := c.send(forMailbox(ctx, mailboxID, "contactFolders.get"), op, rawCall{method: abs.GET,
		url: c.v1("users", mailboxID, "contactFolders", "contacts") + "?" + query(url.Values{"$select": {"id,displayName"}})})
	if err != nil {
		return "", nil, err
	}
	var def struct {
		ID          string `json:"id"`
		DisplayName string `json:"displayName"`
	}
	if err := json.Unmarshal(a.body, &def); err != nil || def.ID == "" {
		return "", nil, fmt.Errorf("%s: unreadable default contact folder: %v", op, err)
	}
	if strings.EqualFold(path[0], def.DisplayName) {
		return def.ID, path[1:], nil
	}
	return "", path, nil
}

// ensureFolder finds the folder called name in the list at listURL, or
// creates it there. Exchange names are unique without regard to case, so
// an exact match is preferred and a case-insensitive one accepted. A
// creation that collides with a folder made meanwhile finds that one.
func (c *Client) ensureFolder(ctx context.Context, op, mailboxID, kind, listURL, nameProp, name string) (string, error) {
	id, err := c.findFolder(ctx, op, mailboxID, kind, listURL, nameProp, name)
	if err != nil || id != "" {
		return id, err
	}
	body, _ := json.Marshal(map[string]string{nameProp: name})
	a, err := c.send(forMailbox(ctx, mailboxID, kind+".create"), op, rawCall{method: abs.POST, url: listURL,
		body: body, contentType: "application/json"})
	if err == nil {
		return createdID(op, a)
	}
	var ae *apiError
	if errors.As(err, &ae) && (ae.status == http.StatusConflict || strings.EqualFold(ae.code, "ErrorFolderExists")) {
		if id, ferr := c.findFolder(ctx, op, mailboxID, kind, listURL, nameProp, name); ferr == nil && id != "" {
			return id, nil
		}
	}
	return "", err
}

func (c *Client) findFolder(ctx context.Context, op, mailboxID, kind, listURL, nameProp, name string) (string, error) {
	ctx = forMailbox(ctx, mailboxID, kind+".list")
	link := listURL + "?" + query(url.Values{
		"$filter": {nameProp + " eq '" + strings.ReplaceAll(name, "'", "''") + "'"},
		"$select": {"id," + nameProp},
	})
	exact, folded := "", ""
	for link != "" {
		a, err := c.send(ctx, op, rawCall{method: abs.GET, url: link, headers: c.pageSizeHeader()})
		if err != nil {
			return "", err
		}
		var page struct {
			Value []map[string]any `json:"value"`
			Next  string           `json:"@odata.nextLink"`
		}
		if err := json.Unmarshal(a.body, &page); err != nil {
			return "", fmt.Errorf("%s: unreadable folder list: %w", op, err)
		}
		for _, f := range page.Value {
			id, _ := f["id"].(string)
			n, _ := f[nameProp].(string)
			if n == name && exact == "" {
				exact = id
			}
			if strings.EqualFold(n, name) && folded == "" {
				folded = id
			}
		}
		link = page.Next
	}
	if exact != "" {
		return exact, nil
	}
	return folded, nil
}

// ExistingItems lists every item of a container with its collision key
// (see m365.StoredItemKey, which gives a backed-up item the same key) and
// its creation time. It asks for the key's properties only.
func (c *Client) ExistingItems(ctx context.Context, mailboxID string, cat Category, containerID string) ([]ExistingItem, error) {
	op := fmt.Sprintf("list %s items of container %s of %s", cat, containerID, mailboxID)
	var (
		out []ExistingItem
		err error
	)
	switch cat {
	case Email:
		out, err = c.existingMessages(forMailbox(ctx, mailboxID, "messages.list"), mailboxID, containerID)
	case Contacts:
		out, err = c.existingContacts(forMailbox(ctx, mailboxID, "contacts.list"), mailboxID, containerID)
	case Events:
		out, err = c.existingEvents(forMailbox(ctx, mailboxID, "events.list"), mailboxID, containerID)
	case m365.ListItems:
		out, err = c.existingListItems(ctx, mailboxID, containerID)
	case m365.ChannelMessages:
		out, err = c.existingThreads(ctx, op, mailboxID, containerID)
	default:
		return nil, fmt.Errorf("%s: unknown category", op)
	}
	if err != nil {
		return nil, classify(op, err)
	}
	return out, nil
}

func (c *Client) existingMessages(ctx context.Context, mailboxID, folderID string) ([]ExistingItem, error) {
	cfg := &users.ItemMailFoldersItemMessagesRequestBuilderGetRequestConfiguration{Headers: c.preferPageSize(),
		QueryParameters: &users.ItemMailFoldersItemMessagesRequestBuilderGetQueryParameters{
			Select: []string{"id", "subject", "sentDateTime", "createdDateTime"}}}
	resp, err := c.sdk.Users().ByUserId(mailboxID).MailFolders().ByMailFolderId(folderID).Messages().Get(ctx, cfg)
	var out []ExistingItem
	for {
		if err != nil {
			return nil, err
		}
		for _, m := range resp.GetValue() {
			out = append(out, ExistingItem{ID: deref(m.GetId()), Created: timeOf(m.GetCreatedDateTime()),
				Key: m365.MailKey(deref(m.GetSubject()), timeOf(m.GetSentDateTime()))})
		}
		next := deref(resp.GetOdataNextLink())
		if next == "" {
			return out, nil
		}
		resp, err = users.NewItemMailFoldersItemMessagesRequestBuilder(next, c.adapter).Get(ctx,
			&users.ItemMailFoldersItemMessagesRequestBuilderGetRequestConfiguration{Headers: c.preferPageSize()})
	}
}

func (c *Client) existingContacts(ctx context.Context, mailboxID, folderID string) ([]ExistingItem, error) {
	cfg := &users.ItemContactFoldersItemContactsRequestBuilderGetRequestConfiguration{Headers: c.preferPageSize(),
		QueryParameters: &users.ItemContactFoldersItemContactsRequestBuilderGetQueryParameters{
			Select: []string{"id", "givenName", "surname", "emailAddresses", "mobilePhone", "createdDateTime"}}}
	resp, err := c.sdk.Users().ByUserId(mailboxID).ContactFolders().ByContactFolderId(folderID).Contacts().Get(ctx, cfg)
	var out []ExistingItem
	for {
		if err != nil {
			return nil, err
		}
		for _, ct := range resp.GetValue() {
			var emails []string
			for _, e := range ct.GetEmailAddresses() {
				emails = append(emails, deref(e.GetAddress()))
			}
			out = append(out, ExistingItem{ID: deref(ct.GetId()), Created: timeOf(ct.GetCreatedDateTime()),
				Key: m365.ContactKey(deref(ct.GetGivenName()), deref(ct.GetSurname()), emails, deref(ct.GetMobilePhone()))})
		}
		next := deref(resp.GetOdataNextLink())
		if next == "" {
			return out, nil
		}
		resp, err = users.NewItemContactFoldersItemContactsRequestBuilder(next, c.adapter).Get(ctx,
			&users.ItemContactFoldersItemContactsRequestBuilderGetRequestConfiguration{Headers: c.preferPageSize()})
	}
}

// existingEvents lists series masters and single events (a calendar's
// events list does not expand series).
func (c *Client) existingEvents(ctx context.Context, mailboxID, calendarID string) ([]ExistingItem, error) {
	headers := func() *abs.RequestHeaders {
		h := c.preferPageSize()
		h.Add("Prefer", `outlook.timezone="UTC"`)
		return h
	}
	cfg := &users.ItemCalendarsItemEventsRequestBuilderGetRequestConfiguration{Headers: headers(),
		QueryParameters: &users.ItemCalendarsItemEventsRequestBuilderGetQueryParameters{
			Select: []string{"id", "subject", "type", "start", "end", "isCancelled", "isDraft", "recurrence", "createdDateTime"}}}
	resp, err := c.sdk.Users().ByUserId(mailboxID).Calendars().ByCalendarId(calendarID).Events().Get(ctx, cfg)
	var out []ExistingItem
	for {
		if err != nil {
			return nil, err
		}
		for _, e := range resp.GetValue() {
			typ, rec := "", ""
			if t := e.GetTypeEscaped(); t != nil {
				typ = t.String()
			}
			if r := e.GetRecurrence(); r != nil && r.GetPattern() != nil && r.GetPattern().GetTypeEscaped() != nil {
				rec = r.GetPattern().GetTypeEscaped().String()
			}
			out = append(out, ExistingItem{ID: deref(e.GetId()), Created: timeOf(e.GetCreatedDateTime()),
				Key: m365.EventKey(deref(e.GetSubject()), typ, zonedTime(e.GetStart()), zonedTime(e.GetEnd()), rec,
					boolOf(e.GetIsDraft()), boolOf(e.GetIsCancelled()))})
		}
		next := deref(resp.GetOdataNextLink())
		if next == "" {
			return out, nil
		}
		resp, err = users.NewItemCalendarsItemEventsRequestBuilder(next, c.adapter).Get(ctx,
			&users.ItemCalendarsItemEventsRequestBuilderGetRequestConfiguration{Headers: headers()})
	}
}

// RestoreItem creates a backed-up item in a container and returns its new
// id. stored is what the backup stored (see FetchItem); state, a
// message's, what details recorded of it.
//
//   - A message is created from its MIME read into JSON, as a received or
//     sent message with its original times (see mailrestore.go), then gets
//     the attachments its creation could not carry.
//   - A contact is created from its JSON without the properties Exchange
//     assigns.
//   - An event likewise (through beta, whose form the backup stored), then
//     gets its attachments and, for a series, the changes and
//     cancellations of its occurrences. If any of that fails the event is
//     deleted again, so that a retry never meets a half-restored one.
//
// Content Graph refuses for good (invalid, too large) fails with
// ErrUnrestorable, a container that is gone with ErrNotFound; throttling
// is a ThrottledError as everywhere.
func (c *Client) RestoreItem(ctx context.Context, mailboxID string, cat Category, containerID string, stored []byte, state m365.MessageState) (string, error) {
	op := fmt.Sprintf("restore %s item into container %s of %s", cat, containerID, mailboxID)
	var (
		id  string
		err error
	)
	switch cat {
	case Email:
		id, err = c.restoreMessage(ctx, op, mailboxID, containerID, stored, state)
	case Contacts:
		id, err = c.restoreContact(ctx, op, mailboxID, containerID, stored)
	case Events:
		id, err = c.restoreEvent(ctx, op, mailboxID, containerID, stored)
	case m365.ListItems:
		id, err = c.restoreListItem(ctx, op, mailboxID, containerID, stored)
	case m365.ChannelMessages:
		id, err = c.restoreThread(ctx, op, mailboxID, containerID, stored)
	default:
		return "", fmt.Errorf("%s: unknown category", op)
	}
	if err != nil {
		return "", unrestorable(err)
	}
	return id, nil
}

func (c *Client) restoreContact(ctx context.Context, op, mailboxID, folderID string, stored []byte) (string, error) {
	o, err := parseObject(stored)
	if err != nil {
		return "", fmt.Errorf("%s: stored contact: %w: %v", op, ErrUnrestorable, err)
	}
	a, err := c.send(forMailbox(ctx, mailboxID, "contact.create"), op, rawCall{method: abs.POST,
		url:  c.v1("users", mailboxID, "contactFolders", folderID, "contacts"),
		body: o.without(contactServerProps).bytes(), contentType: "application/json"})
	if err != nil {
		return "", err
	}
	return createdID(op, a)
}

func (c *Client) restoreEvent(ctx context.Context, op, mailboxID, calendarID string, stored []byte) (string, error) {
	o, err := parseObject(stored)
	if err != nil {
		return "", fmt.Errorf("%s: stored event: %w: %v", op, ErrUnrestorable, err)
	}
	atts, err := objects(o.get("attachments"))
	if err != nil {
		return "", fmt.Errorf("%s: stored attachments: %w: %v", op, ErrUnrestorable, err)
	}
	exceptions, err := objects(o.get("exceptionOccurrences"))
	if err != nil {
		return "", fmt.Errorf("%s: stored exceptions: %w: %v", op, ErrUnrestorable, err)
	}
	var cancelled []string
	if o.has("cancelledOccurrences") {
		if err := json.Unmarshal(o.get("cancelledOccurrences"), &cancelled); err != nil {
			return "", fmt.Errorf("%s: stored cancellations: %w: %v", op, ErrUnrestorable, err)
		}
	}
	post, err := withoutAttendees(o.without(eventServerProps))
	if err != nil {
		return "", fmt.Errorf("%s: stored event: %w: %v", op, ErrUnrestorable, err)
	}
	a, err := c.send(forMailbox(ctx, mailboxID, "event.create"), op, rawCall{method: abs.POST,
		url:  c.beta("users", mailboxID, "calendars", calendarID, "events"),
		body: post.bytes(), contentType: "application/json"})
	if err != nil {
		return "", err
	}
	id, err := createdID(op, a)
	if err != nil {
		return "", err
	}
	err = c.addAttachments(ctx, op, mailboxID, id, atts)
	if err == nil {
		err = c.restoreOccurrences(ctx, op, mailboxID, id, o, exceptions, cancelled)
	}
	if err != nil {
		if derr := c.removeEvent(ctx, mailboxID, id); derr != nil {
			return "", fmt.Errorf("%w (and deleting the partly restored event %s failed: %v)", err, id, derr)
		}
		return "", err
	}
	return id, nil
}

// removeEvent deletes an event a failed restore created, even when the
// failure was the caller's context ending.
func (c *Client) removeEvent(ctx context.Context, mailboxID, id string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	_, err := c.send(forMailbox(ctx, mailboxID, "event.delete"), "delete event "+id+" of "+mailboxID,
		rawCall{method: abs.DELETE, url: c.beta("users", mailboxID, "events", id)})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

func (c *Client) addAttachments(ctx context.Context, op, mailboxID, eventID string, atts []jsonObject) error {
	for i, att := range atts {
		if err := c.addAttachment(ctx, op, mailboxID, eventID, att); err != nil {
			return fmt.Errorf("attachment %d (%q): %w", i, att.str("name"), err)
		}
	}
	return nil
}

func (c *Client) addAttachment(ctx context.Context, op, mailboxID, eventID string, att jsonObject) error {
	list := c.beta("users", mailboxID, "events", eventID, "attachments")
	body := att.without(attachmentServerProps)
	if strings.EqualFold(strings.TrimPrefix(att.str("@odata.type"), "#"), "microsoft.graph.fileAttachment") {
		content := att.str("contentBytes")
		size, ok := decodedLen(content)
		if !ok {
			return fmt.Errorf("%s: contentBytes is not base64: %w", op, ErrUnrestorable)
		}
		if size >= c.inlineAttachmentMax {
			return c.uploadAttachment(ctx, op, mailboxID, list, att, content, size)
		}
		body = att.only("@odata.type", "name", "contentType", "contentBytes", "isInline", "contentId")
	} else if att.has("item") {
		item, err := parseObject(att.get("item"))
		if err != nil {
			return fmt.Errorf("%s: attached item: %w: %v", op, ErrUnrestorable, err)
		}
		body = body.with("item", item.without(attachedItemProps).bytes())
	}
	_, err := c.send(forMailbox(ctx, mailboxID, "attachment.create"), op, rawCall{method: abs.POST, url: list,
		body: body.bytes(), contentType: "application/json"})
	return err
}

// uploadAttachment uploads a large file attachment through an upload
// session, decoding its content chunk by chunk.
func (c *Client) uploadAttachment(ctx context.Context, op, mailboxID, list string, att jsonObject, content string, size int) error {
	item := map[string]any{"attachmentType": "file", "name": att.str("name"), "size": size}
	if ct := att.str("contentType"); ct != "" {
		item["contentType"] = ct
	}
	var inline bool
	if json.Unmarshal(att.get("isInline"), &inline) == nil && inline {
		item["isInline"] = true
	}
	if cid := att.str("contentId"); cid != "" {
		item["contentId"] = cid
	}
	req, _ := json.Marshal(map[string]any{"AttachmentItem": item})
	a, err := c.send(forMailbox(ctx, mailboxID, "attachment.uploadSession"), op, rawCall{method: abs.POST,
		url: list + "/createUploadSession", body: req, contentType: "application/json"})
	if err != nil {
		return err
	}
	var sess struct {
		UploadURL string `json:"uploadUrl"`
	}
	if err := json.Unmarshal(a.body, &sess); err != nil || sess.UploadURL == "" {
		return fmt.Errorf("%s: upload session without an upload URL", op)
	}
	// The upload URL is pre-authenticated and outside Graph's hosts, so
	// the SDK sends no token there.
	dec := base64.NewDecoder(base64.StdEncoding, strings.NewReader(content))
	buf := make([]byte, min(c.uploadChunk, size))
	for off := 0; off < size; {
		n, err := io.ReadFull(dec, buf[:min(len(buf), size-off)])
		if err != nil {
			return fmt.Errorf("%s: contentBytes: %w: %v", op, ErrUnrestorable, err)
		}
		if _, err := c.send(forMailbox(ctx, mailboxID, "attachment.upload"), op, rawCall{method: abs.PUT,
			url: sess.UploadURL, body: buf[:n], contentType: "application/octet-stream",
			headers: [][2]string{{"Content-Range", fmt.Sprintf("bytes %d-%d/%d", off, off+n-1, size)}}}); err != nil {
			return err
		}
		off += n
	}
	return nil
}

// decodedLen is the size of standard base64 content.
func decodedLen(s string) (int, bool) {
	if len(s)%4 != 0 {
		return 0, false
	}
	n := len(s) / 4 * 3
	switch {
	case strings.HasSuffix(s, "=="):
		n -= 2
	case strings.HasSuffix(s, "="):
		n--
	}
	return n, true
}

// restoreOccurrences re-applies a series' exceptions (occurrences moved or
// changed) and cancellations to the new series: each exception patches the
// occurrence with its original start, each cancelled date deletes that
// date's occurrence.
func (c *Client) restoreOccurrences(ctx context.Context, op, mailboxID, masterID string, master jsonObject, exceptions []jsonObject, cancelled []string) error {
	if len(exceptions) == 0 && len(cancelled) == 0 {
		return nil
	}
	// Cancellations name days in the series' recurrence zone, which is the
	// zone of the event when the range names none
	// (learn.microsoft.com/graph/api/resources/recurrencerange).
	var rec struct {
		Range struct {
			RecurrenceTimeZone string `json:"recurrenceTimeZone"`
		} `json:"range"`
	}
	_ = json.Unmarshal(master.get("recurrence"), &rec)
	zoneName := rec.Range.RecurrenceTimeZone
	if zoneName == "" {
		zoneName = master.str("originalStartTimeZone")
	}
	zone, zerr := zoneLocation(zoneName)
	if zerr != nil {
		zone = time.UTC
	}
	var from, to time.Time
	widen := func(t time.Time) {
		if from.IsZero() || t.Before(from) {
			from = t
		}
		if to.IsZero() || t.After(to) {
			to = t
		}
	}
	origins := make([]time.Time, len(exceptions))
	for i, ex := range exceptions {
		t, err := time.Parse(time.RFC3339Nano, ex.str("originalStart"))
		if err != nil {
			return fmt.Errorf("%s: exception without a readable originalStart: %w", op, ErrUnrestorable)
		}
		origins[i] = t
		widen(t)
	}
	days := make([]string, 0, len(cancelled))
	for _, oid := range cancelled {
		day := oid[strings.LastIndexByte(oid, '.')+1:]
		d, err := time.ParseInLocation("2006-01-02", day, zone)
		if err != nil {
			return fmt.Errorf("%s: unreadable cancelled occurrence %q: %w", op, oid, ErrUnrestorable)
		}
		days = append(days, day)
		widen(d)
		widen(d.AddDate(0, 0, 1))
	}
	// Occurrences show when they overlap the window; a day's margin covers
	// zone differences and the occurrences' length.
	dur := max(zonedOf(master.get("end")).Sub(zonedOf(master.get("start"))), 0)
	instances, err := c.instances(ctx, op, mailboxID, masterID, from.AddDate(0, 0, -1), to.Add(dur).AddDate(0, 0, 1))
	if err != nil {
		return err
	}
	find := func(match func(time.Time) bool) jsonObject {
		for _, in := range instances {
			if t, err := time.Parse(time.RFC3339Nano, in.str("originalStart")); err == nil && match(t) {
				return in
			}
		}
		return nil
	}
	for i, ex := range exceptions {
		in := find(func(t time.Time) bool { return t.Equal(origins[i]) })
		if in == nil {
			return fmt.Errorf("%s: the new series has no occurrence at %s to carry an exception: %w",
				op, origins[i].Format(time.RFC3339), ErrUnrestorable)
		}
		// The exception's body gets the series' attendee note too.
		if moved, err := withoutAttendees(ex); err == nil {
			ex = moved
		}
		if patch := exceptionPatch(ex, in); len(patch) > 0 {
			if _, err := c.send(forMailbox(ctx, mailboxID, "event.update"), op, rawCall{method: abs.PATCH,
				url: c.beta("users", mailboxID, "events", in.str("id")), body: patch.bytes(), contentType: "application/json"}); err != nil {
				return err
			}
		}
		if err := c.restoreExceptionAttachments(ctx, op, mailboxID, in.str("id"), ex); err != nil {
			return err
		}
	}
	for i, day := range days {
		in := find(func(t time.Time) bool { return t.In(zone).Format("2006-01-02") == day })
		if in == nil {
			why := ""
			if zerr != nil {
				why = " (" + zerr.Error() + ", read as UTC)"
			}
			return fmt.Errorf("%s: the new series has no occurrence on %s in %q%s to cancel as %q: %w",
				op, day, zoneName, why, cancelled[i], ErrUnrestorable)
		}
		_, err := c.send(forMailbox(ctx, mailboxID, "event.delete"), op, rawCall{method: abs.DELETE,
			url: c.beta("users", mailboxID, "events", in.str("id"))})
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return nil
}

// instances lists the occurrences of a series that overlap a window.
func (c *Client) instances(ctx context.Context, op, mailboxID, masterID string, from, to time.Time) ([]jsonObject, error) {
	ctx = forMailbox(ctx, mailboxID, "events.instances")
	link := c.beta("users", mailboxID, "events", masterID, "instances") + "?" + query(url.Values{
		"startDateTime": {from.UTC().Format(time.RFC3339)},
		"endDateTime":   {to.UTC().Format(time.RFC3339)},
	})
	headers := append(c.pageSizeHeader(), [2]string{"Prefer", `outlook.timezone="UTC"`})
	var out []jsonObject
	for link != "" {
		a, err := c.send(ctx, op, rawCall{method: abs.GET, url: link, headers: headers})
		if err != nil {
			return nil, err
		}
		page, err := parseObject(a.body)
		if err != nil {
			return nil, fmt.Errorf("%s: unreadable occurrences: %w", op, err)
		}
		list, err := objects(page.get("value"))
		if err != nil {
			return nil, fmt.Errorf("%s: unreadable occurrences: %w", op, err)
		}
		out = append(out, list...)
		link = page.str("@odata.nextLink")
	}
	return out, nil
}

// exceptionPatch is what an exception changes about its occurrence.
func exceptionPatch(ex, occurrence jsonObject) jsonObject {
	var patch jsonObject
	for _, p := range exceptionProps {
		want := ex.get(p)
		if want == nil {
			continue
		}
		have := occurrence.get(p)
		if p == "start" || p == "end" {
			if w := zonedOf(want); !w.IsZero() && w.Equal(zonedOf(have)) {
				continue
			}
		} else if sameJSON(want, have) {
			continue
		}
		patch = append(patch, jsonField{p, want})
	}
	return patch
}

func sameJSON(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// zonedOf reads a raw dateTimeTimeZone.
func zonedOf(raw json.RawMessage) time.Time {
	var dt struct {
		DateTime string `json:"dateTime"`
		TimeZone string `json:"timeZone"`
	}
	if json.Unmarshal(raw, &dt) != nil || dt.DateTime == "" {
		return time.Time{}
	}
	return parseZoned(dt.DateTime, dt.TimeZone)
}

// DeleteItem deletes an item; one already gone counts as deleted.
func (c *Client) DeleteItem(ctx context.Context, mailboxID string, cat Category, itemID string) error {
	op := fmt.Sprintf("delete %s item %s of %s", cat, itemID, mailboxID)
	switch cat {
	case m365.ListItems:
		return c.deleteListItem(ctx, op, mailboxID, itemID)
	case m365.ChannelMessages:
		return deleteThread(op)
	}
	return c.deleteOf(ctx, mailboxID, op, cat, itemID,
		map[Category]string{Email: "messages", Contacts: "contacts", Events: "events"},
		map[Category]string{Email: "message.delete", Contacts: "contact.delete", Events: "event.delete"})
}

// unrestorable marks Graph's refusals that retrying cannot change: the
// content is invalid or too large.
func unrestorable(err error) error {
	var ae *apiError
	if errors.As(err, &ae) && ae.kind == nil {
		switch ae.status {
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType,
			http.StatusUnprocessableEntity:
			ae.kind = ErrUnrestorable
		}
	}
	return err
}

func boolOf(b *bool) bool { return b != nil && *b }
