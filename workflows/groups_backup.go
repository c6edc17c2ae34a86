package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/m365"
)

// ActivityResolveGroupList resolves --group selectors into the list of
// teams a Groups request backs up, stored in the repository.
const ActivityResolveGroupList = "ResolveGroupList"

// GroupsBackupInput asks for a backup of each selected group's team: its
// channels' messages, each top-level message stored with its replies.
type GroupsBackupInput struct {
	Repo       RepoRef  `json:"repo"`
	Graph      GraphRef `json:"graph"`
	Groups     []string `json:"groups"` // ids, names, addresses or "*"
	Categories []string `json:"categories,omitempty"`
	FailFast   bool     `json:"failFast,omitempty"`
	// Retention, when set, is applied to each backed-up group's backups.
	Retention       *backup.Retention `json:"retention,omitempty"`
	ResourcesPerRun int               `json:"resourcesPerRun,omitempty"`
	Pages           *BackupPages      `json:"pages,omitempty"`
}

// GroupsBackupWorkflow backs up each selected team in a child workflow of
// its own, one backup per team; one failing does not fail the others.
// A team is backed up as a mailbox is, on the same skeleton: its channels
// are the containers, each enumerated by delta from where the previous
// backup left it, and each top-level message with its replies is an item.
// Groups without a team are reported as left out.
//
// As for mailboxes, the groups are resolved once into a list stored in the
// repository, and each run backs up a page of them and continues as new.
func GroupsBackupWorkflow(ctx workflow.Context, in GroupsBackupInput) (ExchangeBackupResult, error) {
	categories := in.Categories
	if len(categories) == 0 {
		for _, c := range m365.GroupCategories {
			categories = append(categories, string(c))
		}
	}
	p := newPagedBackup(backupRequest{service: m365.Groups, repo: in.Repo, graph: in.Graph}, in.Retention, in.ResourcesPerRun, in.Pages)
	more, err := p.run(ctx,
		func(ctx workflow.Context) (ResourceList, error) {
			var list ResourceList
			repo := in.Repo
			err := workflow.ExecuteActivity(ctx, ActivityResolveGroupList,
				ResolveMailboxesInput{Graph: in.Graph, Selectors: in.Groups, Repo: &repo}).Get(ctx, &list)
			return list, err
		},
		func(r ResolvedResource) resourceBackup {
			team := *r.Mailbox
			return resourceBackup{label: team.DisplayName, resource: team.ID, name: team.UPN,
				child: func(ctx workflow.Context, backupID string) workflow.ChildWorkflowFuture {
					return workflow.ExecuteChildWorkflow(ctx, MailboxBackupWorkflow, MailboxBackupInput{
						Repo: in.Repo, Graph: in.Graph, BackupID: backupID, Mailbox: team,
						Categories: categories, FailFast: in.FailFast, Service: m365.Groups,
					})
				}}
		})
	if err == nil && more {
		next := in
		next.Pages = &p.state
		return ExchangeBackupResult{}, workflow.NewContinueAsNewError(ctx, GroupsBackupWorkflow, next)
	}
	var res ExchangeBackupResult
	res.Backups, res.LeftOut, res.Retention, res.Totals = p.result()
	return res, err
}
