package workflows

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// ActivityMaintainRepository runs kopia maintenance on a repository.
const ActivityMaintainRepository = "MaintainRepository"

// Maintenance modes: quick compacts indexes; full also collects contents
// no backup references, with kopia's safety rules.
const (
	MaintenanceQuick = "quick"
	MaintenanceFull  = "full"
)

// RepoMaintenanceInput is the input of RepoMaintenanceWorkflow.
type RepoMaintenanceInput struct {
	Repo RepoRef `json:"repo"`
	// RepositoryID names the repository the run is for: its workflow id
	// is derived from it, and the worker checks the repository it opens
	// has it.
	RepositoryID string `json:"repositoryID"`
	Mode         string `json:"mode"`
	// Force takes maintenance over from another owner.
	Force bool `json:"force,omitempty"`
	// StartSingleton is for runs under another id (a Temporal Schedule's
	// action sets it): the run starts the repository's maintenance as a
	// child under MaintenanceWorkflowID, or reports the one running,
	// instead of running it.
	StartSingleton bool `json:"startSingleton,omitempty"`
}

// MaintenanceProgress is what the maintenance activity heartbeats: the
// step it runs, for `corso repo maintenance` to show (heartbeat details,
// described by Temporal). kopia's maintenance tasks count nothing they
// tell, so a step is all there is.
type MaintenanceProgress struct {
	Mode  string `json:"mode"`
	Stage string `json:"stage,omitempty"`
}

// RepoUsage is what a repository holds in storage.
type RepoUsage struct {
	Blobs      int   `json:"blobs"`
	Bytes      int64 `json:"bytes"`
	PackBlobs  int   `json:"packBlobs"`
	PackBytes  int64 `json:"packBytes"`
	IndexBlobs int   `json:"indexBlobs"`
}

// RepoMaintenanceResult says what a maintenance run did.
type RepoMaintenanceResult struct {
	RepositoryID string    `json:"repositoryID"`
	Mode         string    `json:"mode"`
	Owner        string    `json:"owner"`
	Started      time.Time `json:"started"`
	Finished     time.Time `json:"finished"`
	Before       RepoUsage `json:"before"`
	After        RepoUsage `json:"after"`
	// Protected is how recent a content had to be to be kept whether
	// referenced or not: kopia's safety, widened past the oldest backup
	// still running.
	Protected time.Duration `json:"protected"`
	// RunningBackups is how many backups were running when it started.
	RunningBackups int `json:"runningBackups"`
	// AlreadyRunning: a run started by a schedule found the repository's
	// maintenance running and left it alone.
	AlreadyRunning bool `json:"alreadyRunning,omitempty"`
}

// BackupRequestTypes are the workflow types of backup requests, whose
// runs repository maintenance must not disturb.
func BackupRequestTypes() []string {
	var out []string
	for name, p := range purposes {
		if p == PurposeBackup {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

var repositoryIDPattern = regexp.MustCompile(`^[0-9a-f]{16,128}$`)

// Validate reports the first problem with the input as an error a user can
// act on.
func (in RepoMaintenanceInput) Validate() error {
	if !repositoryIDPattern.MatchString(in.RepositoryID) {
		return fmt.Errorf("invalid repository id %q: run `corso repo connect` to record it in the config file", in.RepositoryID)
	}
	if in.Mode != MaintenanceQuick && in.Mode != MaintenanceFull {
		return fmt.Errorf("invalid --mode %q: use quick or full", in.Mode)
	}
	return in.Repo.Storage.Validate()
}

// MaintenanceWorkflowID is the id of a repository's maintenance: one per
// repository, so that two requests never run it at once.
func MaintenanceWorkflowID(repositoryID string) string {
	return "corso-maintenance-" + repositoryID
}

// RepoMaintenanceWorkflow runs a repository's maintenance. It must run
// under the repository's own id (MaintenanceWorkflowID), which the
// maintenance activity checks, so that two runs never overlap. A run a
// Temporal Schedule starts has an id of its own: with StartSingleton it
// runs the repository's maintenance as a child under that id, or reports
// the one already running.
func RepoMaintenanceWorkflow(ctx workflow.Context, in RepoMaintenanceInput) (RepoMaintenanceResult, error) {
	if err := in.Validate(); err != nil {
		return RepoMaintenanceResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInvalidInput, nil)
	}
	if in.StartSingleton {
		in.StartSingleton = false
		return maintenanceAsSingleton(ctx, in, MaintenanceWorkflowID(in.RepositoryID))
	}
	var res RepoMaintenanceResult
	err := workflow.ExecuteActivity(maintenanceActivityOptions(ctx), ActivityMaintainRepository, in).Get(ctx, &res)
	return res, err
}

func maintenanceAsSingleton(ctx workflow.Context, in RepoMaintenanceInput, id string) (RepoMaintenanceResult, error) {
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            id,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
	})
	var res RepoMaintenanceResult
	err := workflow.ExecuteChildWorkflow(cctx, RepoMaintenanceWorkflow, in).Get(ctx, &res)
	if errors.Is(err, &temporal.ChildWorkflowExecutionAlreadyStartedError{}) {
		return RepoMaintenanceResult{RepositoryID: in.RepositoryID, Mode: in.Mode, AlreadyRunning: true}, nil
	}
	return res, err
}

// maintenanceActivityOptions suit a maintenance run: full maintenance of
// a large repository reads every snapshot and lists every blob, for hours;
// it heartbeats, so a lost worker is noticed within a minute and another
// runs it again (kopia's maintenance is safe to repeat).
func maintenanceActivityOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 24 * time.Hour,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        5 * time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        5 * time.Minute,
			MaximumAttempts:        5,
			NonRetryableErrorTypes: append([]string{ErrTypeMaintenanceOwned}, nonRetryableTypes...),
		},
	})
}

// ErrTypeMaintenanceOwned: another identity owns the repository's
// maintenance and --force was not given.
const ErrTypeMaintenanceOwned = "MaintenanceOwned"
