package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/workflows"
)

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func sortedCopy(ss []string) []string {
	out := append([]string{}, ss...)
	sort.Strings(out)
	return out
}

func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

// printLeftOut lists the resources a "*" selection did not back up, and
// why: nothing of theirs was lost, they have nothing to back up. lo may be
// the first few of total.
func printLeftOut(out io.Writer, lo []backup.LeftOut, total int) {
	if len(lo) == 0 {
		return
	}
	fmt.Fprintf(out, "\nNot backed up (%d, nothing to back up):\n", max(total, len(lo)))
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	for _, l := range lo {
		fmt.Fprintf(tw, "  %s\t%s\n", printable(l.Resource), printable(l.Reason))
	}
	_ = tw.Flush()
	if more := total - len(lo); more > 0 {
		fmt.Fprintf(out, "  and %d more\n", more)
	}
}

// printBackupTotals sums up a backup request's backups, of which the
// table above showed shown, and says where the others are listed.
func printBackupTotals(out io.Writer, service string, t workflows.BackupTotals, shown int) {
	fmt.Fprintf(out, "\n%d backups: %d completed, %d failed; %d items, %s, %d errors\n",
		t.Backups, t.Completed, t.Failed, t.Items, humanBytes(t.Bytes), t.Errors)
	if more := t.Backups - shown; more > 0 {
		fmt.Fprintf(out, "%d more backups are not shown above, where failed ones come first; corso backup list %s lists them all\n", more, service)
	}
	if t.Removed > 0 {
		fmt.Fprintf(out, "The retention policy removed %d backups.\n", t.Removed)
	}
}

func printBackupTable(out io.Writer, bs []backup.Summary) {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	resource := "MAILBOX"
	if len(bs) > 0 {
		resource = map[string]string{"onedrive": "USER", "sharepoint": "SITE"}[bs[0].Service]
		if resource == "" {
			resource = "MAILBOX"
		}
	}
	fmt.Fprintln(tw, "ID\t"+resource+"\tSTATUS\tSTARTED\tCOMPLETED\tITEMS\tSIZE\tFETCHED\tERRORS\tSKIPPED\tWARNINGS")
	for _, b := range bs {
		name := b.ResourceName
		if name == "" {
			name = b.Resource
		}
		status := b.Status
		if len(b.Resets) > 0 {
			status += " (re-enumerated: " + strings.Join(b.Resets, ", ") + ")"
		}
		if len(b.Listed) > 0 {
			status += " (listed without delta: " + strings.Join(b.Listed, ", ") + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%d\t%d\t%d\t%d\n", printable(b.BackupID), printable(name), printable(status), when(b.Started), when(b.Completed),
			b.Items, humanBytes(b.Bytes), b.Fetched, b.Errors, b.Skipped, b.Warnings)
	}
	_ = tw.Flush()
	for _, b := range bs {
		if b.Error != "" {
			fmt.Fprintf(out, "%s: %s\n", printable(b.ResourceName), printable(b.Error))
		}
	}
}
