package workflows

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
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
	env.RegisterActivityWithOptions(func(_ context.Context, in ResolveDrivesInput) ([]m365.Drive, error) {
		// Two sites, the first with two libraries.
		return []m365.Drive{
			{ID: "d1", Name: "Documents", Service: m365.SharePoint, Owner: "s1", OwnerName: "https://x/sites/a"},
			{ID: "d2", Name: "Archive", Service: m365.SharePoint, Owner: "s1", OwnerName: "https://x/sites/a"},
			{ID: "d3", Name: "Documents", Service: m365.SharePoint, Owner: "s2", OwnerName: "https://x/sites/b"},
		}, nil
	}, activity.RegisterOptions{Name: ActivityResolveDrives})
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
	for _, c := range combined {
		for d, rs := range c.Results {
			require.Len(t, rs, 12)
			for b, r := range rs {
				require.Equal(t, fmt.Sprint("r-", c.Drives[d].Drive.ID, "-", b), r.ResultsID, "results keep drive and batch order")
			}
		}
	}
}
