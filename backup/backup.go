// Package backup holds the vocabulary of backups that the CLI, workflows,
// activities and the repository share: what a backup reports, what it
// records about each item (details), and how admins select items. It has
// no I/O and no heavy imports.
package backup

import (
	"time"

	"github.com/corso-temporal/corso/m365"
)

// Status of a backup.
const (
	StatusCompleted = "Completed"
	StatusFailed    = "Failed"
)

// Entry describes one backed-up item for `backup details` and for
// selecting what to restore.
type Entry struct {
	ItemID      string    `json:"itemID"`
	Category    string    `json:"category"`
	Path        []string  `json:"path"`
	ModTime     time.Time `json:"modTime,omitzero"`
	Size        int64     `json:"size"`
	Subject     string    `json:"subject,omitempty"`
	Sender      string    `json:"sender,omitempty"`
	Recipients  []string  `json:"recipients,omitempty"`
	Received    time.Time `json:"received,omitzero"`
	Organizer   string    `json:"organizer,omitempty"`
	Start       time.Time `json:"start,omitzero"`
	End         time.Time `json:"end,omitzero"`
	DisplayName string    `json:"displayName,omitempty"`
	Emails      []string  `json:"emails,omitempty"`
	m365.MessageState
	// Drive files: the file's name and library (Path is its folder), when
	// it was created, who created and last changed it.
	Name       string    `json:"name,omitempty"`
	Library    string    `json:"library,omitempty"`
	Created    time.Time `json:"created,omitzero"`
	CreatedBy  string    `json:"createdBy,omitempty"`
	ModifiedBy string    `json:"modifiedBy,omitempty"`
	// SHA256 is the hex SHA-256 of the item's stored bytes, recorded when
	// they were backed up; `backup verify --read-data` compares it with
	// what it reads back. Backups made before it was recorded lack it.
	SHA256 string `json:"sha256,omitempty"`
}

// ItemError is an item that could not be backed up; the backup still
// completes and reports it.
type ItemError struct {
	Category string   `json:"category"`
	Path     []string `json:"path"`
	ItemID   string   `json:"itemID"`
	Name     string   `json:"name,omitempty"` // subject or file name, when known
	Reason   string   `json:"reason"`
	// Cause names why when the item can never be read (malware, corrupt,
	// ...; m365.Cause): it was skipped, not lost to a transient failure.
	Cause string `json:"cause,omitempty"`
	// Kept: the item IS in the backup, and this is a warning about it
	// (sizeDrift: stored as downloaded, not as listed).
	Kept bool `json:"kept,omitempty"`
}

// Failures counts the item errors that are not warnings about items kept
// in the backup.
func Failures(errs []ItemError) int64 {
	var n int64
	for _, e := range errs {
		if !e.Kept {
			n++
		}
	}
	return n
}

// LeftOut is a resource a request selected ("*") but did not back up,
// because it has nothing of the service to back up: a guest or unlicensed
// user, a mailbox on premises, a OneDrive never provisioned or locked.
type LeftOut struct {
	Resource     string `json:"resource"` // UPN or site URL
	ResourceID   string `json:"resourceID"`
	ResourceName string `json:"resourceName,omitempty"`
	Cause        string `json:"cause"`  // m365.Cause
	Reason       string `json:"reason"` // the cause as an admin reads it
}

// Summary is what `backup create` and `backup list` show for one backup.
type Summary struct {
	BackupID     string    `json:"backupID"`
	Tenant       string    `json:"tenant"`
	Service      string    `json:"service"`
	Resource     string    `json:"resource"`
	ResourceName string    `json:"resourceName,omitempty"`
	Status       string    `json:"status"`
	Started      time.Time `json:"started"`
	Completed    time.Time `json:"completed,omitzero"`
	Items        int64     `json:"items"`
	Bytes        int64     `json:"bytes"`
	Fetched      int64     `json:"fetched"`
	Errors       int64     `json:"errors"`
	Skipped      int64     `json:"skipped"`
	Resets       []string  `json:"resets,omitempty"`
	Error        string    `json:"error,omitempty"`
	Workflow     string    `json:"workflow,omitempty"`
	// Listed names the containers Graph refused to enumerate by delta (a
	// mailbox over its quota), which were listed instead.
	Listed []string `json:"listed,omitempty"`
	// Warnings counts items backed up with a warning (ItemError.Kept);
	// they are not among Skipped, which are not in the backup.
	Warnings int64 `json:"warnings,omitempty"`
}
