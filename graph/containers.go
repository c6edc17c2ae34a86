package graph

import (
	"context"
	"fmt"
	"strconv"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/corso-temporal/corso/m365"
)

// Containers lists a mailbox's containers of one category: every mail
// folder of the tree (below the hidden root), every contact folder
// including the default one, or every calendar; or a team's channels. Paths are display names
// from the top of the hierarchy, e.g. ["Inbox", "Projects"].
func (c *Client) Containers(ctx context.Context, mailboxID string, cat Category) ([]Container, error) {
	switch cat {
	case Email:
		all, err := c.folderTree(ctx, mailboxID, cat, "mailFolders.delta", c.mailFolderPages)
		if class, _ := m365.FaultOf(err); class == m365.DeltaUnavailable {
			rows, err := c.listedMailFolders(ctx, mailboxID)
			if err != nil {
				return nil, err
			}
			return withPaths(rows, cat), nil
		}
		return all, err
	case Contacts:
		return c.contactFolders(ctx, mailboxID)
	case Events:
		return c.calendars(ctx, mailboxID)
	case m365.ChannelMessages:
		return c.channels(ctx, mailboxID)
	case m365.Conversations:
		return c.conversationThreads(ctx, mailboxID)
	case m365.ListItems:
		return c.lists(ctx, mailboxID)
	}
	return nil, fmt.Errorf("containers: unknown category %q", cat)
}

// folderRow is one folder as a hierarchy delta reports it.
type folderRow struct {
	id, parent, name string
	removed          bool
	items            int64
}

// folderPages yields the pages of a folder-hierarchy delta round.
type folderPages func(ctx context.Context, mailboxID, link string) (rows []folderRow, next string, err error)

// folderTree enumerates a folder hierarchy with its delta function, which
// returns the whole tree flat in a few calls (v1.0's mailFolders list
// returns only the top level), and derives paths from parent ids. Parents
// that are not in the list are the hidden root.
func (c *Client) folderTree(ctx context.Context, mailboxID string, cat Category, kind string, pages folderPages) ([]Container, error) {
	ctx = forMailbox(ctx, mailboxID, kind)
	var rows []folderRow
	link := ""
	for {
		page, next, err := pages(ctx, mailboxID, link)
		if err != nil {
			return nil, classify(fmt.Sprintf("list %s folders of %s", cat, mailboxID), err)
		}
		for _, r := range page {
			if !r.removed && r.id != "" {
				rows = append(rows, r)
			}
		}
		if next == "" {
			break
		}
		link = next
	}
	return withPaths(rows, cat), nil
}

// withPaths turns folder rows into containers with paths from the root.
func withPaths(rows []folderRow, cat Category) []Container {
	byID := make(map[string]folderRow, len(rows))
	for _, r := range rows {
		byID[r.id] = r
	}
	out := make([]Container, 0, len(rows))
	for _, r := range rows {
		var path []string
		// Walk up; the depth bound guards against a cycle in bad data.
		for cur, ok := r, true; ok && len(path) < 256; cur, ok = byID[cur.parent] {
			path = append(path, cur.name)
		}
		for i, j := 0, len(path)-1; i < j; i, j = i+1, j-1 {
			path[i], path[j] = path[j], path[i]
		}
		out = append(out, Container{ID: r.id, ParentID: r.parent, DisplayName: r.name, Path: path, Category: cat, ItemCount: r.items})
	}
	return out
}

// preferPageSize asks Exchange for larger pages than its default of 10.
func (c *Client) preferPageSize() *abs.RequestHeaders {
	h := abs.NewRequestHeaders()
	h.Add("Prefer", "odata.maxpagesize="+strconv.Itoa(c.cfg.PageSize))
	return h
}

func (c *Client) mailFolderPages(ctx context.Context, mailboxID, link string) ([]folderRow, string, error) {
	cfg := &users.ItemMailFoldersDeltaRequestBuilderGetRequestConfiguration{Headers: c.preferPageSize()}
	b := c.sdk.Users().ByUserId(mailboxID).MailFolders().Delta()
	if link != "" {
		b = users.NewItemMailFoldersDeltaRequestBuilder(link, c.adapter)
	} else {
		cfg.QueryParameters = &users.ItemMailFoldersDeltaRequestBuilderGetQueryParameters{
			Select: []string{"id", "displayName", "parentFolderId", "totalItemCount"},
		}
	}
	resp, err := b.GetAsDeltaGetResponse(ctx, cfg)
	if err != nil {
		return nil, "", err
	}
	var rows []folderRow
	for _, f := range resp.GetValue() {
		var items int64
		if n := f.GetTotalItemCount(); n != nil {
			items = int64(*n)
		}
		rows = append(rows, folderRow{id: deref(f.GetId()), parent: deref(f.GetParentFolderId()),
			name: deref(f.GetDisplayName()), removed: isRemoved(f.GetAdditionalData()), items: items})
	}
	return rows, deref(resp.GetOdataNextLink()), nil
}

func (c *Client) contactFolderPages(ctx context.Context, mailboxID, link string) ([]folderRow, string, error) {
	cfg := &users.ItemContactFoldersDeltaRequestBuilderGetRequestConfiguration{Headers: c.preferPageSize()}
	b := c.sdk.Users().ByUserId(mailboxID).ContactFolders().Delta()
	if link != "" {
		b = users.NewItemContactFoldersDeltaRequestBuilder(link, c.adapter)
	} else {
		cfg.QueryParameters = &users.ItemContactFoldersDeltaRequestBuilderGetQueryParameters{
			Select: []string{"id", "displayName", "parentFolderId"},
		}
	}
	resp, err := b.GetAsDeltaGetResponse(ctx, cfg)
	if err != nil {
		return nil, "", err
	}
	var rows []folderRow
	for _, f := range resp.GetValue() {
		rows = append(rows, folderRow{id: deref(f.GetId()), parent: deref(f.GetParentFolderId()),
			name: deref(f.GetDisplayName()), removed: isRemoved(f.GetAdditionalData())})
	}
	return rows, deref(resp.GetOdataNextLink()), nil
}

// contactFolders lists the contact folder tree. Whether the hierarchy
// delta includes the default Contacts folder is not documented, so it is
// fetched by its well-known name and added when missing.
func (c *Client) contactFolders(ctx context.Context, mailboxID string) ([]Container, error) {
	all, err := c.folderTree(ctx, mailboxID, Contacts, "contactFolders.delta", c.contactFolderPages)
	if err != nil {
		return nil, err
	}
	def, err := c.sdk.Users().ByUserId(mailboxID).ContactFolders().ByContactFolderId("contacts").Get(
		forMailbox(ctx, mailboxID, "contactFolders.get"),
		&users.ItemContactFoldersContactFolderItemRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.ItemContactFoldersContactFolderItemRequestBuilderGetQueryParameters{
				Select: []string{"id", "displayName", "parentFolderId"},
			},
		})
	if err != nil {
		return nil, classify("get default contact folder of "+mailboxID, err)
	}
	defID := deref(def.GetId())
	for _, f := range all {
		if f.ID == defID {
			return all, nil
		}
	}
	rows := []folderRow{{id: defID, parent: deref(def.GetParentFolderId()), name: deref(def.GetDisplayName())}}
	for _, f := range all {
		rows = append(rows, folderRow{id: f.ID, parent: f.ParentID, name: f.DisplayName})
	}
	return withPaths(rows, Contacts), nil
}

// calendars lists the mailbox's calendars; they do not nest.
func (c *Client) calendars(ctx context.Context, mailboxID string) ([]Container, error) {
	ctx = forMailbox(ctx, mailboxID, "calendars.list")
	resp, err := c.sdk.Users().ByUserId(mailboxID).Calendars().Get(ctx, &users.ItemCalendarsRequestBuilderGetRequestConfiguration{
		Headers:         c.preferPageSize(),
		QueryParameters: &users.ItemCalendarsRequestBuilderGetQueryParameters{Select: []string{"id", "name"}},
	})
	var out []Container
	for {
		if err != nil {
			return nil, classify("list calendars of "+mailboxID, err)
		}
		for _, cal := range resp.GetValue() {
			name := deref(cal.GetName())
			out = append(out, Container{ID: deref(cal.GetId()), DisplayName: name, Path: []string{name}, Category: Events})
		}
		next := deref(resp.GetOdataNextLink())
		if next == "" {
			return out, nil
		}
		resp, err = users.NewItemCalendarsRequestBuilder(next, c.adapter).Get(ctx, &users.ItemCalendarsRequestBuilderGetRequestConfiguration{
			Headers: c.preferPageSize(),
		})
	}
}

// isRemoved reports a delta entry's @removed annotation, which the SDK
// leaves in the additional data.
func isRemoved(extra map[string]any) bool {
	_, ok := extra["@removed"]
	return ok
}
