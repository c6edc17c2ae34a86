package activities

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"

	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/workflows"
)

// TestBackupDetailsPagesStayBoundedInBytes: entries with long names come
// in pages under the project's payload target of 512 KiB however many
// fit the entry limit, and the pages, read in turn, are every entry once.
func TestBackupDetailsPagesStayBoundedInBytes(t *testing.T) {
	f := newExchangeFixture(t, 0)
	const n = 1900
	for i := range n {
		f.src.put(fmt.Sprintf("item-%04d", i), fmt.Sprintf("%04d %s", i, strings.Repeat("a long subject ", 70)))
	}
	f.src.pageSize = 200
	res, _, err := f.run(nil, nil)
	require.NoError(t, err)
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(f.a)
	env.RegisterActivity(f.a.Repos)
	_, err = env.ExecuteActivity(f.a.CombineBackup, workflows.CombineInput{
		Repo: f.repo, BackupID: "b1", TenantID: "tenant", Mailbox: m365.Mailbox{ID: "mbx", UPN: "ann@contoso.com"},
		Collections: []workflows.CollectionResult{res}, Workflow: "wf",
	})
	require.NoError(t, err)

	seen := map[string]bool{}
	pages := 0
	for offset := 0; ; pages++ {
		val, err := env.ExecuteActivity(f.a.Repos.BackupDetails, workflows.BackupDetailsInput{Repo: f.repo, BackupID: "b1", Offset: offset})
		require.NoError(t, err)
		var page workflows.BackupDetailsResult
		require.NoError(t, val.Get(&page))
		require.Equal(t, n, page.Total)
		p, err := converter.GetDefaultDataConverter().ToPayload(page)
		require.NoError(t, err)
		require.Less(t, len(p.GetData()), 512<<10, "the page at %d of %d entries is past the payload target", offset, len(page.Entries))
		for _, e := range page.Entries {
			require.False(t, seen[e.ItemID], "%s twice", e.ItemID)
			seen[e.ItemID] = true
		}
		offset += len(page.Entries)
		if len(page.Entries) == 0 || offset >= page.Total {
			break
		}
	}
	require.Len(t, seen, n)
	require.Greater(t, pages, 1, "the entries fit one page: the test shows nothing")
}
