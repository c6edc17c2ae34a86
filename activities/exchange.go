package activities

import (
	"context"
	"strings"

	"go.temporal.io/sdk/temporal"

	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/workflows"
)

// ResolveMailboxes turns the --mailbox selectors into mailboxes.
func (a *Containers) ResolveMailboxes(ctx context.Context, in workflows.ResolveMailboxesInput) ([]m365.Mailbox, error) {
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
func (a *Containers) ResolveMailboxList(ctx context.Context, in workflows.ResolveMailboxesInput) (workflows.ResourceList, error) {
	mbs, err := a.ResolveMailboxes(ctx, in)
	if err != nil {
		return workflows.ResourceList{}, err
	}
	return a.Repos.storeResources(ctx, in.Repo, workflows.MailboxResources(mbs))
}
