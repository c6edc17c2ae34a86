package activities

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"

	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/repository"
	"github.com/corso-temporal/corso/workflows"
)

// ContainerDeleter deletes a mail folder, contact folder or calendar with
// its items: how a drill removes its scratch copy.
type ContainerDeleter interface {
	DeleteContainer(ctx context.Context, mailboxID string, cat m365.Category, containerID string) error
}

// Drills holds the activities of restore drills: pick sample items of a
// backup, and after the service's restore wrote them into a scratch
// folder, compare them with the backup and delete them.
type Drills struct {
	*Tenants
}

// PlanDrill picks in.Drill items of the backup: the same seed picks the
// same items of the same backup.
func (d *Drills) PlanDrill(ctx context.Context, in workflows.VerifyInput) (workflows.DrillPlan, error) {
	plan := workflows.DrillPlan{Seed: in.DrillSeed}
	r, _, idx, err := d.Repos.openBackup(ctx, in.Repo, in.BackupID, in.Service)
	if err != nil {
		return plan, err
	}
	defer r.Release(ctx)
	var all []workflows.DrillItem
	for _, c := range idx.Collections {
		entries, err := readDetails(ctx, r, c.DetailsID)
		if err != nil {
			return plan, err
		}
		for _, e := range entries {
			all = append(all, workflows.DrillItem{ItemID: e.ItemID, Category: m365.Category(e.Category), Path: e.Path, Library: e.Library, Name: itemName(e)})
		}
	}
	plan.Items = sampleItems(all, in.Drill, in.DrillSeed)
	return plan, nil
}

// sampleItems picks n items by seed, whatever order they came in.
func sampleItems(all []workflows.DrillItem, n int, seed uint64) []workflows.DrillItem {
	sort.Slice(all, func(i, j int) bool { return all[i].ItemID < all[j].ItemID })
	if n >= len(all) {
		return all
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out := make([]workflows.DrillItem, 0, n)
	for _, i := range rng.Perm(len(all))[:n] {
		out = append(out, all[i])
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ItemID < out[j].ItemID })
	return out
}

// CheckDrill compares each sampled item restored into the scratch folder
// with the backup, by what a restore keeps (m365.ContentDigest: a
// message's subject, body and attachments; a contact's or event's
// collision key; a file's bytes), then deletes the scratch folder.
func (d *Drills) CheckDrill(ctx context.Context, in workflows.CheckDrillInput) (workflows.DrillResult, error) {
	res := workflows.DrillResult{Seed: in.Plan.Seed, Destination: in.Plan.Destination, Sampled: len(in.Plan.Items)}
	tgt, err := d.client(ctx, in.Graph)
	if err != nil {
		return res, err
	}
	r, b, idx, err := d.Repos.openBackup(ctx, in.Repo, in.BackupID, in.Service)
	if err != nil {
		return res, err
	}
	defer r.Release(ctx)
	failedRestore := map[string]string{}
	for _, e := range in.Restore.Errors {
		failedRestore[e.ItemID] = "not restored: " + e.Reason
	}
	dc := &drillCheck{d: d, in: in, tgt: tgt, repo: r, backup: b, idx: idx, res: &res}
	if in.Service == "exchange" {
		err = dc.exchange(ctx, failedRestore)
	} else {
		err = dc.drive(ctx, failedRestore)
	}
	return res, err
}

type drillCheck struct {
	d      *Drills
	in     workflows.CheckDrillInput
	tgt    Client
	repo   *repository.Repository
	backup repository.Backup
	idx    repository.BackupIndex
	res    *workflows.DrillResult
}

func (dc *drillCheck) fail(it workflows.DrillItem, reason string) {
	dc.res.Failures = append(dc.res.Failures, workflows.DrillFailure{ItemID: it.ItemID, Category: it.Category, Path: it.Path, Name: it.Name, Reason: reason})
}

// readStored reads a stored item whole; lost or damaged data fails the
// item, not the drill.
func (dc *drillCheck) readStored(ctx context.Context, it workflows.DrillItem, oid string) ([]byte, bool, error) {
	if oid == "" {
		dc.fail(it, "the backed-up item cannot be read: it is not among the backed-up objects")
		return nil, false, nil
	}
	rd, err := dc.repo.OpenItem(ctx, oid)
	var raw []byte
	if err == nil {
		raw, err = io.ReadAll(rd)
		rd.Close()
	}
	switch {
	case errors.Is(err, repository.ErrUnreadable):
		dc.fail(it, "the backed-up item cannot be read: "+err.Error())
		return nil, false, nil
	case err != nil:
		return nil, false, repositoryError(err)
	}
	return raw, true, nil
}

func (dc *drillCheck) exchange(ctx context.Context, failedRestore map[string]string) error {
	mailbox := dc.in.Restore.Mailbox
	if mailbox.ID == "" {
		mbs, err := dc.tgt.ResolveMailboxes(ctx, []string{dc.backup.Resource})
		if err != nil {
			return graphError(err)
		}
		if len(mbs) != 1 {
			return invalidInput("no mailbox matches " + dc.backup.Resource)
		}
		mailbox = mbs[0]
	}
	dc.res.Target = mailbox.UPN
	dirs := map[string]map[string]string{} // collection → item name → object
	objectOf := func(it workflows.DrillItem) (string, error) {
		key := string(it.Category) + "\x00" + strings.Join(it.Path, "\x00")
		if m, ok := dirs[key]; ok {
			return m[entryName(it.ItemID)], nil
		}
		m := map[string]string{}
		for _, c := range dc.idx.Collections {
			if c.Category == string(it.Category) && strings.Join(c.Path, "\x00") == strings.Join(it.Path, "\x00") {
				dir, err := dc.repo.ReadDir(ctx, c.DirID)
				if err != nil && !errors.Is(err, repository.ErrUnreadable) {
					return "", repositoryError(err)
				}
				for _, e := range dir {
					m[e.Name] = e.ObjectID.String()
				}
			}
		}
		dirs[key] = m
		return m[entryName(it.ItemID)], nil
	}
	listed := map[string][]m365.ExistingItem{} // scratch container → its items
	used := map[string]bool{}                  // restored items matched
	for _, it := range dc.in.Plan.Items {
		heartbeat(ctx)
		if dc.in.RestoreError != "" {
			dc.fail(it, "not restored: "+dc.in.RestoreError)
			continue
		}
		if reason, ok := failedRestore[it.ItemID]; ok {
			dc.fail(it, reason)
			continue
		}
		oid, err := objectOf(it)
		if err != nil {
			return err
		}
		raw, ok, err := dc.readStored(ctx, it, oid)
		if err != nil || !ok {
			return err
		}
		key, kerr := m365.StoredItemKey(it.Category, raw)
		want, derr := m365.ContentDigest(it.Category, raw)
		if kerr != nil || derr != nil {
			dc.fail(it, "the backed-up item cannot be parsed: "+errors.Join(kerr, derr).Error())
			continue
		}
		cid, err := dc.tgt.EnsureContainer(ctx, mailbox.ID, it.Category, restorePath(it.Category, it.Path, dc.in.Plan.Destination))
		if err != nil {
			return graphError(err)
		}
		items, ok := listed[cid]
		if !ok {
			if items, err = dc.tgt.ExistingItems(ctx, mailbox.ID, it.Category, cid); err != nil {
				return graphError(err)
			}
			listed[cid] = items
		}
		matched, differs := false, false
		for _, x := range items {
			if x.Key != key || used[x.ID] {
				continue
			}
			body, err := dc.tgt.FetchItemIn(ctx, mailbox.ID, it.Category, cid, x.ID)
			if err != nil {
				return graphError(err)
			}
			got, err := io.ReadAll(body)
			body.Close()
			if err != nil {
				return graphError(err)
			}
			if digest, err := m365.ContentDigest(it.Category, got); err == nil && digest == want {
				used[x.ID], matched = true, true
				break
			}
			differs = true
		}
		switch {
		case matched:
			dc.res.Matched++
		case differs:
			dc.fail(it, "the restored copy differs from the backup")
		default:
			dc.fail(it, "no restored copy in the scratch folder")
		}
	}
	return dc.removeExchange(ctx, mailbox.ID)
}

// removeExchange deletes the scratch containers the drill's restore made:
// one per category, at the top of each category's tree (contact folders
// inside the default one).
func (dc *drillCheck) removeExchange(ctx context.Context, mailboxID string) error {
	del, ok := dc.tgt.(ContainerDeleter)
	if !ok {
		dc.res.CleanupError = "this tenant client cannot delete folders"
		return nil
	}
	dest := dc.in.Plan.Destination
	done := map[string]bool{}
	for _, it := range dc.in.Plan.Items {
		top := restorePath(it.Category, it.Path, dest)
		if it.Category == m365.Contacts {
			top = top[:min(2, len(top))]
		} else {
			top = top[:1]
		}
		k := string(it.Category) + "\x00" + strings.Join(top, "\x00")
		if done[k] {
			continue
		}
		done[k] = true
		id, err := dc.tgt.EnsureContainer(ctx, mailboxID, it.Category, top)
		if err == nil {
			err = del.DeleteContainer(ctx, mailboxID, it.Category, id)
		}
		if err != nil {
			dc.res.CleanupError = fmt.Sprintf("delete %s: %v", strings.Join(top, "/"), err)
			return nil
		}
	}
	dc.res.Removed = true
	return nil
}

func (dc *drillCheck) drive(ctx context.Context, failedRestore map[string]string) error {
	drives, _, err := dc.tgt.ResolveDrives(ctx, dc.in.Service, []string{dc.backup.Resource})
	if err != nil {
		return graphError(err)
	}
	if len(drives) == 0 {
		return unknownResource([]string{dc.backup.Resource})
	}
	dc.res.Target = drives[0].OwnerName
	// The drilled files only, read an entry at a time.
	drilled := make(map[string]bool, len(dc.in.Plan.Items))
	for _, it := range dc.in.Plan.Items {
		drilled[it.ItemID] = true
	}
	stored := map[string]*driveEntry{}
	for _, c := range dc.idx.Collections {
		if c.StateID == "" {
			continue
		}
		state, err := selectedState(ctx, dc.repo, c.StateID, func(e *driveEntry) bool { return drilled[e.ID] })
		if err != nil && !errors.Is(err, repository.ErrUnreadable) {
			return repositoryError(err)
		}
		maps.Copy(stored, state)
	}
	dest := dc.in.Plan.Destination
	scratch := map[string]string{} // drive → scratch folder
	for _, it := range dc.in.Plan.Items {
		heartbeat(ctx)
		target, ok := libraryDrive(drives, it.Library, dc.in.Service)
		if !ok {
			dc.fail(it, "the target has no library named "+it.Library)
			continue
		}
		if _, ok := scratch[target.ID]; !ok {
			id, err := dc.tgt.EnsureDriveFolder(ctx, target.ID, []string{dest})
			if err != nil {
				return graphError(err)
			}
			scratch[target.ID] = id
		}
		if dc.in.RestoreError != "" {
			dc.fail(it, "not restored: "+dc.in.RestoreError)
			continue
		}
		if reason, ok := failedRestore[it.ItemID]; ok {
			dc.fail(it, reason)
			continue
		}
		var oid string
		if st := stored[it.ItemID]; st != nil {
			oid = st.ObjectID
		}
		raw, ok, err := dc.readStored(ctx, it, oid)
		if err != nil || !ok {
			return err
		}
		want := sha256.Sum256(raw)
		folder, err := dc.tgt.EnsureDriveFolder(ctx, target.ID, restoreFolderPath(it.Path, dest))
		if err != nil {
			return graphError(err)
		}
		children, err := dc.tgt.DriveChildren(ctx, target.ID, folder)
		if err != nil {
			return graphError(err)
		}
		var copyOf *m365.DriveItem
		for i := range children {
			if !children[i].Folder && strings.EqualFold(children[i].Name, it.Name) {
				copyOf = &children[i]
			}
		}
		if copyOf == nil {
			dc.fail(it, "no restored copy in the scratch folder")
			continue
		}
		body, err := dc.tgt.OpenFile(ctx, target.ID, *copyOf)
		if err != nil {
			return graphError(err)
		}
		sum := sha256.New()
		_, err = io.Copy(sum, body)
		body.Close()
		if err != nil {
			return graphError(err)
		}
		if !bytes.Equal(sum.Sum(nil), want[:]) {
			dc.fail(it, fmt.Sprintf("the restored copy differs from the backup (SHA-256 %s, backed up %s)", hex.EncodeToString(sum.Sum(nil)), hex.EncodeToString(want[:])))
			continue
		}
		dc.res.Matched++
	}
	for _, driveID := range slices.Sorted(maps.Keys(scratch)) {
		if err := dc.tgt.DeleteDriveItem(ctx, driveID, scratch[driveID]); err != nil {
			dc.res.CleanupError = fmt.Sprintf("delete %s: %v", dest, err)
			return nil
		}
	}
	dc.res.Removed = true
	return nil
}
