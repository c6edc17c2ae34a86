package activities

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/workflows"
)

// TestManyCollectionsTravelThroughTheRepository: the plan of a mailbox of
// more than InlineCollections collections is stored in groups; each group
// reads its plans and stores its results by id, and combine reads them:
// the backup holds every folder's items, and the incremental after it,
// planned from that backup, fetches only what changed.
func TestManyCollectionsTravelThroughTheRepository(t *testing.T) {
	f := newExchangeFixture(t, 0)
	sizes := map[string]int{"inbox": 9, "sent": 5, "archive": 7, "a": 3, "b": 2}
	src := newFakeFolders(sizes)
	// The sizes Graph reports: inbox big enough for a group of its own.
	for id, n := range map[string]int64{"inbox": 1500, "sent": 900, "archive": 900, "a": 300, "b": 10} {
		src.containers = append(src.containers, m365.Container{ID: id, DisplayName: id, Path: []string{id}, ItemCount: n})
	}
	f.a.NewClient = func(string, string, string) (Client, error) { return src, nil }
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(f.a)
	mbx := m365.Mailbox{ID: "mbx", UPN: "ann@contoso.com"}

	backUp := func(backupID string) (backup.Summary, [][]workflows.CollectionResult) {
		t.Helper()
		val, err := env.ExecuteActivity(f.a.PlanMailboxBackup, workflows.PlanMailboxInput{
			Repo: f.repo, Graph: f.gr, Mailbox: mbx, Categories: []string{"email"}, InlineCollections: 3,
		})
		require.NoError(t, err)
		var plan workflows.MailboxPlan
		require.NoError(t, val.Get(&plan))
		require.Empty(t, plan.Collections, "a plan of more than InlineCollections is stored")
		total := 0
		var ids []string
		var stored [][]workflows.CollectionResult
		for _, g := range plan.Groups {
			total += g.Collections
			val, err := env.ExecuteActivity(f.a.BackupCollections, workflows.BackupCollectionsInput{
				Repo: f.repo, Graph: f.gr, BackupID: backupID, MailboxID: mbx.ID, Concurrency: 2, PlansID: g.PlansID,
			})
			require.NoError(t, err)
			var res workflows.BackupCollectionsResult
			require.NoError(t, val.Get(&res))
			require.Empty(t, res.Collections, "results are stored, not returned")
			require.NotNil(t, res.Totals)
			require.Equal(t, g.Collections, res.Totals.Collections)
			ids = append(ids, res.ResultsID)
			var rs []workflows.CollectionResult
			f.readJSON(res.ResultsID, &rs)
			require.Len(t, rs, g.Collections)
			var items int64
			for _, r := range rs {
				items += r.Items
			}
			require.Equal(t, items, res.Totals.Items)
			stored = append(stored, rs)
		}
		require.Equal(t, len(sizes), total, "every folder in one group")
		val, err = env.ExecuteActivity(f.a.CombineBackup, workflows.CombineInput{
			Repo: f.repo, BackupID: backupID, TenantID: "tenant", Mailbox: mbx, ResultsIDs: ids, Workflow: "wf",
		})
		require.NoError(t, err)
		var sum backup.Summary
		require.NoError(t, val.Get(&sum))
		return sum, stored
	}
	check := func(stored [][]workflows.CollectionResult) {
		t.Helper()
		seen := 0
		for _, rs := range stored {
			for _, r := range rs {
				require.Equal(t, f.folderTruth(src.folders[r.Container.ID]), f.stored(r), r.Container.ID)
				seen++
			}
		}
		require.Equal(t, len(sizes), seen)
	}

	full, stored := backUp("full")
	require.Len(t, stored, 3, "inbox alone; sent and archive; a and b")
	require.Equal(t, int64(9+5+7+3+2), full.Items)
	check(stored)
	require.Equal(t, sizes, src.fetched())

	src.folders["inbox"].put("inbox-new", "brand new")
	src.folders["archive"].remove("archive-01")
	inc, stored := backUp("inc")
	require.Len(t, stored, 1, "the folders resuming from delta links, together")
	require.Equal(t, int64(10+5+6+3+2), inc.Items)
	check(stored)
	require.Equal(t, map[string]int{"inbox": 1, "sent": 0, "archive": 0, "a": 0, "b": 0}, src.fetched(), "only what changed is fetched")
}

// readJSON reads a repository object of the fixture's repository.
func (f *exchangeFixture) readJSON(id string, v any) {
	ctx := context.Background()
	r, err := f.a.Repos.open(ctx, f.repo)
	require.NoError(f.t, err)
	defer r.Release(ctx)
	require.NoError(f.t, r.ReadJSON(ctx, id, v))
}
