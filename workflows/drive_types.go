package workflows

import (
	"time"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/m365"
)

// DriveBackupInput is one `corso backup create onedrive|sharepoint`
// request.
type DriveBackupInput struct {
	Repo      RepoRef  `json:"repo"`
	Graph     GraphRef `json:"graph"`
	Service   string   `json:"service"`   // m365.OneDrive or m365.SharePoint
	Resources []string `json:"resources"` // users or sites, or "*"
	FailFast  bool     `json:"failFast,omitempty"`
	// Retention, when set, is applied to each backed-up user's or site's
	// backups once they are recorded (a schedule's --keep-* policy).
	Retention *backup.Retention `json:"retention,omitempty"`
	// ResourcesPerRun, when below ResourcesPerRun, is how many users or
	// sites one run backs up before continuing as new (tests take the
	// path with a few).
	ResourcesPerRun int `json:"resourcesPerRun,omitempty"`
	// ResourcesInFlight is how many users or sites are backed up at once
	// (resourcesInFlight: DefaultResourcesInFlight when zero).
	ResourcesInFlight int `json:"resourcesInFlight,omitempty"`
	// Pages is where the request stands when a run continues it.
	Pages *BackupPages `json:"pages,omitempty"`
}

// DriveBackupResult lists the request's backups, and the users or sites a
// "*" selection left out because they have no drive to back up.
// Retention says what the request's retention policy kept and removed.
// Totals counts every backup; the lists hold at most MaxSummaries entries
// each, failed backups kept in preference (runs started before Totals
// existed list every one).
type DriveBackupResult struct {
	Backups   []backup.Summary    `json:"backups"`
	LeftOut   []backup.LeftOut    `json:"leftOut,omitempty"`
	Retention []ResourceRetention `json:"retention,omitempty"`
	Totals    *BackupTotals       `json:"totals,omitempty"`
}

// ResolveDrivesInput asks which drives the selectors name.
type ResolveDrivesInput struct {
	Graph     GraphRef `json:"graph"`
	Service   string   `json:"service"`
	Selectors []string `json:"selectors"`
	// Repo is where ActivityResolveDriveList stores the answer.
	Repo *RepoRef `json:"repo,omitempty"`
}

// ResolvedDrive is one answer of ActivityResolveDrives: a drive to back up
// or, with LeftOut set, a user or site that has none to back up (LeftOut.Cause
// says why) or whose drives the app is denied (m365.CauseAccessDenied: its
// backup fails alone, LeftOut.Reason quoting Graph). Drive then names only
// the owner. Histories recorded before LeftOut existed hold plain drives,
// which decode as such.
type ResolvedDrive struct {
	m365.Drive
	LeftOut *backup.LeftOut `json:"leftOut,omitempty"`
}

// ResourceDrivesBackupInput backs up the drives of one user or site into
// one backup.
type ResourceDrivesBackupInput struct {
	Repo     RepoRef      `json:"repo"`
	Graph    GraphRef     `json:"graph"`
	BackupID string       `json:"backupID"`
	Service  string       `json:"service"`
	Drives   []m365.Drive `json:"drives"` // all of one owner
	FailFast bool         `json:"failFast,omitempty"`
	// RequestStarted is when the request's run began: the owner's
	// previous backup was recorded before it.
	RequestStarted time.Time `json:"requestStarted,omitzero"`
}

// EnumerateDriveInput enumerates one drive's changes since the previous
// backup of its owner.
type EnumerateDriveInput struct {
	Repo     RepoRef    `json:"repo"`
	Graph    GraphRef   `json:"graph"`
	BackupID string     `json:"backupID"`
	Drive    m365.Drive `json:"drive"`
	// RecordedBefore, when set, is a time before which the previous
	// backup was recorded (repository.RefreshSince).
	RecordedBefore time.Time `json:"recordedBefore,omitzero"`
}

// DriveBatch is a unit of download work: files listed in a repository
// object, never in the payload.
type DriveBatch struct {
	FilesID string `json:"filesID"`
	Files   int64  `json:"files"`
	Bytes   int64  `json:"bytes"`
	// Listed is when the enumeration saw the files, and so how old the
	// download URLs stored with them are.
	Listed time.Time `json:"listed,omitzero"`
}

// DriveEnumeration is a drive's state after enumeration: every item,
// with the stored objects of those kept from the previous backup, and the
// batches of files to download.
type DriveEnumeration struct {
	Drive     m365.Drive   `json:"drive"`
	StateID   string       `json:"stateID"`
	DeltaLink string       `json:"deltaLink"`
	Batches   []DriveBatch `json:"batches,omitempty"`
	Files     int64        `json:"files"`
	Bytes     int64        `json:"bytes"`
	Reused    int64        `json:"reused"`
	Reset     bool         `json:"reset,omitempty"`
}

// BackupDriveBatchInput downloads one batch of files into the repository.
type BackupDriveBatchInput struct {
	Repo        RepoRef    `json:"repo"`
	Graph       GraphRef   `json:"graph"`
	BackupID    string     `json:"backupID"`
	Drive       m365.Drive `json:"drive"`
	Batch       DriveBatch `json:"batch"`
	FailFast    bool       `json:"failFast,omitempty"`
	Concurrency int        `json:"concurrency,omitempty"`
}

// DriveBatchResult names the object listing the stored files of a batch.
// Errors are its files left out (Skipped counts them all, Errors may be
// capped) and its files kept with a warning (Kept; Warnings counts them).
type DriveBatchResult struct {
	ResultsID string             `json:"resultsID"`
	Files     int64              `json:"files"`
	Bytes     int64              `json:"bytes"`
	Errors    []backup.ItemError `json:"errors,omitempty"`
	Skipped   int64              `json:"skipped,omitempty"`
	Warnings  int64              `json:"warnings,omitempty"`
}

// CombineDrivesInput turns enumerations and downloaded batches into one
// backup.
type CombineDrivesInput struct {
	Repo     RepoRef              `json:"repo"`
	BackupID string               `json:"backupID"`
	TenantID string               `json:"tenantID"`
	Service  string               `json:"service"`
	Drives   []DriveEnumeration   `json:"drives"`
	Results  [][]DriveBatchResult `json:"results"` // per drive, per batch
	Started  time.Time            `json:"started"`
	Workflow string               `json:"workflow"`
}
