package workflows

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/m365"
)

func TestDriveBackupOneBackupPerSiteWithBoundedBatches(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	var (
		mu                    sync.Mutex
		inFlight, maxInFlight int
		combined              []CombineDrivesInput
	)
	(&resourceStore{}).listDrives(env, func(_ context.Context, in ResolveDrivesInput) ([]ResolvedDrive, error) {
		// Two sites, the first with two libraries.
		return []ResolvedDrive{
			{Drive: m365.Drive{ID: "d1", Name: "Documents", Service: m365.SharePoint, Owner: "s1", OwnerName: "https://x/sites/a"}},
			{Drive: m365.Drive{ID: "d2", Name: "Archive", Service: m365.SharePoint, Owner: "s1", OwnerName: "https://x/sites/a"}},
			{Drive: m365.Drive{ID: "d3", Name: "Documents", Service: m365.SharePoint, Owner: "s2", OwnerName: "https://x/sites/b"}},
		}, nil
	})
	env.RegisterActivityWithOptions(func(_ context.Context, in EnumerateDriveInput) (DriveEnumeration, error) {
		e := DriveEnumeration{Drive: in.Drive, StateID: "state-" + in.Drive.ID}
		for i := range 12 {
			e.Batches = append(e.Batches, DriveBatch{FilesID: fmt.Sprint(in.Drive.ID, "-", i), Files: 10})
		}
		return e, nil
	}, activity.RegisterOptions{Name: ActivityEnumerateDrive})
	env.RegisterActivityWithOptions(func(_ context.Context, in BackupDriveBatchInput) (DriveBatchResult, error) {
		mu.Lock()
		inFlight++
		maxInFlight = max(maxInFlight, inFlight)
		mu.Unlock()
		time.Sleep(2 * time.Millisecond)
		mu.Lock()
		inFlight--
		mu.Unlock()
		return DriveBatchResult{ResultsID: "r-" + in.Batch.FilesID, Files: in.Batch.Files}, nil
	}, activity.RegisterOptions{Name: ActivityBackupDriveBatch})
	env.RegisterActivityWithOptions(func(_ context.Context, in CombineDrivesInput) (backup.Summary, error) {
		mu.Lock()
		combined = append(combined, in)
		mu.Unlock()
		var n int64
		for _, rs := range in.Results {
			for _, r := range rs {
				n += r.Files
			}
		}
		return backup.Summary{BackupID: in.BackupID, Service: in.Service, ResourceName: in.Drives[0].Drive.OwnerName, Status: backup.StatusCompleted, Items: n}, nil
	}, activity.RegisterOptions{Name: ActivityCombineDrives})
	env.RegisterWorkflow(ResourceDrivesBackupWorkflow)
	env.ExecuteWorkflow(DriveBackupWorkflow, DriveBackupInput{Service: m365.SharePoint, Resources: []string{"*"}})
	require.NoError(t, env.GetWorkflowError())
	var res DriveBackupResult
	require.NoError(t, env.GetWorkflowResult(&res))

	require.Len(t, res.Backups, 2, "one backup per site")
	require.Equal(t, int64(240), res.Backups[0].Items)
	require.Equal(t, int64(120), res.Backups[1].Items)
	require.LessOrEqual(t, maxInFlight, 2*DriveBatchesInFlight, "batches in flight stay bounded per site")
	require.GreaterOrEqual(t, maxInFlight, DriveBatchesInFlight, "a site's batches run at once")
	for _, c := range combined {
		for d, rs := range c.Results {
			require.Len(t, rs, 12)
			for b, r := range rs {
				require.Equal(t, fmt.Sprint("r-", c.Drives[d].Drive.ID, "-", b), r.ResultsID, "results keep drive and batch order")
			}
		}
	}
}

// Users a "*" selection finds without a drive are reported as left out,
// not backed up; one whose drive the app is denied is a failed backup of
// its own, as is one found locked during its backup; the others complete.
func TestDriveBackupReportsLeftOutAndDenied(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	guest := backup.LeftOut{Resource: "gus@x", ResourceID: "u2", Cause: "noDrive", Reason: m365.CauseNoDrive.Describe()}
	locked := backup.LeftOut{Resource: "lola@x", ResourceID: "u3", Cause: "locked", Reason: m365.CauseLocked.Describe()}
	denied := backup.LeftOut{Resource: "pat@x", ResourceID: "u5", Cause: "accessDenied", Reason: "access denied to the app: Graph answered 403 accessDenied"}
	(&resourceStore{}).listDrives(env, func(_ context.Context, in ResolveDrivesInput) ([]ResolvedDrive, error) {
		return []ResolvedDrive{
			{Drive: m365.Drive{ID: "d1", Name: "OneDrive", Service: m365.OneDrive, Owner: "u1", OwnerName: "ann@x"}},
			{Drive: m365.Drive{ID: "d4", Name: "OneDrive", Service: m365.OneDrive, Owner: "u4", OwnerName: "bob@x"}},
			{Drive: m365.Drive{Service: m365.OneDrive, Owner: "u2", OwnerName: "gus@x"}, LeftOut: &guest},
			{Drive: m365.Drive{Service: m365.OneDrive, Owner: "u3", OwnerName: "lola@x"}, LeftOut: &locked},
			{Drive: m365.Drive{Service: m365.OneDrive, Owner: "u5", OwnerName: "pat@x"}, LeftOut: &denied},
		}, nil
	})
	var mu sync.Mutex
	var enumerated []string
	env.RegisterActivityWithOptions(func(_ context.Context, in EnumerateDriveInput) (DriveEnumeration, error) {
		mu.Lock()
		enumerated = append(enumerated, in.Drive.ID)
		mu.Unlock()
		if in.Drive.ID == "d4" {
			return DriveEnumeration{}, temporal.NewNonRetryableApplicationError(
				"locked or offboarded by an administrator: enumerate drive OneDrive of bob@x: Graph answered 423", ErrTypeResourceUnavailable, nil)
		}
		return DriveEnumeration{Drive: in.Drive, StateID: "state"}, nil
	}, activity.RegisterOptions{Name: ActivityEnumerateDrive})
	env.RegisterActivityWithOptions(func(_ context.Context, in CombineDrivesInput) (backup.Summary, error) {
		d := in.Drives[0].Drive
		return backup.Summary{BackupID: in.BackupID, Service: in.Service, Resource: d.Owner, ResourceName: d.OwnerName, Status: backup.StatusCompleted}, nil
	}, activity.RegisterOptions{Name: ActivityCombineDrives})
	env.RegisterWorkflow(ResourceDrivesBackupWorkflow)
	env.ExecuteWorkflow(DriveBackupWorkflow, DriveBackupInput{Service: m365.OneDrive, Resources: []string{"*"}})
	require.NoError(t, env.GetWorkflowError())
	var res DriveBackupResult
	require.NoError(t, env.GetWorkflowResult(&res))

	require.ElementsMatch(t, []string{"d1", "d4"}, enumerated, "only drives are backed up")
	require.Equal(t, []backup.LeftOut{guest, locked}, res.LeftOut)
	require.Len(t, res.Backups, 3)
	require.Equal(t, "ann@x", res.Backups[0].ResourceName)
	require.Equal(t, backup.StatusCompleted, res.Backups[0].Status)
	require.Equal(t, "bob@x", res.Backups[1].ResourceName)
	require.Equal(t, backup.StatusFailed, res.Backups[1].Status)
	require.Contains(t, res.Backups[1].Error, "locked or offboarded")
	require.Equal(t, backup.Summary{Service: m365.OneDrive, Resource: "u5", ResourceName: "pat@x", Status: backup.StatusFailed,
		Error: denied.Reason}, res.Backups[2])
}
