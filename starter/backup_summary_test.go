package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/workflows"
)

func TestBackupCreateSummaryPrintsTotalsAndPointsAtTheList(t *testing.T) {
	var shown []backup.Summary
	for i := range 15 {
		shown = append(shown, backup.Summary{BackupID: fmt.Sprint("b", i), Resource: fmt.Sprint("u", i), Status: backup.StatusFailed, Error: "gone"})
	}
	totals := workflows.BackupTotals{Backups: 10000, Completed: 9985, Failed: 15, Items: 20000, Bytes: 3 << 20, Errors: 4, LeftOut: 250}
	var out bytes.Buffer
	printBackupTotals(&out, "exchange", totals, len(shown))
	printLeftOut(&out, []backup.LeftOut{{Resource: "guest@x", Reason: "no mailbox"}}, totals.LeftOut)
	for _, want := range []string{
		"10000 backups: 9985 completed, 15 failed; 20000 items, 3.0 MiB, 4 errors",
		"9985 more backups are not shown above",
		"corso backup list exchange",
		"Not backed up (250, nothing to back up)",
		"and 249 more",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}

	err := failedBackups(totals, shown)
	if err == nil {
		t.Fatal("a request with failed backups succeeded")
	}
	if !strings.HasPrefix(err.Error(), "15 of 10000 backups failed: u0: gone;") || !strings.HasSuffix(err.Error(), "u9: gone; and 5 more") {
		t.Errorf("error: %v", err)
	}
}

func TestBackupCreateCountsAResultWithoutTotals(t *testing.T) {
	bs := []backup.Summary{{Status: backup.StatusCompleted, Items: 3, Bytes: 10}, {Status: backup.StatusFailed, Errors: 1}}
	got := requestTotals(nil, bs, 2)
	want := workflows.BackupTotals{Backups: 2, Completed: 1, Failed: 1, Items: 3, Bytes: 10, Errors: 1, LeftOut: 2}
	if got != want {
		t.Errorf("totals %+v, want %+v", got, want)
	}
	if failedBackups(got, bs) == nil {
		t.Error("a failed backup went unreported")
	}
}
