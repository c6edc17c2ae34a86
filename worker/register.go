package main

import (
	"os"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"

	"github.com/corso-temporal/corso/activities"
	"github.com/corso-temporal/corso/budget"
	"github.com/corso-temporal/corso/codec"
	"github.com/corso-temporal/corso/graph"
	"github.com/corso-temporal/corso/repository"
	"github.com/corso-temporal/corso/workflows"
)

type deps struct {
	connections *repository.Connections
	sealer      *codec.Sealer
	// graphEndpoint routes Microsoft Graph to a simulator when set.
	graphEndpoint string
	// driveBudget shares each tenant's SharePoint resource units with the
	// rest of the fleet.
	driveBudget *budget.Fleet
	// teamsBudget shares each tenant's Teams channel message reads.
	teamsBudget *budget.Fleet
	// metrics counts Graph traffic and budget use per tenant; nil
	// without --metrics-listen.
	metrics *workerMetrics
	// mailboxRPM paces each mailbox's requests
	// (graph.Config.MailboxRequestsPerMinute).
	mailboxRPM float64
}

// register puts every corso workflow and activity on the worker, activities
// under the names the workflows schedule.
func register(r worker.Registry, d deps) {
	for _, wf := range workflows.All() {
		r.RegisterWorkflow(wf)
	}

	repos := &activities.Repositories{Connections: d.connections, Sealer: d.sealer}
	r.RegisterActivityWithOptions(repos.InitRepository, activity.RegisterOptions{Name: workflows.ActivityInitRepository})
	r.RegisterActivityWithOptions(repos.ConnectRepository, activity.RegisterOptions{Name: workflows.ActivityConnectRepository})

	r.RegisterActivityWithOptions(repos.ListBackups, activity.RegisterOptions{Name: workflows.ActivityListBackups})
	r.RegisterActivityWithOptions(repos.BackupDetails, activity.RegisterOptions{Name: workflows.ActivityBackupDetails})
	r.RegisterActivityWithOptions(repos.DeleteBackups, activity.RegisterOptions{Name: workflows.ActivityDeleteBackups})
	r.RegisterActivityWithOptions(repos.ChangePassphrase, activity.RegisterOptions{Name: workflows.ActivityChangePassphrase})
	maint := &activities.RepoMaintenance{Repos: repos, Safety: maintenanceSafety()}
	r.RegisterActivityWithOptions(maint.MaintainRepository, activity.RegisterOptions{Name: workflows.ActivityMaintainRepository})
	r.RegisterActivityWithOptions(repos.ListRunningBackups, activity.RegisterOptions{Name: workflows.ActivityListRunningBackups})
	r.RegisterActivityWithOptions(repos.ReadResourcePage, activity.RegisterOptions{Name: workflows.ActivityReadResourcePage})

	tenants := &activities.Tenants{
		Repos: repos,
		NewClient: func(tenantID, clientID, clientSecret string) (activities.Client, error) {
			cfg := graph.Config{TenantID: tenantID, ClientID: clientID, ClientSecret: clientSecret, Endpoint: d.graphEndpoint,
				IdleTimeout: graphIdleTimeout(), MailboxRequestsPerMinute: d.mailboxRPM}
			if d.driveBudget != nil {
				cfg.DriveBudget = d.metrics.meterBudget(tenantID, d.driveBudget.Tenant(tenantID, clientID))
			}
			if d.teamsBudget != nil {
				cfg.TeamsBudget = d.teamsBudget.Tenant(tenantID, clientID)
			}
			c, err := graph.New(cfg)
			if err != nil {
				return nil, err
			}
			d.metrics.watchGraph(tenantID, c)
			return c, nil
		},
	}
	ex := &activities.Containers{Tenants: tenants}
	r.RegisterActivityWithOptions(ex.ResolveMailboxes, activity.RegisterOptions{Name: workflows.ActivityResolveMailboxes})
	r.RegisterActivityWithOptions(ex.ResolveMailboxList, activity.RegisterOptions{Name: workflows.ActivityResolveMailboxList})
	r.RegisterActivityWithOptions(ex.ResolveContainerResources, activity.RegisterOptions{Name: workflows.ActivityResolveContainerResources})
	r.RegisterActivityWithOptions(ex.PlanMailboxBackup, activity.RegisterOptions{Name: workflows.ActivityPlanMailbox})
	r.RegisterActivityWithOptions(ex.BackupCollection, activity.RegisterOptions{Name: workflows.ActivityBackupCollection})
	r.RegisterActivityWithOptions(ex.BackupCollections, activity.RegisterOptions{Name: workflows.ActivityBackupCollections})
	r.RegisterActivityWithOptions(ex.CombineBackup, activity.RegisterOptions{Name: workflows.ActivityCombineBackup})
	r.RegisterActivityWithOptions(ex.PlanRestore, activity.RegisterOptions{Name: workflows.ActivityPlanRestore})
	r.RegisterActivityWithOptions(ex.RestoreCollection, activity.RegisterOptions{Name: workflows.ActivityRestoreCollection})

	dr := &activities.Drives{Tenants: tenants}
	r.RegisterActivityWithOptions(dr.ResolveDrives, activity.RegisterOptions{Name: workflows.ActivityResolveDrives})
	r.RegisterActivityWithOptions(dr.ResolveDriveList, activity.RegisterOptions{Name: workflows.ActivityResolveDriveList})
	r.RegisterActivityWithOptions(dr.EnumerateDrive, activity.RegisterOptions{Name: workflows.ActivityEnumerateDrive})
	r.RegisterActivityWithOptions(dr.BackupDriveBatch, activity.RegisterOptions{Name: workflows.ActivityBackupDriveBatch})
	r.RegisterActivityWithOptions(dr.CombineDrives, activity.RegisterOptions{Name: workflows.ActivityCombineDrives})
	r.RegisterActivityWithOptions(dr.PlanDriveRestore, activity.RegisterOptions{Name: workflows.ActivityPlanDriveRestore})
	r.RegisterActivityWithOptions(dr.RestoreDriveBatch, activity.RegisterOptions{Name: workflows.ActivityRestoreDriveBatch})

	r.RegisterActivityWithOptions(repos.VerifyBackup, activity.RegisterOptions{Name: workflows.ActivityVerifyBackup})
	drills := &activities.Drills{Tenants: tenants}
	r.RegisterActivityWithOptions(drills.PlanDrill, activity.RegisterOptions{Name: workflows.ActivityPlanDrill})
	r.RegisterActivityWithOptions(drills.CheckDrill, activity.RegisterOptions{Name: workflows.ActivityCheckDrill})
}

// testShortMaintenanceSafety names the environment variable that, set to
// 1, drops kopia's maintenance waiting times on this worker. For tests
// only: beside a backup that flushes less often than maintenance runs, or
// on eventually consistent storage, it can lose data.
const testShortMaintenanceSafety = "CORSO_TEST_SHORT_MAINTENANCE_SAFETY"

func maintenanceSafety() repository.Safety {
	if os.Getenv(testShortMaintenanceSafety) == "1" {
		return repository.SafetyShortened
	}
	return repository.SafetyFull
}

// testGraphIdleTimeout names the environment variable that shortens how
// long a Graph answer may send nothing before it is abandoned (a Go
// duration; default graph.DefaultIdleTimeout). For tests only: shorter
// than a few seconds, it cuts healthy answers.
const testGraphIdleTimeout = "CORSO_TEST_GRAPH_IDLE_TIMEOUT"

func graphIdleTimeout() time.Duration {
	d, _ := time.ParseDuration(os.Getenv(testGraphIdleTimeout))
	return d // 0, unset or unreadable: the default
}

// The Graph client is every source and target the activities use, and
// deletes a drill's scratch folders.
var (
	_ activities.Client           = (*graph.Client)(nil)
	_ activities.ContainerDeleter = (*graph.Client)(nil)
)
