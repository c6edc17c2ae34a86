package repository

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kopia/kopia/repo"
	"github.com/kopia/kopia/repo/blob"
	"github.com/kopia/kopia/repo/content"
	"github.com/kopia/kopia/repo/maintenance"
	"github.com/kopia/kopia/snapshot/snapshotgc"
)

// MaintenanceMode says how much maintenance does: quick compacts indexes;
// full also collects contents no backup references.
type MaintenanceMode string

const (
	MaintenanceQuick MaintenanceMode = "quick"
	MaintenanceFull  MaintenanceMode = "full"
)

// ErrMaintenanceOwned: another identity owns the repository's maintenance
// (a kopia client, or a repository maintained elsewhere).
var ErrMaintenanceOwned = errors.New("maintenance is owned by another identity")

// MaintenanceIdentity is the kopia identity that owns a repository's
// maintenance. It is fixed per repository, so whichever worker runs the
// maintenance acts as the same owner.
func MaintenanceIdentity(repositoryID string) Identity {
	return Identity{Username: "maintenance", Hostname: "corso-" + repositoryID}
}

// Safety are kopia's waiting times that keep maintenance safe beside
// writers on other machines.
type Safety = maintenance.SafetyParameters

// SafetyFull is kopia's safety for maintenance alongside writers on other
// machines: contents unreferenced for a day are collected, only after two
// collections hours apart, and packs a day old are deleted.
var SafetyFull Safety = maintenance.SafetyFull

// SafetyShortened keeps kopia's rules (two collections before a content is
// dropped) without their waiting times. For tests only: with it, a writer
// that flushes less often than maintenance runs can lose data. Rewriting
// partly filled packs keeps kopia's minimum age: a rewrite restamps the
// contents it moves, unused ones included, so rewriting young contents at
// every run would keep them from ever being dropped.
var SafetyShortened = Safety{
	RequireTwoGCCycles:               true,
	DisableEventualConsistencySafety: true,
	RewriteMinAge:                    maintenance.SafetyFull.RewriteMinAge,
}

// clockSlack covers clocks that disagree: the Temporal server's, the
// workers' and the storage's (kopia refuses maintenance beyond 5 minutes
// of skew), and kopia's timestamps, which have whole seconds.
const clockSlack = 5 * time.Minute

// MaintenanceOptions say what a maintenance run does and what it must
// leave alone.
type MaintenanceOptions struct {
	Mode MaintenanceMode
	// Force takes maintenance over from another owner.
	Force  bool
	Safety Safety
	// RunningSince is when the oldest backup still running against the
	// repository started; zero when none runs. See protect.
	RunningSince time.Time
	// Stage, if set, is told each step as it starts.
	Stage func(MaintenanceStage)
}

// MaintenanceStage names a step of a maintenance run. kopia's tasks tell
// no counts while they run: the step is all a run can show of its
// progress.
type MaintenanceStage string

const (
	StageRefreshing   MaintenanceStage = "refreshing indexes"
	StageMeasuring    MaintenanceStage = "measuring storage"
	StageClaiming     MaintenanceStage = "claiming maintenance"
	StagePinning      MaintenanceStage = "pinning backup records"
	StageCollecting   MaintenanceStage = "finding contents no backup references (kopia snapshot GC)"
	StageKopiaTasks   MaintenanceStage = "rewriting and deleting packs, compacting indexes (kopia maintenance tasks)"
	StageMeasuringEnd MaintenanceStage = "measuring storage after maintenance"
)

func (o MaintenanceOptions) stage(s MaintenanceStage) {
	if o.Stage != nil {
		o.Stage(s)
	}
}

// Usage is what the repository holds in storage: every blob, and apart
// the pack blobs (item data and metadata) and index blobs among them.
type Usage struct {
	Blobs      int   `json:"blobs"`
	Bytes      int64 `json:"bytes"`
	PackBlobs  int   `json:"packBlobs"`
	PackBytes  int64 `json:"packBytes"`
	IndexBlobs int   `json:"indexBlobs"`
}

// MaintenanceResult says what a run did.
type MaintenanceResult struct {
	Mode     MaintenanceMode
	Owner    string
	Started  time.Time
	Finished time.Time
	Before   Usage
	After    Usage
	// Protected is how recent a content or pack had to be to be left
	// alone, running backups included.
	Protected time.Duration
}

// protect widens the safety so that no backup still running loses what it
// needs, although nothing references it until the backup's combine saves
// its snapshot:
//   - every content it wrote (its checkpoint segments, finished
//     collections, unflushed sessions and packs) is younger than the
//     backup, so it is never marked unused, and its packs never deleted;
//   - a content it reuses from a backup deleted while it runs may be marked
//     unused, but kopia drops a marked content only when a collection that
//     ended more than MarginBetweenSnapshotGC earlier started after the
//     marking: with the margin past the backup's start, never while it
//     runs. The first full maintenance after its combine finds the content
//     referenced again and keeps it.
func protect(s Safety, now, runningSince time.Time) Safety {
	if runningSince.IsZero() {
		return s
	}
	age := max(now.Sub(runningSince), 0) + clockSlack
	s.MinContentAgeSubjectToGC = max(s.MinContentAgeSubjectToGC, age)
	s.MarginBetweenSnapshotGC = max(s.MarginBetweenSnapshotGC, age)
	s.PackDeleteMinAge = max(s.PackDeleteMinAge, age)
	s.SessionExpirationAge = max(s.SessionExpirationAge, age)
	return s
}

// Maintain runs kopia maintenance on the repository as its maintenance
// owner. r must have been opened under MaintenanceIdentity (OpenAs): the
// first run makes that identity the owner; a repository owned by another
// identity is refused unless Force. Only one run per repository may run at
// a time: the caller (one workflow per repository) sees to that; kopia's
// own lock only covers one machine.
func (r *Repository) Maintain(ctx context.Context, o MaintenanceOptions) (MaintenanceResult, error) {
	res := MaintenanceResult{Mode: o.Mode, Owner: r.ClientOptions().UsernameAtHost(), Started: time.Now()}
	var mode maintenance.Mode
	switch o.Mode {
	case MaintenanceQuick:
		mode = maintenance.ModeQuick
	case MaintenanceFull:
		mode = maintenance.ModeFull
	default:
		return res, fmt.Errorf("unknown maintenance mode %q (want quick or full)", o.Mode)
	}
	safety := protect(o.Safety, res.Started, o.RunningSince)
	res.Protected = safety.MinContentAgeSubjectToGC

	// Another process may have claimed maintenance since this handle
	// last read the manifests.
	o.stage(StageRefreshing)
	if err := r.Refresh(ctx); err != nil {
		return res, fmt.Errorf("refresh indexes: %w", err)
	}
	o.stage(StageMeasuring)
	var err error
	if res.Before, err = r.Usage(ctx); err != nil {
		return res, err
	}
	ctx, w, err := r.NewDirectWriter(ctx, repo.WriteSessionOptions{Purpose: "maintenance"})
	if err != nil {
		return res, fmt.Errorf("open maintenance session: %w", err)
	}
	defer w.Close(ctx) //nolint:errcheck
	o.stage(StageClaiming)
	if err := r.claimMaintenance(ctx, w, o.Force); err != nil {
		return res, err
	}
	err = maintenance.RunExclusive(ctx, w, mode, true, func(ctx context.Context, p maintenance.RunParameters) error {
		if p.Mode == maintenance.ModeFull {
			o.stage(StagePinning)
			if err := r.pinBackupRecords(ctx, w); err != nil {
				return err
			}
			if err := w.Flush(ctx); err != nil {
				return err
			}
			o.stage(StageCollecting)
			if err := snapshotgc.Run(ctx, w, true, safety, p.MaintenanceStartTime); err != nil {
				return err
			}
		}
		o.stage(StageKopiaTasks)
		return maintenance.Run(ctx, p, safety)
	})
	if err != nil {
		return res, fmt.Errorf("%s maintenance: %w", o.Mode, err)
	}
	if err := w.Flush(ctx); err != nil {
		return res, fmt.Errorf("flush maintenance: %w", err)
	}
	o.stage(StageMeasuringEnd)
	if res.After, err = r.Usage(ctx); err != nil {
		return res, err
	}
	res.Finished = time.Now()
	return res, nil
}

// claimMaintenance makes this handle's identity the repository's
// maintenance owner if it has none, or if force takes it over.
func (r *Repository) claimMaintenance(ctx context.Context, w repo.DirectRepositoryWriter, force bool) error {
	me := w.ClientOptions().UsernameAtHost()
	p, err := maintenance.GetParams(ctx, w)
	if err != nil {
		return fmt.Errorf("read maintenance owner: %w", err)
	}
	switch {
	case p.Owner == me:
		return nil
	case p.Owner != "" && !force:
		return fmt.Errorf("%w: %s owns it, not %s; --force takes it over", ErrMaintenanceOwned, p.Owner, me)
	}
	p.Owner = me
	if err := maintenance.SetParams(ctx, w, p); err != nil {
		return fmt.Errorf("set maintenance owner: %w", err)
	}
	if err := w.Flush(ctx); err != nil {
		return fmt.Errorf("set maintenance owner: %w", err)
	}
	return nil
}

// Usage counts the repository's blobs and their bytes, index blobs apart.
func (r *Repository) Usage(ctx context.Context) (Usage, error) {
	var u Usage
	err := r.BlobReader().ListBlobs(ctx, "", func(m blob.Metadata) error {
		u.Blobs++
		u.Bytes += m.Length
		switch id := string(m.BlobID); {
		case strings.HasPrefix(id, string(content.PackBlobIDPrefixRegular)), strings.HasPrefix(id, string(content.PackBlobIDPrefixSpecial)):
			u.PackBlobs++
			u.PackBytes += m.Length
		case strings.HasPrefix(id, "x"):
			u.IndexBlobs++
		}
		return nil
	})
	if err != nil {
		return u, fmt.Errorf("list repository blobs: %w", err)
	}
	return u, nil
}
