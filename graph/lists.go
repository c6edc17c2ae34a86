package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"

	"github.com/corso-temporal/corso/m365"
)

// A SharePoint site's generic lists are the containers of its list items,
// and each item is stored with its versions as one document
// (m365.ListItemDocument), exactly as Graph served them.
//
// GET /sites/{id}/lists also returns the site's document libraries
// (template documentLibrary, backed up as drives), hidden lists, and, when
// $select names system, system lists
// (https://learn.microsoft.com/graph/api/list-list); all three are left
// out. Items are enumerated by listItem delta
// (https://learn.microsoft.com/graph/api/listitem-delta), which reports a
// deleted item with @removed, and read with $expand=fields
// (https://learn.microsoft.com/graph/api/listitem-get) and their versions
// (https://learn.microsoft.com/graph/api/listitem-list-versions).
//
// List calls are SharePoint's, metered in resource units like drive calls
// (resource_units.go): they hold slots of the site (forDrive), so a site's
// lists share one set.

// listItemSelect are the item properties a page asks for: what details
// record and the modification time.
const listItemSelect = "id,createdDateTime,lastModifiedDateTime,createdBy,lastModifiedBy"

// listItemFieldsExpand asks a page for each item's title alone.
const listItemFieldsExpand = "fields($select=Title)"

// siteSlot is the key of a site's slots.
func siteSlot(siteID string) string { return "site:" + siteID }

// lists lists a site's generic lists: not document libraries (or other
// libraries), not hidden, not system lists. Each is a container whose
// path is its display name.
func (c *Client) lists(ctx context.Context, siteID string) ([]Container, error) {
	ctx = forDrive(ctx, siteSlot(siteID), "lists.list")
	op := "list lists of site " + siteID
	link := c.v1("sites", siteID, "lists") + "?" + query(url.Values{"$select": {"id,displayName,name,list,system"}})
	type list struct {
		ID     string          `json:"id"`
		Name   string          `json:"displayName"`
		System json.RawMessage `json:"system"`
		List   struct {
			Template string `json:"template"`
			Hidden   bool   `json:"hidden"`
		} `json:"list"`
	}
	all, err := listAll[list](ctx, c, op, link)
	if err != nil {
		return nil, err
	}
	var out []Container
	for _, l := range all {
		if l.List.Hidden || (len(l.System) > 0 && string(l.System) != "null") || isLibraryTemplate(l.List.Template) {
			continue
		}
		out = append(out, Container{ID: l.ID, DisplayName: l.Name, Path: []string{l.Name}, Category: m365.ListItems})
	}
	return out, nil
}

// isLibraryTemplate tells the templates of lists that are libraries of
// files (documentLibrary, pictureLibrary, webPageLibrary, ...), which
// drives back up.
func isLibraryTemplate(t string) bool { return strings.HasSuffix(strings.ToLower(t), "library") }

// listItem is what a page of list items tells of each.
type listItem struct {
	ID       string          `json:"id"`
	Created  *time.Time      `json:"createdDateTime"`
	Modified *time.Time      `json:"lastModifiedDateTime"`
	By       json.RawMessage `json:"createdBy"`
	LastBy   json.RawMessage `json:"lastModifiedBy"`
	Removed  json.RawMessage `json:"@removed"`
	Deleted  json.RawMessage `json:"deleted"` // beta's form of a deletion
	Fields   struct {
		Title string `json:"Title"`
	} `json:"fields"`
}

func (it listItem) change() Change {
	ch := Change{ID: it.ID, Removed: len(it.Removed) > 0 || (len(it.Deleted) > 0 && string(it.Deleted) != "null")}
	if !ch.Removed {
		ch.ModTime = timeOf(it.Modified)
		ch.Meta = it.meta()
	}
	return ch
}

// meta is what details record of an item: its title, who created it and
// when.
func (it listItem) meta() ItemMeta {
	sender := m365.ChatSender(it.By) // an identity set, as a chat message's "from"
	if sender == "" {
		sender = m365.ChatSender(it.LastBy)
	}
	return ItemMeta{Subject: it.Fields.Title, Sender: sender, Received: timeOf(it.Created)}
}

func (c *Client) listItemsURL(siteID, listID string, segs ...string) string {
	return c.v1(append([]string{"sites", siteID, "lists", listID, "items"}, segs...)...)
}

// listItemsDelta reads one page of a list's item delta.
func (c *Client) listItemsDelta(ctx context.Context, siteID, listID, link string) (Page, error) {
	if link == "" {
		link = c.listItemsURL(siteID, listID, "delta") + "?" + query(url.Values{
			"$select": {listItemSelect}, "$expand": {listItemFieldsExpand}, "$top": {strconv.Itoa(c.cfg.PageSize)}})
	}
	return c.listItemPage(forDrive(ctx, siteSlot(siteID), "lists.items.delta"), "delta of list "+listID+" of site "+siteID, link, true)
}

// listedListItems lists a list's items without delta.
func (c *Client) listedListItems(ctx context.Context, siteID, listID, link string) (Page, error) {
	if link == "" {
		link = c.listItemsURL(siteID, listID) + "?" + query(url.Values{
			"$select": {listItemSelect}, "$expand": {listItemFieldsExpand}, "$top": {strconv.Itoa(c.cfg.PageSize)}})
	}
	return c.listItemPage(forDrive(ctx, siteSlot(siteID), "lists.items"), "list items of list "+listID+" of site "+siteID, link, false)
}

func (c *Client) listItemPage(ctx context.Context, op, link string, delta bool) (Page, error) {
	a, err := c.send(ctx, op, rawCall{method: abs.GET, url: link})
	if err != nil {
		return Page{}, err
	}
	var page struct {
		Value []listItem `json:"value"`
		Next  string     `json:"@odata.nextLink"`
		Delta string     `json:"@odata.deltaLink"`
	}
	if err := json.Unmarshal(a.body, &page); err != nil {
		return Page{}, fmt.Errorf("%s: unreadable answer: %w", op, err)
	}
	p := Page{NextLink: page.Next}
	if delta {
		p.DeltaLink = page.Delta
	}
	for _, it := range page.Value {
		ch := it.change()
		if !delta && ch.Removed {
			continue
		}
		p.Changes = append(p.Changes, ch)
	}
	return p, nil
}

// fetchListItem reads an item with its fields and every version with
// theirs into one document, each as Graph sent it.
func (c *Client) fetchListItem(ctx context.Context, siteID, listID, itemID string) (io.ReadCloser, error) {
	op := fmt.Sprintf("fetch item %s of list %s of site %s", itemID, listID, siteID)
	a, err := c.send(forDrive(ctx, siteSlot(siteID), "lists.item"), op,
		rawCall{method: abs.GET, url: c.listItemsURL(siteID, listID, itemID) + "?" + query(url.Values{"$expand": {"fields"}})})
	if err != nil {
		return nil, err
	}
	var it listItem
	if err := json.Unmarshal(a.body, &it); err != nil {
		return nil, fmt.Errorf("%s: unreadable answer: %w", op, err)
	}
	doc := m365.ListItemDocument{Item: a.body, Versions: []json.RawMessage{}}
	link := c.listItemsURL(siteID, listID, itemID, "versions") + "?" + query(url.Values{"$expand": {"fields"}})
	versions, err := listAll[json.RawMessage](forDrive(ctx, siteSlot(siteID), "lists.item.versions"), c, op+": versions", link)
	if err != nil {
		return nil, err
	}
	doc.Versions = append(doc.Versions, versions...)
	return storedDocument(doc, it.meta())
}

// ListSchema returns the list with its columns as Graph serves
// GET /sites/{site}/lists/{list}?$expand=columns
// (https://learn.microsoft.com/graph/api/list-get): what a backup stores
// once per list, and what CreateList re-creates a list from.
func (c *Client) ListSchema(ctx context.Context, siteID, listID string) (json.RawMessage, error) {
	a, err := c.send(forDrive(ctx, siteSlot(siteID), "lists.get"), "read list "+listID+" of site "+siteID,
		rawCall{method: abs.GET, url: c.v1("sites", siteID, "lists", listID) + "?" + query(url.Values{"$expand": {"columns"}})})
	if err != nil {
		return nil, err
	}
	return a.body, nil
}

// columnTypes are the type facets of a columnDefinition
// (https://learn.microsoft.com/graph/api/resources/columndefinition).
var columnTypes = []string{"boolean", "calculated", "choice", "contentApprovalStatus", "currency", "dateTime",
	"geolocation", "hyperlinkOrPicture", "lookup", "number", "personOrGroup", "term", "text", "thumbnail"}

// columnDefinitionProps are what a list-create body may say of a column
// besides its type.
var columnDefinitionProps = []string{"name", "displayName", "description", "enforceUniqueValues", "hidden",
	"indexed", "required", "defaultValue", "validation"}

// storedColumn is a column of a stored schema as a restore reads it.
type storedColumn struct {
	def      jsonObject
	name     string
	readOnly bool
}

func (sc storedColumn) is(facet string) bool { return sc.def.has(facet) }

// creatable reports whether a restore creates the column: its own
// columns, not SharePoint's.
func (sc storedColumn) creatable() bool {
	return sc.name != "" && !sc.readOnly && !m365.BuiltInListColumn(sc.name)
}

// writable reports whether an item's value of the column is written back:
// calculated values SharePoint computes.
func (sc storedColumn) writable() bool {
	return (sc.creatable() || strings.EqualFold(sc.name, "Title")) && !sc.is("calculated")
}

// fieldKey is the column's key in an item's fields.
func (sc storedColumn) fieldKey() string {
	return m365.ListFieldKey(sc.name, sc.is("personOrGroup") || sc.is("lookup"))
}

func readColumns(raw json.RawMessage) ([]storedColumn, error) {
	defs, err := objects(raw)
	if err != nil {
		return nil, err
	}
	out := make([]storedColumn, 0, len(defs))
	for _, d := range defs {
		var ro bool
		_ = json.Unmarshal(d.get("readOnly"), &ro)
		out = append(out, storedColumn{def: d, name: d.str("name"), readOnly: ro})
	}
	return out, nil
}

// CreateList creates a list named name in a site from a schema ListSchema
// returned, with the stored list's own writable columns (SharePoint's
// read-only and built-in ones every list has are left to it), and returns
// its id. A library's schema makes a generic list.
func (c *Client) CreateList(ctx context.Context, siteID, name string, schema json.RawMessage) (string, error) {
	op := fmt.Sprintf("create list %q in site %s", name, siteID)
	stored, err := parseObject(schema)
	if err != nil {
		return "", fmt.Errorf("%s: the stored list is unreadable: %w", op, err)
	}
	cols, err := readColumns(stored.get("columns"))
	if err != nil {
		return "", fmt.Errorf("%s: the stored columns are unreadable: %w", op, err)
	}
	var info struct {
		Template string `json:"template"`
	}
	_ = json.Unmarshal(stored.get("list"), &info)
	if info.Template == "" || isLibraryTemplate(info.Template) {
		info.Template = "genericList"
	}
	defs := []json.RawMessage{}
	for _, col := range cols {
		if !col.creatable() {
			continue
		}
		defs = append(defs, col.def.only(append(append([]string{}, columnDefinitionProps...), columnTypes...)...).bytes())
	}
	body := jsonObject{{"displayName", mustJSON(name)}}
	if stored.has("description") {
		body = append(body, jsonField{"description", stored.get("description")})
	}
	body = append(body, jsonField{"columns", mustJSON(defs)}, jsonField{"list", mustJSON(map[string]string{"template": info.Template})})
	a, err := c.send(forDrive(ctx, siteSlot(siteID), "lists.create"), op,
		rawCall{method: abs.POST, url: c.v1("sites", siteID, "lists"), body: body.bytes(), contentType: "application/json"})
	if err != nil {
		return "", err
	}
	return createdID(op, a)
}

func mustJSON(v any) json.RawMessage {
	b, err := encodeVerbatim(v)
	if err != nil {
		panic(err) // only values built here, which always encode
	}
	return b
}

// CreateListItem creates an item in a list from stored fields (the fields
// of a stored item's GET ...?$expand=fields) and returns its id. Only the
// target list's writable fields are sent: read-only and built-in ones
// (ID, Created, Author, ...), calculated ones, fields the list has no
// column for, and every OData annotation are left out; a multi-valued
// field is sent with the collection type Graph needs to read it.
func (c *Client) CreateListItem(ctx context.Context, siteID, listID string, fields json.RawMessage) (string, error) {
	op := fmt.Sprintf("create an item in list %s of site %s", listID, siteID)
	stored, err := parseObject(fields)
	if err != nil {
		return "", fmt.Errorf("%s: the stored fields are unreadable: %w", op, err)
	}
	writable, err := c.writableFields(ctx, siteID, listID)
	if err != nil {
		return "", err
	}
	out := jsonObject{}
	for _, f := range stored {
		if strings.Contains(f.key, "@") || !writable[strings.ToLower(f.key)] {
			continue
		}
		out = append(out, f)
		if t := collectionType(f.val); t != "" {
			out = append(out, jsonField{f.key + "@odata.type", mustJSON(t)})
		}
	}
	body := jsonObject{{"fields", out.bytes()}}
	a, err := c.send(forDrive(ctx, siteSlot(siteID), "lists.item.create"), op,
		rawCall{method: abs.POST, url: c.listItemsURL(siteID, listID), body: body.bytes(), contentType: "application/json"})
	if err != nil {
		return "", err
	}
	return createdID(op, a)
}

// collectionType is the OData type of a multi-valued field (an array of
// strings or of lookup ids), "" for a single value.
func collectionType(v json.RawMessage) string {
	var arr []any
	if json.Unmarshal(v, &arr) != nil {
		return ""
	}
	for _, x := range arr {
		if _, ok := x.(float64); ok {
			return "Collection(Edm.Int32)"
		}
	}
	return "Collection(Edm.String)"
}

// writableColumns caches lists' writable field keys: a restore writes
// many items into one list it just created. It is bounded, and emptied
// when full.
var writableColumns = struct {
	sync.Mutex
	m map[string]map[string]bool
}{m: map[string]map[string]bool{}}

const writableColumnsMax = 256

// writableFields are the lower-cased keys of the fields an item of the
// list may be written with.
func (c *Client) writableFields(ctx context.Context, siteID, listID string) (map[string]bool, error) {
	key := strings.ToLower(c.cfg.TenantID + "|" + siteID + "|" + listID)
	writableColumns.Lock()
	w, ok := writableColumns.m[key]
	writableColumns.Unlock()
	if ok {
		return w, nil
	}
	op := "read the columns of list " + listID + " of site " + siteID
	link := c.v1("sites", siteID, "lists", listID, "columns")
	w = map[string]bool{}
	for link != "" {
		a, err := c.send(forDrive(ctx, siteSlot(siteID), "lists.columns"), op, rawCall{method: abs.GET, url: link})
		if err != nil {
			return nil, err
		}
		var page struct {
			Value json.RawMessage `json:"value"`
			Next  string          `json:"@odata.nextLink"`
		}
		if err := json.Unmarshal(a.body, &page); err != nil {
			return nil, fmt.Errorf("%s: unreadable answer: %w", op, err)
		}
		cols, err := readColumns(page.Value)
		if err != nil {
			return nil, fmt.Errorf("%s: unreadable answer: %w", op, err)
		}
		for _, col := range cols {
			if col.writable() {
				w[strings.ToLower(col.fieldKey())] = true
			}
		}
		link = page.Next
	}
	writableColumns.Lock()
	if len(writableColumns.m) >= writableColumnsMax {
		clear(writableColumns.m)
	}
	writableColumns.m[key] = w
	writableColumns.Unlock()
	return w, nil
}

// DeleteList deletes a list of a site with its items.
func (c *Client) DeleteList(ctx context.Context, siteID, listID string) error {
	_, err := c.send(forDrive(ctx, siteSlot(siteID), "lists.delete"), "delete list "+listID+" of site "+siteID,
		rawCall{method: abs.DELETE, url: c.v1("sites", siteID, "lists", listID)})
	if err == nil {
		writableColumns.Lock()
		delete(writableColumns.m, strings.ToLower(c.cfg.TenantID+"|"+siteID+"|"+listID))
		writableColumns.Unlock()
	}
	return err
}
