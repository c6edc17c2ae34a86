package workflows

import (
	"crypto/rand"
	"encoding/hex"
	"errors"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/corso-temporal/corso/backup"
)

// How many resources' backups (child workflows) one request runs at once.
// With Exchange's limits per mailbox (four requests at once, about 10,000
// per 10 minutes), what a request may use of the tenant's budget is the
// sum of its mailboxes' ceilings in flight: DefaultResourcesInFlight
// mailboxes are more than a small fleet of workers keeps busy, and a
// larger fleet raises the request's ResourcesInFlight up to
// MaxResourcesInFlight.
//
// A run holds every resource in flight among its children, so a request
// with more in flight than ResourcesPerRun backs up that many per run
// instead. MaxResourcesInFlight keeps such a run within Temporal's limits
// with room to spare: at most 8 to 10 history events per child (its id,
// start, end and the workflow tasks they wake), so about 10,000 events of
// the 51,200 allowed, and half of the 2,000 pending children allowed.
const (
	DefaultResourcesInFlight = 64
	MaxResourcesInFlight     = 1000
)

// resourcesInFlight is the number of resources a request with the given
// ResourcesInFlight backs up at once: DefaultResourcesInFlight when
// unset (requests, and recorded histories, from before the field),
// MaxResourcesInFlight at most.
func resourcesInFlight(requested int) int {
	if requested <= 0 {
		return DefaultResourcesInFlight
	}
	return min(requested, MaxResourcesInFlight)
}

// backupRequest is what every resource's backup of one request shares.
type backupRequest struct {
	service string
	repo    RepoRef
	graph   GraphRef
}

// resourceBackup is one resource's backup in a request (a mailbox, a
// user's OneDrive, a site's libraries): a child workflow of its own.
type resourceBackup struct {
	// label names the resource in progress and in the Web UI.
	label string
	// resource and name identify it in a failed backup's summary.
	resource, name string
	// child starts its backup workflow under backupID.
	child func(ctx workflow.Context, backupID string) workflow.ChildWorkflowFuture
}

// backUpEach backs up each resource in a child workflow of its own, with
// its own history, its own backup and its own failure: a child that fails
// is a failed backup in the result, and does not fail the others. At most
// maxInFlight children run at once. The request's "progress" query lists
// every resource's progress.
func backUpEach(ctx workflow.Context, req backupRequest, maxInFlight int, rs []resourceBackup) ([]backup.Summary, error) {
	backups := make([]backup.Summary, len(rs))
	progress := make([]BackupProgress, len(rs))
	for i, r := range rs {
		progress[i] = BackupProgress{Resource: r.label, Stage: "queued"}
	}
	if err := workflow.SetQueryHandler(ctx, ProgressQuery, func() ([]BackupProgress, error) { return progress, nil }); err != nil {
		return backups, err
	}
	err := fanOut(ctx, len(rs), maxInFlight, func(int, int) int { return 1 },
		func(i, _ int) workflow.Future {
			r := rs[i]
			var backupID string
			if err := workflow.SideEffect(ctx, func(workflow.Context) any { return newBackupID() }).Get(&backupID); err != nil {
				f, set := workflow.NewFuture(ctx)
				set.SetError(err)
				return f
			}
			progress[i].BackupID, progress[i].Stage = backupID, "running"
			cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
				WorkflowID: "corso-backup-" + backupID,
				TypedSearchAttributes: temporal.NewSearchAttributes(
					AttrOperation.ValueSet("backup"),
					AttrService.ValueSet(req.service),
					AttrTenant.ValueSet(req.graph.TenantID),
					AttrResource.ValueSet(r.label),
					AttrBackupID.ValueSet(backupID),
					AttrRepository.ValueSet(req.repo.Storage.String()),
				),
			})
			return r.child(cctx, backupID)
		},
		func(i int, f workflow.Future) error {
			backupID := progress[i].BackupID
			if backupID == "" {
				// No backup id: the child never started.
				return f.Get(ctx, nil)
			}
			var s backup.Summary
			if err := f.Get(ctx, &s); err != nil {
				s = backup.Summary{BackupID: backupID, Service: req.service, Tenant: req.graph.TenantID,
					Resource: rs[i].resource, ResourceName: rs[i].name, Status: backup.StatusFailed, Error: failureMessage(err)}
			}
			backups[i] = s
			progress[i].Stage, progress[i].Items, progress[i].Bytes, progress[i].Errors = "done", s.Items, s.Bytes, s.Errors
			return nil
		})
	return backups, err
}

func newBackupID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// failureMessage is the innermost application error's message: what an
// admin needs, without Temporal's wrapping.
func failureMessage(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Message()
	}
	return err.Error()
}
