package workflows

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/m365"
)

// fanOutRuns runs an Exchange request over n mailboxes, each backed up by
// a child that takes a minute, following each continue-as-new, and
// returns how many children each run started and the most in flight at
// once in any run.
func fanOutRuns(t *testing.T, n int, in ExchangeBackupInput) (children []int, most int) {
	t.Helper()
	var store resourceStore
	in.Mailboxes, in.Graph = []string{"*"}, GraphRef{TenantID: "t"}
	for range n + 2 {
		var s testsuite.WorkflowTestSuite
		env := s.NewTestWorkflowEnvironment()
		store.listMailboxes(env, func(context.Context, ResolveMailboxesInput) ([]m365.Mailbox, error) {
			out := make([]m365.Mailbox, n)
			for i := range out {
				out[i] = m365.Mailbox{ID: fmt.Sprint("id-", i), UPN: fmt.Sprintf("u%04d@x", i)}
			}
			return out, nil
		})
		started, inFlight := 0, 0
		env.RegisterWorkflowWithOptions(func(ctx workflow.Context, in MailboxBackupInput) (backup.Summary, error) {
			started++
			inFlight++
			most = max(most, inFlight)
			defer func() { inFlight-- }()
			if err := workflow.Sleep(ctx, time.Minute); err != nil {
				return backup.Summary{}, err
			}
			return backup.Summary{BackupID: in.BackupID, Service: "exchange", Resource: in.Mailbox.UPN, Status: backup.StatusCompleted}, nil
		}, workflow.RegisterOptions{Name: "MailboxBackupWorkflow"})
		env.ExecuteWorkflow(ExchangeBackupWorkflow, in)
		require.True(t, env.IsWorkflowCompleted())
		children = append(children, started)
		err := env.GetWorkflowError()
		var can *workflow.ContinueAsNewError
		if !errors.As(err, &can) {
			require.NoError(t, err)
			return children, most
		}
		in = ExchangeBackupInput{}
		require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &in))
	}
	t.Fatal("the request never ended")
	return nil, 0
}

func TestExchangeBackupRunsTheRequestedResourcesInFlight(t *testing.T) {
	for _, tc := range []struct {
		name         string
		n            int
		in           ExchangeBackupInput
		wantRuns     []int
		wantInFlight int
	}{
		{"unset: the default", 100, ExchangeBackupInput{}, []int{100}, DefaultResourcesInFlight},
		{"more than the default", 100, ExchangeBackupInput{ResourcesInFlight: 90}, []int{100}, 90},
		{"fewer than the default", 20, ExchangeBackupInput{ResourcesInFlight: 3}, []int{20}, 3},
		{"more than a page: the page grows to hold them", ResourcesPerRun + 100,
			ExchangeBackupInput{ResourcesInFlight: ResourcesPerRun + 50}, []int{ResourcesPerRun + 50, 50}, ResourcesPerRun + 50},
		{"a smaller page bounds them", 10, ExchangeBackupInput{ResourcesInFlight: 8, ResourcesPerRun: 4}, []int{4, 4, 2}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runs, most := fanOutRuns(t, tc.n, tc.in)
			require.Equal(t, tc.wantRuns, runs, "children started by each run")
			require.Equal(t, tc.wantInFlight, most, "children in flight at once")
		})
	}
}

func TestResourcesInFlightIsBounded(t *testing.T) {
	require.Equal(t, DefaultResourcesInFlight, resourcesInFlight(0))
	require.Equal(t, 1, resourcesInFlight(1))
	require.Equal(t, 700, resourcesInFlight(700))
	require.Equal(t, MaxResourcesInFlight, resourcesInFlight(MaxResourcesInFlight+1))
}
