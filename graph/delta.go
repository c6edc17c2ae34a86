package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/corso-temporal/corso/m365"
)

// The properties a delta page asks for: what ItemMeta records and the
// modification time that decides whether a stored copy is still current.
// Asking for them here saves fetching each item's JSON for its details.
var (
	messageFields = []string{"id", "lastModifiedDateTime", "subject", "sender", "from",
		"toRecipients", "ccRecipients", "bccRecipients", "receivedDateTime", "isDraft", "isRead", "flag"}
	contactFields = []string{"id", "lastModifiedDateTime", "displayName", "emailAddresses"}
)

// DeltaPage returns one page of a delta enumeration of a container. An
// empty link starts a new enumeration of every item; otherwise link is a
// NextLink or DeltaLink of an earlier page, used verbatim (Graph encodes the
// query and the position in it). A DeltaLink page is the last of its round;
// following it later yields the changes since, with deletions and moves out
// of the container as Removed. An expired or invalid link fails with
// ErrDeltaExpired; a container that no longer exists with ErrNotFound.
func (c *Client) DeltaPage(ctx context.Context, mailboxID string, cat Category, containerID, link string) (Page, error) {
	var (
		p   Page
		err error
	)
	switch cat {
	case Email:
		p, err = c.messagesDelta(forMailbox(ctx, mailboxID, "messages.delta"), mailboxID, containerID, link)
	case Contacts:
		p, err = c.contactsDelta(forMailbox(ctx, mailboxID, "contacts.delta"), mailboxID, containerID, link)
	case Events:
		p, err = c.eventPage(forMailbox(ctx, mailboxID, "events.delta"), mailboxID, containerID, link)
	case m365.ChannelMessages:
		p, err = c.channelMessagesDelta(ctx, mailboxID, containerID, link)
	case m365.Conversations:
		return Page{}, fmt.Errorf("delta of %s container %s of %s: Graph has no delta for conversations; list them", cat, containerID, mailboxID)
	case m365.ListItems:
		p, err = c.listItemsDelta(ctx, mailboxID, containerID, link)
	default:
		return Page{}, fmt.Errorf("delta: unknown category %q", cat)
	}
	if err != nil {
		err = classify(fmt.Sprintf("delta of %s container %s of %s", cat, containerID, mailboxID), err)
		var ae *apiError
		if link != "" && errors.As(err, &ae) && ae.kind == nil && ae.status == http.StatusBadRequest &&
			strings.EqualFold(ae.code, "ErrorInvalidUrlQuery") {
			// Exchange no longer understands the token: as with an
			// expired one, the cure is a new enumeration.
			ae.kind = ErrDeltaExpired
		}
		return Page{}, err
	}
	if p.NextLink == "" && p.DeltaLink == "" {
		// Following an empty NextLink would restart the round forever.
		return Page{}, fmt.Errorf("delta of %s container %s of %s: Graph's page has neither nextLink nor deltaLink", cat, containerID, mailboxID)
	}
	return p, nil
}

func (c *Client) messagesDelta(ctx context.Context, mailboxID, folderID, link string) (Page, error) {
	// The Prefer header goes on every page: Graph keeps query options in
	// its links but takes the page size from each request.
	cfg := &users.ItemMailFoldersItemMessagesDeltaRequestBuilderGetRequestConfiguration{Headers: c.preferPageSize()}
	b := c.sdk.Users().ByUserId(mailboxID).MailFolders().ByMailFolderId(folderID).Messages().Delta()
	if link != "" {
		b = users.NewItemMailFoldersItemMessagesDeltaRequestBuilder(link, c.adapter)
	} else {
		cfg.QueryParameters = &users.ItemMailFoldersItemMessagesDeltaRequestBuilderGetQueryParameters{Select: messageFields}
	}
	resp, err := b.GetAsDeltaGetResponse(ctx, cfg)
	if err != nil {
		return Page{}, err
	}
	p := Page{NextLink: deref(resp.GetOdataNextLink()), DeltaLink: deref(resp.GetOdataDeltaLink())}
	for _, m := range resp.GetValue() {
		ch := Change{ID: deref(m.GetId()), Removed: isRemoved(m.GetAdditionalData())}
		if !ch.Removed {
			ch.ModTime = timeOf(m.GetLastModifiedDateTime())
			ch.Meta = messageMeta(m)
		}
		p.Changes = append(p.Changes, ch)
	}
	return p, nil
}

func (c *Client) contactsDelta(ctx context.Context, mailboxID, folderID, link string) (Page, error) {
	cfg := &users.ItemContactFoldersItemContactsDeltaRequestBuilderGetRequestConfiguration{Headers: c.preferPageSize()}
	b := c.sdk.Users().ByUserId(mailboxID).ContactFolders().ByContactFolderId(folderID).Contacts().Delta()
	if link != "" {
		b = users.NewItemContactFoldersItemContactsDeltaRequestBuilder(link, c.adapter)
	} else {
		cfg.QueryParameters = &users.ItemContactFoldersItemContactsDeltaRequestBuilderGetQueryParameters{Select: contactFields}
	}
	resp, err := b.GetAsDeltaGetResponse(ctx, cfg)
	if err != nil {
		return Page{}, err
	}
	p := Page{NextLink: deref(resp.GetOdataNextLink()), DeltaLink: deref(resp.GetOdataDeltaLink())}
	for _, ct := range resp.GetValue() {
		ch := Change{ID: deref(ct.GetId()), Removed: isRemoved(ct.GetAdditionalData())}
		if !ch.Removed {
			ch.ModTime = timeOf(ct.GetLastModifiedDateTime())
			var emails []string
			for _, e := range ct.GetEmailAddresses() {
				if a := deref(e.GetAddress()); a != "" {
					emails = append(emails, a)
				}
			}
			ch.Meta = ItemMeta{DisplayName: deref(ct.GetDisplayName()), Emails: emails}
		}
		p.Changes = append(p.Changes, ch)
	}
	return p, nil
}

// eventsDelta uses beta's per-calendar events delta, as Corso does: v1.0
// only has calendarView delta, which needs a time window and reports
// expanded occurrences instead of the series masters a backup stores.
// Beta's event delta takes no $select and gives each event only its id,
// type, start and end: no modification time, so an event Graph reports is
// always fetched again, and no subject or organizer, which details read
// from the fetched event (eventmeta.go). Whatever else a page carries is
// used when present.
func (c *Client) eventsDelta(ctx context.Context, mailboxID, calendarID, link string, pageSize int) (Page, error) {
	if link == "" {
		link = c.betaRoot + "/users/" + url.PathEscape(mailboxID) + "/calendars/" + url.PathEscape(calendarID) + "/events/delta"
	}
	h := abs.NewRequestHeaders()
	h.Add("Prefer", "odata.maxpagesize="+strconv.Itoa(pageSize))
	// Start and end in UTC, rather than in zones named the Windows way.
	h.Add("Prefer", `outlook.timezone="UTC"`)
	resp, err := users.NewItemCalendarsItemEventsDeltaRequestBuilder(link, c.adapter).GetAsDeltaGetResponse(ctx,
		&users.ItemCalendarsItemEventsDeltaRequestBuilderGetRequestConfiguration{Headers: h})
	if err != nil {
		return Page{}, err
	}
	p := Page{NextLink: deref(resp.GetOdataNextLink()), DeltaLink: deref(resp.GetOdataDeltaLink())}
	for _, e := range resp.GetValue() {
		ch := Change{ID: deref(e.GetId()), Removed: isRemoved(e.GetAdditionalData())}
		if !ch.Removed {
			ch.ModTime = timeOf(e.GetLastModifiedDateTime())
			ch.Meta = ItemMeta{Subject: deref(e.GetSubject()), Organizer: address(e.GetOrganizer()),
				Start: zonedTime(e.GetStart()), End: zonedTime(e.GetEnd())}
		}
		p.Changes = append(p.Changes, ch)
	}
	return p, nil
}

// smallEventPage is the page size of calendars whose larger pages Exchange
// cannot serve.
const smallEventPage = 10

// eventPage reads one page of a calendar's delta. Exchange answers a page
// it cannot assemble (large events) with 503 and an empty body, for ever;
// Corso's events_pager.go asks again for pages of 10, then lists the
// calendar. So does this: a calendar that needed small pages keeps them,
// in this client, and one that fails even so is DeltaUnavailable, which
// its collection answers by listing it.
func (c *Client) eventPage(ctx context.Context, mailboxID, calendarID, link string) (Page, error) {
	key := mailboxID + "/" + calendarID
	if _, small := c.smallEventPages.Load(key); !small {
		p, err := c.eventsDelta(ctx, mailboxID, calendarID, link, c.cfg.PageSize)
		if !emptyUnavailable(err) || c.cfg.PageSize <= smallEventPage {
			return p, err
		}
		c.smallEventPages.Store(key, true)
	}
	p, err := c.eventsDelta(ctx, mailboxID, calendarID, link, smallEventPage)
	if emptyUnavailable(err) {
		ae := newAPIError("", http.StatusServiceUnavailable, "", "Exchange cannot serve this calendar's delta, even in pages of 10")
		ae.class, ae.cause = m365.DeltaUnavailable, m365.CauseDeltaRefused
		return Page{}, ae
	}
	return p, err
}

// emptyUnavailable reports a 503 without an error body, which Exchange
// sends for a delta page it cannot assemble.
func emptyUnavailable(err error) bool {
	var ae *apiError
	return err != nil && errors.As(classify("", err), &ae) && ae.status == http.StatusServiceUnavailable && ae.code == ""
}

func address(r models.Recipientable) string {
	if r == nil || r.GetEmailAddress() == nil {
		return ""
	}
	return deref(r.GetEmailAddress().GetAddress())
}

func timeOf(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// zonedTime reads Graph's {dateTime, timeZone} pair; outlook.timezone
// asks for UTC.
func zonedTime(dt models.DateTimeTimeZoneable) time.Time {
	if dt == nil || dt.GetDateTime() == nil {
		return time.Time{}
	}
	return parseZoned(*dt.GetDateTime(), deref(dt.GetTimeZone()))
}

// parseZoned reads a wall-clock time in a zone named as Graph names it:
// UTC, Windows and IANA names are honoured (zoneLocation), other names
// read as UTC.
func parseZoned(dateTime, zone string) time.Time {
	loc := time.UTC
	if zone != "" && zone != "Local" {
		if l, err := zoneLocation(zone); err == nil {
			loc = l
		}
	}
	for _, layout := range []string{"2006-01-02T15:04:05.9999999", time.RFC3339Nano, "2006-01-02T15:04"} {
		if t, err := time.ParseInLocation(layout, dateTime, loc); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}
