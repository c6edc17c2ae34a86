package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/corso-temporal/corso/m365"
)

// DriveRestoreWorkflow restores the selected files of a OneDrive or
// SharePoint backup: one activity prepares every target folder, then
// batches of folders are restored on whichever workers are free.
func DriveRestoreWorkflow(ctx workflow.Context, in DriveRestoreInput) (RestoreResult, error) {
	progress := RestoreProgress{Stage: "planning"}
	if err := workflow.SetQueryHandler(ctx, ProgressQuery, func() (RestoreProgress, error) { return progress, nil }); err != nil {
		return RestoreResult{}, err
	}
	started := workflow.Now(ctx)
	var plan DriveRestorePlan
	err := workflow.ExecuteActivity(shortActivityOptions(ctx), ActivityPlanDriveRestore, in).Get(ctx, &plan)
	if err != nil {
		return RestoreResult{}, err
	}
	res := RestoreResult{BackupID: in.BackupID, Mailbox: m365.Mailbox{UPN: plan.Target}, Destination: in.Destination}
	progress.Stage, progress.CollectionsTotal = "restoring", len(plan.Batches)
	for _, b := range plan.Batches {
		progress.Selected += b.Files
	}
	results := make([]RestoreCollectionResult, len(plan.Batches))
	actx := collectionActivityOptions(ctx)
	err = fanOut(ctx, len(plan.Batches), DriveBatchesInFlight, func(int, int) int { return 1 },
		func(i, _ int) workflow.Future {
			return workflow.ExecuteActivity(actx, ActivityRestoreDriveBatch, RestoreDriveBatchInput{
				Repo: in.Repo, Graph: in.Graph, Batch: plan.Batches[i], Selector: in.Selector, Collisions: in.Collisions,
				Started: started, NoPermissions: in.NoPermissions, FailFast: in.FailFast, Concurrency: DriveBatchConcurrency,
			})
		},
		func(i int, f workflow.Future) error {
			if err := f.Get(ctx, &results[i]); err != nil {
				return err
			}
			progress.CollectionsDone++
			progress.Done.add(results[i].RestoreCounts)
			return nil
		})
	if err != nil {
		return RestoreResult{}, err
	}
	var files RestoreCounts
	res.Errors = append(res.Errors, plan.Errors...)
	files.Failed += int64(len(plan.Errors))
	for _, r := range results {
		files.add(r.RestoreCounts)
		for _, e := range r.Errors {
			if len(res.Errors) < maxRestoreErrors {
				res.Errors = append(res.Errors, e)
			} else {
				res.ErrorsOmitted++
			}
		}
	}
	res.Total = files
	if len(plan.Batches) > 0 {
		res.Categories = []CategoryCounts{{Category: m365.Category("files"), RestoreCounts: files}}
	}
	progress.Stage = "done"
	return res, nil
}
