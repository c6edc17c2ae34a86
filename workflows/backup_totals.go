package workflows

import (
	"slices"

	"github.com/corso-temporal/corso/backup"
)

// MaxSummaries bounds the per-resource entries (backups, users or sites
// left out, retention decisions) one request's result carries; the
// repository holds every backup's record (`corso backup list`).
const MaxSummaries = 100

// BackupTotals adds up a request's backups, however many there are.
type BackupTotals struct {
	Backups   int   `json:"backups"`
	Completed int   `json:"completed"`
	Failed    int   `json:"failed"`
	Items     int64 `json:"items"`
	Bytes     int64 `json:"bytes"`
	Errors    int64 `json:"errors"`
	// LeftOut counts the users or sites a "*" selection left out.
	LeftOut int `json:"leftOut,omitempty"`
	// Removed counts the backups the retention policy removed.
	Removed int `json:"removed,omitempty"`
}

// RequestSummary is what a backup request has done so far: totals, and at
// most MaxSummaries of each kind of per-resource entry, in the order they
// came, failed backups kept in preference to completed ones. A request
// running in several runs carries it from one to the next.
type RequestSummary struct {
	Totals    BackupTotals        `json:"totals"`
	Backups   []backup.Summary    `json:"backups,omitempty"`
	LeftOut   []backup.LeftOut    `json:"leftOut,omitempty"`
	Retention []ResourceRetention `json:"retention,omitempty"`
}

// addBackup counts b and keeps it while there is room; once full, a failed
// backup takes the place of the latest completed one kept.
func (s *RequestSummary) addBackup(b backup.Summary) {
	t := &s.Totals
	t.Backups++
	if b.Status == backup.StatusCompleted {
		t.Completed++
	} else {
		t.Failed++
	}
	t.Items += b.Items
	t.Bytes += b.Bytes
	t.Errors += b.Errors
	if len(s.Backups) < MaxSummaries {
		s.Backups = append(s.Backups, b)
		return
	}
	if b.Status == backup.StatusCompleted {
		return
	}
	for i := len(s.Backups) - 1; i >= 0; i-- {
		if s.Backups[i].Status == backup.StatusCompleted {
			s.Backups = append(slices.Delete(s.Backups, i, i+1), b)
			return
		}
	}
}

// addLeftOut takes the users or sites a resolution left out.
func (s *RequestSummary) addLeftOut(list ResourceList) {
	s.Totals.LeftOut += list.LeftOutCount
	s.LeftOut = append(s.LeftOut, list.LeftOut[:min(len(list.LeftOut), MaxSummaries-len(s.LeftOut))]...)
}

// addRetention takes what the retention policy decided for some resources.
func (s *RequestSummary) addRetention(decisions []ResourceRetention) {
	for _, d := range decisions {
		s.Totals.Removed += len(d.Removed)
		if len(s.Retention) < MaxSummaries {
			s.Retention = append(s.Retention, d)
		}
	}
}
