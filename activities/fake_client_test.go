package activities

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"time"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/m365"
)

// errNotFaked is what a fake answers for what its test does not exercise.
var errNotFaked = errors.New("not faked")

// unfaked is a Client that answers every call with errNotFaked; fakes
// embed it and fake only what their tests use.
type unfaked struct{}

var _ Client = unfaked{}

func (unfaked) ResolveMailboxes(context.Context, []string) ([]m365.Mailbox, error) {
	return nil, errNotFaked
}

func (unfaked) ResolveGroups(context.Context, []string, bool) ([]m365.Mailbox, error) {
	return nil, errNotFaked
}

func (unfaked) ResolveSites(context.Context, []string) ([]m365.Mailbox, error) {
	return nil, errNotFaked
}

func (unfaked) ListSchema(context.Context, string, string) (json.RawMessage, error) {
	return nil, errNotFaked
}

func (unfaked) Containers(context.Context, string, m365.Category) ([]m365.Container, error) {
	return nil, errNotFaked
}

func (unfaked) DeltaPage(context.Context, string, m365.Category, string, string) (m365.Page, error) {
	return m365.Page{}, errNotFaked
}

func (unfaked) ListPage(context.Context, string, m365.Category, string, string) (m365.Page, error) {
	return m365.Page{}, errNotFaked
}

func (unfaked) FetchItemIn(context.Context, string, m365.Category, string, string) (io.ReadCloser, error) {
	return nil, errNotFaked
}

func (unfaked) EnsureContainer(context.Context, string, m365.Category, []string) (string, error) {
	return "", errNotFaked
}

func (unfaked) ExistingItems(context.Context, string, m365.Category, string) ([]m365.ExistingItem, error) {
	return nil, errNotFaked
}

func (unfaked) RestoreItem(context.Context, string, m365.Category, string, []byte, m365.MessageState) (string, error) {
	return "", errNotFaked
}

func (unfaked) EnsureSchemaContainer(context.Context, string, m365.Category, []string, json.RawMessage) (string, error) {
	return "", errNotFaked
}

func (unfaked) DeleteItem(context.Context, string, m365.Category, string) error { return errNotFaked }

func (unfaked) ResolveDrives(context.Context, string, []string) ([]m365.Drive, []backup.LeftOut, error) {
	return nil, nil, errNotFaked
}

func (unfaked) DriveDeltaPageUnreadable(context.Context, string, string) (m365.DrivePage, map[string]m365.Cause, error) {
	return m365.DrivePage{}, nil, errNotFaked
}

func (unfaked) OpenFile(context.Context, string, m365.DriveItem) (io.ReadCloser, error) {
	return nil, errNotFaked
}

func (unfaked) DrivePermissions(context.Context, string, string) ([]byte, error) {
	return nil, errNotFaked
}

func (unfaked) EnsureDriveFolder(context.Context, string, []string) (string, error) {
	return "", errNotFaked
}

func (unfaked) DriveChildren(context.Context, string, string) ([]m365.DriveItem, error) {
	return nil, errNotFaked
}

func (unfaked) UploadFile(context.Context, string, string, string, int64, time.Time, io.Reader, string) (m365.DriveItem, error) {
	return m365.DriveItem{}, errNotFaked
}

func (unfaked) RestorePermissions(context.Context, string, string, []byte) error { return errNotFaked }

func (unfaked) DeleteDriveItem(context.Context, string, string) error { return errNotFaked }
