package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/kopia/kopia/repo/blob"
	"github.com/kopia/kopia/repo/manifest"
	"github.com/kopia/kopia/snapshot"
	"go.temporal.io/sdk/activity"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/repository"
	"github.com/corso-temporal/corso/workflows"
)

// defaultVerifyConcurrency is how many items a verify reads at once.
const defaultVerifyConcurrency = 8

// verifyHeartbeatEvery is how often a verify heartbeats its progress:
// as often as the CLI redraws its progress line.
const verifyHeartbeatEvery = 2 * time.Second

// VerifyBackup checks that every object a backup references can be read
// back: the index, the snapshot's folders, each collection's folder,
// details and drive state, and each item's object, down to the pack blobs
// in storage. With ReadData every item is read and decrypted, and compared
// with the SHA-256 its details recorded at backup time. It reads through a
// handle that caches nothing, so it checks what storage holds. Data lost
// or damaged is reported with the items it affects, never retried.
func (a *Repositories) VerifyBackup(ctx context.Context, in workflows.VerifyInput) (workflows.VerifyResult, error) {
	var cp workflows.VerifyProgress
	if err := in.Validate(); err != nil {
		return cp.Result, invalidInput(err.Error())
	}
	loc, creds, err := a.resolve(ctx, in.Repo)
	if err != nil {
		return cp.Result, err
	}
	r, err := a.Connections.OpenUncached(ctx, loc, creds)
	if err != nil {
		return cp.Result, repositoryError(err)
	}
	defer r.Release(ctx)
	b, err := backupRecord(ctx, r, in.BackupID, in.Service)
	if err != nil {
		return cp.Result, err
	}
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &cp)
	}
	v := &verifier{r: r, in: in, res: cp.Result, packs: map[blob.ID]error{}}
	v.res.Backup, v.res.ReadData = b.Summary, in.ReadData
	v.done = cp.Done
	// Heartbeats carry the checkpoint (collections done, and what they
	// found) and the totals, for the requester's progress line.
	stop := keepAlive(ctx, verifyHeartbeatEvery, func() { heartbeat(ctx, v.checkpoint()) })
	defer stop()

	idx, err := r.Index(ctx, b)
	if err != nil {
		return v.res, v.lost(workflows.VerifyProblem{Object: "index"}, err)
	}
	v.total(idx)
	if cp.Done == 0 {
		if err := v.snapshotFolders(ctx, b); err != nil {
			return v.res, err
		}
	}
	for i := cp.Done; i < len(idx.Collections); i++ {
		if err := v.collection(ctx, idx.Collections[i]); err != nil {
			return v.res, err
		}
		v.mu.Lock()
		v.done = i + 1
		v.mu.Unlock()
		heartbeat(ctx, v.checkpoint())
	}
	return v.result(), nil
}

type verifier struct {
	r  *repository.Repository
	in workflows.VerifyInput

	mu     sync.Mutex
	done   int // collections verified
	totals workflows.VerifyProgress
	res    workflows.VerifyResult
	packs  map[blob.ID]error // pack blobs checked, and what was found
}

// total records the backup's totals as its index has them: every item of
// its details is checked, and with ReadData its bytes read.
func (v *verifier) total(idx repository.BackupIndex) {
	t := workflows.VerifyProgress{CollectionsTotal: len(idx.Collections)}
	for _, c := range idx.Collections {
		t.ItemsTotal += c.Items
		t.BytesTotal += c.Bytes
	}
	if !v.in.ReadData {
		t.BytesTotal = 0
	}
	v.mu.Lock()
	v.totals = t
	v.mu.Unlock()
}

func (v *verifier) checkpoint() workflows.VerifyProgress {
	v.mu.Lock()
	cp := v.totals
	cp.Done = v.done
	v.mu.Unlock()
	cp.Result = v.result()
	return cp
}

func (v *verifier) result() workflows.VerifyResult {
	v.mu.Lock()
	defer v.mu.Unlock()
	res := v.res
	res.Problems = append([]workflows.VerifyProblem(nil), v.res.Problems...)
	return res
}

// lost records a problem when err says the data is missing or damaged,
// and returns any other error as the activity's.
func (v *verifier) lost(p workflows.VerifyProblem, err error) error {
	if !errors.Is(err, repository.ErrUnreadable) {
		return repositoryError(err)
	}
	p.Problem = workflows.ProblemCorrupt
	if errors.Is(err, repository.ErrMissing) {
		p.Problem = workflows.ProblemMissing
	}
	p.Reason = err.Error()
	v.mu.Lock()
	v.res.AddProblem(p)
	v.mu.Unlock()
	return nil
}

// snapshotFolders reads every folder of the backup's snapshot tree.
func (v *verifier) snapshotFolders(ctx context.Context, b repository.Backup) error {
	man, err := snapshot.LoadSnapshot(ctx, v.r, manifest.ID(b.SnapshotID))
	if err != nil {
		return repositoryError(fmt.Errorf("load the snapshot of backup %s: %w", b.BackupID, err))
	}
	if man.RootEntry == nil {
		return nil
	}
	var walk func(path []string, id string) error
	walk = func(path []string, id string) error {
		entries, err := v.r.ReadDir(ctx, id)
		if err != nil {
			return v.lost(workflows.VerifyProblem{Object: "snapshot folder", Path: path}, err)
		}
		for _, e := range entries {
			if e.Type == snapshot.EntryTypeDirectory {
				if err := walk(append(path[:len(path):len(path)], e.Name), e.ObjectID.String()); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk(nil, man.RootEntry.ObjectID.String())
}

// verifyItem is one item of a collection with its stored object.
type verifyItem struct {
	entry  backup.Entry
	object string
}

// collection verifies a collection's folder, details and drive state,
// then its items, Concurrency at a time.
func (v *verifier) collection(ctx context.Context, c repository.Collection) error {
	v.mu.Lock()
	v.res.Collections++
	v.mu.Unlock()
	where := workflows.VerifyProblem{Category: c.Category, Path: c.Path}
	var entries []backup.Entry
	if err := v.r.ReadJSON(ctx, c.DetailsID, &entries); err != nil {
		p := where
		p.Object = "details"
		return v.lost(p, err)
	}
	objects := map[string]string{} // by item id
	var listErr error
	p := where
	if c.StateID != "" {
		p.Object = "drive state"
		// The details' files only, read an entry at a time.
		listed := make(map[string]bool, len(entries))
		for _, e := range entries {
			listed[e.ItemID] = true
		}
		objects, listErr = storedObjects(ctx, v.r, c.StateID, func(id string) bool { return listed[id] })
	} else {
		p.Object = "folder"
		var dir []*snapshot.DirEntry
		if dir, listErr = v.r.ReadDir(ctx, c.DirID); listErr == nil {
			byName := make(map[string]string, len(dir))
			for _, e := range dir {
				byName[e.Name] = e.ObjectID.String()
			}
			for _, e := range entries {
				objects[e.ItemID] = byName[entryName(e.ItemID)]
			}
		}
	}
	if listErr != nil {
		if err := v.lost(p, listErr); err != nil {
			return err
		}
	}
	items := make([]verifyItem, 0, len(entries))
	for _, e := range entries {
		items = append(items, verifyItem{entry: e, object: objects[e.ItemID]})
	}
	n := v.in.Concurrency
	if n <= 0 {
		n = defaultVerifyConcurrency
	}
	return concurrently(ctx, n, items, func(ctx context.Context, it verifyItem) error {
		if listErr != nil {
			return v.itemLost(it.entry, fmt.Errorf("%w: its %s cannot be read", listErr, p.Object))
		}
		return v.item(ctx, it)
	})
}

func (v *verifier) itemLost(e backup.Entry, err error) error {
	return v.lost(workflows.VerifyProblem{Object: "item", Category: e.Category, Path: itemPath(e), ItemID: e.ItemID, Name: itemName(e)}, err)
}

// itemPath is where an item is: a file's library and folder, an Exchange
// item's folder.
func itemPath(e backup.Entry) []string {
	if e.Library != "" {
		return append([]string{e.Library}, e.Path...)
	}
	return e.Path
}

// item checks one item's object: in the index, its packs in storage, and
// with ReadData its bytes.
func (v *verifier) item(ctx context.Context, it verifyItem) error {
	v.mu.Lock()
	v.res.Items++
	v.mu.Unlock()
	if it.object == "" {
		return v.itemLost(it.entry, fmt.Errorf("%w: it is in the details but not among the backed-up objects", repository.ErrMissing))
	}
	packs, err := v.r.Packs(ctx, it.object)
	if err != nil {
		return v.itemLost(it.entry, err)
	}
	for _, p := range packs {
		if err := v.packPresent(ctx, p); err != nil {
			return v.itemLost(it.entry, err)
		}
	}
	if !v.in.ReadData {
		return nil
	}
	rd, err := v.r.OpenItem(ctx, it.object)
	if err != nil {
		return v.itemLost(it.entry, err)
	}
	defer rd.Close()
	sum := sha256.New()
	n, err := io.Copy(sum, rd)
	if err != nil {
		return v.itemLost(it.entry, err)
	}
	got := hex.EncodeToString(sum.Sum(nil))
	if want := it.entry.SHA256; want != "" && !strings.EqualFold(want, got) {
		return v.itemLost(it.entry, fmt.Errorf("%w: its bytes differ from those backed up (SHA-256 %s, recorded %s)", repository.ErrDamaged, got, want))
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.res.Bytes += n
	if it.entry.SHA256 != "" {
		v.res.Hashed++
	} else {
		v.res.IntegrityOnly++
	}
	return nil
}

// packPresent checks a pack blob once per verify; the items in a missing
// one are each reported.
func (v *verifier) packPresent(ctx context.Context, id blob.ID) error {
	v.mu.Lock()
	err, seen := v.packs[id]
	v.mu.Unlock()
	if seen {
		return err
	}
	err = v.r.PackPresent(ctx, id)
	if err != nil && !errors.Is(err, repository.ErrUnreadable) {
		return err // storage trouble: the caller fails the activity
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, again := v.packs[id]; !again {
		v.packs[id] = err
		v.res.Packs++
	}
	return err
}
