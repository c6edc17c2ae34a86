package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/m365"
)

// Verify activity names.
const (
	ActivityVerifyBackup = "VerifyBackup"
	ActivityPlanDrill    = "PlanDrill"
	ActivityCheckDrill   = "CheckDrill"
)

// VerifyInput is one `corso backup verify` request.
type VerifyInput struct {
	Repo RepoRef `json:"repo"`
	// Graph is needed only for a drill.
	Graph    GraphRef `json:"graph"`
	Service  string   `json:"service"`
	BackupID string   `json:"backupID"`
	// ReadData reads every item back, decrypting it, and compares it with
	// the SHA-256 recorded at backup time when there is one.
	ReadData bool `json:"readData,omitempty"`
	// Drill restores that many sampled items into a scratch folder of the
	// tenant, compares them with the backup, then deletes them.
	Drill int `json:"drill,omitempty"`
	// DrillSeed chooses the sample: the same seed, the same items.
	DrillSeed   uint64 `json:"drillSeed,omitempty"`
	Concurrency int    `json:"concurrency,omitempty"`
}

// Validate reports the first problem with the input as an error a user can
// act on.
func (in VerifyInput) Validate() error {
	switch {
	case in.BackupID == "":
		return fmt.Errorf("--backup is required")
	case in.Service != "exchange" && in.Service != m365.OneDrive && in.Service != m365.SharePoint:
		return fmt.Errorf("unknown service %q (want exchange, onedrive or sharepoint)", in.Service)
	case in.Drill < 0:
		return fmt.Errorf("--drill %d: give a number of items, 0 for no drill", in.Drill)
	}
	return in.Repo.Storage.Validate()
}

// Verify problems: what is wrong with a stored object.
const (
	ProblemMissing = "missing" // its data is not in storage or not in the index
	ProblemCorrupt = "corrupt" // its bytes fail decryption or differ from the recorded hash
)

// VerifyProblem is one object of a backup that cannot be read back, and
// the item it holds when it holds one.
type VerifyProblem struct {
	Problem string `json:"problem"`
	// Object is what the data is: item, folder, details, drive state,
	// index or snapshot folder.
	Object   string   `json:"object"`
	Category string   `json:"category,omitempty"`
	Path     []string `json:"path,omitempty"`
	ItemID   string   `json:"itemID,omitempty"`
	Name     string   `json:"name,omitempty"` // subject, file or contact name
	Reason   string   `json:"reason"`
}

// VerifyCounts say how much of a backup was checked and what was found.
type VerifyCounts struct {
	Collections int64 `json:"collections"`
	Items       int64 `json:"items"`
	Bytes       int64 `json:"bytes"` // read back, with ReadData
	// Hashed items were read back and matched the SHA-256 recorded at
	// backup time; IntegrityOnly items have no recorded hash (backed up
	// before it was recorded) and passed kopia's authenticated decryption.
	Hashed        int64 `json:"hashed"`
	IntegrityOnly int64 `json:"integrityOnly"`
	Packs         int64 `json:"packs"` // pack blobs checked present
	Missing       int64 `json:"missing"`
	Corrupt       int64 `json:"corrupt"`
}

func (c *VerifyCounts) add(o VerifyCounts) {
	c.Collections += o.Collections
	c.Items += o.Items
	c.Bytes += o.Bytes
	c.Hashed += o.Hashed
	c.IntegrityOnly += o.IntegrityOnly
	c.Packs += o.Packs
	c.Missing += o.Missing
	c.Corrupt += o.Corrupt
}

// VerifyProgress is what the verify activity heartbeats: the collections
// done and what they found, from which a retried attempt resumes, and the
// backup's totals, from which `corso backup verify` shows how far it got
// (heartbeat details, described by Temporal; the workflow never sees
// them).
type VerifyProgress struct {
	Done   int          `json:"done"`
	Result VerifyResult `json:"result"`
	// The backup's collections, items and bytes as its index records
	// them; 0 until the index is read, or for a backup that did not
	// record them.
	CollectionsTotal int   `json:"collectionsTotal,omitempty"`
	ItemsTotal       int64 `json:"itemsTotal,omitempty"`
	BytesTotal       int64 `json:"bytesTotal,omitempty"`
}

// VerifyResult is what `corso backup verify` prints.
type VerifyResult struct {
	Backup   backup.Summary `json:"backup"`
	ReadData bool           `json:"readData"`
	VerifyCounts
	Problems []VerifyProblem `json:"problems,omitempty"`
	// ProblemsOmitted counts problems left out to keep the result small.
	ProblemsOmitted int64        `json:"problemsOmitted,omitempty"`
	Drill           *DrillResult `json:"drill,omitempty"`
}

// AddProblem counts a problem and keeps it while there is room.
func (r *VerifyResult) AddProblem(p VerifyProblem) {
	switch p.Problem {
	case ProblemMissing:
		r.Missing++
	default:
		r.Corrupt++
	}
	if len(r.Problems) < MaxVerifyProblems {
		r.Problems = append(r.Problems, p)
	} else {
		r.ProblemsOmitted++
	}
}

// MaxVerifyProblems bounds the problems a result carries.
const MaxVerifyProblems = 500

// OK reports whether everything checked could be read back and nothing
// failed the drill.
func (r VerifyResult) OK() bool {
	return r.Missing == 0 && r.Corrupt == 0 && (r.Drill == nil || r.Drill.OK())
}

// DrillItem is one sampled item of a drill.
type DrillItem struct {
	ItemID   string        `json:"itemID"`
	Category m365.Category `json:"category"`
	Path     []string      `json:"path"`
	Library  string        `json:"library,omitempty"`
	Name     string        `json:"name,omitempty"`
}

// DrillPlan is what a drill restores and where.
type DrillPlan struct {
	Seed        uint64      `json:"seed"`
	Destination string      `json:"destination"`
	Items       []DrillItem `json:"items"`
}

// CheckDrillInput compares a drill's restored items with the backup and
// deletes them.
type CheckDrillInput struct {
	Repo     RepoRef   `json:"repo"`
	Graph    GraphRef  `json:"graph"`
	Service  string    `json:"service"`
	BackupID string    `json:"backupID"`
	Plan     DrillPlan `json:"plan"`
	// Restore is what the drill's restore reported; RestoreError is set
	// when the restore itself failed.
	Restore      RestoreResult `json:"restore"`
	RestoreError string        `json:"restoreError,omitempty"`
}

// DrillFailure is a sampled item that did not come back as backed up.
type DrillFailure struct {
	ItemID   string        `json:"itemID"`
	Category m365.Category `json:"category"`
	Path     []string      `json:"path,omitempty"`
	Name     string        `json:"name,omitempty"`
	Reason   string        `json:"reason"`
}

// DrillResult is what a drill found.
type DrillResult struct {
	Seed        uint64         `json:"seed"`
	Destination string         `json:"destination"`
	Target      string         `json:"target"` // mailbox, user or site restored into
	Sampled     int            `json:"sampled"`
	Matched     int            `json:"matched"`
	Failures    []DrillFailure `json:"failures,omitempty"`
	// Removed: the scratch copy was deleted; CleanupError says why not.
	Removed      bool   `json:"removed"`
	CleanupError string `json:"cleanupError,omitempty"`
}

// OK reports whether every sampled item came back as backed up.
func (d DrillResult) OK() bool { return len(d.Failures) == 0 && d.Matched == d.Sampled }

// DrillDestination names a drill's scratch folder after the drill's start.
func DrillDestination(at time.Time) string {
	return "Corso_Drill_" + at.UTC().Format("02-Jan-2006_15-04-05")
}

// VerifyBackupWorkflow checks that a backup can be read back: every object
// it references is in storage (with ReadData, read and decrypted, and each
// item compared with its recorded hash), and with Drill, that sampled items
// restore into the tenant as they were backed up.
func VerifyBackupWorkflow(ctx workflow.Context, in VerifyInput) (VerifyResult, error) {
	if err := in.Validate(); err != nil {
		return VerifyResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInvalidInput, nil)
	}
	var res VerifyResult
	if err := workflow.ExecuteActivity(verifyActivityOptions(ctx), ActivityVerifyBackup, in).Get(ctx, &res); err != nil {
		return res, err
	}
	if in.Drill == 0 {
		return res, nil
	}
	drill, err := restoreDrill(ctx, in)
	if err != nil {
		return res, err
	}
	res.Drill = &drill
	return res, nil
}

// restoreDrill samples items, restores them with the service's restore
// workflow into a scratch folder, then compares and deletes them.
func restoreDrill(ctx workflow.Context, in VerifyInput) (DrillResult, error) {
	var plan DrillPlan
	if err := workflow.ExecuteActivity(shortActivityOptions(ctx), ActivityPlanDrill, in).Get(ctx, &plan); err != nil {
		return DrillResult{}, err
	}
	plan.Destination = DrillDestination(workflow.Now(ctx))
	// The drill restores and compares what storage holds.
	in.Repo.FromStorage = true
	check := CheckDrillInput{Repo: in.Repo, Graph: in.Graph, Service: in.Service, BackupID: in.BackupID, Plan: plan}
	if len(plan.Items) > 0 {
		ids := make([]string, len(plan.Items))
		for i, it := range plan.Items {
			ids[i] = it.ItemID
		}
		sel := backup.Selector{ItemIDs: ids}
		// Named after the backup and the drill's start: two drills of
		// one backup a second apart are told apart.
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID: "corso-drill-" + in.BackupID + "-" + plan.Destination,
		})
		var f workflow.ChildWorkflowFuture
		if in.Service == "exchange" {
			f = workflow.ExecuteChildWorkflow(cctx, ExchangeRestoreWorkflow, ExchangeRestoreInput{
				Repo: in.Repo, Graph: in.Graph, BackupID: in.BackupID, Selector: sel,
				Destination: plan.Destination, Collisions: CollisionCopy,
			})
		} else {
			f = workflow.ExecuteChildWorkflow(cctx, DriveRestoreWorkflow, DriveRestoreInput{
				Repo: in.Repo, Graph: in.Graph, Service: in.Service, BackupID: in.BackupID, Selector: sel,
				Destination: plan.Destination, Collisions: CollisionCopy, NoPermissions: true,
			})
		}
		if err := f.Get(ctx, &check.Restore); err != nil {
			// Still compare and clean up whatever was restored.
			check.RestoreError = err.Error()
		}
	}
	var res DrillResult
	err := workflow.ExecuteActivity(collectionActivityOptions(ctx), ActivityCheckDrill, check).Get(ctx, &res)
	return res, err
}

// verifyActivityOptions suit reading a whole backup back: long, so it
// heartbeats with its progress, and a retried attempt resumes after the
// collections already verified.
func verifyActivityOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 24 * time.Hour,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        2 * time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        2 * time.Minute,
			MaximumAttempts:        10,
			NonRetryableErrorTypes: backupNonRetryableTypes,
		},
	})
}
