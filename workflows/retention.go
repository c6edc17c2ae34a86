package workflows

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/corso-temporal/corso/backup"
)

// retentionAfterBackupChange added the retention step after a request's
// backups; runs recorded before it replay without it.
const retentionAfterBackupChange = "retention-after-backup"

// ResourceRetention is what a retention policy kept and removed of one
// resource's backups after a request backed it up.
type ResourceRetention struct {
	Tenant       string              `json:"tenant"`
	Resource     string              `json:"resource"`
	ResourceName string              `json:"resourceName,omitempty"`
	Kept         []backup.KeptBackup `json:"kept"`
	Removed      []backup.Dated      `json:"removed"`
}

// retainAfterBackup applies the request's retention policy, if it has one,
// to the service's completed backups of each resource this request backed
// up, and deletes what the policy does not keep. As `backup prune` does,
// it keeps every backup that may be the base of another backup of the
// resource still running. The listings come from activities and the
// resources are taken in the order of the request's backups, so the choice
// (backup.Retain) is the same on replay. Every backup this request made is
// its resource's newest, which Retain keeps.
func retainAfterBackup(ctx workflow.Context, service string, repo RepoRef, policy *backup.Retention, made []backup.Summary) ([]ResourceRetention, error) {
	if workflow.GetVersion(ctx, retentionAfterBackupChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion || policy == nil || policy.Empty() {
		return nil, nil
	}
	// Only the backups of the resources backed up: the list stays as
	// large as the request's page, not the tenant.
	var resources []string
	for _, m := range made {
		if m.Status == backup.StatusCompleted && !slices.Contains(resources, m.Resource) {
			resources = append(resources, m.Resource)
		}
	}
	var list BackupListResult
	if err := workflow.ExecuteActivity(shortActivityOptions(ctx), ActivityListBackups,
		BackupListInput{Repo: repo, Service: service, Resources: resources}).Get(ctx, &list); err != nil {
		return nil, fmt.Errorf("list %s backups to apply the retention policy: %w", service, err)
	}
	var running []RunningBackup
	if err := workflow.ExecuteActivity(shortActivityOptions(ctx), ActivityListRunningBackups,
		RunningBackupsInput{Service: service, Repository: repo.Storage.String()}).Get(ctx, &running); err != nil {
		return nil, fmt.Errorf("find running %s backups before applying the retention policy: %w", service, err)
	}
	// This request's own backups are done, whatever visibility still says.
	running = slices.DeleteFunc(running, func(r RunningBackup) bool {
		return slices.ContainsFunc(made, func(m backup.Summary) bool { return m.BackupID == r.BackupID })
	})
	decisions := planRetention(list.Backups, made, running, *policy)
	var remove []string
	for _, d := range decisions {
		for _, b := range d.Removed {
			remove = append(remove, b.BackupID)
		}
	}
	if len(remove) == 0 {
		return decisions, nil
	}
	var deleted BackupDeleteResult
	if err := workflow.ExecuteActivity(shortActivityOptions(ctx), ActivityDeleteBackups,
		BackupDeleteInput{Repo: repo, Service: service, BackupIDs: remove}).Get(ctx, &deleted); err != nil {
		return decisions, fmt.Errorf("delete %d backups the retention policy does not keep: %w", len(remove), err)
	}
	return decisions, nil
}

// planRetention applies policy to the completed backups in listed of each
// resource (tenant and resource) a completed backup in made names, in
// made's order, keeping those running backups may be based on.
func planRetention(listed, made []backup.Summary, running []RunningBackup, policy backup.Retention) []ResourceRetention {
	type key struct{ tenant, resource string }
	seen := map[key]bool{}
	var out []ResourceRetention
	for _, m := range made {
		k := key{m.Tenant, m.Resource}
		if m.Status != backup.StatusCompleted || seen[k] {
			continue
		}
		seen[k] = true
		var dated []backup.Dated
		for _, b := range listed {
			if b.Status == backup.StatusCompleted && b.Tenant == m.Tenant && b.Resource == m.Resource {
				dated = append(dated, backup.Dated{BackupID: b.BackupID, Completed: b.Completed})
			}
		}
		d := backup.Retain(dated, policy, ProtectRunningBases(dated, RunsOf(running, m.Tenant, m.Resource, m.ResourceName)))
		out = append(out, ResourceRetention{Tenant: m.Tenant, Resource: m.Resource, ResourceName: m.ResourceName,
			Kept: d.Kept, Removed: d.Removed})
	}
	return out
}

// ActivityListRunningBackups lists a service's backups into a repository
// that are running, through Temporal visibility.
const ActivityListRunningBackups = "ListRunningBackups"

// RunningBackupsInput asks for the running backups of a service into a
// repository (its Storage.String()).
type RunningBackupsInput struct {
	Service    string `json:"service"`
	Repository string `json:"repository"`
}

// RunningBackup is a resource's backup that has not finished.
type RunningBackup struct {
	BackupID string    `json:"backupID"`
	Workflow string    `json:"workflow"`
	Resource string    `json:"resource"`
	Tenant   string    `json:"tenant"`
	Started  time.Time `json:"started"`
}

// RunningBackupsQuery is the visibility query for the running backups of
// service into repository: each resource's backup is a child workflow
// carrying the service, resource, backup id and repository.
func RunningBackupsQuery(service, repository string) string {
	quote := func(s string) string { return strings.ReplaceAll(s, "'", `\'`) }
	return fmt.Sprintf("%s = 'backup' AND %s = '%s' AND %s = '%s' AND ExecutionStatus = 'Running'",
		AttrOperation.GetName(), AttrService.GetName(), quote(service), AttrRepository.GetName(), quote(repository))
}

// RunsOf are the running backups of one resource of tenant, which
// visibility names by its id or its name.
func RunsOf(running []RunningBackup, tenant, resource, name string) []RunningBackup {
	var out []RunningBackup
	for _, r := range running {
		if r.Tenant == tenant && (strings.EqualFold(r.Resource, name) || strings.EqualFold(r.Resource, resource)) {
			out = append(out, r)
		}
	}
	return out
}

// baseMargin allows for the clocks of Temporal (a run's start) and of the
// worker that recorded a backup's completion.
const baseMargin = time.Minute

// ProtectRunningBases returns which of one resource's completed backups
// may be the base of one of its running backups, and why. The base is the
// newest completed backup when the run planned, which visibility does not
// record: every backup that can have been it is protected (the newest
// completed before the run started, and every one completed since).
func ProtectRunningBases(dated []backup.Dated, running []RunningBackup) map[string]string {
	protected := map[string]string{}
	for _, run := range running {
		why := "may be the base of running backup " + run.BackupID
		var before *backup.Dated
		for i, d := range dated {
			if d.Completed.After(run.Started.Add(-baseMargin)) {
				protected[d.BackupID] = why
			} else if before == nil || d.Completed.After(before.Completed) {
				before = &dated[i]
			}
		}
		if before != nil {
			protected[before.BackupID] = why
		}
	}
	return protected
}
