package m365

import (
	"errors"
	"io"
)

// A real tenant fails persistently, on one resource: an unlicensed user, a
// mailbox scoped out by an access policy or over its quota, a file flagged
// as malware. What a backup does about a failure is decided once, where
// Graph's answer is read (graph/faults.go), and carried by the error as a
// Fault; every service acts on the class, never on a status code.

// Class is what a backup does about a failure.
type Class int

const (
	// Unclassified failures are retried as transient, or fail what they
	// belong to when retries run out.
	Unclassified Class = iota
	// ItemSkipped: this item can never be read. The backup leaves it out,
	// records it with its cause and goes on.
	ItemSkipped
	// DeltaUnavailable: the container cannot be enumerated by delta (a
	// mailbox over its quota); list it instead.
	DeltaUnavailable
	// ResourceUnavailable: the user or site has nothing of this service to
	// back up (no mailbox, unlicensed, no OneDrive, locked). It is left out
	// with its cause; the run goes on and says so.
	ResourceUnavailable
	// ResourceDenied: the app may not read this resource (an application
	// access policy). That resource fails alone; the others go on.
	ResourceDenied
	// RunFailed: the app itself is refused (wrong secret, no consent).
	// Nothing can succeed; the whole request fails at once.
	RunFailed
)

func (c Class) String() string {
	switch c {
	case ItemSkipped:
		return "item skipped"
	case DeltaUnavailable:
		return "delta unavailable"
	case ResourceUnavailable:
		return "resource unavailable"
	case ResourceDenied:
		return "resource denied"
	case RunFailed:
		return "run failed"
	}
	return "unclassified"
}

// Cause names why, in the words backups report.
type Cause string

// Item causes.
const (
	CauseMalware           Cause = "malware"
	CauseOneNotePackage    Cause = "oneNotePackage"
	CauseCorrupt           Cause = "corrupt"
	CauseCannotOpen        Cause = "cannotOpen"
	CauseInvalidRecipients Cause = "invalidRecipients"
	CauseTooLarge          Cause = "tooLarge"
	CauseDeletedInFlight   Cause = "deletedInFlight"
	CauseSizeDrift         Cause = "sizeDrift"
	// CauseInstancesUnavailable: an event series Exchange cannot list the
	// exceptions of (503 with an empty body to every GET expanding
	// exceptionOccurrences); kept without them, with a warning.
	CauseInstancesUnavailable Cause = "instancesUnavailable"
)

// Container causes.
const (
	CauseQuotaExceeded Cause = "quotaExceeded"
	CauseDeltaRefused  Cause = "deltaRefused"
)

// Resource causes.
const (
	CauseNoMailbox    Cause = "noMailbox"
	CauseUnlicensed   Cause = "unlicensed"
	CauseNoDrive      Cause = "noDrive"
	CauseLocked       Cause = "locked"
	CauseAccessDenied Cause = "accessDenied"
	CauseNoConsent    Cause = "noConsent"
	CauseNoTeam       Cause = "noTeam"
)

// Describe is the cause as an admin reads it.
func (c Cause) Describe() string {
	switch c {
	case CauseMalware:
		return "flagged as malware; Microsoft 365 refuses to serve it"
	case CauseOneNotePackage:
		return "OneNote notebook content, which Microsoft Graph does not serve as files"
	case CauseCorrupt:
		return "Exchange reports the item as corrupt"
	case CauseCannotOpen:
		return "Exchange cannot open one of its attachments"
	case CauseInvalidRecipients:
		return "Exchange rejects the item's recipients"
	case CauseTooLarge:
		return "larger than Microsoft Graph accepts"
	case CauseDeletedInFlight:
		return "deleted before it could be read"
	case CauseSizeDrift:
		return "SharePoint served different bytes than it lists (kept as downloaded)"
	case CauseInstancesUnavailable:
		return "a series with too many occurrences for Exchange to list its exceptions; stored without them"
	case CauseQuotaExceeded:
		return "the mailbox is over its quota, so Exchange refuses delta queries; listed instead"
	case CauseDeltaRefused:
		return "Exchange cannot serve the container's delta (503 for every page size); listed instead"
	case CauseNoMailbox:
		return "no Exchange Online mailbox (none, inactive, soft-deleted or on premises)"
	case CauseUnlicensed:
		return "no mailbox: the user has no Exchange licence"
	case CauseNoDrive:
		return "no OneDrive (never provisioned, or no licence)"
	case CauseLocked:
		return "locked or offboarded by an administrator"
	case CauseAccessDenied:
		return "access denied to the app, e.g. by an Exchange application access policy"
	case CauseNoTeam:
		return "a group without a team: it has no channels"
	case CauseNoConsent:
		return "the app lacks the permission or admin consent"
	}
	return string(c)
}

// DegradedReader is an item's content that, once read, may say it is not
// the whole item: Graph would not serve all of it, and what it served is
// stored. The backup keeps the item and reports it with the cause, as a
// warning (backup.ItemError.Kept).
type DegradedReader interface {
	io.Reader
	Degraded() (Cause, bool)
}

// Fault is a failure whose class and cause were read from Graph's answer.
// It wraps that answer.
type Fault struct {
	Class Class
	Cause Cause
	Err   error
}

func (f *Fault) Error() string { return f.Err.Error() }
func (f *Fault) Unwrap() error { return f.Err }

// faulted is implemented by errors that know their class.
type faulted interface{ Fault() (Class, Cause) }

// Fault reports the fault's class and cause.
func (f *Fault) Fault() (Class, Cause) { return f.Class, f.Cause }

// FaultOf returns the class and cause of err: the outermost classified
// error in its chain, or Unclassified.
func FaultOf(err error) (Class, Cause) {
	var f faulted
	if errors.As(err, &f) {
		return f.Fault()
	}
	if errors.Is(err, ErrAuth) {
		return RunFailed, CauseNoConsent
	}
	return Unclassified, ""
}
