package activities

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"

	"go.temporal.io/sdk/temporal"

	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/workflows"
)

// DriveSource is what drive backups read from: Microsoft Graph in
// production, the simulator in tests (through the same client).
type DriveSource interface {
	ResolveDrives(ctx context.Context, service string, selectors []string) ([]m365.Drive, error)
	DriveDeltaPage(ctx context.Context, driveID, link string) (m365.DrivePage, error)
	// OpenFile streams a file's bytes and fails at the end if they do not
	// match size and quickXorHash.
	// it.DownloadURL, when set, is tried first.
	OpenFile(ctx context.Context, driveID string, it m365.DriveItem) (io.ReadCloser, error)
	DrivePermissions(ctx context.Context, driveID, itemID string) ([]byte, error)
}

// Drives holds the activities of OneDrive and SharePoint backups. They use
// the same repositories and Graph clients as Exchange's.
type Drives struct {
	*Exchange

	slotsOnce sync.Once
	slots     streamSlots
}

// largeFiles are the worker's slots for streaming large files.
func (d *Drives) largeFiles() streamSlots {
	d.slotsOnce.Do(func() { d.slots = newStreamSlots() })
	return d.slots
}

func (d *Drives) driveSource(g workflows.GraphRef) (DriveSource, error) {
	src, err := d.source(g)
	if err != nil {
		return nil, err
	}
	ds, ok := src.(DriveSource)
	if !ok {
		return nil, errors.New("this worker's Graph client cannot read drives")
	}
	return ds, nil
}

// ResolveDrives turns the --user or --site selectors into drives.
func (d *Drives) ResolveDrives(ctx context.Context, in workflows.ResolveDrivesInput) ([]m365.Drive, error) {
	src, err := d.driveSource(in.Graph)
	if err != nil {
		return nil, err
	}
	drives, err := src.ResolveDrives(ctx, in.Service, in.Selectors)
	if err != nil {
		return nil, graphError(err)
	}
	if len(drives) == 0 {
		return nil, unknownResource(in.Selectors)
	}
	return drives, nil
}

func unknownResource(selectors []string) error {
	return temporal.NewNonRetryableApplicationError("nothing matches "+strings.Join(selectors, ", "), workflows.ErrTypeUnknownMailbox, nil)
}
