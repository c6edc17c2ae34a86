package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/repository"
	"github.com/corso-temporal/corso/workflows"
)

type verifyJSON struct {
	workflows.VerifyResult
}

func (a exchangeAdmin) verify(t *testing.T, args ...string) (verifyJSON, result) {
	t.Helper()
	return a.verifyService(t, "exchange", args...)
}

func (a exchangeAdmin) verifyService(t *testing.T, service string, args ...string) (verifyJSON, result) {
	t.Helper()
	r := a.run(t, append([]string{"backup", "verify", service, "--json"}, args...)...)
	var out verifyJSON
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
		t.Fatalf("parse: %v\nstdout: %s\nstderr: %s", err, r.Stdout, r.Stderr)
	}
	return out, r
}

// TestBackupVerifyAndDrill: an intact backup verifies with --read-data
// and passes a restore drill that leaves nothing behind; after one pack
// blob is deleted from S3 and one byte of another flipped, verify names
// exactly the items they held and exits non-zero.
func TestBackupVerifyAndDrill(t *testing.T) {
	a := newExchangeAdmin(t, tenant, "verify")
	user := mailboxes(t, tenant)[0]
	// A small mailbox's backup is one activity writing one pack; an
	// incremental after new messages keeps the first backup's items in
	// theirs and stores the new ones in another: two packs holding its
	// items alone, to damage one of each.
	a.backup(t, user)
	for _, r := range tenant.Mutate([]graphsim.MutateOp{{Op: "add", Kind: "message", User: user, Count: 3}}) {
		if r.Error != "" {
			t.Fatalf("mutate %s: %s", r.Op, r.Error)
		}
	}
	b := a.backup(t, user)[0]

	res, r := a.verify(t, "--backup", b.BackupID, "--read-data", "--drill", "3")
	mustSucceed(t, r)
	if !res.OK() || res.Items != b.Items || res.Hashed != b.Items || res.IntegrityOnly != 0 {
		t.Fatalf("intact backup: %+v (backup has %d items)", res.VerifyCounts, b.Items)
	}
	d := res.Drill
	if d == nil || d.Sampled != 3 || d.Matched != 3 || !d.Removed || !strings.HasPrefix(d.Destination, "Corso_Drill_") {
		t.Fatalf("drill: %+v", d)
	}
	st, err := tenant.State(graphsim.StateFilter{User: user})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range st.Items {
		if strings.Contains(it.Path, d.Destination) || it.Name == d.Destination {
			t.Fatalf("the drill left %s %q behind", it.Kind, it.Path)
		}
	}
	recordVerifyHistories(t, a.prefix)

	deleted, flipped := damageTwoPacks(t, a, b.BackupID)
	res, r = a.verify(t, "--backup", b.BackupID, "--read-data")
	if r.Code == 0 {
		t.Fatalf("verify of a damaged backup succeeded:\n%s", r.Stdout)
	}
	var missing, corrupt []string
	for _, p := range res.Problems {
		// Named by its item: id, category and folder (a message without
		// a subject has no name to give).
		if p.Object != "item" || p.ItemID == "" || p.Category == "" || len(p.Path) == 0 {
			t.Errorf("problem not named by its item: %+v", p)
		}
		if p.Problem == workflows.ProblemMissing {
			missing = append(missing, p.ItemID)
		} else {
			corrupt = append(corrupt, p.ItemID)
		}
	}
	sort.Strings(missing)
	if !slices.Equal(missing, deleted) || !slices.Equal(corrupt, []string{flipped}) {
		t.Fatalf("verify named missing %v and corrupt %v, want %v and [%s]", missing, corrupt, deleted, flipped)
	}
	if want := b.Items - int64(len(deleted)) - 1; res.Hashed != want {
		t.Fatalf("%d items verified, want the %d others", res.Hashed, want)
	}
}

// TestOneDriveBackupVerifyAndDrill: an intact OneDrive backup verifies
// with --read-data, and a drill of three files restores them into a
// scratch folder of the user's drive, finds them equal to the backup and
// deletes the folder. Files added since are backed up by two incremental
// backups, each in a pack blob of its own; after one of those packs is
// deleted and a byte of the other flipped, verify names exactly the files
// they held, and a drill of every file fails exactly those, restores the
// others, and still cleans up. (Only files the first drill did not read
// are damaged: a restore reads through the workers' content caches.)
func TestOneDriveBackupVerifyAndDrill(t *testing.T) {
	a := newExchangeAdmin(t, tenant, "verify-onedrive")
	u := userWithDrive(t, tenant)
	b := a.driveBackup(t, "onedrive", "user", u.UPN)[0]
	leftBehind := func(dest string) {
		t.Helper()
		st, err := tenant.State(graphsim.StateFilter{User: u.ID, Category: "files", NoHashes: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range st.Items {
			if it.Path == dest || strings.HasPrefix(it.Path, dest+"/") || it.Name == dest {
				t.Fatalf("the drill left %s %q in %q behind", it.Kind, it.Name, it.Path)
			}
		}
	}

	// The first drill restores every file, so a worker has read each
	// one; a drill must still read what storage holds.
	all := strconv.FormatInt(b.Items, 10)
	res, r := a.verifyService(t, "onedrive", "--backup", b.BackupID, "--read-data", "--drill", all)
	mustSucceed(t, r)
	if !res.OK() || res.Items != b.Items || res.Hashed != b.Items || res.IntegrityOnly != 0 {
		t.Fatalf("intact backup: %+v (backup has %d files)", res.VerifyCounts, b.Items)
	}
	d := res.Drill
	if d == nil || d.Sampled != int(b.Items) || d.Matched != int(b.Items) || !d.Removed || !strings.HasPrefix(d.Destination, "Corso_Drill_") {
		t.Fatalf("drill: %+v", d)
	}
	leftBehind(d.Destination)
	// Two rounds of two added files, each backed up incrementally; they
	// leave the shared tenant as it was when the test ends.
	for range 2 {
		added := tenant.Mutate([]graphsim.MutateOp{{Op: "add", Kind: "file", User: u.ID, Count: 2}})
		t.Cleanup(func() {
			for _, r := range added {
				tenant.Mutate([]graphsim.MutateOp{{Op: "delete", ID: r.ID}})
			}
		})
		for _, r := range added {
			if r.Error != "" {
				t.Fatalf("mutate: %+v", r)
			}
		}
		b = a.driveBackup(t, "onedrive", "user", u.UPN)[0]
	}

	deleted, flipped := damageTwoPacks(t, a, b.BackupID)
	lost := slices.Sorted(slices.Values(append(slices.Clone(deleted), flipped)))
	res, r = a.verifyService(t, "onedrive", "--backup", b.BackupID, "--read-data", "--drill", strconv.FormatInt(b.Items, 10))
	if r.Code == 0 {
		t.Fatalf("verify of a damaged backup succeeded:\n%s", r.Stdout)
	}
	var missing, corrupt []string
	for _, p := range res.Problems {
		if p.Object != "item" || p.ItemID == "" || p.Name == "" || len(p.Path) == 0 {
			t.Errorf("problem not named by its file: %+v", p)
		}
		if p.Problem == workflows.ProblemMissing {
			missing = append(missing, p.ItemID)
		} else {
			corrupt = append(corrupt, p.ItemID)
		}
	}
	sort.Strings(missing)
	if !slices.Equal(missing, deleted) || !slices.Equal(corrupt, []string{flipped}) {
		t.Fatalf("verify named missing %v and corrupt %v, want %v and [%s]", missing, corrupt, deleted, flipped)
	}
	d = res.Drill
	if d == nil || d.OK() || d.Sampled != int(b.Items) || d.Matched != int(b.Items)-len(lost) || !d.Removed {
		t.Fatalf("drill of every file of a damaged backup (%d files, %d damaged): %+v", b.Items, len(lost), d)
	}
	var failed []string
	for _, f := range d.Failures {
		if f.Name == "" || !strings.Contains(f.Reason, "cannot be read") {
			t.Errorf("drill failure not named by its file and cause: %+v", f)
		}
		failed = append(failed, f.ItemID)
	}
	sort.Strings(failed)
	if !slices.Equal(failed, lost) {
		t.Fatalf("the drill failed %v, want the damaged files %v", failed, lost)
	}
	leftBehind(d.Destination)
}

// damageTwoPacks deletes one pack blob that holds only items of the
// backup and flips a byte of one item in another, and returns the ids of
// the items of the deleted pack and of the flipped item.
func damageTwoPacks(t *testing.T, a exchangeAdmin, backupID string) ([]string, string) {
	t.Helper()
	ctx := context.Background()
	r, idx := a.openBackup(t, backupID)
	shared := map[string]bool{} // packs holding folders, details, drive state or the index
	addPacks := func(id string) {
		if id == "" {
			return
		}
		rs, err := r.ContentRanges(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range rs {
			shared[string(c.Pack)] = true
		}
	}
	b, err := r.Backup(ctx, backupID)
	if err != nil {
		t.Fatal(err)
	}
	addPacks(b.IndexID)
	byPack := map[string][]string{}
	ranges := map[string]repository.ContentRange{}
	// Items of the same content share its range: flipping a byte of it
	// damages every one of them.
	users := map[string]int{}
	rangeKey := func(c repository.ContentRange) string { return fmt.Sprint(c.Pack, "@", c.Offset) }
	for _, c := range idx.Collections {
		addPacks(c.DirID)
		addPacks(c.DetailsID)
		addPacks(c.StateID)
		for id, oid := range itemObjects(t, r, c) {
			rs, err := r.ContentRanges(ctx, oid)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range rs {
				byPack[string(c.Pack)] = append(byPack[string(c.Pack)], id)
				users[rangeKey(c)]++
			}
			if len(rs) == 1 {
				ranges[id] = rs[0]
			}
		}
	}
	var packs []string
	for p := range byPack {
		if !shared[p] {
			packs = append(packs, p)
		}
	}
	sort.Strings(packs)
	if len(packs) < 2 {
		t.Fatalf("want two packs holding items alone, have %d", len(packs))
	}
	keys := objects(t, bucket, a.prefix+"/")
	keyOf := func(pack string) string {
		for k := range keys {
			if strings.HasSuffix(k, "/"+pack) || strings.HasSuffix(k, "/"+pack+".f") {
				return k
			}
		}
		t.Fatalf("no S3 object for pack %s", pack)
		return ""
	}
	s3c := s3Client(t)
	if _, err := s3c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(keyOf(packs[0]))}); err != nil {
		t.Fatal(err)
	}
	deleted := slices.Sorted(slices.Values(slices.Compact(slices.Sorted(slices.Values(byPack[packs[0]])))))
	var flipped string
	for _, p := range packs[1:] {
		for _, id := range slices.Sorted(slices.Values(byPack[p])) {
			if rg, ok := ranges[id]; ok && flipped == "" && !slices.Contains(deleted, id) && string(rg.Pack) == p && users[rangeKey(rg)] == 1 {
				flipped = id
			}
		}
	}
	if flipped == "" {
		t.Fatalf("no item of a content of its own in the packs %v", packs[1:])
	}
	rg := ranges[flipped]
	key := keyOf(string(rg.Pack))
	raw := readObject(t, key)
	raw[rg.Offset+rg.Length/2] ^= 0x01
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(raw)}); err != nil {
		t.Fatal(err)
	}
	return deleted, flipped
}

// itemObjects maps the items of a collection to their stored objects: a
// drive's from its state, a mailbox folder's from its folder, by the
// item's name there.
func itemObjects(t *testing.T, r *repository.Repository, c repository.Collection) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	if c.StateID != "" {
		var state []struct {
			ID       string `json:"id"`
			ObjectID string `json:"objectID"`
		}
		if err := r.ReadJSON(ctx, c.StateID, &state); err != nil {
			t.Fatal(err)
		}
		for _, e := range state {
			if e.ObjectID != "" {
				out[e.ID] = e.ObjectID
			}
		}
		return out
	}
	dir, err := r.ReadDir(ctx, c.DirID)
	if err != nil {
		t.Fatal(err)
	}
	var details []backup.Entry
	if err := r.ReadJSON(ctx, c.DetailsID, &details); err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, e := range details {
		ids[url.PathEscape(e.ItemID)] = e.ItemID
	}
	for _, e := range dir {
		out[ids[e.Name]] = e.ObjectID.String()
	}
	return out
}

// recordVerifyHistories saves the verify requests' histories, with the
// codec key, as fixtures for workflows' replay test when
// CORSO_RECORD_HISTORIES names a folder.
func recordVerifyHistories(t *testing.T, prefix string) {
	dir := os.Getenv("CORSO_RECORD_HISTORIES")
	if dir == "" {
		return
	}
	query := "WorkflowType = 'VerifyBackupWorkflow' AND CorsoRepository = 's3://" + bucket + "/" + prefix + "' AND ExecutionStatus != 'Running'"
	for _, e := range waitExecutions(t, query, 1) {
		b, err := protojson.Marshal(&historypb.History{Events: e.events})
		if err != nil {
			t.Fatal(err)
		}
		name := "VerifyBackupWorkflow-" + e.describe.GetWorkflowExecutionInfo().GetStatus().String() + ".json"
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "codec-key"), []byte(dev.Env["CORSO_CODEC_KEY"]+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}
