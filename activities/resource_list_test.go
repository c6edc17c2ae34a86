package activities

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"

	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/workflows"
)

// largeTenant resolves "*" to n mailboxes, every tenth user without one.
type largeTenant struct {
	*fakeMailbox
	n int
}

func (l largeTenant) ResolveMailboxes(context.Context, []string) ([]m365.Mailbox, error) {
	out := make([]m365.Mailbox, l.n)
	for i := range out {
		out[i] = m365.Mailbox{ID: fmt.Sprintf("0000-%06d", i), UPN: fmt.Sprintf("user%06d@contoso.onmicrosoft.com", i), DisplayName: fmt.Sprint("User ", i)}
		if i%10 == 9 {
			out[i].Unavailable = m365.CauseNoMailbox
		}
	}
	return out, nil
}

func TestResolvedMailboxesAreStoredAndReadAPageAtATime(t *testing.T) {
	f := newExchangeFixture(t, 0)
	const n = 10000
	f.a.NewClient = func(string, string, string) (Client, error) { return largeTenant{fakeMailbox: f.src, n: n}, nil }
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(f.a)
	env.RegisterActivity(f.a.Repos)

	val, err := env.ExecuteActivity(f.a.ResolveMailboxList, workflows.ResolveMailboxesInput{Graph: f.gr, Selectors: []string{"*"}, Repo: &f.repo})
	require.NoError(t, err)
	var list workflows.ResourceList
	require.NoError(t, val.Get(&list))
	require.Equal(t, n-n/10, list.Resources)
	require.Equal(t, n/10, list.LeftOutCount)
	require.Len(t, list.LeftOut, workflows.MaxSummaries)
	// The answer names the list; the mailboxes stay in the repository.
	p, err := converter.GetDefaultDataConverter().ToPayload(list)
	require.NoError(t, err)
	require.Less(t, len(p.GetData()), 32<<10)

	var all []string
	for off := 0; ; off += 700 {
		val, err := env.ExecuteActivity(f.a.Repos.ReadResourcePage, workflows.ResourcePageInput{Repo: f.repo, ListID: list.ID, Offset: off, Limit: 700})
		require.NoError(t, err)
		var page []workflows.ResolvedResource
		require.NoError(t, val.Get(&page))
		if len(page) == 0 {
			break
		}
		require.LessOrEqual(t, len(page), 700)
		for _, r := range page {
			all = append(all, r.Mailbox.UPN)
		}
	}
	require.Len(t, all, list.Resources)
	for k, upn := range all {
		i := k + k/9 // every tenth user has no mailbox
		require.Equal(t, fmt.Sprintf("user%06d@contoso.onmicrosoft.com", i), upn)
	}

	_, err = env.ExecuteActivity(f.a.Repos.ReadResourcePage, workflows.ResourcePageInput{Repo: f.repo, ListID: list.ID, Limit: 0})
	require.True(t, isType(err, workflows.ErrTypeInvalidInput), "a page of nothing: %v", err)
}

func TestBackupListPagesAndFiltersByResource(t *testing.T) {
	f := newDriveFixture(t)
	for _, id := range []string{"b1", "b2", "b3"} {
		_, err := f.backup(id)
		require.NoError(t, err)
	}
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(f.a.Repos)
	list := func(in workflows.BackupListInput) ([]string, int) {
		t.Helper()
		in.Repo = f.repo
		val, err := env.ExecuteActivity(f.a.Repos.ListBackups, in)
		require.NoError(t, err)
		var res workflows.BackupListResult
		require.NoError(t, val.Get(&res))
		var ids []string
		for _, b := range res.Backups {
			ids = append(ids, b.BackupID)
		}
		return ids, res.Total
	}
	every, total := list(workflows.BackupListInput{Service: m365.OneDrive})
	require.Len(t, every, 3)
	require.Equal(t, 3, total)
	first, total := list(workflows.BackupListInput{Service: m365.OneDrive, Limit: 2})
	require.Equal(t, every[:2], first)
	require.Equal(t, 3, total)
	rest, _ := list(workflows.BackupListInput{Service: m365.OneDrive, Offset: 2, Limit: 2})
	require.Equal(t, every[2:], rest)
	none, _ := list(workflows.BackupListInput{Service: m365.OneDrive, Offset: 5, Limit: 2})
	require.Empty(t, none)
	other, total := list(workflows.BackupListInput{Service: m365.OneDrive, Resources: []string{"someone-else"}})
	require.Empty(t, other)
	require.Zero(t, total)
	mine, _ := list(workflows.BackupListInput{Service: m365.OneDrive, Resources: []string{"someone-else", "u"}})
	require.Equal(t, every, mine)
}
