package activities

import (
	"context"
	"encoding/json"
	"io"
	"strings"

	"go.temporal.io/sdk/temporal"

	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/workflows"
)

// MailboxSource is what backups of resources made of containers of items
// read from (mailboxes; teams and their channels): Microsoft Graph in
// production, the simulator in tests (through the same client).
type MailboxSource interface {
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

// Exchange holds the activities of Exchange backups and restores.
type Exchange struct {
	*Tenants
}

// ResolveMailboxes turns the --mailbox selectors into mailboxes.
func (a *Exchange) ResolveMailboxes(ctx context.Context, in workflows.ResolveMailboxesInput) ([]m365.Mailbox, error) {
	src, err := a.client(ctx, in.Graph)
	if err != nil {
		return nil, err
	}
	mbs, err := src.ResolveMailboxes(ctx, in.Selectors)
	if err != nil {
		return nil, graphError(err)
	}
	for _, m := range mbs {
		if m.Unavailable == "" {
			return mbs, nil
		}
	}
	return nil, temporal.NewNonRetryableApplicationError("no mailbox matches "+strings.Join(in.Selectors, ", "), workflows.ErrTypeUnknownMailbox, nil)
}

// ResolveMailboxList turns the --mailbox selectors into mailboxes and
// stores them in the repository, for the request to read a page at a
// time.
func (a *Exchange) ResolveMailboxList(ctx context.Context, in workflows.ResolveMailboxesInput) (workflows.ResourceList, error) {
	mbs, err := a.ResolveMailboxes(ctx, in)
	if err != nil {
		return workflows.ResourceList{}, err
	}
	return a.Repos.storeResources(ctx, in.Repo, workflows.MailboxResources(mbs))
}
