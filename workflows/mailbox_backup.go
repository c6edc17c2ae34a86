package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/corso-temporal/corso/backup"
)

// MailboxRequestBudget is Exchange's limit of concurrent requests per
// mailbox. The collections of a mailbox in flight share it across the
// whole fleet: each is given a number of concurrent downloads, and their
// sum never exceeds the budget.
const MailboxRequestBudget = 4

// Changes of the collection schedule; runs started before a change keep
// their old schedule on replay.
const (
	// Four collections, one download each, became two collections with
	// two downloads each.
	concurrentDownloadsChange = "concurrent-downloads"
	// Downloads are shared out by collection size, biggest first.
	weightedDownloadsChange = "weighted-downloads"
)

// downloadShares returns how many concurrent downloads the i-th collection
// gets when `used` of the budget is taken by collections in flight.
func (b *mailboxBackup) downloadShares(ctx workflow.Context, plans []CollectionPlan) func(i, used int) int {
	if workflow.GetVersion(ctx, concurrentDownloadsChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return func(int, int) int { return 1 }
	}
	if workflow.GetVersion(ctx, weightedDownloadsChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return func(int, int) int { return 2 }
	}
	sizes := make([]int64, len(plans))
	for i, p := range plans {
		sizes[i] = p.Container.ItemCount
	}
	return budgetShares(sizes)
}

// budgetShares shares MailboxRequestBudget among units of work of the
// given sizes, started in order, biggest first: the i-th gets its part of
// the budget by its share of the work left, at least one request, and the
// last takes whatever is free when `used` is already taken.
func budgetShares(sizes []int64) func(i, used int) int {
	remaining := make([]int64, len(sizes)+1) // work in sizes[i:]
	for i := len(sizes) - 1; i >= 0; i-- {
		remaining[i] = remaining[i+1] + sizes[i]
	}
	return func(i, used int) int {
		free := MailboxRequestBudget - used
		if i == len(sizes)-1 {
			return max(1, free)
		}
		if remaining[i] == 0 {
			return 1 // sizes unknown: small, many in parallel
		}
		c := int((int64(MailboxRequestBudget)*sizes[i] + remaining[i] - 1) / remaining[i]) // ceil of its share
		return min(max(1, c), MailboxRequestBudget)
	}
}

// MailboxBackupWorkflow backs up one mailbox: plan its collections, back
// each up on whichever worker is free, then combine them into one backup.
func MailboxBackupWorkflow(ctx workflow.Context, in MailboxBackupInput) (backup.Summary, error) {
	b := &mailboxBackup{in: in, progress: BackupProgress{BackupID: in.BackupID, Mailbox: in.Mailbox.UPN, Stage: "planning"}}
	if err := workflow.SetQueryHandler(ctx, ProgressQuery, func() (BackupProgress, error) { return b.progress, nil }); err != nil {
		return backup.Summary{}, err
	}
	return b.run(ctx)
}

type mailboxBackup struct {
	in       MailboxBackupInput
	progress BackupProgress
}

func (b *mailboxBackup) run(ctx workflow.Context) (backup.Summary, error) {
	started := workflow.Now(ctx)
	var plan MailboxPlan
	err := workflow.ExecuteActivity(shortActivityOptions(ctx), ActivityPlanMailbox, PlanMailboxInput{
		Repo: b.in.Repo, Graph: b.in.Graph, Mailbox: b.in.Mailbox, Categories: b.in.Categories,
	}).Get(ctx, &plan)
	if err != nil {
		return backup.Summary{}, err
	}

	share := b.downloadShares(ctx, plan.Collections)

	b.progress.Stage = "backing up"
	b.progress.CollectionsTotal = len(plan.Collections)
	results := make([]CollectionResult, len(plan.Collections))
	actx := collectionActivityOptions(ctx)
	err = fanOut(ctx, len(plan.Collections), MailboxRequestBudget, share,
		func(i, c int) workflow.Future {
			return workflow.ExecuteActivity(actx, ActivityBackupCollection, BackupCollectionInput{
				Repo: b.in.Repo, Graph: b.in.Graph, BackupID: b.in.BackupID, MailboxID: b.in.Mailbox.ID,
				Plan: plan.Collections[i], FailFast: b.in.FailFast, Concurrency: c,
			})
		},
		func(i int, f workflow.Future) error {
			if err := f.Get(ctx, &results[i]); err != nil {
				return err
			}
			r := results[i]
			b.progress.CollectionsDone++
			b.progress.Items += r.Items
			b.progress.Bytes += r.Bytes
			b.progress.Errors += int64(len(r.Errors))
			return nil
		})
	if err != nil {
		return backup.Summary{}, err
	}

	b.progress.Stage = "combining"
	var summary backup.Summary
	err = workflow.ExecuteActivity(shortActivityOptions(ctx), ActivityCombineBackup, CombineInput{
		Repo: b.in.Repo, BackupID: b.in.BackupID, TenantID: b.in.Graph.TenantID, Mailbox: b.in.Mailbox,
		Started: started, Collections: results, Workflow: workflow.GetInfo(ctx).WorkflowExecution.ID,
	}).Get(ctx, &summary)
	if err != nil {
		return backup.Summary{}, err
	}
	b.progress.Stage = "done"
	return summary, nil
}
