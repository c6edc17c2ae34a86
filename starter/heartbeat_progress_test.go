package main

import (
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"

	"github.com/corso-temporal/corso/activities"
	"github.com/corso-temporal/corso/codec"
	"github.com/corso-temporal/corso/workflows"
)

func testDataConverter(t *testing.T) converter.DataConverter {
	t.Helper()
	key, err := codec.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	dc, err := codec.NewDataConverter(key)
	if err != nil {
		t.Fatal(err)
	}
	return dc
}

// described is a run whose pending activity of activityType last
// heartbeated details, encrypted as a worker sends them.
func described(t *testing.T, dc converter.DataConverter, activityType string, details any) *workflowservice.DescribeWorkflowExecutionResponse {
	t.Helper()
	a := &workflowpb.PendingActivityInfo{ActivityType: &commonpb.ActivityType{Name: activityType}}
	if details != nil {
		p, err := dc.ToPayloads(details)
		if err != nil {
			t.Fatal(err)
		}
		a.HeartbeatDetails = p
	}
	return &workflowservice.DescribeWorkflowExecutionResponse{PendingActivities: []*workflowpb.PendingActivityInfo{
		{ActivityType: &commonpb.ActivityType{Name: "SomethingElse"}}, a,
	}}
}

func TestVerifyProgressIsTheActivitysHeartbeatOfTheBackupsTotals(t *testing.T) {
	dc := testDataConverter(t)
	p := workflows.VerifyProgress{Done: 2, CollectionsTotal: 8, ItemsTotal: 1000, BytesTotal: 400 << 20,
		Result: workflows.VerifyResult{VerifyCounts: workflows.VerifyCounts{Collections: 3, Items: 250, Bytes: 100 << 20}}}
	d := described(t, dc, workflows.ActivityVerifyBackup, p)

	got := verifyReport(true)(d, dc)
	want := progressReport{Stage: "reading back", Unit: "collections", Done: 2, Total: 8,
		Items: 250, ItemsTotal: 1000, Bytes: 100 << 20, BytesTotal: 400 << 20}
	if got != want {
		t.Fatalf("with --read-data:\n got %+v\nwant %+v", got, want)
	}
	if line := got.line(10 * time.Second); !strings.Contains(line, "250 of 1000 items · 100.0 MiB of 400.0 MiB") || !strings.HasSuffix(line, "ETA 30s") {
		t.Errorf("line %q", line)
	}
	// Presence only: no bytes are read, none shown.
	got = verifyReport(false)(d, dc)
	want = progressReport{Stage: "verifying", Unit: "collections", Done: 2, Total: 8, Items: 250, ItemsTotal: 1000}
	if got != want {
		t.Fatalf("without --read-data:\n got %+v\nwant %+v", got, want)
	}

	if got := verifyReport(false)(described(t, dc, workflows.ActivityVerifyBackup, nil), dc); got != (progressReport{Stage: "verifying"}) {
		t.Errorf("before the first heartbeat: %+v", got)
	}
	drill := &workflowservice.DescribeWorkflowExecutionResponse{PendingChildren: []*workflowpb.PendingChildExecutionInfo{{WorkflowId: "corso-drill-x"}}}
	if got := verifyReport(false)(drill, dc); got.Stage != "restore drill" {
		t.Errorf("while the drill restores: %+v", got)
	}
}

func TestDeleteProgressCountsTheBackupsDeleted(t *testing.T) {
	dc := testDataConverter(t)
	d := described(t, dc, workflows.ActivityDeleteBackups, workflows.BackupDeleteProgress{Deleted: 3, Total: 10})
	got := deleteReport("pruning backups", 10)(d, dc)
	if want := (progressReport{Stage: "pruning backups", Unit: "backups", Done: 3, Total: 10}); got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if line, want := got.line(10*time.Second), "pruning backups: 3/10 backups · 0.3 backups/s · 10s elapsed · ETA 23s"; line != want {
		t.Errorf("line =\n%q, want\n%q", line, want)
	}
	// Before the activity's first heartbeat the request's size is known.
	got = deleteReport("deleting backups", 4)(&workflowservice.DescribeWorkflowExecutionResponse{}, dc)
	if want := (progressReport{Stage: "deleting backups", Unit: "backups", Total: 4}); got != want {
		t.Errorf("before the first heartbeat: got %+v, want %+v", got, want)
	}
}

func TestMaintenanceProgressNamesTheStepUnderWay(t *testing.T) {
	dc := testDataConverter(t)
	d := described(t, dc, workflows.ActivityMaintainRepository, workflows.MaintenanceProgress{Mode: "full", Stage: "pinning backup records"})
	// The run joined may be of another mode than the one asked for.
	if got := maintenanceReport("quick")(d, dc); got != (progressReport{Stage: "full maintenance: pinning backup records"}) {
		t.Errorf("got %+v", got)
	}
	if got := maintenanceReport("quick")(&workflowservice.DescribeWorkflowExecutionResponse{}, dc); got != (progressReport{Stage: "quick maintenance"}) {
		t.Errorf("before the first heartbeat: %+v", got)
	}
}

func TestExportProgressIsTheItemsOfTheSelectionHandled(t *testing.T) {
	if got := exportReport(activities.ExportCounts{}); got != (progressReport{Stage: "selecting items to export"}) {
		t.Errorf("before the selection is counted: %+v", got)
	}
	got := exportReport(activities.ExportCounts{Planned: true, Items: 30, ItemsTotal: 120, Bytes: 3 << 20, BytesTotal: 12 << 20})
	want := progressReport{Stage: "exporting", Items: 30, ItemsTotal: 120, Bytes: 3 << 20, BytesTotal: 12 << 20}
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if line, want := got.line(5*time.Second), "exporting · 30 of 120 items · 3.0 MiB of 12.0 MiB · 6 items/s, 614.4 KiB/s · 5s elapsed · ETA 15s"; line != want {
		t.Errorf("line =\n%q, want\n%q", line, want)
	}
}
