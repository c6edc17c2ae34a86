package workflows

import (
	"fmt"
	"slices"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/corso-temporal/corso/backup"
)

// backupPagesChange made backup requests read their resources a page at a
// time from a list stored in the repository, continue as new after each
// page, and return totals with a bounded number of per-resource entries.
// Runs started before it back up every resource in one run.
const backupPagesChange = "backup-pages"

// ResourcesPerRun is how many resources one run of a backup request backs
// up before it continues as new. Each costs the run about 8 history events
// (its id, the child's start and end, the workflow tasks they wake), so a
// run stays near 4,000 events, and its input and result far below
// Temporal's payload limit, however large the tenant.
const ResourcesPerRun = 500

// RequestProgressQuery answers with the request's RequestProgress; the
// ProgressQuery of a run lists the resources of its page.
const RequestProgressQuery = "request-progress"

// RequestProgress is where a backup request stands before its current
// page: the resources it backs up in all, and the backups earlier pages
// made.
type RequestProgress struct {
	Resources int   `json:"resources"`
	Done      int   `json:"done"`
	Items     int64 `json:"items"`
	Bytes     int64 `json:"bytes"`
}

// BackupPages is where a backup request that runs in pages stands: what
// one run hands the next when it continues as new.
type BackupPages struct {
	List ResourceList `json:"list"`
	// Next is the first resource of the list the run backs up.
	Next    int            `json:"next"`
	Summary RequestSummary `json:"summary"`
}

// pagedBackup is one run of a backup request that pages its resources.
type pagedBackup struct {
	req    backupRequest
	policy *backup.Retention
	perRun int
	// inFlight is how many of the page's resources are backed up at once.
	inFlight int
	state    BackupPages
}

// newPagedBackup is a run of a request that asked for perRun resources
// per run and inFlight at once (zero for the defaults). A run's page is
// ResourcesPerRun resources, or as many as are in flight when more, so
// that the run holds them all.
func newPagedBackup(req backupRequest, policy *backup.Retention, perRun, inFlight int, state *BackupPages) *pagedBackup {
	p := &pagedBackup{req: req, policy: policy, inFlight: resourcesInFlight(inFlight)}
	p.perRun = max(ResourcesPerRun, p.inFlight)
	if perRun > 0 && perRun < ResourcesPerRun {
		p.perRun = perRun
	}
	if state != nil {
		p.state = *state
	}
	return p
}

// run resolves the request's resources on its first run, then backs up one
// page of them, each in a child workflow that child starts, and applies
// the retention policy to that page's backups. more says resources remain
// for a run to come.
func (p *pagedBackup) run(ctx workflow.Context, resolve func(workflow.Context) (ResourceList, error),
	child func(ResolvedResource) resourceBackup,
) (more bool, err error) {
	if p.state.List.ID == "" {
		list, err := resolve(shortActivityOptions(ctx))
		if err != nil {
			return false, err
		}
		p.state.Summary.addLeftOut(list)
		list.LeftOut = nil // carried in the summary from here on
		p.state.List = list
	}
	before := RequestProgress{Resources: p.state.List.Resources, Done: p.state.Next,
		Items: p.state.Summary.Totals.Items, Bytes: p.state.Summary.Totals.Bytes}
	if err := workflow.SetQueryHandler(ctx, RequestProgressQuery, func() (RequestProgress, error) { return before, nil }); err != nil {
		return false, err
	}
	var page []ResolvedResource
	err = workflow.ExecuteActivity(shortActivityOptions(ctx), ActivityReadResourcePage, ResourcePageInput{
		Repo: p.req.repo, ListID: p.state.List.ID, Offset: p.state.Next, Limit: p.perRun,
	}).Get(ctx, &page)
	if err != nil {
		return false, err
	}
	if len(page) == 0 && p.state.Next < p.state.List.Resources {
		return false, temporal.NewNonRetryableApplicationError(fmt.Sprintf("the stored list of resources %s ends at %d of %d",
			p.state.List.ID, p.state.Next, p.state.List.Resources), ErrTypeInvalidInput, nil)
	}
	var rs []resourceBackup
	var denied []backup.Summary
	for _, r := range page {
		if r.Denied != nil {
			denied = append(denied, backup.Summary{Service: p.req.service, Tenant: p.req.graph.TenantID,
				Resource: r.Denied.ResourceID, ResourceName: r.Denied.Resource, Status: backup.StatusFailed, Error: r.Denied.Reason})
			continue
		}
		rs = append(rs, child(r))
	}
	backups, err := backUpEach(ctx, p.req, p.inFlight, rs)
	for _, b := range slices.Concat(backups, denied) {
		if b.Status != "" { // a child that never started has no summary
			p.state.Summary.addBackup(b)
		}
	}
	if err != nil {
		return false, err
	}
	decisions, err := retainAfterBackup(ctx, p.req.service, p.req.repo, p.policy, backups)
	p.state.Summary.addRetention(decisions)
	if err != nil {
		return false, err
	}
	p.state.Next += len(page)
	return p.state.Next < p.state.List.Resources, nil
}

// result is what the request returns: its totals and bounded entries.
func (p *pagedBackup) result() (backups []backup.Summary, leftOut []backup.LeftOut, retention []ResourceRetention, totals *BackupTotals) {
	s := p.state.Summary
	t := s.Totals
	return s.Backups, s.LeftOut, s.Retention, &t
}
