package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/corso-temporal/corso/repository"
	"github.com/corso-temporal/corso/workflows"
)

// RepoMaintenance runs kopia maintenance on repositories, one run per
// repository at a time (RepoMaintenanceWorkflow sees to that).
type RepoMaintenance struct {
	Repos *Repositories
	// Safety is kopia's safety for maintenance beside writers on other
	// workers: repository.SafetyFull, shortened in tests only.
	Safety repository.Safety

	// runningBackups returns when the oldest backup request still running
	// started (zero if none) and how many run; nil asks Temporal. Tests
	// set it.
	runningBackups func(context.Context) (time.Time, int, error)
}

// MaintainRepository runs quick or full maintenance on the request's
// repository as its maintenance owner, keeping what running backups need.
func (m *RepoMaintenance) MaintainRepository(ctx context.Context, in workflows.RepoMaintenanceInput) (workflows.RepoMaintenanceResult, error) {
	if err := in.Validate(); err != nil {
		return workflows.RepoMaintenanceResult{}, invalidInput(err.Error())
	}
	// Only the repository's one maintenance workflow runs it: two runs at
	// once would each collect what the other is rewriting.
	if id, want := activity.GetInfo(ctx).WorkflowExecution.ID, workflows.MaintenanceWorkflowID(in.RepositoryID); id != want {
		return workflows.RepoMaintenanceResult{}, invalidInput(fmt.Sprintf("maintenance of repository %s runs only in workflow %s, not %s", in.RepositoryID, want, id))
	}
	loc, creds, err := m.Repos.resolve(ctx, in.Repo)
	if err != nil {
		return workflows.RepoMaintenanceResult{}, err
	}
	// Asked before maintenance reads the repository: a backup that ends
	// after this is still counted, and one that ended before has its
	// snapshot saved for maintenance to see.
	running := m.runningBackups
	if running == nil {
		running = runningBackupRequests
	}
	since, n, err := running(ctx)
	if err != nil {
		return workflows.RepoMaintenanceResult{}, fmt.Errorf("list running backups (maintenance never runs without knowing them): %w", err)
	}
	r, err := m.Repos.Connections.OpenAs(ctx, loc, creds, repository.MaintenanceIdentity(in.RepositoryID))
	if err != nil {
		return workflows.RepoMaintenanceResult{}, repositoryError(err)
	}
	defer r.Release(ctx)
	if r.ID != in.RepositoryID {
		return workflows.RepoMaintenanceResult{}, invalidInput(fmt.Sprintf("the repository at %s has id %s, not %s: run `corso repo connect` again", in.Repo.Storage, r.ID, in.RepositoryID))
	}

	// Heartbeats carry the step under way, for the requester's progress
	// line: sent as each starts, and repeated to show the worker alive.
	var mu sync.Mutex
	progress := workflows.MaintenanceProgress{Mode: in.Mode}
	beat := func() {
		mu.Lock()
		p := progress
		mu.Unlock()
		heartbeat(ctx, p)
	}
	stop := keepAlive(ctx, keepAliveEvery, beat)
	res, err := r.Maintain(ctx, repository.MaintenanceOptions{
		Mode: repository.MaintenanceMode(in.Mode), Force: in.Force, Safety: m.Safety, RunningSince: since,
		Stage: func(s repository.MaintenanceStage) {
			mu.Lock()
			progress.Stage = string(s)
			mu.Unlock()
			beat()
		},
	})
	stop()
	if errors.Is(err, repository.ErrMaintenanceOwned) {
		return workflows.RepoMaintenanceResult{}, temporal.NewNonRetryableApplicationError(err.Error(), workflows.ErrTypeMaintenanceOwned, nil)
	}
	if err != nil {
		return workflows.RepoMaintenanceResult{}, repositoryError(err)
	}
	return workflows.RepoMaintenanceResult{
		RepositoryID: r.ID, Mode: in.Mode, Owner: res.Owner,
		Started: res.Started, Finished: res.Finished,
		Before: usage(res.Before), After: usage(res.After),
		Protected: res.Protected, RunningBackups: n,
	}, nil
}

func usage(u repository.Usage) workflows.RepoUsage {
	return workflows.RepoUsage{Blobs: u.Blobs, Bytes: u.Bytes, PackBlobs: u.PackBlobs, PackBytes: u.PackBytes, IndexBlobs: u.IndexBlobs}
}

// runningBackupRequests asks Temporal for the backup requests still
// running in the namespace, of every repository: a backup whose request
// names its repository differently, or a run a schedule started, is
// counted all the same, at the cost of keeping other repositories' recent
// garbage a little longer.
func runningBackupRequests(ctx context.Context) (time.Time, int, error) {
	types := workflows.BackupRequestTypes()
	query := fmt.Sprintf("ExecutionStatus = 'Running' AND WorkflowType IN ('%s')", strings.Join(types, "', '"))
	c := activity.GetClient(ctx)
	ns := activity.GetInfo(ctx).WorkflowNamespace
	var oldest time.Time
	n := 0
	var token []byte
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: ns, Query: query, NextPageToken: token})
		if err != nil {
			return time.Time{}, 0, err
		}
		for _, e := range resp.GetExecutions() {
			n++
			s, err := requestStart(ctx, c, ns, e.GetExecution().GetWorkflowId(), e.GetStartTime().AsTime())
			if err != nil {
				return time.Time{}, 0, err
			}
			if oldest.IsZero() || s.Before(oldest) {
				oldest = s
			}
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return oldest, n, nil
		}
	}
}

// requestStart is when the request running as workflow id started: the
// start of its first run, not of the run it continued as (a request of
// many resources continues as new every page, and its first run wrote the
// resolved list the later ones read).
func requestStart(ctx context.Context, c client.Client, ns, id string, runStart time.Time) (time.Time, error) {
	start := runStart
	var token []byte
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: ns, Query: fmt.Sprintf("WorkflowId = '%s'", strings.ReplaceAll(id, "'", "")), NextPageToken: token,
		})
		if err != nil {
			return time.Time{}, err
		}
		for _, e := range resp.GetExecutions() {
			if s := e.GetStartTime().AsTime(); s.Before(start) {
				start = s
			}
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return start, nil
		}
	}
}
