package activities

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/workflows"
)

// sessionTarget is a fake target whose containers must be opened before
// a restore writes into them and closed after (ContainerSession).
type sessionTarget struct {
	*fakeTarget
	opened, closed    int
	createsWhenOpened int
	createsWhenClosed int
	oldest            time.Time
}

func (s *sessionTarget) OpenContainer(_ context.Context, _ string, _ m365.Category, _ string, oldest time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opened++
	s.createsWhenOpened, s.oldest = s.creates, oldest
	return nil
}

func (s *sessionTarget) CloseContainer(context.Context, string, m365.Category, string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed++
	s.createsWhenClosed = s.creates
	return nil
}

func newSessionFixture(t *testing.T) (*restoreFixture, *sessionTarget) {
	f := newRestoreFixture(t)
	st := &sessionTarget{fakeTarget: f.tgt}
	f.a.NewClient = func(string, string, string) (Client, error) { return st, nil }
	f.a.clients = nil
	return f, st
}

// TestRestoreCollectionOpensAndClosesItsContainer: a target with sessions
// is opened before the first item is written, for the oldest selected
// item's time, and closed after the last; an attempt that will be
// retried leaves it open for the retry, which opens and closes it again;
// an attempt that fails for good closes it.
func TestRestoreCollectionOpensAndClosesItsContainer(t *testing.T) {
	f, st := newSessionFixture(t)
	// Details that say when each item was received, the third one first.
	ctx := context.Background()
	var entries []backup.Entry
	r, err := f.a.Repos.open(ctx, f.repo)
	require.NoError(t, err)
	require.NoError(t, r.ReadJSON(ctx, f.plan.DetailsID, &entries))
	day := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for i := range entries {
		entries[i].Received = day.Add(time.Duration((i+9)%12) * time.Hour)
	}
	oldest := day
	wctx, sess, err := r.NewSession(ctx, "test")
	require.NoError(t, err)
	oid, err := sess.WriteJSON(wctx, "DETAILS", entries)
	require.NoError(t, err)
	require.NoError(t, sess.Flush(wctx))
	sess.Close(wctx)
	r.Release(ctx)
	f.plan.DetailsID = oid.String()

	f.tgt.failAfter = 5
	_, err = f.restore(workflows.CollisionSkip)
	require.Error(t, err)
	require.Equal(t, [2]int{1, 0}, [2]int{st.opened, st.closed}, "an attempt to be retried leaves the container open")

	f.tgt.failAfter = 0
	res, err := f.restore(workflows.CollisionSkip)
	require.NoError(t, err)
	require.Equal(t, int64(12), res.Restored)
	require.Equal(t, [2]int{2, 1}, [2]int{st.opened, st.closed}, "the retry opens and closes it")
	require.Equal(t, 5, st.createsWhenOpened, "opened before the retry wrote")
	require.Equal(t, 12, st.createsWhenClosed, "closed after the last item")
	require.True(t, st.oldest.Equal(oldest), "opened for %v, the oldest item is %v", st.oldest, oldest)

	// Fails for good (--fail-fast on an item that cannot be restored):
	// closed all the same.
	f2, st2 := newSessionFixture(t)
	f2.src.put("msg-bad", "not a message at all")
	full, _, err := f2.run(nil, nil)
	require.NoError(t, err)
	prev := previousOf(t, full)
	f2.plan.DirID, f2.plan.DetailsID = prev.DirID, prev.DetailsID
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(f2.a)
	_, err = env.ExecuteActivity(f2.a.RestoreCollection, workflows.RestoreCollectionInput{
		Repo: f2.repo, Graph: f2.gr, MailboxID: "mbx", Plan: f2.plan, Collisions: workflows.CollisionSkip,
		Started: f2.started, Concurrency: 1, FailFast: true,
	})
	require.Error(t, err)
	require.Equal(t, [2]int{1, 1}, [2]int{st2.opened, st2.closed}, "a restore that fails for good closes its container")
}
