package activities

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"go.temporal.io/sdk/temporal"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/workflows"
)

// DriveSource is what drive backups read from: Microsoft Graph in
// production, the simulator in tests (through the same client).
type DriveSource interface {
	// ResolveDrives returns the drives to back up, and the users or sites
	// with none (a "*" selection's; cause accessDenied: the app may not
	// read them).
	ResolveDrives(ctx context.Context, service string, selectors []string) ([]m365.Drive, []backup.LeftOut, error)
	// DriveDeltaPageUnreadable returns a delta page and, by id, the files
	// of it Microsoft 365 will never serve (malware), with the cause.
	DriveDeltaPageUnreadable(ctx context.Context, driveID, link string) (m365.DrivePage, map[string]m365.Cause, error)
	// OpenFile streams a file's bytes and fails at the end if they do not
	// match size and quickXorHash (with cause sizeDrift when the download
	// was complete: the bytes are the file as served).
	// it.DownloadURL, when set, is tried first.
	OpenFile(ctx context.Context, driveID string, it m365.DriveItem) (io.ReadCloser, error)
	DrivePermissions(ctx context.Context, driveID, itemID string) ([]byte, error)
}

// Drives holds the activities of OneDrive and SharePoint backups and
// restores.
type Drives struct {
	*Tenants

	slotsOnce sync.Once
	slots     streamSlots
}

// largeFiles are the worker's slots for streaming large files.
func (d *Drives) largeFiles() streamSlots {
	d.slotsOnce.Do(func() { d.slots = newStreamSlots() })
	return d.slots
}

// ResolveDrives turns the --user or --site selectors into drives, and the
// users or sites left out with their causes.
func (d *Drives) ResolveDrives(ctx context.Context, in workflows.ResolveDrivesInput) ([]workflows.ResolvedDrive, error) {
	src, err := d.client(ctx, in.Graph)
	if err != nil {
		return nil, err
	}
	drives, none, err := src.ResolveDrives(ctx, in.Service, in.Selectors)
	if err != nil {
		return nil, graphError(err)
	}
	out := make([]workflows.ResolvedDrive, 0, len(drives)+len(none))
	for _, dr := range drives {
		out = append(out, workflows.ResolvedDrive{Drive: dr})
	}
	denied := 0
	for _, lo := range none {
		out = append(out, workflows.ResolvedDrive{Drive: m365.Drive{Service: in.Service, Owner: lo.ResourceID, OwnerName: lo.Resource}, LeftOut: &lo})
		if lo.Cause == string(m365.CauseAccessDenied) {
			denied++
		}
	}
	if len(drives) == 0 && denied == 0 {
		return nil, nothingToBackUp(in.Selectors, none)
	}
	return out, nil
}

// ResolveDriveList turns the --user or --site selectors into drives and
// stores them in the repository, one backup per owner, for the request to
// read a page at a time.
func (d *Drives) ResolveDriveList(ctx context.Context, in workflows.ResolveDrivesInput) (workflows.ResourceList, error) {
	resolved, err := d.ResolveDrives(ctx, in)
	if err != nil {
		return workflows.ResourceList{}, err
	}
	return d.Repos.storeResources(ctx, in.Repo, workflows.DriveResources(resolved))
}

// nothingToBackUp fails a resolution that found no drive at all, naming a
// few of the resources left out.
func nothingToBackUp(selectors []string, none []backup.LeftOut) error {
	if len(none) == 0 {
		return unknownResource(selectors)
	}
	var some []string
	for _, lo := range none[:min(len(none), 5)] {
		some = append(some, lo.Resource+" ("+lo.Reason+")")
	}
	if len(none) > 5 {
		some = append(some, fmt.Sprintf("and %d more", len(none)-5))
	}
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf("nothing matches %s: none has a drive to back up: %s",
		strings.Join(selectors, ", "), strings.Join(some, ", ")), workflows.ErrTypeUnknownMailbox, nil)
}

func unknownResource(selectors []string) error {
	return temporal.NewNonRetryableApplicationError("nothing matches "+strings.Join(selectors, ", "), workflows.ErrTypeUnknownMailbox, nil)
}
