package activities

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/kopia/kopia/snapshot"
	"go.temporal.io/sdk/activity"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/repository"
	"github.com/corso-temporal/corso/workflows"
)

// collectionsCheckpoint is the heartbeat of BackupCollections: the
// checkpoint of each collection, and the results of the collections
// finished and flushed, by plan index.
type collectionsCheckpoint struct {
	Collections []checkpoint                  `json:"collections"`
	Results     []*workflows.CollectionResult `json:"results"`
}

// heartbeatEvery spaces the heartbeats of collections backed up together:
// each carries every collection's checkpoint, so one per item would cost
// more than the item.
const heartbeatEvery = time.Second

// collections is the state of a BackupCollections in progress.
type collections struct {
	mu sync.Mutex
	cp collectionsCheckpoint
	// written are results whose data is written but not yet flushed: the
	// next flush moves them into the checkpoint.
	written  map[int]*workflows.CollectionResult
	lastBeat time.Time
	flushFn  func(ctx context.Context) error
	// items are the items of the collections backed up by this attempt,
	// kept when the activity records the backup.
	items map[int][]*snapshot.DirEntry
}

// BackupCollections backs up several containers of one mailbox in one
// activity, in one repository session: the collections an incremental
// backup resumes from a delta link, which mostly find few or no changes.
// Up to in.Concurrency collections run at once and their Graph requests
// share that many slots. What is written is flushed once at the end and at
// each collection's checkpoints; the heartbeat names every collection's
// checkpoint and the collections already finished, so a retry on another
// worker resumes each from where it was. With in.Record, the collections
// are the whole mailbox and the activity also records the backup, before
// the one flush at the end. With in.PlansID, a group of a mailbox of many
// collections, the plans are read from the repository and the results
// stored there, flushed with the rest, so that neither travels in a
// payload.
func (a *Containers) BackupCollections(ctx context.Context, in workflows.BackupCollectionsInput) (workflows.BackupCollectionsResult, error) {
	// Its share of the resource's request budget also paces its requests
	// on a resource limited by rate, a team (m365.RequestShare).
	ctx = m365.WithRequestShare(ctx, in.Concurrency, workflows.MailboxRequestBudget)
	src, err := a.client(ctx, in.Graph)
	if err != nil {
		return workflows.BackupCollectionsResult{}, err
	}
	r, err := a.Repos.open(ctx, in.Repo)
	if err != nil {
		return workflows.BackupCollectionsResult{}, err
	}
	defer r.Release(ctx)
	if in.Record != nil {
		if s, done, err := recordedBackup(ctx, r, in.BackupID); err != nil || done {
			return workflows.BackupCollectionsResult{Backup: &s}, err
		}
	}
	if in.PlansID != "" {
		if err := r.ReadJSON(ctx, in.PlansID, &in.Plans); err != nil {
			return workflows.BackupCollectionsResult{}, repositoryError(fmt.Errorf("read the collections' plans: %w", err))
		}
	}
	ctx, sess, err := r.NewSession(ctx, "backup "+in.BackupID)
	if err != nil {
		return workflows.BackupCollectionsResult{}, repositoryError(err)
	}
	defer sess.Close(ctx)

	n := len(in.Plans)
	cs := &collections{
		cp: collectionsCheckpoint{
			Collections: make([]checkpoint, n),
			Results:     make([]*workflows.CollectionResult, n),
		},
		written: map[int]*workflows.CollectionResult{},
		flushFn: sess.Flush,
		items:   map[int][]*snapshot.DirEntry{},
	}
	if activity.HasHeartbeatDetails(ctx) {
		var cp collectionsCheckpoint
		if err := activity.GetHeartbeatDetails(ctx, &cp); err == nil && len(cp.Collections) == n && len(cp.Results) == n {
			cs.cp = cp
		}
	}
	var todo []int
	for i, res := range cs.cp.Results {
		if res == nil {
			todo = append(todo, i)
		}
	}
	conc := max(1, in.Concurrency)
	running := max(1, min(conc, len(todo)))
	// The collections running at once share the checkpoint cadence, so a
	// crash costs about as much re-fetching as for one collection.
	checkpointItems := max(1, a.checkpointItems()/running)
	slots := make(chan struct{}, conc)

	runOne := func(ctx context.Context, i int) error {
		c := &collection{
			in: workflows.BackupCollectionInput{
				Repo: in.Repo, Graph: in.Graph, BackupID: in.BackupID, MailboxID: in.MailboxID, Service: in.Service,
				Plan: in.Plans[i], FailFast: in.FailFast, Concurrency: conc,
			},
			src: src, repo: r, session: sess, lastCheck: time.Now(), checkpointItems: checkpointItems,
			cp:    cs.cp.Collections[i],
			slots: slots,
			report: func(ctx context.Context, cp checkpoint, force bool) {
				cs.report(ctx, i, cp, force)
			},
			flush:    cs.flush,
			together: true,
		}
		if err := c.load(ctx); err != nil {
			return err
		}
		res, err := c.run(ctx)
		if err != nil {
			return err
		}
		if in.Record != nil {
			cs.keepItems(i, c.entries)
		}
		cs.finished(i, &res)
		return nil
	}
	if err := concurrently(ctx, running, todo, runOne); err != nil {
		if ctx.Err() == nil {
			// The retry (after throttling, say) need not back up again the
			// collections that finished: flush them into the checkpoint.
			_ = cs.flush(ctx)
		}
		return workflows.BackupCollectionsResult{}, err
	}
	// Recording the backup and the last flush send no heartbeats of their
	// own.
	defer keepAlive(ctx, heartbeatEvery, func() { cs.beat(ctx) })()
	out := workflows.BackupCollectionsResult{Collections: make([]workflows.CollectionResult, n)}
	for i := range n {
		if res := cs.cp.Results[i]; res != nil {
			out.Collections[i] = *res
		} else {
			out.Collections[i] = *cs.written[i]
		}
	}
	if rec := in.Record; rec != nil {
		s, err := writeBackup(ctx, r, sess, workflows.CombineInput{
			Repo: in.Repo, BackupID: in.BackupID, TenantID: rec.TenantID, Service: rec.Service, Mailbox: rec.Mailbox,
			Started: rec.Started, Collections: out.Collections, Workflow: rec.Workflow,
		}, func(i int) ([]*snapshot.DirEntry, bool) {
			ents, ok := cs.items[i]
			return ents, ok
		})
		if err != nil {
			return workflows.BackupCollectionsResult{}, err
		}
		out.Backup = &s
	}
	if in.PlansID != "" {
		if out, err = storeResults(ctx, sess, out.Collections); err != nil {
			return workflows.BackupCollectionsResult{}, err
		}
	}
	if err := cs.flush(ctx); err != nil {
		return workflows.BackupCollectionsResult{}, repositoryError(err)
	}
	return out, nil
}

// storeResults stores the results of a group of collections (its plans
// were stored), flushed with them, and returns their id and totals.
func storeResults(ctx context.Context, sess *repository.Session, results []workflows.CollectionResult) (workflows.BackupCollectionsResult, error) {
	id, err := sess.WriteJSON(ctx, "BACKUP-RESULTS", results)
	if err != nil {
		return workflows.BackupCollectionsResult{}, repositoryError(err)
	}
	t := &workflows.CollectionTotals{Collections: len(results)}
	for _, res := range results {
		t.Items += res.Items
		t.Bytes += res.Bytes
		t.Errors += backup.Failures(res.Errors)
	}
	return workflows.BackupCollectionsResult{ResultsID: id.String(), Totals: t}, nil
}

// beat heartbeats every collection's checkpoint.
func (cs *collections) beat(ctx context.Context) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	heartbeat(ctx, cs.cp)
	cs.lastBeat = time.Now()
}

// keepItems keeps a finished collection's items for the backup's snapshot.
func (cs *collections) keepItems(i int, entries map[string]*snapshot.DirEntry) {
	ents := make([]*snapshot.DirEntry, 0, len(entries))
	for _, e := range entries {
		ents = append(ents, e)
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.items[i] = ents
}

// report records collection i's checkpoint and heartbeats them all, at
// most once every heartbeatEvery unless forced.
func (cs *collections) report(ctx context.Context, i int, cp checkpoint, force bool) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.cp.Collections[i] = cp
	if force || time.Since(cs.lastBeat) >= heartbeatEvery {
		heartbeat(ctx, cs.cp)
		cs.lastBeat = time.Now()
	}
}

// finished takes a collection's result; it enters the checkpoint at the
// next flush.
func (cs *collections) finished(i int, res *workflows.CollectionResult) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.written[i] = res
}

// flush makes everything written durable, then the results written before
// it began join the checkpoint.
func (cs *collections) flush(ctx context.Context) error {
	cs.mu.Lock()
	written := cs.written
	cs.written = map[int]*workflows.CollectionResult{}
	cs.mu.Unlock()
	if err := cs.flushFn(ctx); err != nil {
		return err
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for i, res := range written {
		cs.cp.Results[i] = res
		cs.cp.Collections[i] = checkpoint{} // done: its checkpoint is of no more use
	}
	if len(written) > 0 {
		heartbeat(ctx, cs.cp)
		cs.lastBeat = time.Now()
	}
	return nil
}
