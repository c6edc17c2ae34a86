package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/m365"
)

// Downloads of one user's or site's drives in flight across the fleet:
// DriveBatchesInFlight batches of DriveBatchConcurrency files each.
// SharePoint meters requests per tenant; what goes beyond its budget comes
// back as 429 with Retry-After, which the activities wait out.
const (
	DriveBatchesInFlight  = 8
	DriveBatchConcurrency = 2
)

// DriveBackupWorkflow backs up each selected user's OneDrive or each
// selected site's document libraries in a child workflow of its own, one
// backup per user or site; one failing does not fail the others. Users and
// sites with no drive to back up are reported as left out; those whose
// drives the app is denied as failed backups.
//
// The users or sites are resolved once into a list stored in the
// repository; each run backs up one page of them and continues as new
// with the totals so far, so that no history or payload grows with the
// tenant.
func DriveBackupWorkflow(ctx workflow.Context, in DriveBackupInput) (DriveBackupResult, error) {
	if in.Pages == nil && workflow.GetVersion(ctx, backupPagesChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return driveBackupInOneRun(ctx, in)
	}
	p := newPagedBackup(backupRequest{service: in.Service, repo: in.Repo, graph: in.Graph}, in.Retention, in.ResourcesPerRun, in.ResourcesInFlight, in.Pages)
	more, err := p.run(ctx,
		func(ctx workflow.Context) (ResourceList, error) {
			var list ResourceList
			repo := in.Repo
			err := workflow.ExecuteActivity(ctx, ActivityResolveDriveList,
				ResolveDrivesInput{Graph: in.Graph, Service: in.Service, Selectors: in.Resources, Repo: &repo}).Get(ctx, &list)
			return list, err
		},
		func(r ResolvedResource) resourceBackup { return in.ownerBackup(r.Drives) })
	if err == nil && more {
		next := in
		next.Pages = &p.state
		return DriveBackupResult{}, workflow.NewContinueAsNewError(ctx, DriveBackupWorkflow, next)
	}
	var res DriveBackupResult
	res.Backups, res.LeftOut, res.Retention, res.Totals = p.result()
	return res, err
}

// ownerBackup is the backup of one user's or site's drives.
func (in DriveBackupInput) ownerBackup(ds []m365.Drive) resourceBackup {
	owner := ds[0]
	return resourceBackup{label: owner.OwnerName, resource: owner.Owner, name: owner.OwnerName,
		child: func(ctx workflow.Context, backupID string) workflow.ChildWorkflowFuture {
			return workflow.ExecuteChildWorkflow(ctx, ResourceDrivesBackupWorkflow, ResourceDrivesBackupInput{
				Repo: in.Repo, Graph: in.Graph, BackupID: backupID, Service: in.Service, Drives: ds, FailFast: in.FailFast,
				RequestStarted: workflow.GetInfo(ctx).WorkflowStartTime,
			})
		}}
}

// driveBackupInOneRun is the request as runs started before
// backupPagesChange make it: every user or site in one run, one summary
// each.
func driveBackupInOneRun(ctx workflow.Context, in DriveBackupInput) (DriveBackupResult, error) {
	var resolved []ResolvedDrive
	err := workflow.ExecuteActivity(shortActivityOptions(ctx), ActivityResolveDrives,
		ResolveDrivesInput{Graph: in.Graph, Service: in.Service, Selectors: in.Resources}).Get(ctx, &resolved)
	if err != nil {
		return DriveBackupResult{}, err
	}
	drives, leftOut, denied := availableDrives(resolved)
	owners := drivesByOwner(drives)
	rs := make([]resourceBackup, len(owners))
	for i, ds := range owners {
		rs[i] = in.ownerBackup(ds)
	}
	backups, err := backUpEach(ctx, backupRequest{service: in.Service, repo: in.Repo, graph: in.Graph}, DefaultResourcesInFlight, rs)
	res := DriveBackupResult{Backups: backups, LeftOut: leftOut}
	if err != nil {
		return res, err
	}
	for _, lo := range denied {
		res.Backups = append(res.Backups, backup.Summary{Service: in.Service, Tenant: in.Graph.TenantID,
			Resource: lo.ResourceID, ResourceName: lo.Resource, Status: backup.StatusFailed, Error: lo.Reason})
	}
	res.Retention, err = retainAfterBackup(ctx, in.Service, in.Repo, in.Retention, backups)
	return res, err
}

// availableDrives splits a resolution into the drives to back up, the
// users or sites left out, and those the app is denied. Histories recorded
// before causes existed have drives only.
func availableDrives(resolved []ResolvedDrive) (drives []m365.Drive, leftOut, denied []backup.LeftOut) {
	for _, r := range resolved {
		switch {
		case r.LeftOut == nil:
			drives = append(drives, r.Drive)
		case r.LeftOut.Cause == string(m365.CauseAccessDenied):
			denied = append(denied, *r.LeftOut)
		default:
			leftOut = append(leftOut, *r.LeftOut)
		}
	}
	return drives, leftOut, denied
}

// ResourceDrivesBackupWorkflow backs up one owner's drives: enumerate each
// drive's changes (metadata only), download the new and changed files in
// batches on whichever workers are free, then combine everything into one
// backup.
func ResourceDrivesBackupWorkflow(ctx workflow.Context, in ResourceDrivesBackupInput) (backup.Summary, error) {
	owner := ""
	if len(in.Drives) > 0 {
		owner = in.Drives[0].OwnerName
	}
	progress := BackupProgress{BackupID: in.BackupID, Resource: owner, Stage: "enumerating"}
	if err := workflow.SetQueryHandler(ctx, ProgressQuery, func() (BackupProgress, error) { return progress, nil }); err != nil {
		return backup.Summary{}, err
	}
	started := workflow.Now(ctx)
	actx := collectionActivityOptions(ctx)

	enums := make([]DriveEnumeration, len(in.Drives))
	futures := make([]workflow.Future, len(in.Drives))
	for i, d := range in.Drives {
		futures[i] = workflow.ExecuteActivity(actx, ActivityEnumerateDrive, EnumerateDriveInput{
			Repo: in.Repo, Graph: in.Graph, BackupID: in.BackupID, Drive: d, RecordedBefore: in.RequestStarted,
		})
	}
	for i, f := range futures {
		if err := f.Get(ctx, &enums[i]); err != nil {
			return backup.Summary{}, err
		}
	}

	type job struct{ drive, batch int }
	var jobs []job
	results := make([][]DriveBatchResult, len(enums))
	for d, e := range enums {
		results[d] = make([]DriveBatchResult, len(e.Batches))
		for b := range e.Batches {
			jobs = append(jobs, job{d, b})
		}
		progress.Items += e.Reused
	}
	progress.Stage = "downloading"
	progress.CollectionsTotal = len(jobs)
	err := fanOut(ctx, len(jobs), DriveBatchesInFlight, func(int, int) int { return 1 },
		func(i, _ int) workflow.Future {
			j := jobs[i]
			return workflow.ExecuteActivity(actx, ActivityBackupDriveBatch, BackupDriveBatchInput{
				Repo: in.Repo, Graph: in.Graph, BackupID: in.BackupID, Drive: enums[j.drive].Drive,
				Batch: enums[j.drive].Batches[j.batch], FailFast: in.FailFast, Concurrency: DriveBatchConcurrency,
			})
		},
		func(i int, f workflow.Future) error {
			j := jobs[i]
			r := &results[j.drive][j.batch]
			if err := f.Get(ctx, r); err != nil {
				return err
			}
			progress.CollectionsDone++
			progress.Items += r.Files
			progress.Bytes += r.Bytes
			progress.Errors += max(r.Skipped, backup.Failures(r.Errors))
			return nil
		})
	if err != nil {
		return backup.Summary{}, err
	}

	progress.Stage = "combining"
	var summary backup.Summary
	err = workflow.ExecuteActivity(shortActivityOptions(ctx), ActivityCombineDrives, CombineDrivesInput{
		Repo: in.Repo, BackupID: in.BackupID, TenantID: in.Graph.TenantID, Service: in.Service,
		Drives: enums, Results: results, Started: started, Workflow: workflow.GetInfo(ctx).WorkflowExecution.ID,
	}).Get(ctx, &summary)
	if err != nil {
		return backup.Summary{}, err
	}
	progress.Stage = "done"
	return summary, nil
}
