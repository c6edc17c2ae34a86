package workflows

import (
	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/m365"
)

// A backup request's resources (mailboxes, users' OneDrives, sites) are
// resolved once and stored in the repository as one object; the request
// reads them a page at a time, so neither its results nor its histories
// grow with the tenant.
const (
	ActivityResolveMailboxList = "ResolveMailboxList"
	ActivityResolveDriveList   = "ResolveDriveList"
	ActivityReadResourcePage   = "ReadResourcePage"
)

// ResolvedResource is one backup a request makes: a mailbox, one user's
// or site's drives, or (Denied) a user or site whose drives the app may
// not read, whose backup fails without a child workflow.
type ResolvedResource struct {
	Mailbox *m365.Mailbox   `json:"mailbox,omitempty"`
	Drives  []m365.Drive    `json:"drives,omitempty"` // all of one owner
	Denied  *backup.LeftOut `json:"denied,omitempty"`
}

// StoredResources is the repository object a resolution is stored as: the
// backups to make, in the order Graph listed them with the denied ones
// last, and the users or sites a "*" selection left out.
type StoredResources struct {
	Resources []ResolvedResource `json:"resources"`
	LeftOut   []backup.LeftOut   `json:"leftOut,omitempty"`
}

// ResourceList names a stored resolution: what a request carries from one
// run to the next instead of the resources themselves.
type ResourceList struct {
	ID        string `json:"id"`
	Resources int    `json:"resources"`
	// LeftOut are the first MaxSummaries users or sites left out;
	// LeftOutCount counts them all.
	LeftOut      []backup.LeftOut `json:"leftOut,omitempty"`
	LeftOutCount int              `json:"leftOutCount,omitempty"`
}

// Listed names the stored resolution s under the repository object id.
func (s StoredResources) Listed(id string) ResourceList {
	return ResourceList{ID: id, Resources: len(s.Resources), LeftOut: s.LeftOut[:min(len(s.LeftOut), MaxSummaries)], LeftOutCount: len(s.LeftOut)}
}

// ResourcePageInput reads Limit resources of a stored resolution from
// Offset on.
type ResourcePageInput struct {
	Repo   RepoRef `json:"repo"`
	ListID string  `json:"listID"`
	Offset int     `json:"offset"`
	Limit  int     `json:"limit"`
}

// MailboxResources is a mailbox resolution as stored: one backup per
// available mailbox, the others left out.
func MailboxResources(resolved []m365.Mailbox) StoredResources {
	mailboxes, leftOut := availableMailboxes(resolved)
	s := StoredResources{Resources: make([]ResolvedResource, len(mailboxes)), LeftOut: leftOut}
	for i := range mailboxes {
		s.Resources[i] = ResolvedResource{Mailbox: &mailboxes[i]}
	}
	return s
}

// DriveResources is a drive resolution as stored: one backup per owner of
// drives, then one failed backup per owner the app is denied.
func DriveResources(resolved []ResolvedDrive) StoredResources {
	drives, leftOut, denied := availableDrives(resolved)
	owners := drivesByOwner(drives)
	s := StoredResources{Resources: make([]ResolvedResource, 0, len(owners)+len(denied)), LeftOut: leftOut}
	for _, ds := range owners {
		s.Resources = append(s.Resources, ResolvedResource{Drives: ds})
	}
	for i := range denied {
		s.Resources = append(s.Resources, ResolvedResource{Denied: &denied[i]})
	}
	return s
}

// drivesByOwner groups drives by owner, owners in the order Graph listed
// them: one backup per owner.
func drivesByOwner(drives []m365.Drive) [][]m365.Drive {
	var owners [][]m365.Drive
	at := map[string]int{}
	for _, d := range drives {
		i, ok := at[d.Owner]
		if !ok {
			i = len(owners)
			at[d.Owner] = i
			owners = append(owners, nil)
		}
		owners[i] = append(owners[i], d)
	}
	return owners
}
