package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/corso-temporal/corso/backup"
)

// A mailbox's containers are backed up MaxCollectionsInFlight at a time,
// each downloading CollectionConcurrency items at once: together at most
// four requests in flight for the mailbox across the whole fleet, which is
// Exchange's limit per mailbox.
const (
	MaxCollectionsInFlight = 2
	CollectionConcurrency  = 2
)

// concurrentDownloadsChange marks the switch from four sequential
// collections to two collections downloading two items each; runs started
// before it keep their old shape on replay.
const concurrentDownloadsChange = "concurrent-downloads"

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

	inFlightLimit, concurrency := MaxCollectionsInFlight, CollectionConcurrency
	if workflow.GetVersion(ctx, concurrentDownloadsChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		inFlightLimit, concurrency = 4, 1
	}

	b.progress.Stage = "backing up"
	b.progress.CollectionsTotal = len(plan.Collections)
	results := make([]CollectionResult, len(plan.Collections))
	actx := collectionActivityOptions(ctx)
	sel := workflow.NewSelector(ctx)
	var firstErr error
	inFlight := 0
	for i, p := range plan.Collections {
		if firstErr != nil {
			break
		}
		f := workflow.ExecuteActivity(actx, ActivityBackupCollection, BackupCollectionInput{
			Repo: b.in.Repo, Graph: b.in.Graph, BackupID: b.in.BackupID, MailboxID: b.in.Mailbox.ID,
			Plan: p, FailFast: b.in.FailFast, Concurrency: concurrency,
		})
		sel.AddFuture(f, func(f workflow.Future) {
			if err := f.Get(ctx, &results[i]); err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			r := results[i]
			b.progress.CollectionsDone++
			b.progress.Items += r.Items
			b.progress.Bytes += r.Bytes
			b.progress.Errors += int64(len(r.Errors))
		})
		inFlight++
		if inFlight == inFlightLimit {
			sel.Select(ctx)
			inFlight--
		}
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
