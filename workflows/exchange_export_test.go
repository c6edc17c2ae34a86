package workflows

import (
	"context"
	"errors"
	"testing"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
)

// An export attempt that fails (Temporal unreachable past the heartbeat
// timeout, storage trouble) is retried; one refused for the admin's input
// is not.
func TestExportAttemptsAreRetried(t *testing.T) {
	for _, tc := range []struct {
		name      string
		wf        any
		activity  string
		fail      error
		attempts  int
		succeeded bool
	}{
		{"exchange", ExchangeExportWorkflow, ActivityExportExchange, errors.New("heartbeat timeout"), 2, true},
		{"drive", DriveExportWorkflow, ActivityExportDrive, errors.New("storage unreachable"), 2, true},
		{"bad input", ExchangeExportWorkflow, ActivityExportExchange,
			temporal.NewNonRetryableApplicationError("export directory is a file", ErrTypeInvalidInput, nil), 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s testsuite.WorkflowTestSuite
			env := s.NewTestWorkflowEnvironment()
			attempts := 0
			env.RegisterActivityWithOptions(func(ctx context.Context, in ExportInput) (ExportResult, error) {
				attempts++
				if activity.GetInfo(ctx).Attempt == 1 {
					return ExportResult{}, tc.fail
				}
				return ExportResult{BackupID: in.BackupID, Files: 3}, nil
			}, activity.RegisterOptions{Name: tc.activity})
			env.ExecuteWorkflow(tc.wf, ExportInput{BackupID: "b1", Dir: "/tmp/x", TaskQueue: "cli"})
			if !env.IsWorkflowCompleted() {
				t.Fatal("workflow did not complete")
			}
			err := env.GetWorkflowError()
			if tc.succeeded {
				var res ExportResult
				if err != nil || env.GetWorkflowResult(&res) != nil || res.Files != 3 {
					t.Fatalf("export after a failed attempt: %v %+v", err, res)
				}
			} else if err == nil {
				t.Fatal("export with bad input succeeded")
			}
			if attempts != tc.attempts {
				t.Errorf("%d attempts, want %d", attempts, tc.attempts)
			}
		})
	}
}
