package graph

import (
	"context"
	"fmt"
	"strconv"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/corso-temporal/corso/m365"
)

// A mailbox at its quota refuses delta queries (403 ErrorQuotaExceeded,
// learn.microsoft.com/graph/api/mailfolder-delta) while plain listing still
// works. These listings are the fallback: the folder tree walked level by
// level, and a folder's messages page by page. A listing round reports
// every item present, none removed; the caller treats it as a new
// enumeration, so what it does not list is gone.

// listedMailFolders walks the mail folder tree with mailFolders and
// childFolders, breadth first.
func (c *Client) listedMailFolders(ctx context.Context, mailboxID string) ([]folderRow, error) {
	ctx = forMailbox(ctx, mailboxID, "mailFolders.list")
	sel := []string{"id", "displayName", "parentFolderId", "totalItemCount", "childFolderCount"}
	var rows []folderRow
	resp, err := c.sdk.Users().ByUserId(mailboxID).MailFolders().Get(ctx, &users.ItemMailFoldersRequestBuilderGetRequestConfiguration{
		Headers:         c.preferPageSize(),
		QueryParameters: &users.ItemMailFoldersRequestBuilderGetQueryParameters{Select: sel},
	})
	level, err := c.folderListPages(ctx, resp, err, func(next string) (models.MailFolderCollectionResponseable, error) {
		return users.NewItemMailFoldersRequestBuilder(next, c.adapter).Get(ctx, &users.ItemMailFoldersRequestBuilderGetRequestConfiguration{Headers: c.preferPageSize()})
	})
	for len(level) > 0 && err == nil {
		var below []models.MailFolderable
		for _, f := range level {
			id := deref(f.GetId())
			var items int64
			if n := f.GetTotalItemCount(); n != nil {
				items = int64(*n)
			}
			rows = append(rows, folderRow{id: id, parent: deref(f.GetParentFolderId()), name: deref(f.GetDisplayName()), items: items})
			if n := f.GetChildFolderCount(); n == nil || *n == 0 {
				continue
			}
			b := c.sdk.Users().ByUserId(mailboxID).MailFolders().ByMailFolderId(id).ChildFolders()
			resp, err := b.Get(ctx, &users.ItemMailFoldersItemChildFoldersRequestBuilderGetRequestConfiguration{
				Headers:         c.preferPageSize(),
				QueryParameters: &users.ItemMailFoldersItemChildFoldersRequestBuilderGetQueryParameters{Select: sel},
			})
			children, err := c.folderListPages(ctx, resp, err, func(next string) (models.MailFolderCollectionResponseable, error) {
				return users.NewItemMailFoldersItemChildFoldersRequestBuilder(next, c.adapter).Get(ctx,
					&users.ItemMailFoldersItemChildFoldersRequestBuilderGetRequestConfiguration{Headers: c.preferPageSize()})
			})
			if err != nil {
				return nil, classify(fmt.Sprintf("list mail folders of %s", mailboxID), err)
			}
			below = append(below, children...)
		}
		level = below
	}
	if err != nil {
		return nil, classify(fmt.Sprintf("list mail folders of %s", mailboxID), err)
	}
	return rows, nil
}

// folderListPages follows a folder listing's next links.
func (c *Client) folderListPages(ctx context.Context, resp models.MailFolderCollectionResponseable, err error,
	next func(string) (models.MailFolderCollectionResponseable, error)) ([]models.MailFolderable, error) {
	var out []models.MailFolderable
	for {
		if err != nil {
			return nil, err
		}
		out = append(out, resp.GetValue()...)
		link := deref(resp.GetOdataNextLink())
		if link == "" {
			return out, nil
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		resp, err = next(link)
	}
}

// ListPage returns one page of a plain listing of a container's items,
// for containers that cannot be enumerated by delta: mail folders of a
// mailbox over its quota, calendars whose delta pages Exchange cannot
// serve. An empty link starts the listing; a page without NextLink is its
// last.
func (c *Client) ListPage(ctx context.Context, mailboxID string, cat Category, containerID, link string) (Page, error) {
	switch cat {
	case Events:
		return c.listedEvents(ctx, mailboxID, containerID, link)
	case m365.ChannelMessages:
		p, err := c.listedChannelMessages(ctx, mailboxID, containerID, link)
		return p, classify(fmt.Sprintf("list messages of channel %s of team %s", containerID, mailboxID), err)
	case m365.Conversations:
		return c.listedPosts(ctx, mailboxID, containerID, link)
	case m365.ListItems:
		p, err := c.listedListItems(ctx, mailboxID, containerID, link)
		return p, classify(fmt.Sprintf("list items of list %s of site %s", containerID, mailboxID), err)
	case Email:
	default:
		return Page{}, fmt.Errorf("list %s container %s of %s: contacts are not listed without delta", cat, containerID, mailboxID)
	}
	ctx = forMailbox(ctx, mailboxID, "messages.list")
	cfg := &users.ItemMailFoldersItemMessagesRequestBuilderGetRequestConfiguration{Headers: c.preferPageSize()}
	b := c.sdk.Users().ByUserId(mailboxID).MailFolders().ByMailFolderId(containerID).Messages()
	if link != "" {
		b = users.NewItemMailFoldersItemMessagesRequestBuilder(link, c.adapter)
	} else {
		cfg.QueryParameters = &users.ItemMailFoldersItemMessagesRequestBuilderGetQueryParameters{Select: messageFields}
	}
	resp, err := b.Get(ctx, cfg)
	if err != nil {
		return Page{}, classify(fmt.Sprintf("list messages of mail folder %s of %s", containerID, mailboxID), err)
	}
	p := Page{NextLink: deref(resp.GetOdataNextLink())}
	for _, m := range resp.GetValue() {
		p.Changes = append(p.Changes, Change{ID: deref(m.GetId()), ModTime: timeOf(m.GetLastModifiedDateTime()), Meta: messageMeta(m)})
	}
	return p, nil
}

// listedEvents lists a calendar's series masters and single events, in
// small pages as for its delta, with what details take from a listing.
func (c *Client) listedEvents(ctx context.Context, mailboxID, calendarID, link string) (Page, error) {
	ctx = forMailbox(ctx, mailboxID, "events.list")
	h := abs.NewRequestHeaders()
	h.Add("Prefer", "odata.maxpagesize="+strconv.Itoa(smallEventPage))
	h.Add("Prefer", `outlook.timezone="UTC"`)
	cfg := &users.ItemCalendarsItemEventsRequestBuilderGetRequestConfiguration{Headers: h}
	b := c.sdk.Users().ByUserId(mailboxID).Calendars().ByCalendarId(calendarID).Events()
	if link != "" {
		b = users.NewItemCalendarsItemEventsRequestBuilder(link, c.adapter)
	} else {
		cfg.QueryParameters = &users.ItemCalendarsItemEventsRequestBuilderGetQueryParameters{
			Select: []string{"id", "lastModifiedDateTime", "subject", "organizer", "start", "end"},
		}
	}
	resp, err := b.Get(ctx, cfg)
	if err != nil {
		return Page{}, classify(fmt.Sprintf("list events of calendar %s of %s", calendarID, mailboxID), err)
	}
	p := Page{NextLink: deref(resp.GetOdataNextLink())}
	for _, e := range resp.GetValue() {
		p.Changes = append(p.Changes, Change{ID: deref(e.GetId()), ModTime: timeOf(e.GetLastModifiedDateTime()),
			Meta: ItemMeta{Subject: deref(e.GetSubject()), Organizer: address(e.GetOrganizer()),
				Start: zonedTime(e.GetStart()), End: zonedTime(e.GetEnd())}})
	}
	return p, nil
}

// messageMeta is what details record of a message.
func messageMeta(m models.Messageable) m365.ItemMeta {
	sender := address(m.GetSender())
	if sender == "" {
		sender = address(m.GetFrom())
	}
	var rcpt []string
	for _, list := range [][]models.Recipientable{m.GetToRecipients(), m.GetCcRecipients(), m.GetBccRecipients()} {
		for _, r := range list {
			if a := address(r); a != "" {
				rcpt = append(rcpt, a)
			}
		}
	}
	meta := m365.ItemMeta{Subject: deref(m.GetSubject()), Sender: sender, Recipients: rcpt, Received: timeOf(m.GetReceivedDateTime()),
		MessageState: m365.MessageState{Draft: boolOf(m.GetIsDraft()), Unread: m.GetIsRead() != nil && !*m.GetIsRead()}}
	if f := m.GetFlag(); f != nil && f.GetFlagStatus() != nil && *f.GetFlagStatus() != models.NOTFLAGGED_FOLLOWUPFLAGSTATUS {
		meta.Flag = f.GetFlagStatus().String()
	}
	return meta
}
