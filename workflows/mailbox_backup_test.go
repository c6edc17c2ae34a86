package workflows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/m365"
)

// fakeBackupActivities records what the workflows ask for.
type fakeBackupActivities struct {
	mu          sync.Mutex
	containers  int
	inFlight    int // requests, the sum of the concurrency of collections in flight
	maxInFlight int
	running     int // collection activities in flight
	maxRunning  int
	sizes       []int64
	concurrency map[string]int
	failMailbox string
	unavailable map[string]m365.Cause // the resolution's causes, by UPN
	combined    []CombineInput
	// incremental marks the containers the previous backup has a delta
	// link for.
	incremental map[int]bool
	together    []BackupCollectionsInput
	single      []string
	recorded    []BackupCollectionsInput
	store       *resourceStore
	// stored are the plans and results of groups, by id, as the
	// repository would hold them; payload is the largest encoded input or
	// result of an activity.
	stored  map[string]any
	payload int
}

// sized notes the encoded size of an activity's input or result.
func (f *fakeBackupActivities) sized(v any) {
	b, _ := json.Marshal(v)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.payload = max(f.payload, len(b))
}

// store keeps v as the repository would, and returns its id.
func (f *fakeBackupActivities) put(v any) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stored == nil {
		f.stored = map[string]any{}
	}
	id := fmt.Sprint("k", len(f.stored))
	f.stored[id] = v
	return id
}

func (f *fakeBackupActivities) register(env *testsuite.TestWorkflowEnvironment) {
	if f.store == nil {
		f.store = &resourceStore{}
	}
	f.store.listMailboxes(env, func(_ context.Context, in ResolveMailboxesInput) ([]m365.Mailbox, error) {
		var out []m365.Mailbox
		for _, s := range in.Selectors {
			out = append(out, m365.Mailbox{ID: "id-" + s, UPN: s, Unavailable: f.unavailable[s]})
		}
		return out, nil
	})
	env.RegisterActivityWithOptions(func(_ context.Context, in PlanMailboxInput) (p MailboxPlan, err error) {
		defer func() { f.sized(p) }()
		if in.Mailbox.UPN == f.failMailbox {
			return MailboxPlan{}, temporal.NewNonRetryableApplicationError("mailbox gone", ErrTypeUnknownMailbox, nil)
		}
		for i := range f.containers {
			var n int64
			if i < len(f.sizes) {
				n = f.sizes[i]
			}
			cp := CollectionPlan{Container: m365.Container{ID: fmt.Sprint(i), Category: m365.Email, Path: []string{fmt.Sprint("folder", i)}, ItemCount: n}}
			if f.incremental[i] {
				cp.Previous = &PreviousCollection{BackupID: "b0", DirID: "d", DetailsID: "x", DeltaLink: "link-" + fmt.Sprint(i)}
			}
			p.Collections = append(p.Collections, cp)
		}
		if in.InlineCollections > 0 && len(p.Collections) > in.InlineCollections {
			groups, weights := PackCollections(p.Collections)
			p.Collections = nil
			for i, g := range groups {
				p.Groups = append(p.Groups, CollectionGroup{PlansID: f.put(g), Collections: len(g), Weight: weights[i]})
			}
		}
		return p, nil
	}, activity.RegisterOptions{Name: ActivityPlanMailbox})
	env.RegisterActivityWithOptions(func(_ context.Context, in BackupCollectionInput) (CollectionResult, error) {
		f.mu.Lock()
		f.inFlight += in.Concurrency
		f.maxInFlight = max(f.maxInFlight, f.inFlight)
		f.running++
		f.maxRunning = max(f.maxRunning, f.running)
		if f.concurrency == nil {
			f.concurrency = map[string]int{}
		}
		f.concurrency[in.Plan.Container.ID] = in.Concurrency
		f.single = append(f.single, in.Plan.Container.ID)
		f.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		f.mu.Lock()
		f.inFlight -= in.Concurrency
		f.running--
		f.mu.Unlock()
		return CollectionResult{Container: in.Plan.Container, Items: 10, Bytes: 100, DirEntry: []byte(`{}`)}, nil
	}, activity.RegisterOptions{Name: ActivityBackupCollection})
	env.RegisterActivityWithOptions(func(_ context.Context, in BackupCollectionsInput) (res BackupCollectionsResult, err error) {
		f.sized(in)
		defer func() { f.sized(res) }()
		asked := in
		if in.PlansID != "" {
			f.mu.Lock()
			in.Plans = f.stored[in.PlansID].([]CollectionPlan)
			f.mu.Unlock()
		}
		f.mu.Lock()
		f.inFlight += in.Concurrency
		f.maxInFlight = max(f.maxInFlight, f.inFlight)
		f.together = append(f.together, asked)
		f.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		f.mu.Lock()
		f.inFlight -= in.Concurrency
		f.mu.Unlock()
		for _, p := range in.Plans {
			link := "new"
			if p.Previous != nil {
				link = p.Previous.DeltaLink
			}
			res.Collections = append(res.Collections, CollectionResult{Container: p.Container, Items: 10, Bytes: 100, DirEntry: []byte(`{}`), DeltaLink: link + "+"})
		}
		if r := in.Record; r != nil {
			f.mu.Lock()
			f.recorded = append(f.recorded, in)
			f.mu.Unlock()
			res.Backup = &backup.Summary{BackupID: in.BackupID, Resource: r.Mailbox.ID, ResourceName: r.Mailbox.UPN, Status: backup.StatusCompleted,
				Items: 10 * int64(len(in.Plans)), Started: r.Started, Workflow: r.Workflow}
		}
		if in.PlansID != "" {
			res = BackupCollectionsResult{ResultsID: f.put(res.Collections),
				Totals: &CollectionTotals{Collections: len(in.Plans), Items: 10 * int64(len(in.Plans)), Bytes: 100 * int64(len(in.Plans))}}
		}
		return res, nil
	}, activity.RegisterOptions{Name: ActivityBackupCollections})
	env.RegisterActivityWithOptions(func(_ context.Context, in CombineInput) (backup.Summary, error) {
		f.sized(in)
		f.mu.Lock()
		all := in.Collections
		for _, id := range in.ResultsIDs {
			all = append(all, f.stored[id].([]CollectionResult)...)
		}
		f.combined = append(f.combined, in)
		f.mu.Unlock()
		var items int64
		for _, c := range all {
			items += c.Items
		}
		return backup.Summary{BackupID: in.BackupID, Resource: in.Mailbox.ID, ResourceName: in.Mailbox.UPN, Status: backup.StatusCompleted, Items: items}, nil
	}, activity.RegisterOptions{Name: ActivityCombineBackup})
}

func TestMailboxBackupBoundsConcurrencyAndCombinesEveryCollection(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	// Folders of 1,000 items each have an activity of their own.
	f := &fakeBackupActivities{containers: 11, sizes: []int64{1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000}}
	f.register(env)
	env.RegisterWorkflow(MailboxBackupWorkflow)
	env.ExecuteWorkflow(MailboxBackupWorkflow, MailboxBackupInput{BackupID: "b1", Mailbox: m365.Mailbox{ID: "m", UPN: "ann@x"}, Categories: []string{"email"}})
	require.NoError(t, env.GetWorkflowError())
	var sum backup.Summary
	require.NoError(t, env.GetWorkflowResult(&sum))
	require.Equal(t, int64(110), sum.Items)
	require.Len(t, f.combined, 1)
	require.Len(t, f.combined[0].Collections, 11)
	for i, c := range f.combined[0].Collections {
		require.Equal(t, fmt.Sprint(i), c.Container.ID, "results keep plan order")
	}
	require.LessOrEqual(t, f.maxInFlight, MailboxRequestBudget, "never more requests than Exchange allows per mailbox")
	require.Equal(t, MailboxRequestBudget, f.maxInFlight, "the whole budget in use while collections remain")
	require.GreaterOrEqual(t, f.maxRunning, 2, "collections backed up at once")

	v, err := env.QueryWorkflow(ProgressQuery)
	require.NoError(t, err)
	var p BackupProgress
	require.NoError(t, v.Get(&p))
	require.Equal(t, BackupProgress{BackupID: "b1", Resource: "ann@x", Stage: "done", CollectionsTotal: 11, CollectionsDone: 11, Items: 110, Bytes: 1100}, p)
}

func TestMailboxBackupFailsOnACollectionsFinalError(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	f := &fakeBackupActivities{containers: 3, sizes: []int64{5000, 3000, 1000}}
	f.register(env)
	env.RegisterWorkflow(MailboxBackupWorkflow)
	env.OnActivity(ActivityBackupCollection, mock.Anything, mock.Anything).Return(CollectionResult{},
		temporal.NewNonRetryableApplicationError("item x failed (--fail-fast)", ErrTypeItemFailed, nil))
	env.ExecuteWorkflow(MailboxBackupWorkflow, MailboxBackupInput{BackupID: "b1", Mailbox: m365.Mailbox{ID: "m", UPN: "ann@x"}, Categories: []string{"email"}})
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(env.GetWorkflowError(), &appErr))
	require.Equal(t, ErrTypeItemFailed, appErr.Type())
	require.Empty(t, f.combined, "a failed backup is not recorded as complete")
}

func TestExchangeBackupRunsOneChildPerMailboxAndIsolatesFailures(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	f := &fakeBackupActivities{containers: 2, sizes: []int64{2, 1}, failMailbox: "bob@x"}
	f.register(env)
	env.RegisterWorkflow(ExchangeBackupWorkflow)
	env.RegisterWorkflow(MailboxBackupWorkflow)
	env.ExecuteWorkflow(ExchangeBackupWorkflow, ExchangeBackupInput{Mailboxes: []string{"ann@x", "bob@x", "cy@x"}, Graph: GraphRef{TenantID: "t"}})
	require.NoError(t, env.GetWorkflowError())
	var res ExchangeBackupResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Len(t, res.Backups, 3)
	ids := map[string]bool{}
	for i, want := range []string{backup.StatusCompleted, backup.StatusFailed, backup.StatusCompleted} {
		require.Equal(t, want, res.Backups[i].Status, res.Backups[i].ResourceName)
		require.NotEmpty(t, res.Backups[i].BackupID)
		ids[res.Backups[i].BackupID] = true
	}
	require.Len(t, ids, 3, "every mailbox gets its own backup id")
	require.Equal(t, "mailbox gone", res.Backups[1].Error)
	require.Len(t, f.recorded, 2, "each small mailbox is recorded by its one activity")
	for _, c := range f.recorded {
		require.NotEmpty(t, c.BackupID)
		require.Equal(t, "t", c.Record.TenantID)
	}
}

func TestExchangeBackupReportsUsersWithoutAMailboxAndBacksUpTheOthers(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	f := &fakeBackupActivities{containers: 1, unavailable: map[string]m365.Cause{"guest@x": m365.CauseNoMailbox, "temp@x": m365.CauseUnlicensed}}
	f.register(env)
	env.RegisterWorkflow(ExchangeBackupWorkflow)
	env.RegisterWorkflow(MailboxBackupWorkflow)
	env.ExecuteWorkflow(ExchangeBackupWorkflow, ExchangeBackupInput{Mailboxes: []string{"guest@x", "ann@x", "temp@x"}, Graph: GraphRef{TenantID: "t"}})
	require.NoError(t, env.GetWorkflowError())
	var res ExchangeBackupResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Len(t, res.Backups, 1)
	require.Equal(t, "ann@x", res.Backups[0].ResourceName)
	require.Equal(t, []backup.LeftOut{
		{Resource: "guest@x", ResourceID: "id-guest@x", Cause: "noMailbox", Reason: m365.CauseNoMailbox.Describe()},
		{Resource: "temp@x", ResourceID: "id-temp@x", Cause: "unlicensed", Reason: m365.CauseUnlicensed.Describe()},
	}, res.LeftOut)
	require.Len(t, f.recorded, 1, "no backup is started for a user without a mailbox")
}

func TestMailboxBackupSharesDownloadsBySize(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	f := &fakeBackupActivities{containers: 5, sizes: []int64{6000, 1000, 1000, 1000, 1000}}
	f.register(env)
	env.RegisterWorkflow(MailboxBackupWorkflow)
	env.ExecuteWorkflow(MailboxBackupWorkflow, MailboxBackupInput{BackupID: "b1", Mailbox: m365.Mailbox{ID: "m", UPN: "ann@x"}, Categories: []string{"email"}})
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, 3, f.concurrency["0"], "the biggest folder gets most of the budget")
	require.Equal(t, 1, f.concurrency["1"])
	require.LessOrEqual(t, f.maxInFlight, MailboxRequestBudget)
	require.GreaterOrEqual(t, f.concurrency["4"], 1)
}

func TestMailboxBackupBacksUpIncrementalCollectionsTogether(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	f := &fakeBackupActivities{containers: 6, sizes: []int64{900, 1500, 300, 40, 20, 10},
		incremental: map[int]bool{0: true, 2: true, 3: true, 5: true}}
	f.register(env)
	env.RegisterWorkflow(MailboxBackupWorkflow)
	env.ExecuteWorkflow(MailboxBackupWorkflow, MailboxBackupInput{BackupID: "b1", Mailbox: m365.Mailbox{ID: "m", UPN: "ann@x"}, Categories: []string{"email"}})
	require.NoError(t, env.GetWorkflowError())

	require.Len(t, f.together, 1, "one activity for every collection resuming from a delta link")
	var ids []string
	for _, p := range f.together[0].Plans {
		ids = append(ids, p.Container.ID)
	}
	require.Equal(t, []string{"0", "2", "3", "5"}, ids)
	require.ElementsMatch(t, []string{"1", "4"}, f.single, "the others each in their own")
	require.Empty(t, f.recorded, "the backup is recorded once every collection is in")
	require.LessOrEqual(t, f.maxInFlight, MailboxRequestBudget)
	require.GreaterOrEqual(t, f.together[0].Concurrency, 1)

	require.Len(t, f.combined, 1)
	require.Len(t, f.combined[0].Collections, 6)
	for i, c := range f.combined[0].Collections {
		require.Equal(t, fmt.Sprint(i), c.Container.ID, "results keep plan order")
		if f.incremental[i] {
			require.Equal(t, "link-"+fmt.Sprint(i)+"+", c.DeltaLink)
		}
	}
	v, err := env.QueryWorkflow(ProgressQuery)
	require.NoError(t, err)
	var p BackupProgress
	require.NoError(t, v.Get(&p))
	require.Equal(t, 6, p.CollectionsDone)
}

// TestMailboxBackupOfASmallMailboxIsOneActivity: a first backup of a
// mailbox of a few small folders is one activity holding the whole
// budget, which also records the backup: no activity per folder, no
// combine.
func TestMailboxBackupOfASmallMailboxIsOneActivity(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	f := &fakeBackupActivities{containers: 12, sizes: []int64{2, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}}
	f.register(env)
	env.RegisterWorkflow(MailboxBackupWorkflow)
	env.ExecuteWorkflow(MailboxBackupWorkflow, MailboxBackupInput{BackupID: "b1", Mailbox: m365.Mailbox{ID: "m", UPN: "ann@x"}, Categories: []string{"email"}})
	require.NoError(t, env.GetWorkflowError())
	var sum backup.Summary
	require.NoError(t, env.GetWorkflowResult(&sum))
	require.Equal(t, int64(120), sum.Items)
	require.Empty(t, f.single)
	require.Len(t, f.recorded, 1, "the activity records the backup itself")
	require.Len(t, f.recorded[0].Plans, 12)
	require.Equal(t, MailboxRequestBudget, f.recorded[0].Concurrency, "the whole budget")
	require.Empty(t, f.combined, "no separate combine")
}

// TestMailboxBackupOfOneBigCollectionCombinesIt: a mailbox of one big
// new collection backs it up in an activity of its own and combines it,
// so no activity holds every item's entry to record the backup.
func TestMailboxBackupOfOneBigCollectionCombinesIt(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	f := &fakeBackupActivities{containers: 1, sizes: []int64{50000}}
	f.register(env)
	env.RegisterWorkflow(MailboxBackupWorkflow)
	env.ExecuteWorkflow(MailboxBackupWorkflow, MailboxBackupInput{BackupID: "b1", Mailbox: m365.Mailbox{ID: "m", UPN: "ann@x"}, Categories: []string{"email"}})
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, []string{"0"}, f.single)
	require.Empty(t, f.recorded)
	require.Len(t, f.combined, 1)
	require.Equal(t, MailboxRequestBudget, f.concurrency["0"], "the whole budget")
}

// TestMailboxBackupPacksSmallNewCollectionsTogether: in a mailbox with a
// big new folder, the small new folders share one activity and the
// folders resuming from a delta link another, the big one has its own,
// and combine gets every result in plan order.
func TestMailboxBackupPacksSmallNewCollectionsTogether(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	f := &fakeBackupActivities{containers: 7, sizes: []int64{1500, 300, 40, 20, 0, 9, 5}, incremental: map[int]bool{5: true, 6: true}}
	f.register(env)
	env.RegisterWorkflow(MailboxBackupWorkflow)
	env.ExecuteWorkflow(MailboxBackupWorkflow, MailboxBackupInput{BackupID: "b1", Mailbox: m365.Mailbox{ID: "m", UPN: "ann@x"}, Categories: []string{"email"}})
	require.NoError(t, env.GetWorkflowError())

	require.Equal(t, []string{"0"}, f.single, "the big folder on its own")
	var packed [][]string
	for _, in := range f.together {
		var ids []string
		for _, p := range in.Plans {
			ids = append(ids, p.Container.ID)
		}
		packed = append(packed, ids)
	}
	require.ElementsMatch(t, [][]string{{"1", "2", "3", "4"}, {"5", "6"}}, packed)
	require.Empty(t, f.recorded)
	require.LessOrEqual(t, f.maxInFlight, MailboxRequestBudget)
	require.Len(t, f.combined, 1)
	require.Len(t, f.combined[0].Collections, 7)
	for i, c := range f.combined[0].Collections {
		require.Equal(t, fmt.Sprint(i), c.Container.ID, "results keep plan order")
	}
}

func TestMailboxBackupOfAnIncrementalMailboxIsOneActivity(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	f := &fakeBackupActivities{containers: 3, sizes: []int64{900, 5, 1}, incremental: map[int]bool{0: true, 1: true, 2: true}}
	f.register(env)
	env.RegisterWorkflow(MailboxBackupWorkflow)
	env.ExecuteWorkflow(MailboxBackupWorkflow, MailboxBackupInput{BackupID: "b1", Mailbox: m365.Mailbox{ID: "m", UPN: "ann@x"}, Categories: []string{"email"}})
	require.NoError(t, env.GetWorkflowError())
	var sum backup.Summary
	require.NoError(t, env.GetWorkflowResult(&sum))
	require.Equal(t, backup.StatusCompleted, sum.Status)
	require.Equal(t, int64(30), sum.Items)

	require.Len(t, f.together, 1)
	require.Empty(t, f.single)
	require.Equal(t, MailboxRequestBudget, f.together[0].Concurrency, "the whole budget")
	require.Len(t, f.recorded, 1, "the activity records the backup itself")
	require.Equal(t, "ann@x", f.recorded[0].Record.Mailbox.UPN)
	require.NotEmpty(t, f.recorded[0].Record.Workflow)
	require.Empty(t, f.combined, "no separate combine")

	v, err := env.QueryWorkflow(ProgressQuery)
	require.NoError(t, err)
	var p BackupProgress
	require.NoError(t, v.Get(&p))
	require.Equal(t, BackupProgress{BackupID: "b1", Resource: "ann@x", Stage: "done", CollectionsTotal: 3, CollectionsDone: 3, Items: 30}, p)
}

// TestMailboxBackupOfUnknownSizesGoesTogether: new collections none of
// whose sizes is known (a team's channels) are backed up together in one
// activity holding the whole budget, which records the backup.
func TestMailboxBackupOfUnknownSizesGoesTogether(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	f := &fakeBackupActivities{containers: 3}
	f.register(env)
	env.RegisterWorkflow(MailboxBackupWorkflow)
	env.ExecuteWorkflow(MailboxBackupWorkflow, MailboxBackupInput{BackupID: "b1", Mailbox: m365.Mailbox{ID: "m", UPN: "ann@x"}, Categories: []string{"email"}})
	require.NoError(t, env.GetWorkflowError())
	require.Empty(t, f.single, "no collection backed up alone")
	require.Len(t, f.together, 1)
	require.Len(t, f.together[0].Plans, 3)
	require.Equal(t, MailboxRequestBudget, f.together[0].Concurrency)
	require.NotNil(t, f.together[0].Record, "the one activity records the backup")
	require.Empty(t, f.combined)
}

// TestMailboxBackupOfManyFoldersGoesInStoredGroups: a mailbox of 3,000
// folders is planned into groups stored in the repository; each group is
// one activity given the id of its plans, whose results combine reads by
// id, so no payload grows with the folders and the activities are few.
func TestMailboxBackupOfManyFoldersGoesInStoredGroups(t *testing.T) {
	const folders = 3000
	for _, incremental := range []bool{false, true} {
		t.Run(map[bool]string{false: "first", true: "incremental"}[incremental], func(t *testing.T) {
			var s testsuite.WorkflowTestSuite
			env := s.NewTestWorkflowEnvironment()
			f := &fakeBackupActivities{containers: folders, sizes: make([]int64, folders), incremental: map[int]bool{}}
			for i := range folders {
				f.sizes[i] = int64(1 + i%5)
				f.incremental[i] = incremental
			}
			f.sizes[7], f.sizes[8] = 5000, 1200 // big folders
			f.register(env)
			env.RegisterWorkflow(MailboxBackupWorkflow)
			env.ExecuteWorkflow(MailboxBackupWorkflow, MailboxBackupInput{BackupID: "b1", Mailbox: m365.Mailbox{ID: "m", UPN: "ann@x"}, Categories: []string{"email"}})
			require.NoError(t, env.GetWorkflowError())
			var sum backup.Summary
			require.NoError(t, env.GetWorkflowResult(&sum))
			require.Equal(t, int64(10*folders), sum.Items)

			require.Empty(t, f.single)
			require.LessOrEqual(t, len(f.together), folders/groupCollections+4, "a bounded number of activities")
			for _, in := range f.together {
				require.NotEmpty(t, in.PlansID, "plans go by reference")
				require.Empty(t, in.Plans)
			}
			if !incremental {
				alone := map[string]int{} // folder → concurrency of its own activity
				for _, in := range f.together {
					if ps := f.stored[in.PlansID].([]CollectionPlan); len(ps) == 1 {
						alone[ps[0].Container.ID] = in.Concurrency
					}
				}
				require.Contains(t, alone, "7", "big folders are backed up each in its own activity")
				require.Contains(t, alone, "8")
				require.Greater(t, alone["7"], 1, "the biggest with its share of the budget")
			}
			require.LessOrEqual(t, f.maxInFlight, MailboxRequestBudget)
			require.Len(t, f.combined, 1)
			require.Empty(t, f.combined[0].Collections, "combine reads the stored results")
			require.Len(t, f.combined[0].ResultsIDs, len(f.together))
			seen := map[string]int{}
			for _, id := range f.combined[0].ResultsIDs {
				for _, c := range f.stored[id].([]CollectionResult) {
					seen[c.Container.ID]++
				}
			}
			require.Len(t, seen, folders, "every folder is combined")
			for id, n := range seen {
				require.Equal(t, 1, n, "folder %s combined once", id)
			}
			require.Less(t, f.payload, 64<<10, "no payload grows with the folders")

			v, err := env.QueryWorkflow(ProgressQuery)
			require.NoError(t, err)
			var p BackupProgress
			require.NoError(t, v.Get(&p))
			require.Equal(t, BackupProgress{BackupID: "b1", Resource: "ann@x", Stage: "done", CollectionsTotal: folders, CollectionsDone: folders,
				Items: 10 * folders, Bytes: 100 * folders}, p)
		})
	}
}

// TestMailboxBackupOfAFewFoldersKeepsItsPlanInline: a mailbox of up to
// 100 folders keeps its plan, results and combine input inline, as
// before, so it costs no repository object more.
func TestMailboxBackupOfAFewFoldersKeepsItsPlanInline(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	const folders = 100
	f := &fakeBackupActivities{containers: folders, sizes: make([]int64, folders)}
	for i := range f.sizes {
		f.sizes[i] = 3
	}
	f.register(env)
	env.RegisterWorkflow(MailboxBackupWorkflow)
	env.ExecuteWorkflow(MailboxBackupWorkflow, MailboxBackupInput{BackupID: "b1", Mailbox: m365.Mailbox{ID: "m", UPN: "ann@x"}, Categories: []string{"email"}})
	require.NoError(t, env.GetWorkflowError())
	require.Empty(t, f.stored, "nothing stored by reference")
	require.Len(t, f.recorded, 1)
	require.Len(t, f.recorded[0].Plans, folders)
}
