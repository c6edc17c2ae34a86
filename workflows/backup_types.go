package workflows

import (
	"encoding/json"
	"time"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/codec"
	"github.com/corso-temporal/corso/m365"
)

// GraphCredentials are the Entra app's secret parts; they travel sealed.
type GraphCredentials struct {
	ClientID     string `json:"clientID"`
	ClientSecret string `json:"clientSecret"`
}

// GraphRef names the tenant and carries the sealed app credentials.
type GraphRef struct {
	TenantID    string       `json:"tenantID"`
	Credentials codec.Sealed `json:"credentials"`
}

// ExchangeBackupInput is one `corso backup create exchange` request.
type ExchangeBackupInput struct {
	Repo       RepoRef  `json:"repo"`
	Graph      GraphRef `json:"graph"`
	Mailboxes  []string `json:"mailboxes"` // ids, UPNs or "*"
	Categories []string `json:"categories,omitempty"`
	FailFast   bool     `json:"failFast,omitempty"`
	// Retention, when set, is applied to each backed-up mailbox's backups
	// once they are recorded (a schedule's --keep-* policy).
	Retention *backup.Retention `json:"retention,omitempty"`
	// ResourcesPerRun, when below ResourcesPerRun, is how many mailboxes
	// one run backs up before continuing as new (tests take the path with
	// a few).
	ResourcesPerRun int `json:"resourcesPerRun,omitempty"`
	// ResourcesInFlight is how many mailboxes are backed up at once
	// (resourcesInFlight: DefaultResourcesInFlight when zero).
	ResourcesInFlight int `json:"resourcesInFlight,omitempty"`
	// Pages is where the request stands when a run continues it.
	Pages *BackupPages `json:"pages,omitempty"`
}

// ExchangeBackupResult lists the request's backups, and the users a "*"
// selection left out because they have no mailbox to back up. Retention
// says what the request's retention policy kept and removed. Totals counts
// every backup; the lists hold at most MaxSummaries entries each, failed
// backups kept in preference (runs started before Totals existed list
// every one).
type ExchangeBackupResult struct {
	Backups   []backup.Summary    `json:"backups"`
	LeftOut   []backup.LeftOut    `json:"leftOut,omitempty"`
	Retention []ResourceRetention `json:"retention,omitempty"`
	Totals    *BackupTotals       `json:"totals,omitempty"`
}

// MailboxBackupInput backs up one mailbox into one backup.
type MailboxBackupInput struct {
	Repo       RepoRef      `json:"repo"`
	Graph      GraphRef     `json:"graph"`
	BackupID   string       `json:"backupID"`
	Mailbox    m365.Mailbox `json:"mailbox"`
	Categories []string     `json:"categories"`
	FailFast   bool         `json:"failFast,omitempty"`
	// Service is the backup's service: "exchange" when empty, or
	// "groups" (the resource a team, its containers channels), or
	// "sharepoint-lists" (the resource a site, its containers lists).
	Service string `json:"service,omitempty"`
	// RequestStarted is when the request's run began: the previous
	// backup of the mailbox was recorded before it.
	RequestStarted time.Time `json:"requestStarted,omitzero"`
}

// ResolveMailboxesInput asks which mailboxes the selectors name.
type ResolveMailboxesInput struct {
	Graph     GraphRef `json:"graph"`
	Selectors []string `json:"selectors"`
	// Repo is where ActivityResolveMailboxList stores the answer.
	Repo *RepoRef `json:"repo,omitempty"`
}

// PlanMailboxInput asks for a mailbox's collections and what the previous
// backup knows about each.
type PlanMailboxInput struct {
	Repo       RepoRef      `json:"repo"`
	Graph      GraphRef     `json:"graph"`
	Mailbox    m365.Mailbox `json:"mailbox"`
	Categories []string     `json:"categories"`
	Service    string       `json:"service,omitempty"`
	// InlineCollections, when set, is how many collections a plan may hold
	// inline: a plan of more is stored in the repository in groups
	// (MailboxPlan.Groups), each backed up by one activity.
	InlineCollections int `json:"inlineCollections,omitempty"`
	// RecordedBefore, when set, is a time before which the previous
	// backup was recorded: a view of the repository refreshed after it
	// serves (repository.RefreshSince).
	RecordedBefore time.Time `json:"recordedBefore,omitzero"`
}

// PreviousCollection is a collection in the previous backup of the same
// mailbox: its items are reused and its delta link resumes enumeration.
type PreviousCollection struct {
	BackupID  string `json:"backupID"`
	DirID     string `json:"dirID"`
	DetailsID string `json:"detailsID"`
	DeltaLink string `json:"deltaLink,omitempty"`
	// Path is where the container was; a different path now means it was
	// renamed or moved.
	Path []string `json:"path,omitempty"`
	// FailedIn is the previous backup's index when it reports items of
	// the container that failed for a reason that may pass: they are
	// tried again.
	FailedIn string `json:"failedIn,omitempty"`
}

// CollectionPlan is one unit of backup work: a container to enumerate.
type CollectionPlan struct {
	Container m365.Container      `json:"container"`
	Previous  *PreviousCollection `json:"previous,omitempty"`
}

// MailboxPlan is the work for one mailbox backup: its collections, or,
// when they are more than PlanMailboxInput.InlineCollections, the groups
// of them stored in the repository.
type MailboxPlan struct {
	Collections      []CollectionPlan  `json:"collections"`
	PreviousBackupID string            `json:"previousBackupID,omitempty"`
	Groups           []CollectionGroup `json:"groups,omitempty"`
}

// CollectionGroup is collections of a large mailbox backed up in one
// activity, whose plans are stored in the repository: the workflow carries
// their number and weight only, so neither its history nor any payload
// grows with the mailbox's folders.
type CollectionGroup struct {
	// PlansID is the repository object of the group's []CollectionPlan.
	PlansID     string `json:"plansID"`
	Collections int    `json:"collections"`
	// Weight is the group's share of the mailbox's work: the items of its
	// new collections, one per collection resuming from a delta link.
	Weight int64 `json:"weight"`
}

// BackupCollectionInput backs up one container.
type BackupCollectionInput struct {
	Repo      RepoRef        `json:"repo"`
	Graph     GraphRef       `json:"graph"`
	BackupID  string         `json:"backupID"`
	MailboxID string         `json:"mailboxID"`
	Service   string         `json:"service,omitempty"`
	Plan      CollectionPlan `json:"plan"`
	FailFast  bool           `json:"failFast,omitempty"`
	// Concurrency is how many items the activity downloads at once.
	Concurrency int `json:"concurrency,omitempty"`
}

// BackupCollectionsInput backs up several containers of one mailbox in one
// activity: those an incremental backup resumes from a delta link, or a
// group of a mailbox of many (CollectionGroup).
type BackupCollectionsInput struct {
	Repo      RepoRef          `json:"repo"`
	Graph     GraphRef         `json:"graph"`
	BackupID  string           `json:"backupID"`
	MailboxID string           `json:"mailboxID"`
	Service   string           `json:"service,omitempty"`
	Plans     []CollectionPlan `json:"plans"`
	FailFast  bool             `json:"failFast,omitempty"`
	// Concurrency is how many Graph requests the activity makes at once,
	// across all its collections.
	Concurrency int `json:"concurrency,omitempty"`
	// Record, when the plans are all of the mailbox's collections, has the
	// activity also record the backup, as CombineBackup would, in the
	// same repository session.
	Record *BackupRecord `json:"record,omitempty"`
	// PlansID, instead of Plans, names the group's plans in the repository
	// (CollectionGroup); the activity then stores its results there too
	// and returns their id and totals.
	PlansID string `json:"plansID,omitempty"`
}

// BackupRecord is what a backup's record says beside its collections.
type BackupRecord struct {
	TenantID string       `json:"tenantID"`
	Service  string       `json:"service,omitempty"`
	Mailbox  m365.Mailbox `json:"mailbox"`
	Started  time.Time    `json:"started"`
	Workflow string       `json:"workflow"`
}

// BackupCollectionsResult has one result per plan, in plan order, and the
// backup's summary when the activity recorded it.
type BackupCollectionsResult struct {
	Collections []CollectionResult `json:"collections"`
	Backup      *backup.Summary    `json:"backup,omitempty"`
	// ResultsID names the stored []CollectionResult of a group whose plans
	// were stored (BackupCollectionsInput.PlansID); Totals sums them.
	ResultsID string            `json:"resultsID,omitempty"`
	Totals    *CollectionTotals `json:"totals,omitempty"`
}

// CollectionTotals sums the results of collections backed up together.
type CollectionTotals struct {
	Collections int   `json:"collections"`
	Items       int64 `json:"items"`
	Bytes       int64 `json:"bytes"`
	Errors      int64 `json:"errors"`
}

// CollectionResult is a backed-up container, ready to combine. DirEntry
// is the kopia directory entry of its items, opaque to workflows.
type CollectionResult struct {
	Container m365.Container     `json:"container"`
	DirEntry  json.RawMessage    `json:"dirEntry"`
	DetailsID string             `json:"detailsID"`
	DeltaLink string             `json:"deltaLink,omitempty"`
	Items     int64              `json:"items"`
	Bytes     int64              `json:"bytes"`
	Fetched   int64              `json:"fetched"`
	Reused    int64              `json:"reused"`
	Removed   int64              `json:"removed"`
	Reset     bool               `json:"reset,omitempty"`
	Errors    []backup.ItemError `json:"errors,omitempty"`
	Skipped   int64              `json:"skipped,omitempty"`
	// Listed: Graph refused delta for the container (a mailbox over its
	// quota), which was listed instead.
	Listed bool `json:"listed,omitempty"`
	// SchemaID is the stored schema of a container whose category has
	// one (m365.Category.HasSchema): a list's columns.
	SchemaID string `json:"schemaID,omitempty"`
}

// CombineInput turns collection results into one backup.
type CombineInput struct {
	Repo        RepoRef            `json:"repo"`
	BackupID    string             `json:"backupID"`
	TenantID    string             `json:"tenantID"`
	Service     string             `json:"service,omitempty"`
	Mailbox     m365.Mailbox       `json:"mailbox"`
	Started     time.Time          `json:"started"`
	Collections []CollectionResult `json:"collections"`
	Workflow    string             `json:"workflow"`
	// ResultsIDs name stored results (BackupCollectionsResult.ResultsID)
	// of further collections, combined after Collections.
	ResultsIDs []string `json:"resultsIDs,omitempty"`
}

// BackupProgress answers the "progress" query of one resource's backup
// (a mailbox, a user's OneDrive, a site). Resource is its display name; the
// JSON name stays "mailbox", which running workflows and recorded
// histories carry.
type BackupProgress struct {
	BackupID         string `json:"backupID"`
	Resource         string `json:"mailbox"`
	Stage            string `json:"stage"`
	CollectionsTotal int    `json:"collectionsTotal"`
	CollectionsDone  int    `json:"collectionsDone"`
	Items            int64  `json:"items"`
	Bytes            int64  `json:"bytes"`
	Errors           int64  `json:"errors"`
}

// ProgressQuery is the query name workflows answer with their progress.
const ProgressQuery = "progress"

// BackupListInput lists backups in a repository.
type BackupListInput struct {
	Repo     RepoRef `json:"repo"`
	Service  string  `json:"service"`
	BackupID string  `json:"backupID,omitempty"`
	// Resources, when set, lists only these resources' backups.
	Resources []string `json:"resources,omitempty"`
	// Offset and Limit page the list, newest first; a zero Limit lists
	// every backup from Offset on.
	Offset int `json:"offset,omitempty"`
	Limit  int `json:"limit,omitempty"`
}

// BackupListResult is the answer to BackupListInput: one page, and how
// many backups the list holds in all.
type BackupListResult struct {
	Backups []backup.Summary `json:"backups"`
	Total   int              `json:"total,omitempty"`
}

// BackupDetailsInput asks for a page of a backup's details.
type BackupDetailsInput struct {
	Repo     RepoRef         `json:"repo"`
	Service  string          `json:"service"`
	BackupID string          `json:"backupID"`
	Selector backup.Selector `json:"selector"`
	Offset   int             `json:"offset"`
	Limit    int             `json:"limit"`
}

// BackupDetailsResult is one page of details; Total counts every match.
type BackupDetailsResult struct {
	Backup  backup.Summary     `json:"backup"`
	Entries []backup.Entry     `json:"entries"`
	Total   int                `json:"total"`
	Errors  []backup.ItemError `json:"errors,omitempty"`
}

// BackupDeleteInput deletes backups.
type BackupDeleteInput struct {
	Repo      RepoRef  `json:"repo"`
	Service   string   `json:"service"`
	BackupIDs []string `json:"backupIDs"`
}

// BackupDeleteProgress is what the delete activity heartbeats: how many
// of the request's backups it deleted, for `corso backup delete|prune` to
// show (heartbeat details, described by Temporal).
type BackupDeleteProgress struct {
	Deleted int `json:"deleted"`
	Total   int `json:"total"`
}

// BackupDeleteResult lists what was deleted.
type BackupDeleteResult struct {
	Deleted []string `json:"deleted"`
}

// ContainerService is the service of a backup of containers of items:
// "exchange" unless another is named.
func ContainerService(service string) string {
	if service == "" {
		return "exchange"
	}
	return service
}
