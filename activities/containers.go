package activities

import (
	"context"
	"encoding/json"
	"io"

	"github.com/corso-temporal/corso/m365"
)

// ContainerSource is what backups of resources made of containers of items
// read from (mailboxes; teams and group mailboxes; sites' lists): Microsoft
// Graph in production, the simulator in tests (through the same client).
type ContainerSource interface {
	ResolveMailboxes(ctx context.Context, selectors []string) ([]m365.Mailbox, error)
	Containers(ctx context.Context, mailboxID string, cat m365.Category) ([]m365.Container, error)
	DeltaPage(ctx context.Context, mailboxID string, cat m365.Category, containerID, link string) (m365.Page, error)
	// ListPage lists a container that cannot be enumerated by delta
	// (m365.DeltaUnavailable); its last page has no NextLink.
	ListPage(ctx context.Context, mailboxID string, cat m365.Category, containerID, link string) (m365.Page, error)
	// FetchItemIn reads what a backup stores of an item of a container.
	FetchItemIn(ctx context.Context, resourceID string, cat m365.Category, containerID, itemID string) (io.ReadCloser, error)
	// ListSchema reads a list's schema (its columns): what a backup
	// stores of a container of m365.ListItems beside its items.
	ListSchema(ctx context.Context, siteID, listID string) (json.RawMessage, error)
}

// Containers holds the activities of the services backed up container by
// container on one skeleton: Exchange mailboxes, Groups (channels and
// conversations) and SharePoint lists. Each resource's containers are
// planned, backed up (delta or listing, checkpoints, the request budget),
// combined into one backup, and restored or exported by category.
type Containers struct {
	*Tenants
}
