package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/m365"
)

// moreMailboxesInFlightChange raised the bound on mailboxes in flight from
// 8 to DefaultResourcesInFlight; runs started before keep 8 on replay.
const moreMailboxesInFlightChange = "more-mailboxes-in-flight"

// ExchangeBackupWorkflow backs up each selected mailbox in its own child
// workflow (backUpEach), so each mailbox gets its own history, its own
// backup and its own failure: one mailbox failing does not fail the others.
//
// The mailboxes are resolved once into a list stored in the repository;
// each run backs up one page of them and continues as new with the totals
// so far, so that no history or payload grows with the tenant.
func ExchangeBackupWorkflow(ctx workflow.Context, in ExchangeBackupInput) (ExchangeBackupResult, error) {
	if in.Pages == nil && workflow.GetVersion(ctx, backupPagesChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return exchangeBackupInOneRun(ctx, in)
	}
	categories := requestCategories(in.Categories)
	p := newPagedBackup(backupRequest{service: "exchange", repo: in.Repo, graph: in.Graph}, in.Retention, in.ResourcesPerRun, in.ResourcesInFlight, in.Pages)
	more, err := p.run(ctx,
		func(ctx workflow.Context) (ResourceList, error) {
			var list ResourceList
			repo := in.Repo
			err := workflow.ExecuteActivity(ctx, ActivityResolveMailboxList,
				ResolveMailboxesInput{Graph: in.Graph, Selectors: in.Mailboxes, Repo: &repo}).Get(ctx, &list)
			return list, err
		},
		func(r ResolvedResource) resourceBackup { return in.mailboxBackup(*r.Mailbox, categories) })
	if err == nil && more {
		next := in
		next.Pages = &p.state
		return ExchangeBackupResult{}, workflow.NewContinueAsNewError(ctx, ExchangeBackupWorkflow, next)
	}
	var res ExchangeBackupResult
	res.Backups, res.LeftOut, res.Retention, res.Totals = p.result()
	return res, err
}

// mailboxBackup is the backup of one mailbox.
func (in ExchangeBackupInput) mailboxBackup(mb m365.Mailbox, categories []string) resourceBackup {
	return resourceBackup{label: mb.UPN, resource: mb.UPN, name: mb.DisplayName,
		child: func(ctx workflow.Context, backupID string) workflow.ChildWorkflowFuture {
			return workflow.ExecuteChildWorkflow(ctx, MailboxBackupWorkflow, MailboxBackupInput{
				Repo: in.Repo, Graph: in.Graph, BackupID: backupID, Mailbox: mb,
				Categories: categories, FailFast: in.FailFast,
				RequestStarted: workflow.GetInfo(ctx).WorkflowStartTime,
			})
		}}
}

// requestCategories are the categories a request names, all by default.
func requestCategories(named []string) []string {
	if len(named) > 0 {
		return named
	}
	var all []string
	for _, c := range m365.Categories {
		all = append(all, string(c))
	}
	return all
}

// exchangeBackupInOneRun is the request as runs started before
// backupPagesChange make it: every mailbox in one run, one summary each.
func exchangeBackupInOneRun(ctx workflow.Context, in ExchangeBackupInput) (ExchangeBackupResult, error) {
	var resolved []m365.Mailbox
	err := workflow.ExecuteActivity(shortActivityOptions(ctx), ActivityResolveMailboxes,
		ResolveMailboxesInput{Graph: in.Graph, Selectors: in.Mailboxes}).Get(ctx, &resolved)
	if err != nil {
		return ExchangeBackupResult{}, err
	}
	mailboxes, leftOut := availableMailboxes(resolved)
	categories := requestCategories(in.Categories)

	maxInFlight := DefaultResourcesInFlight
	if workflow.GetVersion(ctx, moreMailboxesInFlightChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		maxInFlight = 8
	}
	rs := make([]resourceBackup, len(mailboxes))
	for i, mb := range mailboxes {
		rs[i] = in.mailboxBackup(mb, categories)
	}
	backups, err := backUpEach(ctx, backupRequest{service: "exchange", repo: in.Repo, graph: in.Graph}, maxInFlight, rs)
	res := ExchangeBackupResult{Backups: backups, LeftOut: leftOut}
	if err != nil {
		return res, err
	}
	res.Retention, err = retainAfterBackup(ctx, "exchange", in.Repo, in.Retention, backups)
	return res, err
}

// availableMailboxes splits a resolution into the mailboxes to back up and
// the users left out, with their causes.
func availableMailboxes(resolved []m365.Mailbox) ([]m365.Mailbox, []backup.LeftOut) {
	var mailboxes []m365.Mailbox
	var leftOut []backup.LeftOut
	for _, m := range resolved {
		if m.Unavailable == "" {
			mailboxes = append(mailboxes, m)
			continue
		}
		leftOut = append(leftOut, backup.LeftOut{Resource: m.UPN, ResourceID: m.ID, ResourceName: m.DisplayName,
			Cause: string(m.Unavailable), Reason: m.Unavailable.Describe()})
	}
	return mailboxes, leftOut
}
