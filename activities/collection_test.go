package activities

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/kopia/kopia/snapshot"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/repository"
	"github.com/corso-temporal/corso/workflows"
)

// exchangeFixture is an initialized filesystem repository, a fake mailbox
// and the Exchange activities wired to both.
type exchangeFixture struct {
	t    *testing.T
	a    *Containers
	src  *fakeMailbox
	repo workflows.RepoRef
	gr   workflows.GraphRef
	// cat is the collection's category, email unless set.
	cat m365.Category
}

func newExchangeFixture(t *testing.T, items int) *exchangeFixture {
	repos, sealer := newRepositories(t)
	f := &exchangeFixture{t: t, src: newFakeMailbox(items)}
	f.repo = ref(t, sealer, filepath.Join(t.TempDir(), "repo"), "pw")
	loc, creds, err := repos.resolve(context.Background(), f.repo)
	require.NoError(t, err)
	r, _, err := repos.Connections.Initialize(context.Background(), loc, creds)
	require.NoError(t, err)
	r.Release(context.Background())
	graphCreds := sealForTest(t, sealer, workflows.GraphCredentials{ClientID: "app", ClientSecret: "s"})
	f.gr = workflows.GraphRef{TenantID: "tenant", Credentials: graphCreds}
	f.a = &Containers{Tenants: &Tenants{Repos: repos, CheckpointItems: 4, NewClient: func(string, string, string) (Client, error) { return f.src, nil }}}
	return f
}

// run executes BackupCollection, optionally resuming from heartbeat
// details, and returns the result and the last heartbeat it sent.
func (f *exchangeFixture) run(prev *workflows.PreviousCollection, resume *checkpoint) (workflows.CollectionResult, *checkpoint, error) {
	env, last := checkpointedEnv(f.a, resume)
	cont := m365.Container{ID: "inbox", DisplayName: "Inbox", Path: []string{"Inbox"}, Category: cmp.Or(f.cat, m365.Email)}
	val, err := env.ExecuteActivity(f.a.BackupCollection, workflows.BackupCollectionInput{
		Repo: f.repo, Graph: f.gr, BackupID: "b", MailboxID: "mbx", Concurrency: 3,
		Plan: workflows.CollectionPlan{Container: cont, Previous: prev},
	})
	if err != nil {
		return workflows.CollectionResult{}, *last, err
	}
	var res workflows.CollectionResult
	require.NoError(f.t, val.Get(&res))
	return res, *last, nil
}

// checkpointedEnv is an activity environment for the activities of a,
// resuming from resume when it is set; last points at the checkpoint the
// activity heartbeated last.
func checkpointedEnv[T any](a any, resume *T) (*testsuite.TestActivityEnvironment, **T) {
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	last := new(*T)
	env.SetOnActivityHeartbeatListener(func(_ *activity.Info, details converter.EncodedValues) {
		cp := new(T)
		if details.Get(cp) == nil {
			*last = cp
		}
	})
	if resume != nil {
		env.SetHeartbeatDetails(*resume)
	}
	return env, last
}

func previousOf(t *testing.T, r workflows.CollectionResult) *workflows.PreviousCollection {
	var de snapshot.DirEntry
	require.NoError(t, json.Unmarshal(r.DirEntry, &de))
	return &workflows.PreviousCollection{BackupID: "b", DirID: de.ObjectID.String(), DetailsID: r.DetailsID, DeltaLink: r.DeltaLink, Path: r.Container.Path}
}

// stored reads back the collection: item id → stored bytes.
func (f *exchangeFixture) stored(r workflows.CollectionResult) map[string]string {
	ctx := context.Background()
	rep, err := f.a.Repos.open(ctx, f.repo)
	require.NoError(f.t, err)
	defer rep.Release(ctx)
	prev := previousOf(f.t, r)
	ents, err := rep.ReadDir(ctx, prev.DirID)
	require.NoError(f.t, err)
	out := map[string]string{}
	for _, e := range ents {
		rd, err := rep.OpenItem(ctx, e.ObjectID.String())
		require.NoError(f.t, err)
		b, _ := io.ReadAll(rd)
		rd.Close()
		out[e.Name] = string(b)
	}
	var dets []backup.Entry
	require.NoError(f.t, rep.ReadJSON(ctx, prev.DetailsID, &dets))
	require.Len(f.t, dets, len(ents), "one details entry per item")
	return out
}

func (f *exchangeFixture) truth() map[string]string {
	out := map[string]string{}
	for id, it := range f.src.items {
		out[id] = it.body
	}
	return out
}

func TestCollectionFullThenIncremental(t *testing.T) {
	f := newExchangeFixture(t, 10)
	full, _, err := f.run(nil, nil)
	require.NoError(t, err)
	require.Equal(t, int64(10), full.Items)
	require.Equal(t, int64(10), full.Fetched)
	require.Equal(t, f.truth(), f.stored(full))

	f.src.put("item-new", "brand new")
	f.src.put("item-03", "edited body")
	f.src.remove("item-07")
	f.src.resetCounts()
	inc, _, err := f.run(previousOf(t, full), nil)
	require.NoError(t, err)
	require.Equal(t, f.truth(), f.stored(inc))
	require.Equal(t, map[string]int{"item-new": 1, "item-03": 1}, f.src.fetches, "only changed items are downloaded")
	require.Equal(t, int64(10), inc.Items)
	require.Equal(t, int64(1), inc.Removed)
	require.False(t, inc.Reset)
}

func TestCollectionExpiredDeltaReenumeratesWithoutDownloadingUnchanged(t *testing.T) {
	f := newExchangeFixture(t, 8)
	full, _, err := f.run(nil, nil)
	require.NoError(t, err)
	f.src.put("item-02", "changed while the token expired")
	f.src.remove("item-05")
	f.src.expired[full.DeltaLink] = true
	f.src.resetCounts()

	inc, _, err := f.run(previousOf(t, full), nil)
	require.NoError(t, err)
	require.True(t, inc.Reset, "the backup says it re-enumerated")
	require.Equal(t, f.truth(), f.stored(inc))
	require.Equal(t, map[string]int{"item-02": 1}, f.src.fetches)
}

func TestCollectionResumesFromCheckpointAfterACrash(t *testing.T) {
	f := newExchangeFixture(t, 20)
	f.src.breakAt = 11 // the worker dies during the 12th download
	_, cp, err := f.run(nil, nil)
	require.Error(t, err)
	require.NotNil(t, cp)
	require.NotEmpty(t, cp.Segments, "a checkpoint was taken before the crash")
	before := f.src.totalFetches()

	f.src.breakAt = 0
	res, _, err := f.run(nil, cp)
	require.NoError(t, err)
	require.Equal(t, f.truth(), f.stored(res))
	refetched := f.src.totalFetches() - before - (20 - before)
	require.LessOrEqual(t, refetched, f.a.CheckpointItems+f.src.pageSize, "a crash costs at most one checkpoint of re-fetching")
	for id, n := range f.src.fetches {
		require.LessOrEqual(t, n, 2, "item %s fetched %d times", id, n)
	}
}

func TestCollectionRecordsItemFailuresAndFailFastStops(t *testing.T) {
	f := newExchangeFixture(t, 5)
	f.src.failIDs["item-01"] = true
	res, _, err := f.run(nil, nil)
	require.NoError(t, err)
	require.Equal(t, int64(4), res.Items)
	require.Len(t, res.Errors, 1)
	require.Equal(t, "item-01", res.Errors[0].ItemID)
	require.Equal(t, int64(1), res.Skipped)

	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(f.a)
	_, err = env.ExecuteActivity(f.a.BackupCollection, workflows.BackupCollectionInput{
		Repo: f.repo, Graph: f.gr, BackupID: "b", MailboxID: "mbx", FailFast: true,
		Plan: workflows.CollectionPlan{Container: m365.Container{ID: "inbox", Path: []string{"Inbox"}, Category: m365.Email}},
	})
	require.True(t, isType(err, workflows.ErrTypeItemFailed), "got %v", err)
}

// An item that failed for a reason that may pass is tried again by the
// next backup, though delta does not list it again; one deleted since is
// dropped without an error, and one Microsoft 365 never serves is not
// asked for again.
func TestCollectionRetriesWhatThePreviousBackupFailedToRead(t *testing.T) {
	f := newExchangeFixture(t, 6)
	generalException := errors.New("Graph answered 400 generalException: An unexpected error occurred.")
	f.src.refuse = map[string]error{"item-01": generalException, "item-02": generalException}
	full, _, err := f.run(nil, nil)
	require.NoError(t, err)
	require.Len(t, full.Errors, 2)
	errs := append(full.Errors, backup.ItemError{Category: "email", Path: []string{"Inbox"}, ItemID: "item-05",
		Reason: "flagged as malware", Cause: string(m365.CauseMalware)})

	prev := previousOf(t, full)
	prev.FailedIn = f.writeIndex(repository.BackupIndex{Errors: errs})
	f.src.refuse = nil
	f.src.remove("item-02")
	f.src.resetCounts()
	inc, _, err := f.run(prev, nil)
	require.NoError(t, err)
	require.Equal(t, f.truth(), f.stored(inc))
	require.Empty(t, inc.Errors)
	require.Equal(t, 1, f.src.fetches["item-01"])
	require.Zero(t, f.src.fetches["item-05"])
}

// writeIndex stores a backup index as combine would.
func (f *exchangeFixture) writeIndex(idx repository.BackupIndex) string {
	ctx := context.Background()
	rep, err := f.a.Repos.open(ctx, f.repo)
	require.NoError(f.t, err)
	defer rep.Release(ctx)
	ctx, sess, err := rep.NewSession(ctx, "index")
	require.NoError(f.t, err)
	defer sess.Close(ctx)
	id, err := sess.WriteJSON(ctx, "BACKUP-INDEX", idx)
	require.NoError(f.t, err)
	require.NoError(f.t, sess.Flush(ctx))
	return id.String()
}

func TestCollectionOverQuotaIsListedWithTheSameChangeSemantics(t *testing.T) {
	f := newExchangeFixture(t, 10)
	f.src.overQuota = true
	full, _, err := f.run(nil, nil)
	require.NoError(t, err)
	require.True(t, full.Listed, "the backup says the folder was listed")
	require.Empty(t, full.DeltaLink, "a listing leaves no delta link to resume from")
	require.Equal(t, f.truth(), f.stored(full))
	require.Positive(t, f.src.lists)

	// Still over quota: the next backup lists again; what the listing no
	// longer shows is gone, unchanged items are not downloaded again.
	f.src.put("item-new", "brand new")
	f.src.put("item-03", "edited body")
	f.src.remove("item-07")
	f.src.resetCounts()
	inc, _, err := f.run(previousOf(t, full), nil)
	require.NoError(t, err)
	require.Equal(t, f.truth(), f.stored(inc))
	require.Equal(t, map[string]int{"item-new": 1, "item-03": 1}, f.src.fetches, "only changed items are downloaded")

	// Back under quota: delta works again from a new round, and the
	// previous listing's items are reused, not trusted.
	f.src.overQuota = false
	f.src.remove("item-01")
	f.src.resetCounts()
	again, _, err := f.run(previousOf(t, inc), nil)
	require.NoError(t, err)
	require.False(t, again.Listed)
	require.NotEmpty(t, again.DeltaLink)
	require.Equal(t, f.truth(), f.stored(again), "the item removed while no delta link existed is gone")
	require.Empty(t, f.src.fetches)
}

func TestCollectionSkipsItemsGraphCanNeverServeWithTheirCause(t *testing.T) {
	f := newExchangeFixture(t, 5)
	f.src.skipIDs["item-02"] = m365.CauseCorrupt
	f.src.failIDs["item-04"] = true
	res, _, err := f.run(nil, nil)
	require.NoError(t, err)
	require.Equal(t, int64(3), res.Items)
	causes := map[string]string{}
	for _, e := range res.Errors {
		causes[e.ItemID] = e.Cause
	}
	require.Equal(t, map[string]string{"item-02": "corrupt", "item-04": "deletedInFlight"}, causes)
	require.Equal(t, 1, f.src.fetches["item-02"], "an unreadable item is not retried")

	// --fail-fast stops at a failure, not at an item known to be unreadable.
	delete(f.src.failIDs, "item-04")
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(f.a)
	_, err = env.ExecuteActivity(f.a.BackupCollection, workflows.BackupCollectionInput{
		Repo: f.repo, Graph: f.gr, BackupID: "b2", MailboxID: "mbx", FailFast: true,
		Plan: workflows.CollectionPlan{Container: m365.Container{ID: "inbox", Path: []string{"Inbox"}, Category: m365.Email}},
	})
	require.NoError(t, err)
}

// An item Graph serves only part of (a series whose exceptions Exchange
// cannot list) is stored as served and reported as kept with a warning:
// neither skipped nor an error.
func TestCollectionKeepsDegradedItemsWithAWarning(t *testing.T) {
	f := newExchangeFixture(t, 5)
	f.src.degradedIDs["item-03"] = m365.CauseInstancesUnavailable
	f.src.skipIDs["item-01"] = m365.CauseCorrupt
	res, _, err := f.run(nil, nil)
	require.NoError(t, err)
	want := f.truth()
	delete(want, "item-01")
	require.Equal(t, want, f.stored(res), "the degraded item is stored as served")
	require.Equal(t, int64(4), res.Items)
	require.Equal(t, int64(4), res.Fetched)
	require.Equal(t, int64(1), res.Skipped, "only the unreadable item is skipped")
	byID := map[string]backup.ItemError{}
	for _, e := range res.Errors {
		byID[e.ItemID] = e
	}
	require.Len(t, byID, 2)
	require.Equal(t, backup.ItemError{Category: "email", Path: []string{"Inbox"}, ItemID: "item-03", Name: "subject body 3",
		Reason: m365.CauseInstancesUnavailable.Describe(), Cause: "instancesUnavailable", Kept: true}, byID["item-03"])
	require.False(t, byID["item-01"].Kept)
	require.Equal(t, 1, f.src.fetches["item-03"], "a degraded item is not fetched again")

	// The backup counts it as a warning, not as skipped or failed.
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(f.a)
	val, err := env.ExecuteActivity(f.a.CombineBackup, workflows.CombineInput{
		Repo: f.repo, BackupID: "b", TenantID: "tenant", Mailbox: m365.Mailbox{ID: "mbx", UPN: "ann@contoso.com"},
		Collections: []workflows.CollectionResult{res}, Workflow: "wf",
	})
	require.NoError(t, err)
	var s backup.Summary
	require.NoError(t, val.Get(&s))
	require.Equal(t, int64(4), s.Items)
	require.Equal(t, int64(1), s.Warnings)
	require.Equal(t, int64(1), s.Skipped)
	require.Equal(t, int64(1), s.Errors, "the warning is not an error")

	// Changed, it is fetched and reported again; unchanged, it is kept
	// from the previous backup and not reported again.
	f.src.put("item-03", "edited body")
	f.src.resetCounts()
	inc, _, err := f.run(previousOf(t, res), nil)
	require.NoError(t, err)
	require.Len(t, inc.Errors, 1)
	require.Equal(t, "subject edited body", inc.Errors[0].Name)
	require.True(t, inc.Errors[0].Kept)
	again, _, err := f.run(previousOf(t, inc), nil)
	require.NoError(t, err)
	require.Empty(t, again.Errors)

	// Changed while listed on two pages of one enumeration (an item added
	// before it shifts the pages), it is fetched twice and reported once,
	// as last stored.
	g := newExchangeFixture(t, 5)
	g.src.degradedIDs["item-02"] = m365.CauseInstancesUnavailable
	g.src.afterPage = func(link string) {
		if link == "" {
			g.src.put("item-000", "early")
			g.src.put("item-02", "edited")
		}
	}
	twice, _, err := g.run(nil, nil)
	require.NoError(t, err)
	require.Equal(t, 2, g.src.fetches["item-02"])
	require.Len(t, twice.Errors, 1)
	require.Equal(t, "subject edited", twice.Errors[0].Name)
}

// A warning stands for the item as stored: fetched twice in one backup (a
// delta may list an item on two pages) it is reported once; removed before
// the backup ends, not at all. Failures are all reported.
func TestReportedErrorsKeepOneWarningPerStoredItem(t *testing.T) {
	warn := func(id, name string) backup.ItemError { return backup.ItemError{ItemID: id, Name: name, Kept: true} }
	fail := backup.ItemError{ItemID: "x", Reason: "boom"}
	c := &collection{
		entries: map[string]*snapshot.DirEntry{"a": {Name: "a"}, "b": {Name: "b"}},
		errors:  []backup.ItemError{warn("a", "first"), fail, warn("gone", "removed"), warn("a", "second"), warn("b", "b"), fail},
	}
	require.Equal(t, []backup.ItemError{fail, warn("a", "second"), warn("b", "b"), fail}, c.reportedErrors())
	require.Len(t, c.errors, 6, "the collection's own record is left alone")
}

func TestGraphErrorsMapToWorkflowErrors(t *testing.T) {
	require.True(t, isType(graphError(m365.ErrAuth), workflows.ErrTypeGraphAuth))
	require.True(t, isType(graphError(errors.Join(m365.ErrUnknownResource, errors.New("nobody@x"))), workflows.ErrTypeUnknownMailbox))
	require.False(t, isType(graphError(&m365.ThrottledError{RetryAfter: 7}), workflows.ErrTypeThrottled), "throttling is retried")
	denied := &m365.Fault{Class: m365.ResourceDenied, Cause: m365.CauseAccessDenied, Err: errors.New("403 ErrorAccessDenied")}
	require.True(t, isType(graphError(denied), workflows.ErrTypeResourceDenied), "a denied mailbox fails alone, not as the app's credentials")
	require.False(t, isType(graphError(denied), workflows.ErrTypeGraphAuth))
	locked := &m365.Fault{Class: m365.ResourceUnavailable, Cause: m365.CauseLocked, Err: errors.New("423 resourceLocked")}
	require.True(t, isType(graphError(locked), workflows.ErrTypeResourceUnavailable))
}

func TestCollectionWithoutChangesReusesItsPreviousDirectory(t *testing.T) {
	f := newExchangeFixture(t, 6)
	full, _, err := f.run(nil, nil)
	require.NoError(t, err)
	f.src.resetCounts()
	prev := previousOf(t, full)
	again, _, err := f.run(prev, nil)
	require.NoError(t, err)
	require.Equal(t, prev.DetailsID, again.DetailsID, "nothing changed: the details are reused, not rewritten")
	require.Equal(t, prev.DirID, previousOf(t, again).DirID)
	require.Equal(t, full.Items, again.Items)
	require.Equal(t, full.Bytes, again.Bytes)
	require.Empty(t, f.src.fetches)
	require.Equal(t, f.truth(), f.stored(again))
}

func TestCollectionRetriedBeforeItsFirstCheckpointResumesFromTheDeltaLink(t *testing.T) {
	f := newExchangeFixture(t, 10)
	full, _, err := f.run(nil, nil)
	require.NoError(t, err)

	f.src.put("item-new", "brand new")
	f.src.put("item-03", "edited body")
	f.src.remove("item-07")
	f.src.resetCounts()
	f.src.breakAt = 1 // the worker dies during the second download
	_, cp, err := f.run(previousOf(t, full), nil)
	require.Error(t, err)
	require.NotNil(t, cp)
	require.Empty(t, cp.Segments, "no checkpoint was taken")
	require.Equal(t, full.DeltaLink, cp.Link, "the checkpoint names the page to read again")

	f.src.breakAt = 0
	inc, _, err := f.run(previousOf(t, full), cp)
	require.NoError(t, err)
	require.Equal(t, f.truth(), f.stored(inc), "the deleted item is gone: the retry read the changes, not a full listing")
	require.False(t, inc.Reset)
}

// Between checkpoints a collection's heartbeat repeats the last
// checkpoint: a retry resumes from what was flushed, with its counts, and
// does not count again the items it fetches again.
func TestHeartbeatBetweenCheckpointsRepeatsTheLastOne(t *testing.T) {
	var got []checkpoint
	c := &collection{report: func(_ context.Context, cp checkpoint, _ bool) { got = append(got, cp) }}
	c.cp = checkpoint{Started: true, Link: "page-2", Segments: []string{"s1"}, Fetched: 5}
	c.heartbeat(context.Background(), true)
	c.cp.Fetched, c.cp.Link = 9, "page-3" // fetched since, not yet checkpointed
	c.heartbeat(context.Background(), false)
	require.Len(t, got, 2)
	require.Equal(t, int64(5), got[1].Fetched)
	require.Equal(t, "page-2", got[1].Link)
	require.Equal(t, []string{"s1"}, got[1].Segments)
}

// TestChannelCollectionListsWhatItsFirstDeltaRoundLeavesOut: a first
// delta round of channel messages leaves out the older ones, which the
// collection then lists and backs up, each read once, keeping the round's
// delta link; a worker that dies while listing resumes the listing; the
// next backup resumes from the link and sees changes of old messages too.
func TestChannelCollectionListsWhatItsFirstDeltaRoundLeavesOut(t *testing.T) {
	f := newExchangeFixture(t, 12)
	f.cat = m365.ChannelMessages
	f.src.horizon = f.src.items["item-06"].mod // items 00–05 are older

	f.src.breakAt = 9 // dies during the listing: items 06–11 came by delta
	_, cp, err := f.run(nil, nil)
	require.Error(t, err)
	require.True(t, cp.Backfill, "the checkpoint says the listing is under way")
	require.NotEmpty(t, cp.DeltaLink)

	f.src.breakAt = 0
	full, _, err := f.run(nil, cp)
	require.NoError(t, err)
	require.Equal(t, f.truth(), f.stored(full))
	require.Equal(t, int64(12), full.Items)
	require.Equal(t, "delta:12", full.DeltaLink, "the first round's link, not a listing's end")
	for id, n := range f.src.fetches {
		require.LessOrEqual(t, n, 2, "item %s read %d times", id, n)
	}

	f.src.put("item-02", "an old message edited")
	f.src.put("item-new", "posted since")
	f.src.resetCounts()
	lists := f.src.lists
	inc, _, err := f.run(previousOf(t, full), nil)
	require.NoError(t, err)
	require.Equal(t, f.truth(), f.stored(inc))
	require.Equal(t, map[string]int{"item-02": 1, "item-new": 1}, f.src.fetches)
	require.Equal(t, lists, f.src.lists, "an incremental backup lists nothing")
}
