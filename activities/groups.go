package activities

import (
	"context"
	"strings"

	"go.temporal.io/sdk/temporal"

	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/workflows"
)

// GroupSource is what Groups backups read beyond the containers and items
// they share with mailboxes: which groups the selectors name.
type GroupSource interface {
	ResolveGroups(ctx context.Context, selectors []string) ([]m365.Mailbox, error)
}

// ResolveGroupList turns the --group selectors into teams and stores them
// in the repository, for the request to read a page at a time. Groups
// without a team that "*" lists are stored as left out.
func (a *Exchange) ResolveGroupList(ctx context.Context, in workflows.ResolveMailboxesInput) (workflows.ResourceList, error) {
	src, err := a.client(ctx, in.Graph)
	if err != nil {
		return workflows.ResourceList{}, err
	}
	groups, err := src.ResolveGroups(ctx, in.Selectors)
	if err != nil {
		return workflows.ResourceList{}, graphError(err)
	}
	teams := 0
	for _, g := range groups {
		if g.Unavailable == "" {
			teams++
		}
	}
	if teams == 0 {
		return workflows.ResourceList{}, temporal.NewNonRetryableApplicationError("no team matches "+strings.Join(in.Selectors, ", "), workflows.ErrTypeUnknownMailbox, nil)
	}
	return a.Repos.storeResources(ctx, in.Repo, workflows.MailboxResources(groups))
}
