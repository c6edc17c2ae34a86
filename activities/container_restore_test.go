package activities

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/workflows"
)

// fakeTarget is a mailbox folder that restores write into: it records what
// was created and when, and can fail like a worker dying mid-restore.
type fakeTarget struct {
	*fakeMailbox
	mu        sync.Mutex
	now       time.Time
	next      int
	items     map[string]m365.ExistingItem
	creates   int
	failAfter int // creates before a crash; 0 never
}

func (f *fakeTarget) EnsureContainer(context.Context, string, m365.Category, []string) (string, error) {
	return "target", nil
}

func (f *fakeTarget) ExistingItems(context.Context, string, m365.Category, string) ([]m365.ExistingItem, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]m365.ExistingItem, 0, len(f.items))
	for _, it := range f.items {
		out = append(out, it)
	}
	return out, nil
}

func (f *fakeTarget) RestoreItem(_ context.Context, _ string, cat m365.Category, _ string, stored []byte, _ m365.MessageState) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failAfter > 0 && f.creates >= f.failAfter {
		return "", errors.New("worker lost")
	}
	key, err := m365.StoredItemKey(cat, stored)
	if err != nil {
		return "", err
	}
	return f.addLocked(key), nil
}

func (f *fakeTarget) addLocked(key string) string {
	f.next++
	f.creates++
	f.now = f.now.Add(time.Second)
	id := fmt.Sprintf("new-%03d", f.next)
	f.items[id] = m365.ExistingItem{ID: id, Key: key, Created: f.now}
	return id
}

func (f *fakeTarget) DeleteItem(_ context.Context, _ string, _ m365.Category, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.items, id)
	return nil
}

func (f *fakeTarget) keys() map[string]int {
	out := map[string]int{}
	for _, it := range f.items {
		out[it.Key]++
	}
	return out
}

func message(subject string, sent time.Time) string {
	return "Subject: " + subject + "\r\nDate: " + sent.Format(time.RFC1123Z) + "\r\nFrom: a@example.com\r\n\r\nbody of " + subject + "\r\n"
}

// restoreFixture backs up a folder of 12 messages, two of them twins
// (same subject and sent time), and restores into a fake target.
type restoreFixture struct {
	*exchangeFixture
	tgt     *fakeTarget
	plan    workflows.RestoreCollectionPlan
	started time.Time
	want    map[string]int // collision keys of the backed-up items
}

func newRestoreFixture(t *testing.T) *restoreFixture {
	f := newExchangeFixture(t, 0)
	sent := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	want := map[string]int{}
	for i := range 12 {
		subject := fmt.Sprintf("report %d", i)
		if i == 11 {
			subject = "report 10" // a twin of item 10
		}
		at := sent.Add(time.Duration(min(i, 10)) * time.Hour)
		body := message(subject, at)
		f.src.put(fmt.Sprintf("msg-%02d", i), body)
		k, err := m365.StoredItemKey(m365.Email, []byte(body))
		require.NoError(t, err)
		want[k]++
	}
	full, _, err := f.run(nil, nil)
	require.NoError(t, err)
	prev := previousOf(t, full)
	started := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	tgt := &fakeTarget{fakeMailbox: f.src, now: started, items: map[string]m365.ExistingItem{}}
	f.a.NewClient = func(string, string, string) (Client, error) { return tgt, nil }
	f.a.clients = nil // the backup above cached the plain source
	return &restoreFixture{
		exchangeFixture: f, tgt: tgt, started: started, want: want,
		plan: workflows.RestoreCollectionPlan{Category: m365.Email, Path: []string{"Inbox"}, TargetPath: []string{"R", "Inbox"},
			TargetID: "target", DirID: prev.DirID, DetailsID: prev.DetailsID, Selected: 12},
	}
}

func (f *restoreFixture) restore(collisions string) (workflows.RestoreCollectionResult, error) {
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(f.a)
	val, err := env.ExecuteActivity(f.a.RestoreCollection, workflows.RestoreCollectionInput{
		Repo: f.repo, Graph: f.gr, MailboxID: "mbx", Plan: f.plan, Collisions: collisions, Started: f.started, Concurrency: 3,
	})
	if err != nil {
		return workflows.RestoreCollectionResult{}, err
	}
	var res workflows.RestoreCollectionResult
	require.NoError(f.t, val.Get(&res))
	return res, nil
}

func TestRestoreCollectionRetryWritesNothingTwice(t *testing.T) {
	f := newRestoreFixture(t)
	f.tgt.failAfter = 5
	_, err := f.restore(workflows.CollisionCopy)
	require.Error(t, err, "the first attempt dies after five items")
	require.Equal(t, 5, len(f.tgt.items))

	f.tgt.failAfter = 0
	res, err := f.restore(workflows.CollisionCopy)
	require.NoError(t, err)
	require.Equal(t, int64(12), res.Restored, "items of the first attempt count as restored")
	require.Equal(t, f.want, f.tgt.keys(), "one copy of each item, twins included")
	require.Equal(t, 12, f.tgt.creates)
}

func TestRestoreCollectionCollisions(t *testing.T) {
	for _, tc := range []struct {
		policy                      string
		restored, skipped, replaced int64
		items                       int
	}{
		{workflows.CollisionSkip, 9, 3, 0, 12},
		{workflows.CollisionCopy, 12, 0, 0, 15},
		{workflows.CollisionReplace, 12, 0, 3, 12},
	} {
		t.Run(tc.policy, func(t *testing.T) {
			f := newRestoreFixture(t)
			// Three of the backed-up items exist from before the restore.
			f.tgt.now = f.started.Add(-time.Hour)
			n := 0
			for k := range f.want {
				if n == 3 {
					break
				}
				if f.want[k] == 1 {
					f.tgt.addLocked(k)
					n++
				}
			}
			f.tgt.now, f.tgt.creates = f.started, 0
			old := map[string]bool{}
			for id := range f.tgt.items {
				old[id] = true
			}
			res, err := f.restore(tc.policy)
			require.NoError(t, err)
			require.Equal(t, tc.restored, res.Restored)
			require.Equal(t, tc.skipped, res.Skipped)
			require.Equal(t, tc.replaced, res.Replaced)
			require.Len(t, f.tgt.items, tc.items)
			for id := range old {
				_, still := f.tgt.items[id]
				require.Equal(t, tc.policy != workflows.CollisionReplace, still, "old item %s", id)
			}
		})
	}
}

func TestRestoreCollectionRecordsUnrestorableItems(t *testing.T) {
	f := newRestoreFixture(t)
	f.src.put("msg-bad", "not a message at all")
	full, _, err := f.run(nil, nil)
	require.NoError(t, err)
	prev := previousOf(t, full)
	f.plan.DirID, f.plan.DetailsID = prev.DirID, prev.DetailsID
	res, err := f.restore(workflows.CollisionSkip)
	require.NoError(t, err)
	require.Equal(t, int64(12), res.Restored)
	require.Equal(t, int64(1), res.Failed)
	require.Len(t, res.Errors, 1)
	require.Equal(t, "msg-bad", res.Errors[0].ItemID)
}

// TestRestoreCollectionRetryTrustsThePlanNotTheClocks: Graph's clock runs
// behind the workers' (or rounds to the second), so items a first attempt
// wrote look older than the restore; the plan's record of what was there
// before still tells them apart.
func TestRestoreCollectionRetryTrustsThePlanNotTheClocks(t *testing.T) {
	f := newRestoreFixture(t)
	f.tgt.now = f.started.Add(-time.Hour)
	f.tgt.addLocked("an item that was there before")
	before, err := f.tgt.ExistingItems(context.Background(), "mbx", m365.Email, "target")
	require.NoError(t, err)
	ctx := context.Background()
	r, err := f.a.Repos.open(ctx, f.repo)
	require.NoError(t, err)
	wctx, sess, err := r.NewSession(ctx, "test")
	require.NoError(t, err)
	oid, err := sess.WriteJSON(wctx, "RESTORE-EXISTING", before)
	require.NoError(t, err)
	require.NoError(t, sess.Flush(wctx))
	sess.Close(wctx)
	r.Release(ctx)
	f.plan.ExistingID = oid.String()

	f.tgt.creates, f.tgt.failAfter = 0, 5
	_, err = f.restore(workflows.CollisionCopy)
	require.Error(t, err)
	f.tgt.failAfter = 0
	res, err := f.restore(workflows.CollisionCopy)
	require.NoError(t, err)
	require.Equal(t, int64(12), res.Restored)
	require.Equal(t, 12, f.tgt.creates, "nothing written twice")
	require.Len(t, f.tgt.items, 13)
}
