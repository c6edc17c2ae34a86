package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/repository"
	"github.com/corso-temporal/corso/workflows"
)

// ContainerTarget is what Exchange restores write to: Microsoft Graph in
// production, the simulator in tests (through the same client).
type ContainerTarget interface {
	// EnsureContainer returns the container at path, creating what is
	// missing; calling it again creates nothing.
	EnsureContainer(ctx context.Context, mailboxID string, cat m365.Category, path []string) (string, error)
	// ExistingItems lists a container's items with their collision keys.
	ExistingItems(ctx context.Context, mailboxID string, cat m365.Category, containerID string) ([]m365.ExistingItem, error)
	// RestoreItem creates an item from its stored bytes, whole or not at all.
	RestoreItem(ctx context.Context, mailboxID string, cat m365.Category, containerID string, stored []byte, state m365.MessageState) (string, error)
	DeleteItem(ctx context.Context, mailboxID string, cat m365.Category, itemID string) error
	// EnsureSchemaContainer is EnsureContainer for a category with a
	// schema (m365.Category.HasSchema): a missing container is created
	// from the stored schema.
	EnsureSchemaContainer(ctx context.Context, resourceID string, cat m365.Category, path []string, schema json.RawMessage) (string, error)
}

// ContainerSession is implemented by a ContainerTarget whose containers
// must be opened before a restore writes into them and closed after (a
// Teams channel takes imported messages only in migration mode, which
// must then be completed). RestoreCollection opens the target container
// before writing and closes it when the attempt ends, unless the attempt
// is to be retried, whose retry opens and closes it again.
type ContainerSession interface {
	// OpenContainer prepares a container for items created no earlier
	// than oldest (zero: unknown).
	OpenContainer(ctx context.Context, resourceID string, cat m365.Category, containerID string, oldest time.Time) error
	// CloseContainer ends what OpenContainer began; closing a container
	// already closed does nothing.
	CloseContainer(ctx context.Context, resourceID string, cat m365.Category, containerID string) error
}

// ensureTarget prepares a collection's target container: from its stored
// schema when its category has one, a list.
func ensureTarget(ctx context.Context, r *repository.Repository, tgt ContainerTarget, resourceID string, c workflows.RestoreCollectionPlan) (string, error) {
	if !c.Category.HasSchema() {
		return tgt.EnsureContainer(ctx, resourceID, c.Category, c.TargetPath)
	}
	if c.SchemaID == "" {
		return "", invalidInput(fmt.Sprintf("the backup holds no schema of %s %s to re-create it from", c.Category, strings.Join(c.Path, "/")))
	}
	var schema json.RawMessage
	if err := r.ReadJSON(ctx, c.SchemaID, &schema); err != nil {
		return "", repositoryError(fmt.Errorf("read the schema of %s: %w", strings.Join(c.Path, "/"), err))
	}
	return tgt.EnsureSchemaContainer(ctx, resourceID, c.Category, c.TargetPath, schema)
}

// PlanRestore finds the backup's collections with selected items, resolves
// the mailbox to restore into and prepares every target container, one
// after another, so parallel collection restores never race to create the
// same folder.
func (a *Containers) PlanRestore(ctx context.Context, in workflows.PlanRestoreInput) (workflows.RestorePlan, error) {
	var plan workflows.RestorePlan
	if err := in.Selector.Validate(); err != nil {
		return plan, invalidInput(err.Error())
	}
	if err := validDestination(in.Destination); err != nil {
		return plan, err
	}
	tgt, err := a.client(ctx, in.Graph)
	if err != nil {
		return plan, err
	}
	r, b, idx, err := a.Repos.openBackup(ctx, in.Repo, in.BackupID, workflows.ContainerService(in.Service))
	if err != nil {
		return plan, err
	}
	defer r.Release(ctx)
	if b.Status != backup.StatusCompleted {
		return plan, invalidInput(fmt.Sprintf("backup %s did not complete (%s) and cannot be restored", b.BackupID, b.Status))
	}
	plan.Source = b.Summary

	who := in.ToResource
	if who == "" {
		who = b.Resource
	}
	resolve, noun := tgt.ResolveMailboxes, "mailbox"
	switch in.Service {
	case m365.SharePointLists:
		resolve, noun = tgt.ResolveSites, "site"
	case m365.Groups:
		// Only channel messages can be restored: into a team.
		resolve, noun = func(ctx context.Context, sels []string) ([]m365.Mailbox, error) {
			return tgt.ResolveGroups(ctx, sels, true)
		}, "team"
	}
	mbs, err := resolve(ctx, []string{who})
	if err != nil {
		return plan, graphError(err)
	}
	if len(mbs) != 1 {
		return plan, temporal.NewNonRetryableApplicationError("no "+noun+" matches "+who, workflows.ErrTypeUnknownMailbox, nil)
	}
	plan.Target = mbs[0]

	for _, c := range idx.Collections {
		entries, err := readDetails(ctx, r, c.DetailsID)
		if err != nil {
			return plan, err
		}
		p := workflows.RestoreCollectionPlan{
			Category: m365.Category(c.Category), Path: c.Path, DirID: c.DirID, DetailsID: c.DetailsID, SchemaID: c.SchemaID,
			TargetPath: restorePath(m365.Category(c.Category), c.Path, in.Destination),
		}
		for _, e := range entries {
			if in.Selector.Matches(e) {
				p.Selected++
				p.Bytes += e.Size
			}
		}
		if p.Selected > 0 {
			plan.Collections = append(plan.Collections, p)
		}
	}
	// Biggest first, so the long ones start early and the budget is
	// shared out by size (see the workflow).
	sort.SliceStable(plan.Collections, func(i, j int) bool {
		return plan.Collections[i].Selected > plan.Collections[j].Selected
	})

	ctx, sess, err := r.NewSession(ctx, "plan restore "+in.BackupID)
	if err != nil {
		return plan, repositoryError(err)
	}
	defer sess.Close(ctx)
	type made struct{ id, existing string }
	prepared := map[string]made{}
	for i := range plan.Collections {
		c := &plan.Collections[i]
		key := string(c.Category) + "\x00" + strings.Join(c.TargetPath, "\x00")
		if m, ok := prepared[key]; ok {
			c.TargetID, c.ExistingID = m.id, m.existing
			continue
		}
		heartbeat(ctx, i)
		id, err := ensureTarget(ctx, r, tgt, plan.Target.ID, *c)
		if err != nil {
			return plan, graphError(fmt.Errorf("prepare %s folder %s: %w", c.Category, strings.Join(c.TargetPath, "/"), err))
		}
		existing, err := tgt.ExistingItems(ctx, plan.Target.ID, c.Category, id)
		if err != nil {
			return plan, graphError(fmt.Errorf("list %s folder %s: %w", c.Category, strings.Join(c.TargetPath, "/"), err))
		}
		oid, err := sess.WriteJSON(ctx, "RESTORE-EXISTING", existing)
		if err != nil {
			return plan, repositoryError(err)
		}
		c.TargetID, c.ExistingID = id, oid.String()
		prepared[key] = made{c.TargetID, c.ExistingID}
	}
	if err := sess.Flush(ctx); err != nil {
		return plan, repositoryError(err)
	}
	return plan, nil
}

// restorePath is where a backed-up container's items go. A list or a
// channel is re-created beside the original, named after it and the
// destination. Mail folders keep their tree under the destination folder. Contact folders can only
// live inside the default contacts folder (the first name of their path),
// so the destination is made there and the tree kept under it. Calendars
// are flat: every calendar's events go into one calendar named after the
// destination. In place, each goes back to the container of its name.
func restorePath(cat m365.Category, path []string, dest string) []string {
	switch {
	case (cat == m365.ListItems || cat == m365.ChannelMessages) && dest != workflows.InPlace:
		// Several lists cannot share one, their columns differ; a team's
		// channels do not nest.
		return []string{path[len(path)-1] + " " + dest}
	case dest == workflows.InPlace && cat == m365.Events:
		return []string{path[len(path)-1]}
	case dest == workflows.InPlace:
		return slices.Clone(path)
	case cat == m365.Events:
		return []string{dest}
	case cat == m365.Contacts && len(path) > 0:
		return append([]string{path[0], dest}, path[1:]...)
	}
	return append([]string{dest}, path...)
}

// RestoreCollection restores the selected items of one backed-up
// collection into its target container.
//
// A retry must not create an item twice, whichever worker runs it, and
// heartbeats may be stale, so the target itself is the checkpoint: the plan
// recorded what the target held before the restore, anything else in it is
// this restore's own, and an item whose collision key matches one of those
// is counted as restored instead of being written again. What was there
// before is what the collision policy is about.
func (a *Containers) RestoreCollection(ctx context.Context, in workflows.RestoreCollectionInput) (workflows.RestoreCollectionResult, error) {
	var res workflows.RestoreCollectionResult
	tgt, err := a.client(ctx, in.Graph)
	if err != nil {
		return res, err
	}
	r, err := a.Repos.open(ctx, in.Repo)
	if err != nil {
		return res, err
	}
	defer r.Release(ctx)
	entries, err := readDetails(ctx, r, in.Plan.DetailsID)
	if err != nil {
		return res, err
	}
	dir, dirErr := r.ReadDir(ctx, in.Plan.DirID)
	if dirErr != nil && !errors.Is(dirErr, repository.ErrUnreadable) {
		return res, repositoryError(fmt.Errorf("read backed-up folder: %w", dirErr))
	}
	objects := make(map[string]string, len(dir))
	for _, e := range dir {
		objects[e.Name] = e.ObjectID.String()
	}
	var todo []backup.Entry
	for _, e := range entries {
		if in.Selector.Matches(e) {
			todo = append(todo, e)
		}
	}
	sort.Slice(todo, func(i, j int) bool { return todo[i].ItemID < todo[j].ItemID })

	existing, err := tgt.ExistingItems(ctx, in.MailboxID, in.Plan.Category, in.Plan.TargetID)
	if err != nil {
		return res, graphError(fmt.Errorf("list %s: %w", strings.Join(in.Plan.TargetPath, "/"), err))
	}
	rc := &collectionRestore{
		in: in, tgt: tgt, repo: r, objects: objects, dirErr: dirErr,
		ours: map[string]int{}, theirs: map[string][]string{},
	}
	before, err := existingBefore(ctx, r, in.Plan.ExistingID)
	if err != nil {
		return res, err
	}
	for _, it := range existing {
		ours := !before[it.ID]
		if before == nil {
			ours = !it.Created.Before(in.Started)
		}
		if ours {
			rc.ours[it.Key]++
		} else {
			rc.theirs[it.Key] = append(rc.theirs[it.Key], it.ID)
		}
	}
	if err := rc.runInSession(ctx, todo); err != nil {
		return res, err
	}
	return rc.res, nil
}

// runInSession runs the restore inside the target container's session,
// when its target has them (ContainerSession).
func (rc *collectionRestore) runInSession(ctx context.Context, todo []backup.Entry) error {
	sess, ok := rc.tgt.(ContainerSession)
	if !ok || len(todo) == 0 {
		return rc.run(ctx, todo)
	}
	cat, where := rc.in.Plan.Category, strings.Join(rc.in.Plan.TargetPath, "/")
	var oldest time.Time
	for _, e := range todo {
		if oldest.IsZero() || (!e.Received.IsZero() && e.Received.Before(oldest)) {
			oldest = e.Received
		}
	}
	if err := sess.OpenContainer(ctx, rc.in.MailboxID, cat, rc.in.Plan.TargetID, oldest); err != nil {
		return graphError(fmt.Errorf("open %s %s for the restore: %w", cat, where, err))
	}
	err := rc.run(ctx, todo)
	var ae *temporal.ApplicationError
	if err != nil && !(errors.As(err, &ae) && ae.NonRetryable()) {
		return err // the retry closes it
	}
	if cerr := sess.CloseContainer(ctx, rc.in.MailboxID, cat, rc.in.Plan.TargetID); cerr != nil && err == nil {
		return graphError(fmt.Errorf("close %s %s after the restore: %w", cat, where, cerr))
	}
	return err
}

type collectionRestore struct {
	in      workflows.RestoreCollectionInput
	tgt     ContainerTarget
	repo    *repository.Repository
	objects map[string]string // kopia object of each backed-up item
	// dirErr: the backed-up folder's listing is lost, so is every item.
	dirErr error

	mu     sync.Mutex
	ours   map[string]int      // keys of items this restore already wrote
	theirs map[string][]string // ids by key of items that were there before
	res    workflows.RestoreCollectionResult
}

// run restores items with in.Concurrency of them in flight. An error that
// fails the activity stops it; item errors are recorded and go on.
func (rc *collectionRestore) run(ctx context.Context, todo []backup.Entry) error {
	return concurrently(ctx, rc.in.Concurrency, todo, rc.restore)
}

func (rc *collectionRestore) restore(ctx context.Context, e backup.Entry) error {
	cat, mailbox := rc.in.Plan.Category, rc.in.MailboxID
	raw, err := rc.read(ctx, e.ItemID)
	switch {
	case errors.Is(err, repository.ErrUnreadable):
		// Its data is lost from the repository: this item fails, the
		// others are restored.
		return rc.itemFailed(e, "the backed-up item cannot be read: "+err.Error())
	case err != nil:
		return repositoryError(err)
	}
	key, err := m365.StoredItemKey(cat, raw)
	if err != nil {
		return rc.itemFailed(e, "the backed-up item cannot be read: "+err.Error())
	}

	var replace []string
	rc.mu.Lock()
	switch {
	case rc.ours[key] > 0:
		// An earlier attempt restored it.
		rc.ours[key]--
		rc.res.Restored++
		rc.res.Bytes += int64(len(raw))
		rc.mu.Unlock()
		return nil
	case len(rc.theirs[key]) > 0 && rc.in.Collisions == workflows.CollisionSkip:
		rc.res.Skipped++
		rc.mu.Unlock()
		return nil
	case len(rc.theirs[key]) > 0 && rc.in.Collisions == workflows.CollisionReplace:
		replace = rc.theirs[key]
		delete(rc.theirs, key)
	}
	rc.mu.Unlock()

	// Replace deletes first: a crash in between leaves the item to be
	// restored by the retry, never two copies.
	for _, id := range replace {
		if err := rc.tgt.DeleteItem(ctx, mailbox, cat, id); err != nil {
			return graphError(fmt.Errorf("delete the %s item it replaces: %w", cat, err))
		}
	}
	_, err = rc.tgt.RestoreItem(ctx, mailbox, cat, rc.in.Plan.TargetID, raw, e.MessageState)
	switch {
	case errors.Is(err, m365.ErrUnrestorable), errors.Is(err, m365.ErrNotFound):
		return rc.itemFailed(e, err.Error())
	case err != nil:
		return graphError(err)
	}
	rc.mu.Lock()
	rc.res.Restored++
	rc.res.Bytes += int64(len(raw))
	if len(replace) > 0 {
		rc.res.Replaced++
	}
	done := rc.res.RestoreCounts
	rc.mu.Unlock()
	heartbeat(ctx, done)
	return nil
}

// read reads an item's stored bytes; lost or damaged data is
// repository.ErrUnreadable.
func (rc *collectionRestore) read(ctx context.Context, itemID string) ([]byte, error) {
	if rc.dirErr != nil {
		return nil, fmt.Errorf("the backed-up folder: %w", rc.dirErr)
	}
	oid, ok := rc.objects[entryName(itemID)]
	if !ok {
		return nil, fmt.Errorf("%w: item %s is in the details but not in the backed-up folder", repository.ErrUnreadable, itemID)
	}
	rd, err := rc.repo.OpenItem(ctx, oid)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	raw, err := io.ReadAll(rd)
	if err != nil {
		return nil, fmt.Errorf("read item %s: %w", itemID, err)
	}
	return raw, nil
}

// itemFailed records an item that cannot be restored; with --fail-fast it
// ends the restore.
func (rc *collectionRestore) itemFailed(e backup.Entry, reason string) error {
	ie := backup.ItemError{Category: string(rc.in.Plan.Category), Path: rc.in.Plan.Path, ItemID: e.ItemID, Name: itemName(e), Reason: reason}
	if rc.in.FailFast {
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("%s item %s in %s cannot be restored: %s", ie.Category, ie.ItemID, strings.Join(ie.Path, "/"), reason),
			workflows.ErrTypeItemFailed, nil)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.res.Failed++
	if len(rc.res.Errors) < maxCollectionErrors {
		rc.res.Errors = append(rc.res.Errors, ie)
	}
	return nil
}
