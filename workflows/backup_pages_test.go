package workflows

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/m365"
)

// pagedTenant is a tenant of n users for paged backup requests: every
// mailbox backs up 2 items of 10 bytes, but those in fail.
type pagedTenant struct {
	n    int
	fail map[string]bool
	// noMailbox are users without a mailbox, left out.
	noMailbox map[string]bool

	store resourceStore
	mu    sync.Mutex
	// children counts the mailbox backups each run started.
	children []int
}

func (p *pagedTenant) upn(i int) string { return fmt.Sprintf("u%03d@x", i) }

// runOnce runs one run of the request in a test environment of its own,
// as the server runs each run of a chain.
func (p *pagedTenant) runOnce(t *testing.T, in ExchangeBackupInput) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	p.store.listMailboxes(env, func(context.Context, ResolveMailboxesInput) ([]m365.Mailbox, error) {
		var out []m365.Mailbox
		for i := range p.n {
			mb := m365.Mailbox{ID: fmt.Sprint("id-", i), UPN: p.upn(i)}
			if p.noMailbox[mb.UPN] {
				mb.Unavailable = m365.CauseNoMailbox
			}
			out = append(out, mb)
		}
		return out, nil
	})
	run := len(p.children)
	p.children = append(p.children, 0)
	env.RegisterWorkflowWithOptions(func(ctx workflow.Context, in MailboxBackupInput) (backup.Summary, error) {
		p.mu.Lock()
		p.children[run]++
		p.mu.Unlock()
		if p.fail[in.Mailbox.UPN] {
			return backup.Summary{}, temporal.NewNonRetryableApplicationError("mailbox gone", ErrTypeUnknownMailbox, nil)
		}
		return backup.Summary{BackupID: in.BackupID, Service: "exchange", Resource: in.Mailbox.UPN, ResourceName: in.Mailbox.UPN,
			Status: backup.StatusCompleted, Items: 2, Bytes: 10}, nil
	}, workflow.RegisterOptions{Name: "MailboxBackupWorkflow"})
	env.ExecuteWorkflow(ExchangeBackupWorkflow, in)
	require.True(t, env.IsWorkflowCompleted())
	return env
}

// backUp runs the request to its end, following each continue-as-new, and
// returns its result and the input each continued run was given.
func (p *pagedTenant) backUp(t *testing.T, in ExchangeBackupInput) (ExchangeBackupResult, []ExchangeBackupInput) {
	t.Helper()
	var continued []ExchangeBackupInput
	for range p.n + 2 {
		env := p.runOnce(t, in)
		err := env.GetWorkflowError()
		var can *workflow.ContinueAsNewError
		if errors.As(err, &can) {
			require.Equal(t, "ExchangeBackupWorkflow", can.WorkflowType.Name)
			in = ExchangeBackupInput{}
			require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &in))
			continued = append(continued, in)
			continue
		}
		require.NoError(t, err)
		var res ExchangeBackupResult
		require.NoError(t, env.GetWorkflowResult(&res))
		return res, continued
	}
	t.Fatal("the request never ended")
	return ExchangeBackupResult{}, nil
}

func TestExchangeBackupContinuesAsNewEveryPageOfMailboxes(t *testing.T) {
	p := &pagedTenant{n: 7, fail: map[string]bool{"u004@x": true}, noMailbox: map[string]bool{"u002@x": true}}
	res, continued := p.backUp(t, ExchangeBackupInput{Mailboxes: []string{"*"}, Graph: GraphRef{TenantID: "t"}, ResourcesPerRun: 2})

	// 6 mailboxes, 2 a run: 3 runs, the resolution stored once and read a
	// page at a time.
	require.Equal(t, []int{2, 2, 2}, p.children)
	require.Len(t, continued, 2)
	require.Equal(t, 1, p.store.resolutions)
	var offsets []int
	for _, pg := range p.store.pages {
		require.Equal(t, 2, pg.Limit)
		offsets = append(offsets, pg.Offset)
	}
	require.Equal(t, []int{0, 2, 4}, offsets)
	// A run carries the list's id and the totals, never the mailboxes
	// still to back up.
	for i, in := range continued {
		require.Equal(t, 2*(i+1), in.Pages.Next)
		b, err := converter.GetDefaultDataConverter().ToPayload(in)
		require.NoError(t, err)
		for j := 2*(i+1) + 1; j < p.n; j++ {
			require.NotContains(t, string(b.GetData()), p.upn(j), "run %d's input names a mailbox still to back up", i+1)
		}
	}

	require.Equal(t, &BackupTotals{Backups: 6, Completed: 5, Failed: 1, Items: 10, Bytes: 50, LeftOut: 1}, res.Totals)
	require.Len(t, res.Backups, 6)
	var names []string
	for _, b := range res.Backups {
		names = append(names, b.Resource)
	}
	require.Equal(t, "u000@x u001@x u003@x u004@x u005@x u006@x", strings.Join(names, " "))
	require.Equal(t, backup.StatusFailed, res.Backups[3].Status)
	require.Equal(t, "mailbox gone", res.Backups[3].Error)
	require.Equal(t, []backup.LeftOut{{Resource: "u002@x", ResourceID: "id-2", Cause: "noMailbox", Reason: m365.CauseNoMailbox.Describe()}}, res.LeftOut)
}

func TestExchangeBackupResultKeepsFailedBackupsWithinTheCap(t *testing.T) {
	n := MaxSummaries + 30
	p := &pagedTenant{n: n, fail: map[string]bool{}}
	// Failures late in the request, after the cap has filled with
	// completed backups.
	for i := n - 20; i < n; i += 2 {
		p.fail[p.upn(i)] = true
	}
	res, continued := p.backUp(t, ExchangeBackupInput{Mailboxes: []string{"*"}, Graph: GraphRef{TenantID: "t"}, ResourcesPerRun: 40})
	require.Len(t, continued, 3)
	require.Equal(t, &BackupTotals{Backups: n, Completed: n - 10, Failed: 10, Items: int64(2 * (n - 10)), Bytes: int64(10 * (n - 10))}, res.Totals)
	require.Len(t, res.Backups, MaxSummaries)
	failed := 0
	for i, b := range res.Backups {
		if b.Status == backup.StatusFailed {
			failed++
			require.True(t, p.fail[b.Resource], b.Resource)
		}
		if i > 0 {
			require.Less(t, res.Backups[i-1].Resource, b.Resource, "kept in the order they were made")
		}
	}
	require.Equal(t, 10, failed, "every failed backup is kept")
}

func TestRequestSummaryBoundsEveryList(t *testing.T) {
	var s RequestSummary
	var leftOut []backup.LeftOut
	for i := range MaxSummaries + 5 {
		leftOut = append(leftOut, backup.LeftOut{Resource: fmt.Sprint("g", i)})
	}
	s.addLeftOut(StoredResources{LeftOut: leftOut}.Listed("l"))
	for i := range MaxSummaries + 5 {
		s.addRetention([]ResourceRetention{{Resource: fmt.Sprint("r", i), Removed: []backup.Dated{{BackupID: "a"}, {BackupID: "b"}}}})
	}
	for i := range 2 * MaxSummaries {
		status := backup.StatusCompleted
		if i%3 == 0 {
			status = backup.StatusFailed
		}
		s.addBackup(backup.Summary{BackupID: fmt.Sprint(i), Status: status, Items: 1, Bytes: 2, Errors: 3})
	}
	require.Len(t, s.LeftOut, MaxSummaries)
	require.Len(t, s.Retention, MaxSummaries)
	require.Len(t, s.Backups, MaxSummaries)
	failed := 0
	for _, b := range s.Backups {
		if b.Status == backup.StatusFailed {
			failed++
		}
	}
	require.Equal(t, (2*MaxSummaries+2)/3, failed)
	require.Equal(t, BackupTotals{Backups: 2 * MaxSummaries, Completed: 2*MaxSummaries - failed, Failed: failed,
		Items: 2 * MaxSummaries, Bytes: 4 * MaxSummaries, Errors: 6 * MaxSummaries, LeftOut: MaxSummaries + 5, Removed: 2 * (MaxSummaries + 5)}, s.Totals)
}

func TestDriveBackupPagesOwnersAndFailsDeniedOnesWithoutAChild(t *testing.T) {
	denied := backup.LeftOut{Resource: "pat@x", ResourceID: "u9", Cause: "accessDenied", Reason: "access denied to the app"}
	var store resourceStore
	in := DriveBackupInput{Service: m365.OneDrive, Resources: []string{"*"}, Graph: GraphRef{TenantID: "t"}, ResourcesPerRun: 2}
	var (
		mu       sync.Mutex
		children []string
	)
	runs := 0
	for {
		runs++
		require.LessOrEqual(t, runs, 5, "the request never ended")
		var s testsuite.WorkflowTestSuite
		env := s.NewTestWorkflowEnvironment()
		store.listDrives(env, func(context.Context, ResolveDrivesInput) ([]ResolvedDrive, error) {
			return []ResolvedDrive{
				{Drive: m365.Drive{ID: "d1", Service: m365.OneDrive, Owner: "u1", OwnerName: "ann@x"}},
				{Drive: m365.Drive{ID: "d2", Service: m365.OneDrive, Owner: "u2", OwnerName: "bob@x"}},
				{Drive: m365.Drive{Service: m365.OneDrive, Owner: "u9", OwnerName: "pat@x"}, LeftOut: &denied},
				{Drive: m365.Drive{ID: "d3", Service: m365.OneDrive, Owner: "u3", OwnerName: "cy@x"}},
			}, nil
		})
		env.RegisterWorkflowWithOptions(func(ctx workflow.Context, in ResourceDrivesBackupInput) (backup.Summary, error) {
			mu.Lock()
			children = append(children, in.Drives[0].OwnerName)
			mu.Unlock()
			return backup.Summary{BackupID: in.BackupID, Service: in.Service, Resource: in.Drives[0].Owner, ResourceName: in.Drives[0].OwnerName,
				Status: backup.StatusCompleted, Items: 5}, nil
		}, workflow.RegisterOptions{Name: "ResourceDrivesBackupWorkflow"})
		env.ExecuteWorkflow(DriveBackupWorkflow, in)
		var can *workflow.ContinueAsNewError
		if err := env.GetWorkflowError(); errors.As(err, &can) {
			in = DriveBackupInput{}
			require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &in))
			continue
		}
		require.NoError(t, env.GetWorkflowError())
		var res DriveBackupResult
		require.NoError(t, env.GetWorkflowResult(&res))
		require.Equal(t, 2, runs)
		// The children of a page run at once, in any order.
		require.ElementsMatch(t, []string{"ann@x", "bob@x", "cy@x"}, children, "no child for the denied user")
		require.Equal(t, &BackupTotals{Backups: 4, Completed: 3, Failed: 1, Items: 15}, res.Totals)
		require.Len(t, res.Backups, 4)
		require.Equal(t, backup.Summary{Service: m365.OneDrive, Tenant: "t", Resource: "u9", ResourceName: "pat@x",
			Status: backup.StatusFailed, Error: denied.Reason}, res.Backups[3])
		return
	}
}
