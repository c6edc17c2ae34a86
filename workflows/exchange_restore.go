package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/corso-temporal/corso/m365"
)

// maxRestoreErrors bounds the item errors a restore result carries, to
// keep it far below Temporal's payload limit; the rest are counted.
const maxRestoreErrors = 1000

// ExchangeRestoreWorkflow restores the selected items of one Exchange
// backup into a mailbox: plan the collections and prepare their target
// containers, then restore each collection on whichever worker is free,
// sharing the mailbox's request budget like a backup does.
func ExchangeRestoreWorkflow(ctx workflow.Context, in ExchangeRestoreInput) (RestoreResult, error) {
	r := &exchangeRestore{in: in, progress: RestoreProgress{Stage: "planning"}}
	if err := workflow.SetQueryHandler(ctx, ProgressQuery, func() (RestoreProgress, error) { return r.progress, nil }); err != nil {
		return RestoreResult{}, err
	}
	return r.run(ctx)
}

type exchangeRestore struct {
	in       ExchangeRestoreInput
	progress RestoreProgress
}

func (r *exchangeRestore) run(ctx workflow.Context) (RestoreResult, error) {
	started := workflow.Now(ctx)
	var plan RestorePlan
	err := workflow.ExecuteActivity(shortActivityOptions(ctx), ActivityPlanRestore, PlanRestoreInput{
		Repo: r.in.Repo, Graph: r.in.Graph, BackupID: r.in.BackupID, Selector: r.in.Selector,
		Destination: r.in.Destination, ToResource: r.in.ToResource, Service: r.in.Service,
	}).Get(ctx, &plan)
	if err != nil {
		return RestoreResult{}, err
	}
	res := RestoreResult{BackupID: r.in.BackupID, Mailbox: plan.Target, Destination: r.in.Destination}
	r.progress.Stage = "restoring"
	r.progress.CollectionsTotal = len(plan.Collections)
	sizes := make([]int64, len(plan.Collections))
	for i, c := range plan.Collections {
		sizes[i] = c.Selected
		r.progress.Selected += c.Selected
	}
	results := make([]RestoreCollectionResult, len(plan.Collections))
	actx := collectionActivityOptions(ctx)
	err = fanOut(ctx, len(plan.Collections), MailboxRequestBudget, budgetShares(sizes),
		func(i, c int) workflow.Future {
			return workflow.ExecuteActivity(actx, ActivityRestoreCollection, RestoreCollectionInput{
				Repo: r.in.Repo, Graph: r.in.Graph, MailboxID: plan.Target.ID, Plan: plan.Collections[i],
				Selector: r.in.Selector, Collisions: r.in.Collisions, Started: started,
				FailFast: r.in.FailFast, Concurrency: c,
			})
		},
		func(i int, f workflow.Future) error {
			if err := f.Get(ctx, &results[i]); err != nil {
				return err
			}
			r.progress.CollectionsDone++
			r.progress.Done.add(results[i].RestoreCounts)
			return nil
		})
	if err != nil {
		return RestoreResult{}, err
	}
	byCat := map[m365.Category]*RestoreCounts{}
	for i, c := range plan.Collections {
		if byCat[c.Category] == nil {
			byCat[c.Category] = &RestoreCounts{}
		}
		byCat[c.Category].add(results[i].RestoreCounts)
		res.Total.add(results[i].RestoreCounts)
		for _, e := range results[i].Errors {
			if len(res.Errors) < maxRestoreErrors {
				res.Errors = append(res.Errors, e)
			} else {
				res.ErrorsOmitted++
			}
		}
	}
	for _, cat := range m365.Categories {
		if c := byCat[cat]; c != nil {
			res.Categories = append(res.Categories, CategoryCounts{Category: cat, RestoreCounts: *c})
		}
	}
	r.progress.Stage = "done"
	return res, nil
}
