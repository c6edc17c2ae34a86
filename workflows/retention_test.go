package workflows

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/m365"
)

// retentionRun runs a drive backup request of two users with policy,
// against a repository that already holds older backups of them and of a
// third user, and returns what it deleted, how often it listed, and its
// result.
func retentionRun(t *testing.T, policy *backup.Retention) (deleted []string, lists int, res DriveBackupResult, listed []backup.Summary) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	base := time.Date(2026, 12, 1, 4, 0, 0, 0, time.UTC)
	old := func(id, resource string, days int, status string) backup.Summary {
		return backup.Summary{BackupID: id, Service: m365.OneDrive, Tenant: "t", Resource: resource, ResourceName: resource + "@x",
			Status: status, Completed: base.AddDate(0, 0, days)}
	}
	listed = []backup.Summary{
		old("ann-1", "ann", 0, backup.StatusCompleted), old("ann-2", "ann", 1, backup.StatusCompleted),
		old("ann-failed", "ann", 2, backup.StatusFailed),
		old("bob-1", "bob", 1, backup.StatusCompleted),
		old("cid-1", "cid", 0, backup.StatusCompleted), old("cid-2", "cid", 1, backup.StatusCompleted),
		old("bob-other-tenant", "bob", 0, backup.StatusCompleted),
	}
	listed[len(listed)-1].Tenant = "t2"
	(&resourceStore{}).listDrives(env, func(_ context.Context, in ResolveDrivesInput) ([]ResolvedDrive, error) {
		return []ResolvedDrive{
			{Drive: m365.Drive{ID: "d1", Service: m365.OneDrive, Owner: "ann", OwnerName: "ann@x"}},
			{Drive: m365.Drive{ID: "d2", Service: m365.OneDrive, Owner: "bob", OwnerName: "bob@x"}},
		}, nil
	})
	env.RegisterWorkflowWithOptions(func(ctx workflow.Context, in ResourceDrivesBackupInput) (backup.Summary, error) {
		owner := in.Drives[0].Owner
		s := backup.Summary{BackupID: owner + "-new", Service: in.Service, Tenant: in.Graph.TenantID, Resource: owner,
			ResourceName: in.Drives[0].OwnerName, Status: backup.StatusCompleted, Completed: base.AddDate(0, 0, 5)}
		listed = append(listed, s)
		return s, nil
	}, workflow.RegisterOptions{Name: "ResourceDrivesBackupWorkflow"})
	env.RegisterActivityWithOptions(func(_ context.Context, in BackupListInput) (BackupListResult, error) {
		lists++
		require.Equal(t, m365.OneDrive, in.Service)
		return BackupListResult{Backups: listed}, nil
	}, activity.RegisterOptions{Name: ActivityListBackups})
	// A backup of ann runs (started after ann-2 completed), and visibility
	// still shows this request's own backup of bob as running.
	env.RegisterActivityWithOptions(func(_ context.Context, in RunningBackupsInput) ([]RunningBackup, error) {
		require.Equal(t, m365.OneDrive, in.Service)
		return []RunningBackup{
			{BackupID: "ann-running", Resource: "ann@x", Tenant: "t", Started: base.AddDate(0, 0, 3)},
			{BackupID: "bob-new", Resource: "bob@x", Tenant: "t", Started: base.AddDate(0, 0, 4)},
		}, nil
	}, activity.RegisterOptions{Name: ActivityListRunningBackups})
	env.RegisterActivityWithOptions(func(_ context.Context, in BackupDeleteInput) (BackupDeleteResult, error) {
		require.Equal(t, m365.OneDrive, in.Service)
		deleted = append(deleted, in.BackupIDs...)
		return BackupDeleteResult{Deleted: in.BackupIDs}, nil
	}, activity.RegisterOptions{Name: ActivityDeleteBackups})
	env.ExecuteWorkflow(DriveBackupWorkflow, DriveBackupInput{Graph: GraphRef{TenantID: "t"}, Service: m365.OneDrive,
		Resources: []string{"*"}, Retention: policy})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	require.NoError(t, env.GetWorkflowResult(&res))
	return deleted, lists, res, listed
}

// TestRetentionAfterBackupDeletesWhatRetainDoesNotKeep: with a policy, a
// backup request deletes exactly what backup.Retain does not keep of the
// completed backups of each resource it backed up (in its tenant), with
// the possible bases of a running backup protected as `backup prune`
// protects them, and nothing of other resources; without a policy it
// neither lists nor deletes.
func TestRetentionAfterBackupDeletesWhatRetainDoesNotKeep(t *testing.T) {
	policy := backup.Retention{Last: 1}
	deleted, _, res, listed := retentionRun(t, &policy)
	var want []string
	for _, resource := range []string{"ann", "bob"} {
		var dated []backup.Dated
		for _, b := range listed {
			if b.Resource == resource && b.Tenant == "t" && b.Status == backup.StatusCompleted {
				dated = append(dated, backup.Dated{BackupID: b.BackupID, Completed: b.Completed})
			}
		}
		protected := map[string]string{}
		if resource == "ann" {
			protected["ann-2"] = "may be the base of running backup ann-running"
		}
		for _, r := range backup.Retain(dated, policy, protected).Removed {
			want = append(want, r.BackupID)
		}
	}
	require.Equal(t, []string{"ann-1", "bob-1"}, want, "the fixture: keep-last 1 removes all but the newest and ann-2")
	require.Equal(t, want, deleted)
	require.Len(t, res.Retention, 2)
	require.Equal(t, "ann", res.Retention[0].Resource)
	require.Equal(t, "ann-new", res.Retention[0].Kept[0].BackupID)
	require.True(t, slices.Contains(res.Retention[0].Kept[0].Reasons, backup.ReasonNewest))
	require.Equal(t, "ann-2", res.Retention[0].Kept[1].BackupID)
	require.Equal(t, []string{"may be the base of running backup ann-running"}, res.Retention[0].Kept[1].Reasons)

	deleted, lists, res, _ := retentionRun(t, nil)
	require.Empty(t, deleted)
	require.Zero(t, lists)
	require.Empty(t, res.Retention)
}
