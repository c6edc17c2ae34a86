package m365

import (
	"errors"
	"time"
)

// Drive services.
const (
	OneDrive   = "onedrive"   // a user's default drive
	SharePoint = "sharepoint" // a site's document libraries
)

// GroupSelector marks a SharePoint selector that names Microsoft 365
// groups, whose sites' libraries are backed up: "group:Marketing",
// "group:*".
const GroupSelector = "group:"

// Drive is a document library: a user's OneDrive or one library of a
// SharePoint site.
type Drive struct {
	ID        string `json:"id"`
	Name      string `json:"name"`      // "OneDrive", "Documents", ...
	Service   string `json:"service"`   // OneDrive or SharePoint
	Owner     string `json:"owner"`     // user id or site id
	OwnerName string `json:"ownerName"` // user principal name or site URL
}

// DriveItem is a file or folder as drive delta reports it.
type DriveItem struct {
	ID       string `json:"id"`
	ParentID string `json:"parentID,omitempty"`
	Name     string `json:"name"`
	Folder   bool   `json:"folder,omitempty"`
	Root     bool   `json:"root,omitempty"`
	// Deleted items carry only their id (and, from Graph, often their
	// parent); the rest is zero.
	Deleted      bool      `json:"deleted,omitempty"`
	Size         int64     `json:"size,omitempty"`
	QuickXorHash string    `json:"quickXorHash,omitempty"` // base64, as Graph reports it
	CTag         string    `json:"cTag,omitempty"`         // changes when the content changes
	Created      time.Time `json:"created,omitzero"`
	Modified     time.Time `json:"modified,omitzero"`
	CreatedBy    string    `json:"createdBy,omitempty"`
	ModifiedBy   string    `json:"modifiedBy,omitempty"`
	// Shared says the item has permissions of its own beyond what it
	// inherits, when Graph reports it (the "shared" facet).
	Shared bool `json:"shared,omitempty"`
	// Package names the kind of a package item ("oneNote" for a OneNote
	// notebook): stored as one item, but not an ordinary file.
	Package string `json:"package,omitempty"`
	// DownloadURL is the pre-authenticated address of a file's bytes as
	// the enumeration saw it, valid for about an hour; downloads fetch a
	// fresh one once it has expired.
	DownloadURL string `json:"downloadURL,omitempty"`
}

// DrivePage is one page of a drive delta enumeration; exactly one of
// NextLink and DeltaLink is set.
type DrivePage struct {
	Items     []DriveItem
	NextLink  string
	DeltaLink string
}

// ErrContentMismatch says downloaded bytes do not match the size or
// quickXorHash Graph reported for the file.
var ErrContentMismatch = errors.New("downloaded content does not match its hash")

// ErrNameConflict says a drive write with ConflictFail met an item of the
// same name in the target folder.
var ErrNameConflict = errors.New("an item of that name already exists")

// Conflict behaviours of drive writes.
const (
	ConflictFail    = "fail"
	ConflictRename  = "rename"
	ConflictReplace = "replace"
)
