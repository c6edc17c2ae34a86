package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
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
	r := a.run(t, append([]string{"backup", "verify", "exchange", "--json"}, args...)...)
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

// damageTwoPacks deletes one pack blob that holds only items of the
// backup and flips a byte of one item in another, and returns the ids of
// the items of the deleted pack and of the flipped item.
func damageTwoPacks(t *testing.T, a exchangeAdmin, backupID string) ([]string, string) {
	t.Helper()
	ctx := context.Background()
	r, idx := a.openBackup(t, backupID)
	shared := map[string]bool{} // packs holding folders, details or the index
	addPacks := func(id string) {
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
	for _, c := range idx.Collections {
		addPacks(c.DirID)
		addPacks(c.DetailsID)
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
			rs, err := r.ContentRanges(ctx, e.ObjectID.String())
			if err != nil {
				t.Fatal(err)
			}
			id := ids[e.Name]
			for _, c := range rs {
				byPack[string(c.Pack)] = append(byPack[string(c.Pack)], id)
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
			if rg, ok := ranges[id]; ok && flipped == "" && !slices.Contains(deleted, id) && string(rg.Pack) == p {
				flipped = id
			}
		}
	}
	if flipped == "" {
		t.Fatalf("no item of one content in the packs %v", packs[1:])
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
