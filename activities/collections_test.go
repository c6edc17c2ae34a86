package activities

import (
	"context"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/kopia/kopia/repo/manifest"
	"github.com/kopia/kopia/snapshot"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/repository"
	"github.com/corso-temporal/corso/workflows"
)

// fakeFolders is a mailbox of several folders, each a fakeMailbox.
type fakeFolders struct {
	unfaked
	folders map[string]*fakeMailbox
	// containers are what Containers lists.
	containers []m365.Container
	mu         sync.Mutex
	fetches    int
	breakAt    int // after this many fetches across folders, fail the activity
}

func newFakeFolders(sizes map[string]int) *fakeFolders {
	f := &fakeFolders{folders: map[string]*fakeMailbox{}}
	for id, n := range sizes {
		fm := newFakeMailbox(0)
		for i := range n {
			fm.put(fmt.Sprintf("%s-%02d", id, i), fmt.Sprintf("%s body %d", id, i))
		}
		f.folders[id] = fm
	}
	return f
}

func (f *fakeFolders) ResolveMailboxes(context.Context, []string) ([]m365.Mailbox, error) {
	return []m365.Mailbox{{ID: "mbx", UPN: "ann@contoso.com"}}, nil
}

func (f *fakeFolders) Containers(context.Context, string, m365.Category) ([]m365.Container, error) {
	return f.containers, nil
}

func (f *fakeFolders) DeltaPage(ctx context.Context, mbx string, cat m365.Category, id, link string) (m365.Page, error) {
	return f.folders[id].DeltaPage(ctx, mbx, cat, id, link)
}

func (f *fakeFolders) ListPage(ctx context.Context, mbx string, cat m365.Category, id, link string) (m365.Page, error) {
	return f.folders[id].ListPage(ctx, mbx, cat, id, link)
}

func (f *fakeFolders) FetchItemIn(ctx context.Context, mbx string, cat m365.Category, _, itemID string) (io.ReadCloser, error) {
	f.mu.Lock()
	if f.breakAt > 0 && f.fetches >= f.breakAt {
		f.mu.Unlock()
		return nil, &m365.ThrottledError{Err: errCrash}
	}
	f.fetches++
	f.mu.Unlock()
	for _, fm := range f.folders {
		fm.mu.Lock()
		_, ok := fm.items[itemID]
		fm.mu.Unlock()
		if ok {
			return fm.FetchItemIn(ctx, mbx, cat, "", itemID)
		}
	}
	return nil, fmt.Errorf("%w: item %s", m365.ErrNotFound, itemID)
}

func (f *fakeFolders) fetched() map[string]int {
	out := map[string]int{}
	for id, fm := range f.folders {
		n := 0
		for _, c := range fm.fetches {
			n += c
		}
		out[id] = n
		fm.resetCounts()
	}
	return out
}

func plansOf(ids []string, prev map[string]workflows.CollectionResult, t *testing.T) []workflows.CollectionPlan {
	var plans []workflows.CollectionPlan
	for _, id := range ids {
		p := workflows.CollectionPlan{Container: m365.Container{ID: id, DisplayName: id, Path: []string{id}, Category: m365.Email}}
		if r, ok := prev[id]; ok {
			p.Previous = previousOf(t, r)
		}
		plans = append(plans, p)
	}
	return plans
}

// runTogether executes BackupCollections, optionally resuming from
// heartbeat details, and returns the results by container and the last
// heartbeat sent.
func (f *exchangeFixture) runTogether(plans []workflows.CollectionPlan, resume *collectionsCheckpoint) (map[string]workflows.CollectionResult, *collectionsCheckpoint, error) {
	env, last := checkpointedEnv(f.a, resume)
	val, err := env.ExecuteActivity(f.a.BackupCollections, workflows.BackupCollectionsInput{
		Repo: f.repo, Graph: f.gr, BackupID: "b", MailboxID: "mbx", Concurrency: 2, Plans: plans,
	})
	if err != nil {
		return nil, *last, err
	}
	var res workflows.BackupCollectionsResult
	require.NoError(f.t, val.Get(&res))
	require.Len(f.t, res.Collections, len(plans))
	out := map[string]workflows.CollectionResult{}
	for i, r := range res.Collections {
		require.Equal(f.t, plans[i].Container.ID, r.Container.ID, "results come in plan order")
		out[r.Container.ID] = r
	}
	return out, *last, nil
}

func (f *exchangeFixture) folderTruth(fm *fakeMailbox) map[string]string {
	out := map[string]string{}
	for id, it := range fm.items {
		out[id] = it.body
	}
	return out
}

func TestCollectionsTogetherBackUpOnlyWhatChanged(t *testing.T) {
	f := newExchangeFixture(t, 0)
	src := newFakeFolders(map[string]int{"inbox": 9, "sent": 5, "archive": 7})
	f.a.NewClient = func(string, string, string) (Client, error) { return src, nil }
	ids := []string{"inbox", "sent", "archive"}

	full, _, err := f.runTogether(plansOf(ids, nil, t), nil)
	require.NoError(t, err)
	for _, id := range ids {
		require.Equal(t, f.folderTruth(src.folders[id]), f.stored(full[id]), id)
	}
	require.Equal(t, map[string]int{"inbox": 9, "sent": 5, "archive": 7}, src.fetched())

	src.folders["inbox"].put("item-new", "brand new")
	src.folders["inbox"].put("inbox-03", "edited body")
	src.folders["archive"].remove("archive-01")
	inc, _, err := f.runTogether(plansOf(ids, full, t), nil)
	require.NoError(t, err)
	for _, id := range ids {
		require.Equal(t, f.folderTruth(src.folders[id]), f.stored(inc[id]), id)
	}
	require.Equal(t, map[string]int{"inbox": 2, "sent": 0, "archive": 0}, src.fetched(), "only changed items are downloaded")
	require.Equal(t, full["sent"].DetailsID, inc["sent"].DetailsID, "an unchanged folder keeps its details")
	require.Equal(t, previousOf(t, full["sent"]).DirID, previousOf(t, inc["sent"]).DirID, "and its directory")
	require.Equal(t, int64(1), inc["archive"].Removed)
	require.Equal(t, int64(10), inc["inbox"].Items)
	require.Equal(t, int64(2), inc["inbox"].Fetched)
}

func TestCollectionsTogetherResumeFromCheckpointAfterACrash(t *testing.T) {
	f := newExchangeFixture(t, 0)
	src := newFakeFolders(map[string]int{"a": 3, "b": 4, "c": 20, "d": 20})
	f.a.NewClient = func(string, string, string) (Client, error) { return src, nil }
	ids := []string{"a", "b", "c", "d"}
	plans := plansOf(ids, nil, t)

	src.breakAt = 30 // the worker dies during the 31st download
	_, cp, err := f.runTogether(plans, nil)
	require.Error(t, err)
	require.NotNil(t, cp)
	require.Len(t, cp.Collections, len(ids))
	require.NotNil(t, cp.Results[0], "a small folder finished before the crash")

	src.breakAt = 0
	res, _, err := f.runTogether(plans, cp)
	require.NoError(t, err)
	for _, id := range ids {
		require.Equal(t, f.folderTruth(src.folders[id]), f.stored(res[id]), id)
	}
	require.Zero(t, src.folders["a"].fetches["a-00"]-1, "a finished folder is not backed up again")
	again := src.fetches - 47 // beyond each item once
	t.Logf("%d items fetched again", again)
	// Two collections at once, each losing at most its checkpoint share
	// plus a page.
	require.LessOrEqual(t, again, f.a.CheckpointItems+2*src.folders["a"].pageSize, "a crash costs about one checkpoint of re-fetching")
	for id, fm := range src.folders {
		for item, n := range fm.fetches {
			require.LessOrEqual(t, n, 2, "item %s of %s fetched %d times", item, id, n)
		}
	}
}

func TestCollectionsTogetherRecordTheBackupAsCombineWould(t *testing.T) {
	f := newExchangeFixture(t, 0)
	src := newFakeFolders(map[string]int{"inbox": 9, "sent": 5, "archive": 7})
	f.a.NewClient = func(string, string, string) (Client, error) { return src, nil }
	ids := []string{"inbox", "sent", "archive"}
	full, _, err := f.runTogether(plansOf(ids, nil, t), nil)
	require.NoError(t, err)
	src.folders["inbox"].put("inbox-new", "brand new")
	src.folders["sent"].remove("sent-02")

	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(f.a)
	mbx := m365.Mailbox{ID: "mbx", UPN: "ann@contoso.com"}
	started := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	val, err := env.ExecuteActivity(f.a.BackupCollections, workflows.BackupCollectionsInput{
		Repo: f.repo, Graph: f.gr, BackupID: "inc", MailboxID: "mbx", Concurrency: 2, Plans: plansOf(ids, full, t),
		Record: &workflows.BackupRecord{TenantID: "tenant", Mailbox: mbx, Started: started, Workflow: "wf"},
	})
	require.NoError(t, err)
	var res workflows.BackupCollectionsResult
	require.NoError(t, val.Get(&res))
	require.NotNil(t, res.Backup)
	require.Equal(t, "inc", res.Backup.BackupID)
	require.Equal(t, int64(9+1+4+7), res.Backup.Items)
	require.Equal(t, int64(1), res.Backup.Fetched)
	require.Len(t, res.Collections, 3)

	// CombineBackup, given the same collections, writes the same tree.
	val, err = env.ExecuteActivity(f.a.CombineBackup, workflows.CombineInput{
		Repo: f.repo, BackupID: "combined", TenantID: "tenant", Mailbox: mbx, Started: started,
		Collections: res.Collections, Workflow: "wf",
	})
	require.NoError(t, err)
	var combined backup.Summary
	require.NoError(t, val.Get(&combined))
	require.Equal(t, res.Backup.Items, combined.Items)
	require.Equal(t, res.Backup.Bytes, combined.Bytes)

	ctx := context.Background()
	r, err := f.a.Repos.open(ctx, f.repo)
	require.NoError(t, err)
	defer r.Release(ctx)
	require.NoError(t, r.Refresh(ctx))
	root := func(id string) (string, repository.BackupIndex) {
		b, err := r.Backup(ctx, id)
		require.NoError(t, err)
		m, err := snapshot.LoadSnapshot(ctx, r, manifest.ID(b.SnapshotID))
		require.NoError(t, err)
		idx, err := r.Index(ctx, b)
		require.NoError(t, err)
		return m.RootEntry.ObjectID.String(), idx
	}
	incRoot, incIdx := root("inc")
	combinedRoot, combinedIdx := root("combined")
	require.Equal(t, combinedRoot, incRoot)
	require.Equal(t, combinedIdx, incIdx)
}
