package activities

import (
	"context"
	"slices"
	"strings"

	"go.temporal.io/sdk/temporal"

	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/workflows"
)

// ContainerResourceSource is what backups of container services other
// than Exchange read beyond the containers and items they share with
// mailboxes: which resources the selectors name.
type ContainerResourceSource interface {
	// ResolveGroups resolves group selectors into groups; with teamsOnly
	// into teams.
	ResolveGroups(ctx context.Context, selectors []string, teamsOnly bool) ([]m365.Mailbox, error)
	// ResolveSites resolves site selectors into sites.
	ResolveSites(ctx context.Context, selectors []string) ([]m365.Mailbox, error)
}

// ResolveContainerResources turns a container service's selectors into
// its resources and stores them in the repository, for the request to
// read a page at a time: teams for Groups, sites for SharePoint lists.
// Resources a "*" finds nothing to back up in are stored as left out.
func (a *Containers) ResolveContainerResources(ctx context.Context, in workflows.ResolveResourcesInput) (workflows.ResourceList, error) {
	src, err := a.client(ctx, in.Graph)
	if err != nil {
		return workflows.ResourceList{}, err
	}
	var (
		resolve func(context.Context, []string) ([]m365.Mailbox, error)
		noun    string
	)
	switch in.Service {
	case m365.Groups:
		// A group without a team has a mailbox: only a backup of channel
		// messages alone needs a team.
		teamsOnly := len(in.Categories) > 0 && !slices.ContainsFunc(in.Categories, func(c string) bool { return c != string(m365.ChannelMessages) })
		resolve, noun = func(ctx context.Context, sels []string) ([]m365.Mailbox, error) {
			return src.ResolveGroups(ctx, sels, teamsOnly)
		}, "group"
		if teamsOnly {
			noun = "team"
		}
	case m365.SharePointLists:
		resolve, noun = src.ResolveSites, "site"
	default:
		return workflows.ResourceList{}, invalidInput("no container service " + in.Service + " (want " + m365.Groups + " or " + m365.SharePointLists + ")")
	}
	resources, err := resolve(ctx, in.Selectors)
	if err != nil {
		return workflows.ResourceList{}, graphError(err)
	}
	available := 0
	for _, r := range resources {
		if r.Unavailable == "" {
			available++
		}
	}
	if available == 0 {
		return workflows.ResourceList{}, temporal.NewNonRetryableApplicationError("no "+noun+" matches "+strings.Join(in.Selectors, ", "), workflows.ErrTypeUnknownMailbox, nil)
	}
	return a.Repos.storeResources(ctx, in.Repo, workflows.MailboxResources(resources))
}
