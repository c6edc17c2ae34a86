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
	remaining := make([]int64, len(plans)+1) // items in plans[i:]
	for i := len(plans) - 1; i >= 0; i-- {
		remaining[i] = remaining[i+1] + plans[i].Container.ItemCount
	}
	return func(i, used int) int {
		free := MailboxRequestBudget - used
		if i == len(plans)-1 {
			return max(1, free) // the last one takes whatever is left
		}
		if remaining[i] == 0 {
			return 1 // sizes unknown: small, many in parallel
		}
		n := plans[i].Container.ItemCount
		c := int((int64(MailboxRequestBudget)*n + remaining[i] - 1) / remaining[i]) // ceil of its share
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
	sel := workflow.NewSelector(ctx)
	var firstErr error
	inFlight, used := 0, 0
	for i := 0; i < len(plan.Collections) && firstErr == nil; {
		c := share(i, used)
		if used+c > MailboxRequestBudget {
			sel.Select(ctx)
			inFlight--
			continue
		}
		idx := i
		f := workflow.ExecuteActivity(actx, ActivityBackupCollection, BackupCollectionInput{
			Repo: b.in.Repo, Graph: b.in.Graph, BackupID: b.in.BackupID, MailboxID: b.in.Mailbox.ID,
			Plan: plan.Collections[idx], FailFast: b.in.FailFast, Concurrency: c,
		})
		sel.AddFuture(f, func(f workflow.Future) {
			used -= c
			if err := f.Get(ctx, &results[idx]); err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			r := results[idx]
			b.progress.CollectionsDone++
			b.progress.Items += r.Items
			b.progress.Bytes += r.Bytes
			b.progress.Errors += int64(len(r.Errors))
		})
		used += c
		inFlight++
		i++
	}
	for ; inFlight > 0; inFlight-- {
		sel.Select(ctx)
	}
	if firstErr != nil {
		return backup.Summary{}, firstErr
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
