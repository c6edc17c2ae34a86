package activities

import (
	"context"
	"slices"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/repository"
)

// driveEntry is one item of a drive as a backup keeps it: what Graph said
// about it, and where its content and permissions are stored. A file with
// no ObjectID still has to be downloaded.
type driveEntry struct {
	m365.DriveItem
	ObjectID string `json:"objectID,omitempty"`
	PermsID  string `json:"permsID,omitempty"`
	// StoredSize is the size of the stored object when it differs from
	// the listed Size (SharePoint served other bytes than it lists: the
	// file was kept as served). Size stays the listing's, which the next
	// enumeration compares.
	StoredSize *int64 `json:"storedSize,omitempty"`
	// SHA256 is the hex SHA-256 of the stored bytes, which details
	// record; files stored before it was recorded lack it.
	SHA256 string `json:"sha256,omitempty"`
	// Why the file is not downloaded: flagged by the listing (malware),
	// or, in a backup's state, refused for good by an earlier download;
	// a change to the file lists it afresh.
	Skip m365.Cause `json:"skip,omitempty"`
	// In batches only: the file's folder path, for the item errors a batch
	// reports.
	Dir []string `json:"dir,omitempty"`
}

// storedSize is the size of the file's stored bytes.
func (e *driveEntry) storedSize() int64 {
	if e.StoredSize != nil {
		return *e.StoredSize
	}
	return e.Size
}

// driveFileResult is one downloaded file of a batch. Warning is set for a
// file kept with a warning (sizeDrift), recorded with the file so that a
// retried batch still reports it.
type driveFileResult struct {
	ID       string            `json:"id"`
	ObjectID string            `json:"objectID"`
	PermsID  string            `json:"permsID,omitempty"`
	Size     int64             `json:"size"`
	SHA256   string            `json:"sha256,omitempty"`
	Warning  *backup.ItemError `json:"warning,omitempty"`
}

// driveFolder is what a path needs of an item that holds others.
type driveFolder struct {
	parent, name string
	root         bool
}

// driveFolders are a drive's folders (and package items, which hold
// items too) by id: the part of its tree an enumeration keeps in memory,
// whatever the number of its files, to name paths and to leave out items
// cut off from the root.
type driveFolders map[string]driveFolder

// holdsItems says whether other items can have it as their parent.
func holdsItems(it *m365.DriveItem) bool { return it.Folder || it.Root || it.Package != "" }

// apply records an item as an enumeration reports it.
func (f driveFolders) apply(it *m365.DriveItem) {
	if !it.Deleted && holdsItems(it) {
		f[it.ID] = driveFolder{parent: it.ParentID, name: it.Name, root: it.Root}
		return
	}
	delete(f, it.ID)
}

// path returns the folder names from the drive's root down to it's
// parent, and false when it is cut off from the root (an ancestor was
// deleted).
func (f driveFolders) path(it *m365.DriveItem) ([]string, bool) {
	if it.Root {
		return nil, true
	}
	var names []string
	for id, hops := it.ParentID, 0; ; hops++ {
		p, ok := f[id]
		if !ok || hops > 4096 {
			return nil, false
		}
		if p.root {
			break
		}
		names = append(names, p.name)
		id = p.parent
	}
	slices.Reverse(names)
	return names, true
}

// selectedState reads the entries of a stored drive state that keep
// selects, by id, an entry at a time: a reader holds what it selects, not
// the drive. States of any age read so, streamed or not.
func selectedState(ctx context.Context, r *repository.Repository, stateID string, keep func(*driveEntry) bool) (map[string]*driveEntry, error) {
	out := map[string]*driveEntry{}
	err := repository.EachJSON(ctx, r, stateID, func(e *driveEntry) error {
		if e != nil && keep(e) {
			out[e.ID] = e
		}
		return nil
	})
	return out, err
}

// storedObjects maps the stored files of a drive state that want selects
// to their objects, reading it an entry at a time.
func storedObjects(ctx context.Context, r *repository.Repository, stateID string, want func(id string) bool) (map[string]string, error) {
	out := map[string]string{}
	err := repository.EachJSON(ctx, r, stateID, func(e *driveEntry) error {
		if e != nil && e.ObjectID != "" && want(e.ID) {
			out[e.ID] = e.ObjectID
		}
		return nil
	})
	return out, err
}
