package workflows

import (
	"time"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/m365"
)

// Collision policies: what a restore does with an item whose collision key
// matches one already in the target container.
const (
	CollisionSkip    = "skip"    // leave the existing item, restore nothing
	CollisionCopy    = "copy"    // restore alongside the existing item
	CollisionReplace = "replace" // delete the existing item, then restore
)

// InPlace is the destination that restores into the original containers.
const InPlace = "/"

// ExchangeRestoreInput is one `corso restore exchange` request.
type ExchangeRestoreInput struct {
	Repo     RepoRef         `json:"repo"`
	Graph    GraphRef        `json:"graph"`
	BackupID string          `json:"backupID"`
	Selector backup.Selector `json:"selector"`
	// Destination is the top-level folder (and calendar) items go into, or
	// InPlace for the containers they came from.
	Destination string `json:"destination"`
	Collisions  string `json:"collisions"`
	// ToResource is another mailbox to restore into; empty means the
	// backed-up one.
	ToResource string `json:"toResource,omitempty"`
	FailFast   bool   `json:"failFast,omitempty"`
	// Service is the backup's service: "exchange" when empty, or
	// "sharepoint-lists" (the resource a site, its containers lists).
	Service string `json:"service,omitempty"`
}

// PlanRestoreInput asks which collections of a backup a restore touches and
// prepares their target containers.
type PlanRestoreInput struct {
	Repo        RepoRef         `json:"repo"`
	Graph       GraphRef        `json:"graph"`
	BackupID    string          `json:"backupID"`
	Selector    backup.Selector `json:"selector"`
	Destination string          `json:"destination"`
	ToResource  string          `json:"toResource,omitempty"`
	Service     string          `json:"service,omitempty"`
}

// RestoreCollectionPlan is one backed-up collection with selected items and
// the container they are restored into.
type RestoreCollectionPlan struct {
	Category   m365.Category `json:"category"`
	Path       []string      `json:"path"`       // where the items were
	TargetPath []string      `json:"targetPath"` // where they go
	TargetID   string        `json:"targetID"`   // container id at TargetPath
	// ExistingID names the object listing what was in the target before
	// the restore wrote anything: everything else there is the restore's
	// own, whatever the clocks say.
	ExistingID string `json:"existingID,omitempty"`
	DirID      string `json:"dirID"`
	DetailsID  string `json:"detailsID"`
	// SchemaID is the collection's stored schema (a list's columns), which
	// the target container was created from when missing.
	SchemaID string `json:"schemaID,omitempty"`
	Selected int64  `json:"selected"`
	Bytes    int64  `json:"bytes"`
}

// RestorePlan is the work of one restore.
type RestorePlan struct {
	Source      backup.Summary          `json:"source"`
	Target      m365.Mailbox            `json:"target"`
	Collections []RestoreCollectionPlan `json:"collections"`
}

// RestoreCollectionInput restores the selected items of one collection.
type RestoreCollectionInput struct {
	Repo       RepoRef               `json:"repo"`
	Graph      GraphRef              `json:"graph"`
	MailboxID  string                `json:"mailboxID"`
	Plan       RestoreCollectionPlan `json:"plan"`
	Selector   backup.Selector       `json:"selector"`
	Collisions string                `json:"collisions"`
	// Started is when the restore began. Without Plan.ExistingID, items in
	// the target created since then count as this restore's own.
	Started     time.Time `json:"started"`
	FailFast    bool      `json:"failFast,omitempty"`
	Concurrency int       `json:"concurrency,omitempty"`
}

// RestoreCounts say what happened to the selected items.
type RestoreCounts struct {
	Restored int64 `json:"restored"`
	Skipped  int64 `json:"skipped"`  // collided and --collisions skip
	Replaced int64 `json:"replaced"` // restored over a colliding item
	Failed   int64 `json:"failed"`
	Bytes    int64 `json:"bytes"`
}

func (c *RestoreCounts) add(o RestoreCounts) {
	c.Restored += o.Restored
	c.Skipped += o.Skipped
	c.Replaced += o.Replaced
	c.Failed += o.Failed
	c.Bytes += o.Bytes
}

// RestoreCollectionResult is what one collection's restore did.
type RestoreCollectionResult struct {
	RestoreCounts
	Errors []backup.ItemError `json:"errors,omitempty"`
}

// CategoryCounts are the counts of one category of a restore or export.
type CategoryCounts struct {
	Category m365.Category `json:"category"`
	RestoreCounts
}

// RestoreResult is what `corso restore` prints.
type RestoreResult struct {
	BackupID    string             `json:"backupID"`
	Mailbox     m365.Mailbox       `json:"mailbox"`
	Destination string             `json:"destination"`
	Categories  []CategoryCounts   `json:"categories"`
	Total       RestoreCounts      `json:"total"`
	Errors      []backup.ItemError `json:"errors,omitempty"`
	// ErrorsOmitted counts item errors left out to keep the result small.
	ErrorsOmitted int64 `json:"errorsOmitted,omitempty"`
}

// RestoreProgress answers the "progress" query of a restore.
type RestoreProgress struct {
	Stage            string        `json:"stage"`
	CollectionsTotal int           `json:"collectionsTotal"`
	CollectionsDone  int           `json:"collectionsDone"`
	Selected         int64         `json:"selected"`
	Done             RestoreCounts `json:"done"`
}

// DriveRestoreInput is one `corso restore onedrive|sharepoint` request.
type DriveRestoreInput struct {
	Repo          RepoRef         `json:"repo"`
	Graph         GraphRef        `json:"graph"`
	Service       string          `json:"service"`
	BackupID      string          `json:"backupID"`
	Selector      backup.Selector `json:"selector"`
	Destination   string          `json:"destination"`
	Collisions    string          `json:"collisions"`
	ToResource    string          `json:"toResource,omitempty"`
	NoPermissions bool            `json:"noPermissions,omitempty"`
	FailFast      bool            `json:"failFast,omitempty"`
}

// DriveRestoreFolder is one folder of selected files and where they go.
type DriveRestoreFolder struct {
	Path     []string `json:"path"`     // in the backed-up library
	TargetID string   `json:"targetID"` // folder in the target drive
	Files    int64    `json:"files"`
	// ExistingID names the object listing the folder's files before the
	// restore wrote anything.
	ExistingID string `json:"existingID,omitempty"`
}

// DriveRestoreBatch is a unit of restore work: folders of one library.
type DriveRestoreBatch struct {
	Library   string               `json:"library"`
	DriveID   string               `json:"driveID"` // target drive
	StateID   string               `json:"stateID"`
	DetailsID string               `json:"detailsID"`
	Folders   []DriveRestoreFolder `json:"folders"`
	Files     int64                `json:"files"`
	Bytes     int64                `json:"bytes"`
}

// DriveRestorePlan is the work of one drive restore.
type DriveRestorePlan struct {
	Target  string              `json:"target"` // user or site
	Batches []DriveRestoreBatch `json:"batches"`
	// Errors are shared folders whose permissions could not be
	// re-created.
	Errors []backup.ItemError `json:"errors,omitempty"`
}

// RestoreDriveBatchInput restores one batch of folders.
type RestoreDriveBatchInput struct {
	Repo          RepoRef           `json:"repo"`
	Graph         GraphRef          `json:"graph"`
	Batch         DriveRestoreBatch `json:"batch"`
	Selector      backup.Selector   `json:"selector"`
	Collisions    string            `json:"collisions"`
	Started       time.Time         `json:"started"`
	NoPermissions bool              `json:"noPermissions,omitempty"`
	FailFast      bool              `json:"failFast,omitempty"`
	Concurrency   int               `json:"concurrency,omitempty"`
}
