package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	abs "github.com/microsoft/kiota-abstractions-go"

	"github.com/corso-temporal/corso/m365"
)

// A list restore goes through the restore of containers of items
// (EnsureContainer, ExistingItems, RestoreItem, DeleteItem) with a site id
// as the resource. A list item is named to the restore by its list and
// its id ("{list id}/{item id}"), since Graph reads and deletes an item
// only through its list.

// EnsureSchemaContainer returns the container at path, creating it from
// its stored schema when missing: for m365.ListItems, the site's list of
// that name (the path's last), or a new list with the stored list's
// columns (CreateList). Other categories have no schema: EnsureContainer.
func (c *Client) EnsureSchemaContainer(ctx context.Context, resourceID string, cat Category, path []string, schema json.RawMessage) (string, error) {
	if cat != m365.ListItems {
		return c.EnsureContainer(ctx, resourceID, cat, path)
	}
	if len(path) == 0 {
		return "", fmt.Errorf("ensure a list in site %s: no name", resourceID)
	}
	name := path[len(path)-1]
	lists, err := c.lists(ctx, resourceID)
	if err != nil {
		return "", err
	}
	for _, l := range lists {
		if l.DisplayName == name {
			return l.ID, nil
		}
	}
	return c.CreateList(ctx, resourceID, name, schema)
}

// existingListItems lists a list's items with their collision keys
// (m365.ListItemKey of their titles).
func (c *Client) existingListItems(ctx context.Context, siteID, listID string) ([]ExistingItem, error) {
	var out []ExistingItem
	link := ""
	for {
		p, err := c.listedListItems(ctx, siteID, listID, link)
		if err != nil {
			return nil, err
		}
		for _, ch := range p.Changes {
			out = append(out, ExistingItem{ID: listID + "/" + ch.ID, Key: m365.ListItemKey(ch.Meta.Subject), Created: ch.Meta.Received})
		}
		if p.NextLink == "" {
			return out, nil
		}
		link = p.NextLink
	}
}

// restoreListItem creates an item in a list from a stored
// m365.ListItemDocument: its current fields (CreateListItem writes those
// the list has writable columns for). Versions are not written: Graph
// cannot create an item's history.
func (c *Client) restoreListItem(ctx context.Context, op, siteID, listID string, stored []byte) (string, error) {
	var doc struct {
		Item struct {
			Fields json.RawMessage `json:"fields"`
		} `json:"item"`
	}
	if err := json.Unmarshal(stored, &doc); err != nil || len(doc.Item.Fields) == 0 {
		return "", fmt.Errorf("%s: not a stored list item: %w", op, m365.ErrUnrestorable)
	}
	id, err := c.CreateListItem(ctx, siteID, listID, doc.Item.Fields)
	if err != nil {
		return "", err
	}
	return listID + "/" + id, nil
}

// deleteListItem deletes "{list id}/{item id}" of a site.
func (c *Client) deleteListItem(ctx context.Context, op, siteID, itemID string) error {
	listID, id, ok := strings.Cut(itemID, "/")
	if !ok {
		return fmt.Errorf("%s: not a list item's name", op)
	}
	_, err := c.send(forDrive(ctx, siteSlot(siteID), "lists.item.delete"), op,
		rawCall{method: abs.DELETE, url: c.listItemsURL(siteID, listID, id)})
	return err
}
