package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/m365"
)

// ActivityResolveContainerResources resolves a container service's
// selectors into the resources its request backs up, stored in the
// repository.
const ActivityResolveContainerResources = "ResolveContainerResources"

// ContainersBackupInput asks for a backup of each selected resource of a
// service backed up container by container, other than Exchange: Groups'
// teams (channels and their threads) or SharePoint sites' lists
// (m365.SharePointLists).
type ContainersBackupInput struct {
	Repo    RepoRef  `json:"repo"`
	Graph   GraphRef `json:"graph"`
	Service string   `json:"service"`
	// Resources are the service's selectors: group ids, names, addresses
	// or "*"; site URLs, ids, "group:KEY" or "*".
	Resources  []string `json:"resources"`
	Categories []string `json:"categories,omitempty"`
	FailFast   bool     `json:"failFast,omitempty"`
	// Retention, when set, is applied to each backed-up resource's backups.
	Retention       *backup.Retention `json:"retention,omitempty"`
	ResourcesPerRun int               `json:"resourcesPerRun,omitempty"`
	// ResourcesInFlight is how many resources are backed up at once
	// (resourcesInFlight).
	ResourcesInFlight int          `json:"resourcesInFlight,omitempty"`
	Pages             *BackupPages `json:"pages,omitempty"`
}

// ResolveResourcesInput asks which resources of a service the selectors
// name, stored in Repo.
type ResolveResourcesInput struct {
	Graph     GraphRef `json:"graph"`
	Service   string   `json:"service"`
	Selectors []string `json:"selectors"`
	// Categories are what the request backs up of each resource: a
	// group without a team has conversations but no channel messages.
	Categories []string `json:"categories,omitempty"`
	Repo       *RepoRef `json:"repo,omitempty"`
}

// ContainersBackupWorkflow backs up each selected resource in a child
// workflow of its own, one backup per resource; one failing does not fail
// the others. Each resource is backed up as a mailbox is, on the same
// skeleton (MailboxBackupWorkflow with the service): its containers (a
// team's channels, a site's lists) are each enumerated by delta from
// where the previous backup left them. Resources a "*" finds nothing to
// back up in are reported as left out.
//
// As for mailboxes, the resources are resolved once into a list stored in
// the repository, and each run backs up a page of them and continues as
// new.
func ContainersBackupWorkflow(ctx workflow.Context, in ContainersBackupInput) (ExchangeBackupResult, error) {
	categories := in.Categories
	if len(categories) == 0 {
		for _, c := range m365.ServiceCategories(in.Service) {
			categories = append(categories, string(c))
		}
	}
	p := newPagedBackup(backupRequest{service: in.Service, repo: in.Repo, graph: in.Graph}, in.Retention, in.ResourcesPerRun, in.ResourcesInFlight, in.Pages)
	more, err := p.run(ctx,
		func(ctx workflow.Context) (ResourceList, error) {
			var list ResourceList
			repo := in.Repo
			err := workflow.ExecuteActivity(ctx, ActivityResolveContainerResources,
				ResolveResourcesInput{Graph: in.Graph, Service: in.Service, Selectors: in.Resources, Categories: categories, Repo: &repo}).Get(ctx, &list)
			return list, err
		},
		func(r ResolvedResource) resourceBackup {
			res := *r.Mailbox
			return resourceBackup{label: res.DisplayName, resource: res.ID, name: res.UPN,
				child: func(ctx workflow.Context, backupID string) workflow.ChildWorkflowFuture {
					return workflow.ExecuteChildWorkflow(ctx, MailboxBackupWorkflow, MailboxBackupInput{
						Repo: in.Repo, Graph: in.Graph, BackupID: backupID, Mailbox: res,
						Categories: categories, FailFast: in.FailFast,
						RequestStarted: workflow.GetInfo(ctx).WorkflowStartTime, Service: in.Service,
					})
				}}
		})
	if err == nil && more {
		next := in
		next.Pages = &p.state
		return ExchangeBackupResult{}, workflow.NewContinueAsNewError(ctx, ContainersBackupWorkflow, next)
	}
	var res ExchangeBackupResult
	res.Backups, res.LeftOut, res.Retention, res.Totals = p.result()
	return res, err
}
