package workflows

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/corso-temporal/corso/backup"
)

// MailboxRequestBudget is Exchange's limit of concurrent requests per
// mailbox. The collections of a mailbox in flight share it across the
// whole fleet: each is given a number of concurrent downloads, and their
// sum never exceeds the budget.
const MailboxRequestBudget = 4

// Changes of the collection schedule; runs started before a change keep
// their old schedule on replay.
const (
	// Four collections, one download each, became two collections with
	// two downloads each.
	concurrentDownloadsChange = "concurrent-downloads"
	// Downloads are shared out by collection size, biggest first.
	weightedDownloadsChange = "weighted-downloads"
	// The collections resuming from a delta link are backed up together,
	// in one activity per mailbox, which also records the backup when
	// they are all of the mailbox's collections; the plan is a local
	// activity, run within the workflow task that goes on to schedule the
	// backup.
	incrementalsTogetherChange = "incrementals-together"
	// New collections whose sizes are all unknown (a team's channels, a
	// site's lists) are backed up together too: their shares of the
	// budget cannot be weighed, and together each takes what the
	// finished ones leave.
	unknownSizesTogetherChange = "unknown-sizes-together"
	// The plan of a mailbox of more than InlineCollections collections is
	// stored in the repository in bounded groups, each backed up by one
	// activity that stores its results there too, which combine reads:
	// no payload or history grows with the mailbox's folders.
	collectionGroupsChange = "collection-groups"
	// The collections of an inline plan are packed as a stored plan's
	// groups are: small new ones together, so that a small mailbox is one
	// activity, which also records the backup, instead of one activity a
	// folder and a combine.
	packedCollectionsChange = "packed-collections"
)

// downloadShares returns how many concurrent downloads the i-th collection
// gets when `used` of the budget is taken by collections in flight.
func (b *mailboxBackup) downloadShares(ctx workflow.Context, plans []CollectionPlan) func(i, used int) int {
	if workflow.GetVersion(ctx, concurrentDownloadsChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return func(int, int) int { return 1 }
	}
	if workflow.GetVersion(ctx, weightedDownloadsChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return func(int, int) int { return 2 }
	}
	sizes := make([]int64, len(plans))
	for i, p := range plans {
		sizes[i] = p.Container.ItemCount
	}
	return budgetShares(sizes)
}

// budgetShares shares MailboxRequestBudget among units of work of the
// given sizes, started in order, biggest first: the i-th gets its part of
// the budget by its share of the work left, at least one request, and the
// last takes whatever is free when `used` is already taken.
func budgetShares(sizes []int64) func(i, used int) int {
	remaining := make([]int64, len(sizes)+1) // work in sizes[i:]
	for i := len(sizes) - 1; i >= 0; i-- {
		remaining[i] = remaining[i+1] + sizes[i]
	}
	return func(i, used int) int {
		free := MailboxRequestBudget - used
		if i == len(sizes)-1 {
			return max(1, free)
		}
		if remaining[i] == 0 {
			return 1 // sizes unknown: small, many in parallel
		}
		c := int((int64(MailboxRequestBudget)*sizes[i] + remaining[i] - 1) / remaining[i]) // ceil of its share
		return min(max(1, c), MailboxRequestBudget)
	}
}

// MailboxBackupWorkflow backs up one mailbox: plan its collections, back
// them up on whichever workers are free, packed into activities (a big
// new one on its own, small new ones together, those resuming from a
// delta link together: packedCollectionsChange), then combine them into
// one backup. A mailbox whose collections pack into one activity, a small
// one or the usual incremental, is that activity alone, which also
// records the backup. A mailbox of more than InlineCollections
// collections is planned into groups stored in the repository, each
// backed up by one activity (collectionGroupsChange).
func MailboxBackupWorkflow(ctx workflow.Context, in MailboxBackupInput) (backup.Summary, error) {
	b := &mailboxBackup{in: in, progress: BackupProgress{BackupID: in.BackupID, Resource: in.Mailbox.UPN, Stage: "planning"}}
	if err := workflow.SetQueryHandler(ctx, ProgressQuery, func() (BackupProgress, error) { return b.progress, nil }); err != nil {
		return backup.Summary{}, err
	}
	return b.run(ctx)
}

type mailboxBackup struct {
	in       MailboxBackupInput
	progress BackupProgress
}

func (b *mailboxBackup) run(ctx workflow.Context) (backup.Summary, error) {
	started := workflow.Now(ctx)
	incrementalsTogether := workflow.GetVersion(ctx, incrementalsTogetherChange, workflow.DefaultVersion, 1) != workflow.DefaultVersion
	var plan MailboxPlan
	planIn := PlanMailboxInput{Repo: b.in.Repo, Graph: b.in.Graph, Mailbox: b.in.Mailbox, Categories: b.in.Categories, Service: b.in.Service,
		RecordedBefore: b.in.RequestStarted}
	var err error
	if incrementalsTogether {
		if workflow.GetVersion(ctx, collectionGroupsChange, workflow.DefaultVersion, 1) >= 1 {
			planIn.InlineCollections = InlineCollections
		}
		err = workflow.ExecuteLocalActivity(planActivityOptions(ctx), ActivityPlanMailbox, planIn).Get(ctx, &plan)
	} else {
		err = workflow.ExecuteActivity(shortActivityOptions(ctx), ActivityPlanMailbox, planIn).Get(ctx, &plan)
	}
	if err != nil {
		return backup.Summary{}, err
	}

	var results []CollectionResult
	var stored []string // results stored by groups
	if len(plan.Groups) > 0 {
		stored, err = b.backupGroups(ctx, plan.Groups)
	} else if !incrementalsTogether {
		results, err = b.backupEach(ctx, plan.Collections)
	} else {
		var recorded *backup.Summary
		if workflow.GetVersion(ctx, packedCollectionsChange, workflow.DefaultVersion, 1) >= 1 {
			results, recorded, err = b.backupPacked(ctx, plan.Collections, started)
		} else {
			results, recorded, err = b.backupIncrementalsTogether(ctx, plan.Collections, started)
		}
		if err == nil && recorded != nil {
			b.progress.Stage = "done"
			return *recorded, nil
		}
	}
	if err != nil {
		return backup.Summary{}, err
	}

	b.progress.Stage = "combining"
	var summary backup.Summary
	err = workflow.ExecuteActivity(shortActivityOptions(ctx), ActivityCombineBackup, CombineInput{
		Repo: b.in.Repo, BackupID: b.in.BackupID, TenantID: b.in.Graph.TenantID, Service: b.in.Service, Mailbox: b.in.Mailbox,
		Started: started, Collections: results, Workflow: workflow.GetInfo(ctx).WorkflowExecution.ID, ResultsIDs: stored,
	}).Get(ctx, &summary)
	if err != nil {
		return backup.Summary{}, err
	}
	b.progress.Stage = "done"
	return summary, nil
}

// backupEach backs up each collection in an activity of its own.
func (b *mailboxBackup) backupEach(ctx workflow.Context, plans []CollectionPlan) ([]CollectionResult, error) {
	share := b.downloadShares(ctx, plans)

	b.progress.Stage = "backing up"
	b.progress.CollectionsTotal = len(plans)
	results := make([]CollectionResult, len(plans))
	actx := collectionActivityOptions(ctx)
	err := fanOut(ctx, len(plans), MailboxRequestBudget, share,
		func(i, c int) workflow.Future {
			return workflow.ExecuteActivity(actx, ActivityBackupCollection, b.collectionInput(plans[i], c))
		},
		func(i int, f workflow.Future) error {
			if err := f.Get(ctx, &results[i]); err != nil {
				return err
			}
			b.collected(results[i])
			return nil
		})
	return results, err
}

// backupIncrementalsTogether backs up the collections that resume from a
// delta link together, in one activity, and each other collection (new,
// or without a link) in an activity of its own, unless none of those has
// a known size (unknownSizesTogetherChange). An incremental collection
// mostly finds a handful of changes or none, so an activity for each would
// spend more on scheduling and on its own repository flush than on the
// changes; together they share one session, one flush and the mailbox's
// request budget. The activity goes first, weighted as one item per
// collection, then the others biggest first, weighted by their size.
//
// When every collection resumes from a delta link, the usual incremental,
// that one activity also records the backup, and its summary is returned.
func (b *mailboxBackup) backupIncrementalsTogether(ctx workflow.Context, plans []CollectionPlan, started time.Time) ([]CollectionResult, *backup.Summary, error) {
	b.progress.Stage = "backing up"
	b.progress.CollectionsTotal = len(plans)

	var together, each []int // plan indexes
	for i, p := range plans {
		if p.Previous != nil && p.Previous.DeltaLink != "" {
			together = append(together, i)
		} else {
			each = append(each, i)
		}
	}
	if workflow.GetVersion(ctx, unknownSizesTogetherChange, workflow.DefaultVersion, 1) >= 1 && len(each) > 1 && !slices.ContainsFunc(each, func(i int) bool { return plans[i].Container.ItemCount > 0 }) {
		together, each = append(together, each...), nil
	}
	actx := collectionActivityOptions(ctx)
	togetherInput := func(c int) BackupCollectionsInput { return b.collectionsInput(plans, together, c) }

	if len(together) > 0 && len(each) == 0 {
		return b.backupAndRecord(ctx, togetherInput(MailboxRequestBudget), started)
	}

	// Units of work: the collections together (if any), then each other.
	var sizes []int64
	first := 0 // the unit of each[0]
	if len(together) > 0 {
		sizes = append(sizes, int64(len(together)))
		first = 1
	}
	for _, i := range each {
		sizes = append(sizes, plans[i].Container.ItemCount)
	}
	results := make([]CollectionResult, len(plans))
	err := fanOut(ctx, len(sizes), MailboxRequestBudget, budgetShares(sizes),
		func(u, c int) workflow.Future {
			if u < first {
				return workflow.ExecuteActivity(actx, ActivityBackupCollections, togetherInput(c))
			}
			return workflow.ExecuteActivity(actx, ActivityBackupCollection, b.collectionInput(plans[each[u-first]], c))
		},
		func(u int, f workflow.Future) error {
			if u < first {
				return b.collectedTogether(ctx, f, together, results)
			}
			i := each[u-first]
			if err := f.Get(ctx, &results[i]); err != nil {
				return err
			}
			b.collected(results[i])
			return nil
		})
	return results, nil, err
}

// backupPacked backs up an inline plan's collections packed as a stored
// plan's groups are (packCollections): those resuming from a delta link
// together, each new one of many items on its own, the other new ones
// together. A group of one collection is a BackupCollection activity,
// any other a BackupCollections. A mailbox that packs into one group, a
// small one or the usual incremental, is that one activity, which also
// records the backup, and its summary is returned; unless the group is
// one big collection.
func (b *mailboxBackup) backupPacked(ctx workflow.Context, plans []CollectionPlan, started time.Time) ([]CollectionResult, *backup.Summary, error) {
	b.progress.Stage = "backing up"
	b.progress.CollectionsTotal = len(plans)
	groups, weights := packCollections(plans)
	// The activity that records keeps every item's entry until then: a
	// lone big collection is combined after its own activity instead.
	if len(groups) == 1 && (len(groups[0]) > 1 || plans[groups[0][0]].Container.ItemCount < ownGroupItems) {
		return b.backupAndRecord(ctx, b.collectionsInput(plans, groups[0], MailboxRequestBudget), started)
	}

	results := make([]CollectionResult, len(plans))
	actx := collectionActivityOptions(ctx)
	err := fanOut(ctx, len(groups), MailboxRequestBudget, budgetShares(weights),
		func(u, c int) workflow.Future {
			if g := groups[u]; len(g) == 1 {
				return workflow.ExecuteActivity(actx, ActivityBackupCollection, b.collectionInput(plans[g[0]], c))
			}
			return workflow.ExecuteActivity(actx, ActivityBackupCollections, b.collectionsInput(plans, groups[u], c))
		},
		func(u int, f workflow.Future) error {
			if g := groups[u]; len(g) > 1 {
				return b.collectedTogether(ctx, f, g, results)
			}
			i := groups[u][0]
			if err := f.Get(ctx, &results[i]); err != nil {
				return err
			}
			b.collected(results[i])
			return nil
		})
	return results, nil, err
}

// backupAndRecord backs up all of a mailbox's collections in one
// activity that also records the backup, and returns its summary.
func (b *mailboxBackup) backupAndRecord(ctx workflow.Context, in BackupCollectionsInput, started time.Time) ([]CollectionResult, *backup.Summary, error) {
	in.Record = &BackupRecord{TenantID: b.in.Graph.TenantID, Service: b.in.Service, Mailbox: b.in.Mailbox, Started: started,
		Workflow: workflow.GetInfo(ctx).WorkflowExecution.ID}
	var res BackupCollectionsResult
	if err := workflow.ExecuteActivity(collectionActivityOptions(ctx), ActivityBackupCollections, in).Get(ctx, &res); err != nil {
		return nil, nil, err
	}
	if res.Backup == nil {
		return nil, nil, errors.New("the collections were backed up but the backup was not recorded")
	}
	b.progress.CollectionsDone = len(in.Plans)
	b.progress.Items, b.progress.Bytes, b.progress.Errors = res.Backup.Items, res.Backup.Bytes, res.Backup.Errors
	return res.Collections, res.Backup, nil
}

// collectedTogether takes the results of a BackupCollections of the
// plans at the given indexes into results, by plan index.
func (b *mailboxBackup) collectedTogether(ctx workflow.Context, f workflow.Future, plans []int, results []CollectionResult) error {
	var res BackupCollectionsResult
	if err := f.Get(ctx, &res); err != nil {
		return err
	}
	if len(res.Collections) != len(plans) {
		return fmt.Errorf("%d collections backed up together, %d results", len(plans), len(res.Collections))
	}
	for k, i := range plans {
		results[i] = res.Collections[k]
		b.collected(results[i])
	}
	return nil
}

// backupGroups backs up the groups of a stored plan, each in one
// activity, biggest first, each with its share of the request budget by
// its weight, and returns the ids of their stored results, in group order.
func (b *mailboxBackup) backupGroups(ctx workflow.Context, groups []CollectionGroup) ([]string, error) {
	b.progress.Stage = "backing up"
	weights := make([]int64, len(groups))
	for i, g := range groups {
		b.progress.CollectionsTotal += g.Collections
		weights[i] = g.Weight
	}
	ids := make([]string, len(groups))
	actx := collectionActivityOptions(ctx)
	err := fanOut(ctx, len(groups), MailboxRequestBudget, budgetShares(weights),
		func(i, c int) workflow.Future {
			in := b.collectionsInput(nil, nil, c)
			in.PlansID = groups[i].PlansID
			return workflow.ExecuteActivity(actx, ActivityBackupCollections, in)
		},
		func(i int, f workflow.Future) error {
			var res BackupCollectionsResult
			if err := f.Get(ctx, &res); err != nil {
				return err
			}
			if res.ResultsID == "" || res.Totals == nil || res.Totals.Collections != groups[i].Collections {
				return fmt.Errorf("a group of %d collections was backed up without its stored results", groups[i].Collections)
			}
			ids[i] = res.ResultsID
			t := res.Totals
			b.progress.CollectionsDone += t.Collections
			b.progress.Items += t.Items
			b.progress.Bytes += t.Bytes
			b.progress.Errors += t.Errors
			return nil
		})
	return ids, err
}

// collectionInput is the input of the activity backing up one of the
// mailbox's collections with c concurrent requests.
func (b *mailboxBackup) collectionInput(p CollectionPlan, c int) BackupCollectionInput {
	return BackupCollectionInput{
		Repo: b.in.Repo, Graph: b.in.Graph, BackupID: b.in.BackupID, MailboxID: b.in.Mailbox.ID, Service: b.in.Service,
		Plan: p, FailFast: b.in.FailFast, Concurrency: c,
	}
}

// collectionsInput is the input of the activity backing up the plans at
// the given indexes together with c concurrent requests.
func (b *mailboxBackup) collectionsInput(plans []CollectionPlan, idx []int, c int) BackupCollectionsInput {
	in := BackupCollectionsInput{
		Repo: b.in.Repo, Graph: b.in.Graph, BackupID: b.in.BackupID, MailboxID: b.in.Mailbox.ID, Service: b.in.Service,
		FailFast: b.in.FailFast, Concurrency: c,
	}
	for _, i := range idx {
		in.Plans = append(in.Plans, plans[i])
	}
	return in
}

// collected counts a backed-up collection into the progress.
func (b *mailboxBackup) collected(r CollectionResult) {
	b.progress.CollectionsDone++
	b.progress.Items += r.Items
	b.progress.Bytes += r.Bytes
	b.progress.Errors += backup.Failures(r.Errors)
}
