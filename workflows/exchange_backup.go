package workflows

import (
	"crypto/rand"
	"encoding/hex"
	"errors"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/m365"
)

// MaxMailboxesInFlight bounds the child workflows one request runs at once.
const MaxMailboxesInFlight = 64

// moreMailboxesInFlightChange raised the bound from 8; runs started before
// keep 8 on replay.
const moreMailboxesInFlightChange = "more-mailboxes-in-flight"

// ExchangeBackupWorkflow backs up each selected mailbox in its own child
// workflow, so each mailbox gets its own history, its own backup and its
// own failure: one mailbox failing does not fail the others.
func ExchangeBackupWorkflow(ctx workflow.Context, in ExchangeBackupInput) (ExchangeBackupResult, error) {
	var resolved []m365.Mailbox
	err := workflow.ExecuteActivity(shortActivityOptions(ctx), ActivityResolveMailboxes,
		ResolveMailboxesInput{Graph: in.Graph, Selectors: in.Mailboxes}).Get(ctx, &resolved)
	if err != nil {
		return ExchangeBackupResult{}, err
	}
	mailboxes, leftOut := availableMailboxes(resolved)
	categories := in.Categories
	if len(categories) == 0 {
		for _, c := range m365.Categories {
			categories = append(categories, string(c))
		}
	}

	maxInFlight := MaxMailboxesInFlight
	if workflow.GetVersion(ctx, moreMailboxesInFlightChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		maxInFlight = 8
	}
	res := ExchangeBackupResult{Backups: make([]backup.Summary, len(mailboxes)), LeftOut: leftOut}
	progress := make([]BackupProgress, len(mailboxes))
	for i, mb := range mailboxes {
		progress[i] = BackupProgress{Mailbox: mb.UPN, Stage: "queued"}
	}
	if err := workflow.SetQueryHandler(ctx, ProgressQuery, func() ([]BackupProgress, error) { return progress, nil }); err != nil {
		return res, err
	}
	sel := workflow.NewSelector(ctx)
	inFlight := 0
	for i, mb := range mailboxes {
		var backupID string
		if err := workflow.SideEffect(ctx, func(workflow.Context) any { return newBackupID() }).Get(&backupID); err != nil {
			return res, err
		}
		progress[i].BackupID, progress[i].Stage = backupID, "running"
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID: "corso-backup-" + backupID,
			TypedSearchAttributes: temporal.NewSearchAttributes(
				AttrOperation.ValueSet("backup"),
				AttrService.ValueSet("exchange"),
				AttrTenant.ValueSet(in.Graph.TenantID),
				AttrResource.ValueSet(mb.UPN),
				AttrBackupID.ValueSet(backupID),
				AttrRepository.ValueSet(in.Repo.Storage.String()),
			),
		})
		f := workflow.ExecuteChildWorkflow(cctx, MailboxBackupWorkflow, MailboxBackupInput{
			Repo: in.Repo, Graph: in.Graph, BackupID: backupID, Mailbox: mb,
			Categories: categories, FailFast: in.FailFast,
		})
		sel.AddFuture(f, func(f workflow.Future) {
			var s backup.Summary
			if err := f.Get(ctx, &s); err != nil {
				s = backup.Summary{BackupID: backupID, Service: "exchange", Tenant: in.Graph.TenantID,
					Resource: mb.UPN, ResourceName: mb.DisplayName, Status: backup.StatusFailed, Error: failureMessage(err)}
			}
			res.Backups[i] = s
			progress[i].Stage, progress[i].Items, progress[i].Bytes, progress[i].Errors = "done", s.Items, s.Bytes, s.Errors
		})
		inFlight++
		if inFlight == maxInFlight {
			sel.Select(ctx)
			inFlight--
		}
	}
	for ; inFlight > 0; inFlight-- {
		sel.Select(ctx)
	}
	return res, nil
}

// availableMailboxes splits a resolution into the mailboxes to back up and
// the users left out, with their causes.
func availableMailboxes(resolved []m365.Mailbox) ([]m365.Mailbox, []backup.LeftOut) {
	var mailboxes []m365.Mailbox
	var leftOut []backup.LeftOut
	for _, m := range resolved {
		if m.Unavailable == "" {
			mailboxes = append(mailboxes, m)
			continue
		}
		leftOut = append(leftOut, backup.LeftOut{Resource: m.UPN, ResourceID: m.ID, ResourceName: m.DisplayName,
			Cause: string(m.Unavailable), Reason: m.Unavailable.Describe()})
	}
	return mailboxes, leftOut
}

func newBackupID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// failureMessage is the innermost application error's message: what an
// admin needs, without Temporal's wrapping.
func failureMessage(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Message()
	}
	return err.Error()
}
