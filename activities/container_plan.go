package activities

import (
	"context"
	"errors"
	"sort"
	"strings"

	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/repository"
	"github.com/corso-temporal/corso/workflows"
)

// PlanMailboxBackup lists the mailbox's containers and pairs each with the
// same container in the mailbox's latest backup, whose delta link and items
// the incremental backup starts from.
func (a *Containers) PlanMailboxBackup(ctx context.Context, in workflows.PlanMailboxInput) (workflows.MailboxPlan, error) {
	src, err := a.client(ctx, in.Graph)
	if err != nil {
		return workflows.MailboxPlan{}, err
	}
	r, err := a.Repos.open(ctx, in.Repo)
	if err != nil {
		return workflows.MailboxPlan{}, err
	}
	defer r.Release(ctx)
	// The mailbox's newest backup recorded before the request, by any
	// worker.
	var plan workflows.MailboxPlan
	previous := map[string]repository.Collection{}
	var failedIn map[string]string // category/path → index id
	b, found, err := r.LatestBackup(ctx, in.RecordedBefore, in.Graph.TenantID, workflows.ContainerService(in.Service), in.Mailbox.ID)
	if err != nil {
		return plan, repositoryError(err)
	}
	if found {
		idx, err := r.Index(ctx, b)
		if err != nil {
			return plan, repositoryError(err)
		}
		for _, c := range idx.Collections {
			previous[c.Category+"/"+c.ContainerID] = c
		}
		failedIn = map[string]string{}
		for _, ie := range idx.Errors {
			if retriable(ie) {
				failedIn[ie.Category+"/"+strings.Join(ie.Path, "/")] = b.IndexID
			}
		}
		plan.PreviousBackupID = b.BackupID
	}

	for _, name := range in.Categories {
		cat, err := m365.ParseServiceCategory(workflows.ContainerService(in.Service), name)
		if err != nil {
			return plan, invalidInput(err.Error())
		}
		containers, err := src.Containers(ctx, in.Mailbox.ID, cat)
		if err != nil {
			if errors.Is(err, m365.ErrNotFound) {
				continue // the mailbox has no such data (no calendar, say)
			}
			return plan, graphError(err)
		}
		for _, c := range containers {
			c.Category = cat
			p := workflows.CollectionPlan{Container: c}
			if prev, ok := previous[string(cat)+"/"+c.ID]; ok {
				p.Previous = &workflows.PreviousCollection{
					BackupID: plan.PreviousBackupID, DirID: prev.DirID, DetailsID: prev.DetailsID, DeltaLink: prev.DeltaLink,
					Path: prev.Path, FailedIn: failedIn[prev.Category+"/"+strings.Join(prev.Path, "/")],
				}
			}
			plan.Collections = append(plan.Collections, p)
		}
	}
	// Biggest first, so the mailbox's longest collection does not start
	// last; then a stable order by category and path.
	sort.SliceStable(plan.Collections, func(i, j int) bool {
		a, b := plan.Collections[i].Container, plan.Collections[j].Container
		if a.ItemCount != b.ItemCount {
			return a.ItemCount > b.ItemCount
		}
		if a.Category != b.Category {
			return a.Category < b.Category
		}
		return strings.Join(a.Path, "/") < strings.Join(b.Path, "/")
	})
	if in.InlineCollections > 0 && len(plan.Collections) > in.InlineCollections {
		return storePlan(ctx, r, in.Mailbox.ID, plan)
	}
	return plan, nil
}

// storePlan stores the plan of a mailbox of many collections in groups
// (workflows.PackCollections), one repository object each, and returns
// the groups in its place.
func storePlan(ctx context.Context, r *repository.Repository, mailboxID string, plan workflows.MailboxPlan) (workflows.MailboxPlan, error) {
	ctx, sess, err := r.NewSession(ctx, "plan "+mailboxID)
	if err != nil {
		return workflows.MailboxPlan{}, repositoryError(err)
	}
	defer sess.Close(ctx)
	groups, weights := workflows.PackCollections(plan.Collections)
	out := workflows.MailboxPlan{PreviousBackupID: plan.PreviousBackupID, Groups: make([]workflows.CollectionGroup, len(groups))}
	for i, g := range groups {
		id, err := sess.WriteJSON(ctx, "BACKUP-PLAN", g)
		if err != nil {
			return workflows.MailboxPlan{}, repositoryError(err)
		}
		out.Groups[i] = workflows.CollectionGroup{PlansID: id.String(), Collections: len(g), Weight: weights[i]}
	}
	if err := sess.Flush(ctx); err != nil {
		return workflows.MailboxPlan{}, repositoryError(err)
	}
	return out, nil
}
