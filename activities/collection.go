package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/kopia/kopia/repo/object"
	"github.com/kopia/kopia/snapshot"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/repository"
	"github.com/corso-temporal/corso/workflows"
)

// Checkpoint cadence: a checkpoint is taken after a page once this many
// items were fetched since the last one, or this much time passed, so a
// killed worker costs at most about checkpointItems re-fetched items.
const (
	defaultCheckpointItems = 500
	checkpointInterval     = 20 * time.Second
	maxReportedErrors      = 1000
)

// segment is what changed between two checkpoints, relative to the
// collection's base (the previous backup's items, or nothing after a
// reset).
type segment struct {
	Entries []*snapshot.DirEntry `json:"entries"`
	Details []backup.Entry       `json:"details"`
	Removed []string             `json:"removed"`
	Errors  []backup.ItemError   `json:"errors,omitempty"`
}

// collection is the state of one container's backup in progress.
type collection struct {
	in      workflows.BackupCollectionInput
	src     ContainerSource
	repo    *repository.Repository
	session *repository.Session

	cp checkpoint
	// saved is the last checkpoint reported: what a retry resumes from.
	saved   checkpoint
	entries map[string]*snapshot.DirEntry
	details map[string]backup.Entry
	// candidates are the previous backup's items after a reset: an item
	// enumerated again unchanged is reused, not downloaded.
	candEntries map[string]*snapshot.DirEntry
	// gone is set when the container disappeared during the backup.
	gone   bool
	errors []backup.ItemError
	// retrying names the items the previous backup failed to read while
	// they are tried again.
	retrying map[string]bool

	// mu guards the state above and below while a page's downloads run.
	mu              sync.Mutex
	pending         segment
	lastCheck       time.Time
	sinceCheck      int
	checkpointItems int

	// slots bounds the Graph requests in flight: the collection's own
	// share of the mailbox's budget, or one shared by the collections
	// backed up together.
	slots chan struct{}
	// report heartbeats the checkpoint; force sends it even when a
	// heartbeat was sent moments ago.
	report func(ctx context.Context, cp checkpoint, force bool)
	// flush makes everything written so far durable.
	flush func(ctx context.Context) error
	// together is set when the collection shares its activity with
	// others: the activity flushes once when all are written, and
	// finish does not.
	together bool
}

// BackupCollection backs up one container: it pages through Graph's delta
// for it, stores new and changed items, keeps unchanged ones from the
// previous backup, drops removed ones, and writes the container's
// directory and details. It checkpoints through heartbeats, so a retry on
// another worker resumes where the last flushed checkpoint left off.
func (a *Containers) BackupCollection(ctx context.Context, in workflows.BackupCollectionInput) (workflows.CollectionResult, error) {
	// Its share of the resource's request budget also paces its requests
	// on a resource limited by rate, a team (m365.RequestShare).
	ctx = m365.WithRequestShare(ctx, in.Concurrency, workflows.MailboxRequestBudget)
	src, err := a.client(ctx, in.Graph)
	if err != nil {
		return workflows.CollectionResult{}, err
	}
	r, err := a.Repos.open(ctx, in.Repo)
	if err != nil {
		return workflows.CollectionResult{}, err
	}
	defer r.Release(ctx)
	ctx, sess, err := r.NewSession(ctx, "backup "+in.BackupID)
	if err != nil {
		return workflows.CollectionResult{}, repositoryError(err)
	}
	defer sess.Close(ctx)

	// Checkpoints are sent at once; progress between them at most every
	// heartbeatEvery: encoding and sealing a heartbeat for every item cost
	// a few percent of the worker's processor time.
	var lastBeat time.Time
	c := &collection{
		in: in, src: src, repo: r, session: sess, lastCheck: time.Now(), checkpointItems: a.checkpointItems(),
		slots: make(chan struct{}, max(1, in.Concurrency)),
		report: func(ctx context.Context, cp checkpoint, force bool) {
			if force || time.Since(lastBeat) >= heartbeatEvery {
				heartbeat(ctx, cp)
				lastBeat = time.Now()
			}
		},
		flush: sess.Flush,
	}
	if activity.HasHeartbeatDetails(ctx) {
		if err := activity.GetHeartbeatDetails(ctx, &c.cp); err != nil {
			c.cp = checkpoint{}
		}
	}
	c.saved = c.cp
	if err := c.load(ctx); err != nil {
		return workflows.CollectionResult{}, err
	}
	return c.run(ctx)
}

func (a *Containers) checkpointItems() int {
	if a.CheckpointItems > 0 {
		return a.CheckpointItems
	}
	return defaultCheckpointItems
}

// heartbeat reports the collection's checkpoint when force (it names
// flushed data: a new checkpoint, a restart); between checkpoints it
// repeats the last one, so that a retry resumes with the counts of what
// was checkpointed, not of items fetched since, which it fetches again.
// The caller holds c.mu or runs no downloads.
func (c *collection) heartbeat(ctx context.Context, force bool) {
	if force {
		c.saved = c.cp
	}
	c.report(ctx, c.saved, force)
}

// acquire takes one of the request slots, waiting for one to be free.
func (c *collection) acquire(ctx context.Context) error {
	select {
	case c.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *collection) release() { <-c.slots }

// fresh reports whether the collection is enumerated anew rather than
// from the previous backup's delta link: after a reset, in a listing, or
// when the previous backup ended without a link (it was listed). The
// previous backup's items are then only candidates for reuse.
func (c *collection) fresh() bool {
	prev := c.in.Plan.Previous
	return c.cp.Reset || c.cp.Listed || prev != nil && prev.DeltaLink == ""
}

// load builds the starting state: the previous backup's items (or none
// when enumerated anew), then the segments of earlier attempts. The previous
// details are read only if the collection changed (see finish).
func (c *collection) load(ctx context.Context) error {
	c.entries = map[string]*snapshot.DirEntry{}
	c.details = map[string]backup.Entry{}
	if prev := c.in.Plan.Previous; prev != nil {
		list, err := c.repo.ReadDir(ctx, prev.DirID)
		if err != nil {
			return fmt.Errorf("read previous backup: %w", err)
		}
		ents := make(map[string]*snapshot.DirEntry, len(list))
		for _, e := range list {
			ents[e.Name] = e
		}
		if c.fresh() {
			c.candEntries = ents
		} else {
			c.entries = ents
		}
	}
	for _, id := range c.cp.Segments {
		var seg segment
		if err := c.repo.ReadJSON(ctx, id, &seg); err != nil {
			return fmt.Errorf("read checkpoint: %w", err)
		}
		c.apply(seg)
	}
	return nil
}

// previousDetails fills in details of items kept from the previous backup
// that no change touched.
func (c *collection) previousDetails(ctx context.Context) error {
	prev := c.in.Plan.Previous
	if prev == nil || c.fresh() {
		return nil
	}
	var ds []backup.Entry
	if err := c.repo.ReadJSON(ctx, prev.DetailsID, &ds); err != nil {
		return fmt.Errorf("read previous backup details: %w", err)
	}
	for _, d := range ds {
		name := entryName(d.ItemID)
		if _, kept := c.entries[name]; kept {
			if _, set := c.details[name]; !set {
				c.details[name] = d
			}
		}
	}
	return nil
}

func (c *collection) apply(seg segment) {
	for _, name := range seg.Removed {
		delete(c.entries, name)
		delete(c.details, name)
	}
	for i, e := range seg.Entries {
		c.entries[e.Name] = e
		c.details[e.Name] = seg.Details[i]
	}
	c.errors = append(c.errors, seg.Errors...)
}

// entryName is an item's file name in its collection's directory.
func entryName(itemID string) string { return url.PathEscape(itemID) }

func (c *collection) run(ctx context.Context) (workflows.CollectionResult, error) {
	cont := c.in.Plan.Container
	if !c.cp.Started {
		// The first page to read is the previous backup's delta link, so a
		// retry before the first checkpoint resumes from it too.
		c.cp.Started = true
		switch prev := c.in.Plan.Previous; {
		case !cont.Category.HasDelta():
			// Graph has no delta for the category: every backup lists
			// the container, reusing stored items that did not change.
			c.startListing(ctx)
		case prev != nil && !c.cp.Reset:
			c.cp.Link = prev.DeltaLink
		}
		c.heartbeat(ctx, true)
	}
	if err := c.retryFailed(ctx); err != nil {
		return workflows.CollectionResult{}, err
	}
	if c.cp.Backfill {
		return c.backfill(ctx)
	}
	link := c.cp.Link
	var deltaLink string
	for {
		c.heartbeat(ctx, false)
		err := c.acquire(ctx)
		if err != nil {
			return workflows.CollectionResult{}, err
		}
		var page m365.Page
		if c.cp.Listed {
			page, err = c.src.ListPage(ctx, c.in.MailboxID, cont.Category, cont.ID, link)
		} else {
			page, err = c.src.DeltaPage(ctx, c.in.MailboxID, cont.Category, cont.ID, link)
		}
		c.release()
		switch class, _ := m365.FaultOf(err); {
		case class == m365.DeltaUnavailable && !c.cp.Listed:
			// A mailbox over its quota refuses delta but can be listed;
			// the listing is a new enumeration, as after a reset.
			c.startListing(ctx)
			link = ""
			continue
		case errors.Is(err, m365.ErrDeltaExpired) && link != "":
			// Start over without a token; the previous backup's items
			// become reuse candidates and the backup says it was reset.
			if err := c.reset(ctx); err != nil {
				return workflows.CollectionResult{}, err
			}
			link = ""
			continue
		case errors.Is(err, m365.ErrNotFound):
			// The container was deleted while we backed it up.
			c.entries, c.details, c.gone = map[string]*snapshot.DirEntry{}, map[string]backup.Entry{}, true
			return c.finish(ctx, "")
		case err != nil:
			return workflows.CollectionResult{}, graphError(err)
		}
		if err := c.applyPage(ctx, page.Changes); err != nil {
			return workflows.CollectionResult{}, err
		}
		if page.DeltaLink != "" || c.cp.Listed && page.NextLink == "" {
			// A listing ends without a delta link: the next backup
			// enumerates the container anew.
			deltaLink = page.DeltaLink
			break
		}
		link = page.NextLink
		if err := c.checkpointDue(ctx, link); err != nil {
			return workflows.CollectionResult{}, err
		}
	}
	if deltaLink != "" && !cont.Category.DeltaSeesEverything() && c.firstRound() {
		c.cp.Backfill, c.cp.DeltaLink, c.cp.Link = true, deltaLink, ""
		return c.backfill(ctx)
	}
	return c.finish(ctx, deltaLink)
}

// checkpointDue takes a checkpoint, with next the page to read after it,
// once enough items or time passed since the last one.
func (c *collection) checkpointDue(ctx context.Context, next string) error {
	if c.sinceCheck >= c.checkpointItems || time.Since(c.lastCheck) >= checkpointInterval {
		return c.checkpoint(ctx, next)
	}
	return nil
}

// firstRound reports whether the delta round just read was a first one,
// started without a link: the container is new, or enumerated anew.
func (c *collection) firstRound() bool {
	return c.in.Plan.Previous == nil || c.fresh()
}

// backfill lists the container after a first delta round of a category
// whose first rounds leave out older items (m365.Category
// DeltaSeesEverything), and backs up each listed item the round did not
// report. The round's delta link, held in the checkpoint, is the
// collection's when the listing ends.
func (c *collection) backfill(ctx context.Context) (workflows.CollectionResult, error) {
	cont := c.in.Plan.Container
	link := c.cp.Link
	for {
		c.heartbeat(ctx, false)
		if err := c.acquire(ctx); err != nil {
			return workflows.CollectionResult{}, err
		}
		page, err := c.src.ListPage(ctx, c.in.MailboxID, cont.Category, cont.ID, link)
		c.release()
		switch {
		case errors.Is(err, m365.ErrNotFound):
			c.entries, c.details, c.gone = map[string]*snapshot.DirEntry{}, map[string]backup.Entry{}, true
			return c.finish(ctx, "")
		case err != nil:
			return workflows.CollectionResult{}, graphError(err)
		}
		if err := c.applyPage(ctx, c.notYetSeen(page.Changes)); err != nil {
			return workflows.CollectionResult{}, err
		}
		if page.NextLink == "" {
			return c.finish(ctx, c.cp.DeltaLink)
		}
		link = page.NextLink
		if err := c.checkpointDue(ctx, link); err != nil {
			return workflows.CollectionResult{}, err
		}
	}
}

// notYetSeen are the listed items this enumeration has neither stored
// nor failed.
func (c *collection) notYetSeen(changes []m365.Change) []m365.Change {
	c.mu.Lock()
	defer c.mu.Unlock()
	failed := map[string]bool{}
	for _, ie := range c.errors {
		failed[ie.ItemID] = true
	}
	var out []m365.Change
	for _, ch := range changes {
		if _, stored := c.entries[entryName(ch.ID)]; !stored && !failed[ch.ID] && !ch.Removed {
			out = append(out, ch)
		}
	}
	return out
}

// retryFailed downloads again the items the previous backup could not
// read for a reason that may pass: delta will not list them again unless
// they change. One deleted since is dropped without a word; the delta
// that follows reports its removal.
func (c *collection) retryFailed(ctx context.Context) error {
	prev := c.in.Plan.Previous
	if prev == nil || prev.FailedIn == "" || c.fresh() {
		return nil // a new enumeration reads every item anyway
	}
	var idx repository.BackupIndex
	if err := c.repo.ReadJSON(ctx, prev.FailedIn, &idx); err != nil {
		return repositoryError(fmt.Errorf("read the previous backup's failures: %w", err))
	}
	known := map[string]bool{}
	for _, ie := range c.errors {
		known[ie.ItemID] = true
	}
	cat, path := string(c.in.Plan.Container.Category), strings.Join(prev.Path, "/")
	var todo []m365.Change
	for _, ie := range idx.Errors {
		if ie.Category != cat || strings.Join(ie.Path, "/") != path || !retriable(ie) || known[ie.ItemID] {
			continue
		}
		if _, stored := c.entries[entryName(ie.ItemID)]; stored {
			continue
		}
		known[ie.ItemID] = true
		todo = append(todo, m365.Change{ID: ie.ItemID, Meta: m365.ItemMeta{Subject: ie.Name}})
	}
	if len(todo) == 0 {
		return nil
	}
	c.mu.Lock()
	c.retrying = known
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.retrying = nil
		c.mu.Unlock()
	}()
	return c.applyPage(ctx, todo)
}

// retriable says an item error may pass: it names no cause (an item
// Microsoft 365 never serves has one) and the item is not in the backup.
func retriable(ie backup.ItemError) bool { return ie.Cause == "" && !ie.Kept }

// startListing turns the collection into a listing round: Graph refused
// delta for it, or has none for its category.
func (c *collection) startListing(ctx context.Context) {
	c.restart(ctx, checkpoint{Started: true, Reset: c.cp.Reset, Listed: true})
}

func (c *collection) reset(ctx context.Context) error {
	if c.cp.Reset {
		return errors.New("delta enumeration expired twice in one backup")
	}
	c.restart(ctx, checkpoint{Started: true, Reset: true})
	return nil
}

// restart begins a new enumeration of the collection from cp: what was
// stored becomes reuse candidates, and what the enumeration does not
// report is gone from this backup.
func (c *collection) restart(ctx context.Context, cp checkpoint) {
	cand := c.entries
	for name, e := range c.candEntries {
		if _, ok := cand[name]; !ok {
			cand[name] = e
		}
	}
	c.candEntries = cand
	c.entries, c.details = map[string]*snapshot.DirEntry{}, map[string]backup.Entry{}
	c.pending = segment{}
	c.cp = cp
	c.errors = nil
	c.heartbeat(ctx, true)
}

// applyPage applies one page of changes, downloading as many items at
// once as c.slots allows. Every change of the page is applied before the
// next page is read, so a checkpoint taken after the page covers all of it.
func (c *collection) applyPage(ctx context.Context, changes []m365.Change) error {
	// The last change of an item wins, as in Graph's delta semantics; this
	// also keeps two downloads of one item from racing.
	last := make(map[string]int, len(changes))
	for i, ch := range changes {
		last[ch.ID] = i
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for i, ch := range changes {
		if last[ch.ID] != i {
			continue
		}
		if ch.Removed || c.reusableChange(ch) {
			// Nothing to download: no request, no slot.
			if err := c.change(ctx, ch); err != nil {
				cancel(err)
				break
			}
			continue
		}
		if c.acquire(ctx) != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.release()
			if err := c.change(ctx, ch); err != nil {
				cancel(err)
			}
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

// change applies one delta entry; it may run concurrently with others.
func (c *collection) change(ctx context.Context, ch m365.Change) error {
	name := entryName(ch.ID)
	c.mu.Lock()
	defer c.mu.Unlock()
	if ch.Removed {
		if _, ok := c.entries[name]; ok {
			c.cp.Removed++
		}
		delete(c.entries, name)
		delete(c.details, name)
		c.pending.Removed = append(c.pending.Removed, name)
		return nil
	}
	det := c.detail(ch)
	if old := c.reusable(name, ch.ModTime); old != nil {
		det.Size = old.FileSize
		c.put(old, det)
		c.cp.Reused++
		return nil
	}
	c.heartbeat(ctx, false)
	c.mu.Unlock()
	f, err := c.fetch(ctx, name, ch)
	c.mu.Lock()
	if err != nil {
		return c.itemFailed(ctx, ch, err)
	}
	if f.meta != nil {
		det = withMeta(det, *f.meta)
	}
	det.Size, det.SHA256 = f.entry.FileSize, f.sha256
	c.put(f.entry, det)
	c.cp.Fetched++
	backedUp(ctx, workflows.ContainerService(c.in.Service), c.in.Graph.TenantID, f.entry.FileSize)
	c.sinceCheck++
	if f.degraded != "" {
		c.keptWithWarning(ch, det, f.degraded)
	}
	return nil
}

// fetched is an item stored by fetch: its entry, what its content says of
// it (an event), and why it was stored without part of it, if it was.
type fetched struct {
	entry    *snapshot.DirEntry
	sha256   string
	meta     *m365.ItemMeta
	degraded m365.Cause
}

// fetch downloads an item straight into the repository. A download that
// breaks off midway is tried again; what was already stored is deduplicated.
// When the content tells what details record of the item (an event), that
// comes back too, and so does the cause when Graph served only part of
// the item (m365.DegradedReader).
func (c *collection) fetch(ctx context.Context, name string, ch m365.Change) (fetched, error) {
	var err error
	for range downloadAttempts {
		var body io.ReadCloser
		body, err = c.src.FetchItemIn(ctx, c.in.MailboxID, c.in.Plan.Container.Category, c.in.Plan.Container.ID, ch.ID)
		if err != nil {
			return fetched{}, err
		}
		src := &sourceReader{r: body, tick: func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.heartbeat(ctx, false)
		}}
		var (
			de  *snapshot.DirEntry
			sum string
		)
		de, sum, err = c.session.WriteItemSum(ctx, name, ch.ModTime, src)
		body.Close()
		switch {
		case err == nil:
			f := fetched{entry: de, sha256: sum}
			if mr, ok := body.(m365.MetaReader); ok {
				m := mr.ItemMeta()
				f.meta = &m
			}
			if dr, ok := body.(m365.DegradedReader); ok {
				if cause, degraded := dr.Degraded(); degraded {
					f.degraded = cause
				}
			}
			return f, nil
		case src.err == nil:
			return fetched{}, repositoryWriteError{err}
		case ctx.Err() != nil:
			return fetched{}, ctx.Err()
		}
	}
	return fetched{}, brokenOff{err}
}

// withMeta fills in what the delta page left empty of an item's details
// from what its content says.
func withMeta(d backup.Entry, m m365.ItemMeta) backup.Entry {
	for _, f := range []struct {
		into *string
		from string
	}{{&d.Subject, m.Subject}, {&d.Organizer, m.Organizer}, {&d.Sender, m.Sender}, {&d.DisplayName, m.DisplayName}} {
		if *f.into == "" {
			*f.into = f.from
		}
	}
	for _, f := range []struct {
		into *time.Time
		from time.Time
	}{{&d.Start, m.Start}, {&d.End, m.End}, {&d.Received, m.Received}} {
		if f.into.IsZero() {
			*f.into = f.from
		}
	}
	return d
}

// reusableChange reports whether a change needs no download: the item is
// stored already, unchanged.
func (c *collection) reusableChange(ch m365.Change) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reusable(entryName(ch.ID), ch.ModTime) != nil
}

// reusable returns the stored entry for an item Graph reports unchanged
// since the previous backup (same modification time).
func (c *collection) reusable(name string, mod time.Time) *snapshot.DirEntry {
	if !c.in.Plan.Container.Category.ModTimeTracksContent() {
		return nil
	}
	for _, m := range []map[string]*snapshot.DirEntry{c.entries, c.candEntries} {
		if e, ok := m[name]; ok && !mod.IsZero() && e.ModTime.ToTime().Equal(mod) {
			return e
		}
	}
	return nil
}

func (c *collection) put(e *snapshot.DirEntry, d backup.Entry) {
	c.entries[e.Name] = e
	c.details[e.Name] = d
	c.pending.Entries = append(c.pending.Entries, e)
	c.pending.Details = append(c.pending.Details, d)
}

func (c *collection) detail(ch m365.Change) backup.Entry {
	m := ch.Meta
	return backup.Entry{
		ItemID: ch.ID, Category: string(c.in.Plan.Container.Category), Path: c.in.Plan.Container.Path,
		ModTime: ch.ModTime, Subject: m.Subject, Sender: m.Sender, Recipients: m.Recipients,
		Received: m.Received, Organizer: m.Organizer, Start: m.Start, End: m.End,
		DisplayName: m.DisplayName, Emails: m.Emails, MessageState: m.MessageState,
	}
}

// itemFailed records an item that cannot be backed up, or stops the
// backup when it is not the item's fault (repository, auth, a mailbox
// denied, throttling) or when --fail-fast asks for it. An item Graph can
// never serve (m365.ItemSkipped) is skipped with its cause, --fail-fast
// or not: no retry and no other run would read it.
func (c *collection) itemFailed(ctx context.Context, ch m365.Change, err error) error {
	if stop := notTheItem(ctx, err); stop != nil {
		return stop
	}
	if errors.Is(err, m365.ErrNotFound) && c.retrying[ch.ID] {
		return nil // deleted since the backup that failed to read it
	}
	class, cause := m365.FaultOf(err)
	reason := err.Error()
	switch {
	case class == m365.ItemSkipped:
		reason = cause.Describe()
	case errors.Is(err, m365.ErrNotFound):
		cause = m365.CauseDeletedInFlight
		reason = cause.Describe()
	}
	ie := backup.ItemError{Category: string(c.in.Plan.Container.Category), Path: c.in.Plan.Container.Path, ItemID: ch.ID,
		Name: ch.Meta.Subject, Reason: reason, Cause: string(cause)}
	if c.in.FailFast && class != m365.ItemSkipped {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("item %s in %s failed: %s (--fail-fast)", ch.ID, strings.Join(ie.Path, "/"), reason), workflows.ErrTypeItemFailed, nil)
	}
	c.cp.Skipped++
	if len(c.errors) < maxReportedErrors {
		c.errors = append(c.errors, ie)
		c.pending.Errors = append(c.pending.Errors, ie)
	}
	return nil
}

// keptWithWarning records an item stored without part of it (an event
// series whose exceptions Exchange cannot list): it is in the backup, and
// the backup says what it lacks. It is not skipped.
func (c *collection) keptWithWarning(ch m365.Change, det backup.Entry, cause m365.Cause) {
	ie := backup.ItemError{Category: string(c.in.Plan.Container.Category), Path: c.in.Plan.Container.Path, ItemID: ch.ID,
		Name: det.Subject, Reason: cause.Describe(), Cause: string(cause), Kept: true}
	if len(c.errors) < maxReportedErrors {
		c.errors = append(c.errors, ie)
		c.pending.Errors = append(c.pending.Errors, ie)
	}
}

// reportedErrors are the collection's item errors as the backup reports
// them: a warning stands for the item as stored, so only the last one of an
// item fetched more than once counts, and none of an item removed since.
func (c *collection) reportedErrors() []backup.ItemError {
	last := map[string]int{}
	for i, ie := range c.errors {
		if ie.Kept {
			last[ie.ItemID] = i
		}
	}
	out := c.errors[:0:0]
	for i, ie := range c.errors {
		if ie.Kept {
			if _, stored := c.entries[entryName(ie.ItemID)]; !stored || last[ie.ItemID] != i {
				continue
			}
		}
		out = append(out, ie)
	}
	return out
}

// checkpoint flushes what was written, records the changes since the last
// checkpoint as a segment, and heartbeats the new checkpoint. Only then
// does the checkpoint name the data.
func (c *collection) checkpoint(ctx context.Context, next string) error {
	id, err := c.session.WriteJSON(ctx, "BACKUP-SEGMENT", c.pending)
	if err != nil {
		return repositoryError(err)
	}
	if err := c.flush(ctx); err != nil {
		return repositoryError(err)
	}
	c.cp.Link = next
	c.cp.Segments = append(c.cp.Segments, id.String())
	c.heartbeat(ctx, true)
	c.pending = segment{}
	c.sinceCheck = 0
	c.lastCheck = time.Now()
	return nil
}

// unchanged reports whether the enumeration changed nothing since the
// previous backup, so its directory and details can be reused as they are.
func (c *collection) unchanged() bool {
	cp := c.cp
	return c.in.Plan.Previous != nil && !c.gone && !c.fresh() && cp.Fetched == 0 && cp.Removed == 0 && cp.Reused == 0 &&
		cp.Skipped == 0 && len(cp.Segments) == 0 && len(c.pending.Removed) == 0 && len(c.pending.Entries) == 0 &&
		!c.renamed()
}

// renamed reports whether the container's path differs from the previous
// backup's.
func (c *collection) renamed() bool {
	return strings.Join(c.in.Plan.Previous.Path, "/") != strings.Join(c.in.Plan.Container.Path, "/")
}

// finish writes the collection's directory and details.
func (c *collection) finish(ctx context.Context, deltaLink string) (workflows.CollectionResult, error) {
	cont := c.in.Plan.Container
	schemaID, err := c.schema(ctx)
	if err != nil {
		return workflows.CollectionResult{}, err
	}
	if c.unchanged() {
		return c.reuse(ctx, deltaLink, schemaID)
	}
	if err := c.previousDetails(ctx); err != nil {
		return workflows.CollectionResult{}, err
	}
	names := make([]string, 0, len(c.entries))
	for n := range c.entries {
		names = append(names, n)
	}
	sort.Strings(names)
	entries := make([]*snapshot.DirEntry, 0, len(names))
	details := make([]backup.Entry, 0, len(names))
	var bytes int64
	for _, n := range names {
		e := c.entries[n]
		entries = append(entries, e)
		d := c.details[n]
		d.Path = cont.Path // a renamed or moved folder takes its items along
		details = append(details, d)
		bytes += e.FileSize
	}
	rel := string(cont.Category) + "/" + strings.Join(cont.Path, "/")
	dir, err := c.session.WriteDir(ctx, rel, entryName(cont.ID), entries)
	if err != nil {
		return workflows.CollectionResult{}, repositoryError(err)
	}
	detailsID, err := c.session.WriteJSON(ctx, "BACKUP-DETAILS", details)
	if err != nil {
		return workflows.CollectionResult{}, repositoryError(err)
	}
	if !c.together {
		if err := c.flush(ctx); err != nil {
			return workflows.CollectionResult{}, repositoryError(err)
		}
	}
	dirJSON, err := json.Marshal(dir)
	if err != nil {
		return workflows.CollectionResult{}, err
	}
	return workflows.CollectionResult{
		Container: cont, DirEntry: dirJSON, DetailsID: detailsID.String(), DeltaLink: deltaLink,
		Items: int64(len(entries)), Bytes: bytes, Fetched: c.cp.Fetched, Reused: c.cp.Reused,
		Removed: c.cp.Removed, Reset: c.cp.Reset, Listed: c.cp.Listed && cont.Category.HasDelta(), Errors: c.reportedErrors(), Skipped: c.cp.Skipped,
		SchemaID: schemaID,
	}, nil
}

// reuse reports the previous backup's directory and details for a
// collection in which nothing changed: nothing to write or flush but its
// schema, when it has one.
func (c *collection) reuse(ctx context.Context, deltaLink, schemaID string) (workflows.CollectionResult, error) {
	prev := c.in.Plan.Previous
	if schemaID != "" && !c.together {
		if err := c.flush(ctx); err != nil {
			return workflows.CollectionResult{}, repositoryError(err)
		}
	}
	oid, err := object.ParseID(prev.DirID)
	if err != nil {
		return workflows.CollectionResult{}, fmt.Errorf("previous directory: %w", err)
	}
	var bytes int64
	for _, e := range c.entries {
		bytes += e.FileSize
	}
	dirJSON, err := json.Marshal(&snapshot.DirEntry{
		Name: entryName(c.in.Plan.Container.ID), Type: snapshot.EntryTypeDirectory, Permissions: 0o700, ObjectID: oid,
	})
	if err != nil {
		return workflows.CollectionResult{}, err
	}
	return workflows.CollectionResult{
		Container: c.in.Plan.Container, DirEntry: dirJSON, DetailsID: prev.DetailsID, DeltaLink: deltaLink,
		Items: int64(len(c.entries)), Bytes: bytes, SchemaID: schemaID,
	}, nil
}
