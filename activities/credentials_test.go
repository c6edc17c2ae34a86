package activities

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/corso-temporal/corso/codec"
	"github.com/corso-temporal/corso/workflows"
)

// TestScheduleCredentialsOpenOnlyInItsRuns: credentials sealed for a
// schedule open in a request Temporal's record of that schedule lists
// (workflow id and first run), and are refused, without retrying, in a
// request started by hand with a copy of them, even one named like the
// schedule's runs and even once the schedule is gone.
func TestScheduleCredentialsOpenOnlyInItsRuns(t *testing.T) {
	a, sealer := newRepositories(t)
	const schedule = "corso-backup-exchange-nightly"
	scheduled := workflows.Request{WorkflowID: schedule + "-2026-12-07T04:00:00Z", WorkflowType: "ExchangeBackupWorkflow", RunID: "run-1"}
	current := scheduled
	a.requestOf = func(context.Context) workflows.Request { return current }
	asked := 0
	exists := true
	a.schedules = scheduleRuns{wait: 50 * time.Millisecond, describe: func(_ context.Context, id string) ([]client.ScheduleWorkflowExecution, error) {
		asked++
		if id != schedule || !exists {
			return nil, serviceerror.NewNotFound("schedule not found")
		}
		return []client.ScheduleWorkflowExecution{{WorkflowID: scheduled.WorkflowID, FirstExecutionRunID: scheduled.RunID}}, nil
	}}
	sealed, err := sealer.Seal(workflows.RepoCredentials{Passphrase: "pw"}, codec.Binding{Schedule: schedule, Purpose: workflows.PurposeBackup})
	if err != nil {
		t.Fatal(err)
	}
	repo := workflows.RepoRef{Storage: workflows.Storage{Provider: workflows.ProviderFilesystem, Path: filepath.Join(t.TempDir(), "repo")}, Credentials: sealed}

	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	// The credentials open: the repository they name does not exist.
	if _, err := env.ExecuteActivity(a.ListBackups, workflows.BackupListInput{Repo: repo}); !isType(err, workflows.ErrTypeRepositoryNotFound) {
		t.Fatalf("a run the schedule started: %v", err)
	}
	asked = 0
	if _, err := env.ExecuteActivity(a.ListBackups, workflows.BackupListInput{Repo: repo}); !isType(err, workflows.ErrTypeRepositoryNotFound) || asked != 0 {
		t.Fatalf("the same run again: %v (asked Temporal %d times, want 0)", err, asked)
	}

	for what, req := range map[string]workflows.Request{
		"a manual start with another id":          {WorkflowID: "corso-backup-exchange-0a1b2c3d4e5f", WorkflowType: "ExchangeBackupWorkflow", RunID: "run-2"},
		"a manual start reusing the run's id":     {WorkflowID: scheduled.WorkflowID, WorkflowType: "ExchangeBackupWorkflow", RunID: "run-3"},
		"a manual start named like a later run":   {WorkflowID: schedule + "-2026-12-07T08:00:00Z", WorkflowType: "ExchangeBackupWorkflow", RunID: "run-4"},
		"an activity outside any request's chain": {},
	} {
		current = req
		_, err := env.ExecuteActivity(a.ListBackups, workflows.BackupListInput{Repo: repo})
		if !isType(err, workflows.ErrTypeCredentialsRefused) {
			t.Errorf("%s: want a non-retryable %s, got %v", what, workflows.ErrTypeCredentialsRefused, err)
		} else {
			t.Logf("%s: %v", what, err)
		}
	}
	exists = false
	current = workflows.Request{WorkflowID: schedule + "-2026-12-08T04:00:00Z", WorkflowType: "ExchangeBackupWorkflow", RunID: "run-5"}
	if _, err := env.ExecuteActivity(a.ListBackups, workflows.BackupListInput{Repo: repo}); !isType(err, workflows.ErrTypeCredentialsRefused) {
		t.Errorf("after the schedule was deleted: %v", err)
	}
}
