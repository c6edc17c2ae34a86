package m365

import (
	"encoding/json"
	"strings"
)

// ListItems is a SharePoint site's list items: the containers are the
// site's generic lists (not document libraries, hidden or system lists),
// and each item is stored with its versions as one document
// (ListItemDocument).
const ListItems Category = "lists"

// ListItemDocument is a list item as a backup stores it: the item with its
// fields, and each of its versions with theirs, each exactly as Graph
// served it (GET .../items/{id}?$expand=fields and
// GET .../items/{id}/versions?$expand=fields, newest version first), so
// that nothing SharePoint knows of an item is lost to a model.
type ListItemDocument struct {
	Item     json.RawMessage   `json:"item"`
	Versions []json.RawMessage `json:"versions"`
}

// SharePointLists is the service of SharePoint sites' lists. Its backups
// are laid out and listed apart from the sites' libraries (SharePoint), so
// an incremental backup of one never starts from a backup of the other.
const SharePointLists = "sharepoint-lists"

// ListCategories lists every category of the SharePointLists service.
var ListCategories = []Category{ListItems}

// HasSchema reports whether a container of the category has a schema a
// backup stores beside its items and a restore re-creates it from: a
// list's columns.
func (c Category) HasSchema() bool { return c == ListItems }

// builtInListColumns are columns SharePoint gives every list, which a
// restore neither creates nor writes, whatever readOnly says of them.
var builtInListColumns = map[string]bool{
	"title": true, "id": true, "contenttype": true, "contenttypeid": true, "created": true, "modified": true,
	"author": true, "editor": true, "attachments": true, "edit": true, "linktitle": true, "linktitlenomenu": true,
	"docicon": true, "itemchildcount": true, "folderchildcount": true, "appauthor": true, "appeditor": true,
	"_uiversionstring": true, "_complianceflags": true, "_compliancetag": true, "_compliancetagwrittentime": true,
	"_compliancetaguserid": true, "_isrecord": true, "_colortag": true,
}

// BuiltInListColumn reports whether a column (by its internal name) is
// one SharePoint gives every list, Title included.
func BuiltInListColumn(name string) bool { return builtInListColumns[strings.ToLower(name)] }

// ListFieldKey is the key of a column's value in an item's fields:
// person and lookup columns are read and written as "{name}LookupId".
func ListFieldKey(name string, personOrLookup bool) string {
	if personOrLookup {
		return name + "LookupId"
	}
	return name
}

// ListItemKey is the collision key of a list item: its title, which is
// what a person recognises an item by (SharePoint gives a restored item a
// new id, creation time and author).
func ListItemKey(title string) string { return collisionKey("listItem", title) }

// storedListItemKey is the collision key of a stored ListItemDocument.
func storedListItemKey(stored []byte) (string, error) {
	var doc struct {
		Item struct {
			Fields struct {
				Title string `json:"Title"`
			} `json:"fields"`
		} `json:"item"`
	}
	if err := json.Unmarshal(stored, &doc); err != nil {
		return "", err
	}
	return ListItemKey(doc.Item.Fields.Title), nil
}
