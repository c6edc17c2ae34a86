package activities

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/workflows"
)

// BenchmarkDriveCombineMemory combines a first backup of a library of N
// files whose state and downloaded batches are already stored, and
// reports the peak of live heap above what was in use before, per file:
// what a worker holds for each file of the library it combines.
//
//	go test ./activities -run '^$' -bench DriveCombineMemory -benchtime 1x
func BenchmarkDriveCombineMemory(b *testing.B) {
	for _, files := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("files=%d", files), func(b *testing.B) {
			for range b.N {
				f, in := newCombineFixture(b, files, max(1, files/200), 1000)
				runtime.GC()
				base := liveHeap()
				peak := watchPeakHeap()
				start := time.Now()
				s, err := f.combine(in)
				elapsed := time.Since(start)
				top := peak()
				if err != nil {
					b.Fatal(err)
				}
				if s.Items != int64(files) {
					b.Fatalf("combined %d files of %d", s.Items, files)
				}
				b.ReportMetric(float64(top-base)/float64(files), "peak-heap-B/file")
				b.ReportMetric(float64(top-base)/(1<<20), "peak-heap-MiB")
				b.ReportMetric(elapsed.Seconds(), "combine-s")
			}
		})
	}
}

// newCombineFixture stores what enumerating a pagedDrive of files and
// downloading it in batches of batchSize leave for combine — the drive's
// state and one result per batch, its files stored as one small object —
// and returns combine's input.
func newCombineFixture(tb testing.TB, files, folders, batchSize int) (*enumerationFixture, workflows.CombineDrivesInput) {
	ctx := context.Background()
	drive := newPagedDrive(files, folders, 200)
	f := newEnumerationFixture(tb, drive)
	r, err := f.d.Repos.open(ctx, f.repo)
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Release(ctx)
	ctx, sess, err := r.NewSession(ctx, "combine fixture")
	if err != nil {
		tb.Fatal(err)
	}
	defer sess.Close(ctx)
	body, sum, err := sess.WriteItemSum(ctx, "file", time.Time{}, strings.NewReader("tiny"))
	if err != nil {
		tb.Fatal(err)
	}
	oid := body.ObjectID.String()
	// Item ids sort as folders, files, root: the state's order.
	state := sess.NewJSONArray(ctx, "DRIVE-STATE")
	defer state.Close()
	add := func(it m365.DriveItem) {
		if err := state.Add(&driveEntry{DriveItem: it}); err != nil {
			tb.Fatal(err)
		}
	}
	for i := 1; i <= folders; i++ {
		add(drive.item(i))
	}
	for n := range files {
		add(drive.file(n, 1))
	}
	add(drive.item(0))
	stateID, err := state.Result()
	if err != nil {
		tb.Fatal(err)
	}
	en := workflows.DriveEnumeration{Drive: pagedDriveRef, StateID: stateID.String(), DeltaLink: "delta:0", Files: int64(files)}
	var results []workflows.DriveBatchResult
	for from := 0; from < files; from += batchSize {
		batch := make([]driveFileResult, 0, batchSize)
		for n := from; n < min(from+batchSize, files); n++ {
			batch = append(batch, driveFileResult{ID: pagedItemID('F', n), ObjectID: oid, Size: 4, SHA256: sum})
		}
		// A batch stores its largest files first, not in id order.
		slices.Reverse(batch)
		id, err := sess.WriteJSON(ctx, "DRIVE-BATCH-RESULT", batch)
		if err != nil {
			tb.Fatal(err)
		}
		results = append(results, workflows.DriveBatchResult{ResultsID: id.String(), Files: int64(len(batch)), Bytes: 4 * int64(len(batch))})
	}
	if err := sess.Flush(ctx); err != nil {
		tb.Fatal(err)
	}
	return f, workflows.CombineDrivesInput{Repo: f.repo, BackupID: "b1", TenantID: "tenant", Service: m365.SharePoint,
		Drives: []workflows.DriveEnumeration{en}, Results: [][]workflows.DriveBatchResult{results}}
}

// combine runs CombineDrives.
func (f *enumerationFixture) combine(in workflows.CombineDrivesInput) (backup.Summary, error) {
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(f.d)
	val, err := env.ExecuteActivity(f.d.CombineDrives, in)
	if err != nil {
		return backup.Summary{}, err
	}
	var s backup.Summary
	if err := val.Get(&s); err != nil {
		return backup.Summary{}, err
	}
	return s, nil
}
