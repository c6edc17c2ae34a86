package backup

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Retention is a policy of which backups of one resource and service to
// keep, with restic's `forget --keep-*` meaning. Buckets are UTC hours,
// days, ISO weeks, months and years, whatever the admin's time zone.
type Retention struct {
	Last    int `json:"keepLast,omitempty"`
	Hourly  int `json:"keepHourly,omitempty"`
	Daily   int `json:"keepDaily,omitempty"`
	Weekly  int `json:"keepWeekly,omitempty"`
	Monthly int `json:"keepMonthly,omitempty"`
	Yearly  int `json:"keepYearly,omitempty"`
	// Within keeps every backup within it of the newest one.
	Within Span `json:"keepWithin,omitzero"`
}

// Span is restic's calendar duration, written like 1y2m3d4h: years,
// months, days and hours, applied with calendar arithmetic.
type Span struct {
	Years, Months, Days, Hours int
}

// ParseSpan reads a span such as 7d, 36h or 1y6m (m is months, as in
// restic).
func ParseSpan(s string) (Span, error) {
	var sp Span
	rest := strings.TrimSpace(s)
	if rest == "" {
		return sp, fmt.Errorf("invalid duration %q: want a number and a unit, like 7d or 1y6m (units y, m, d, h)", s)
	}
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 || i == len(rest) {
			return Span{}, fmt.Errorf("invalid duration %q: want a number and a unit, like 7d or 1y6m (units y, m, d, h)", s)
		}
		n, err := strconv.Atoi(rest[:i])
		if err != nil {
			return Span{}, fmt.Errorf("invalid duration %q: %w", s, err)
		}
		switch rest[i] {
		case 'y':
			sp.Years += n
		case 'm':
			sp.Months += n
		case 'd':
			sp.Days += n
		case 'h':
			sp.Hours += n
		default:
			return Span{}, fmt.Errorf("invalid duration %q: unknown unit %q (units y, m, d, h)", s, rest[i])
		}
		rest = rest[i+1:]
	}
	return sp, nil
}

// Zero reports whether the span is empty.
func (s Span) Zero() bool { return s == Span{} }

func (s Span) String() string {
	var b strings.Builder
	for _, p := range []struct {
		n    int
		unit string
	}{{s.Years, "y"}, {s.Months, "m"}, {s.Days, "d"}, {s.Hours, "h"}} {
		if p.n != 0 {
			fmt.Fprintf(&b, "%d%s", p.n, p.unit)
		}
	}
	return b.String()
}

// before returns t minus the span.
func (s Span) before(t time.Time) time.Time {
	return t.AddDate(-s.Years, -s.Months, -s.Days).Add(-time.Duration(s.Hours) * time.Hour)
}

// Empty reports whether the policy names no rule; an empty policy keeps
// everything.
func (r Retention) Empty() bool { return r == Retention{} }

// Validate rejects negative counts.
func (r Retention) Validate() error {
	for _, c := range []struct {
		n    int
		flag string
	}{{r.Last, "--keep-last"}, {r.Hourly, "--keep-hourly"}, {r.Daily, "--keep-daily"},
		{r.Weekly, "--keep-weekly"}, {r.Monthly, "--keep-monthly"}, {r.Yearly, "--keep-yearly"}} {
		if c.n < 0 {
			return fmt.Errorf("%s must be 0 or more, not %d", c.flag, c.n)
		}
	}
	if r.Within.Years < 0 || r.Within.Months < 0 || r.Within.Days < 0 || r.Within.Hours < 0 {
		return errors.New("--keep-within must not be negative")
	}
	return nil
}

// Dated is a completed backup as retention sees it.
type Dated struct {
	BackupID  string    `json:"backupID"`
	Completed time.Time `json:"completed"`
}

// KeptBackup is a backup the policy keeps, with every reason it does.
type KeptBackup struct {
	Dated
	Reasons []string `json:"reasons"`
}

// RetentionDecision is what a policy keeps and removes of one resource's
// backups, each newest first.
type RetentionDecision struct {
	Kept    []KeptBackup `json:"kept"`
	Removed []Dated      `json:"removed"`
}

// Reasons a backup is kept besides the policy's own (restic's words for
// those: "last snapshot", "daily snapshot", "within 7d", ...).
const (
	ReasonNewest      = "newest backup"
	ReasonEmptyPolicy = "policy is empty"
)

// Retain applies policy p to one resource and service's completed backups.
// Each of Last, Hourly, Daily, Weekly, Monthly and Yearly keeps, newest
// first, the newest backup of each of the last N buckets (backups, hours,
// days, ...) that have a backup; while a bucket rule still has counts
// left at the oldest backup, that one is kept too (restic does the same,
// to keep the longest history the counts allow). Within keeps every
// backup made after the newest one minus the span. A backup kept by any
// rule is kept. Whatever the policy, the newest backup and every backup
// in protected (backup id → why, the reason given) are kept.
func Retain(backups []Dated, p Retention, protected map[string]string) RetentionDecision {
	list := append([]Dated(nil), backups...)
	sort.SliceStable(list, func(i, j int) bool {
		if !list[i].Completed.Equal(list[j].Completed) {
			return list[i].Completed.After(list[j].Completed)
		}
		return list[i].BackupID > list[j].BackupID
	})
	var d RetentionDecision
	if len(list) == 0 {
		return d
	}
	buckets := []struct {
		count  int
		key    func(t time.Time, nr int) int
		last   int
		reason string
	}{
		{p.Last, func(_ time.Time, nr int) int { return nr }, -1, "last snapshot"},
		{p.Hourly, func(t time.Time, _ int) int { return t.Year()*1000000 + int(t.Month())*10000 + t.Day()*100 + t.Hour() }, -1, "hourly snapshot"},
		{p.Daily, func(t time.Time, _ int) int { return t.Year()*10000 + int(t.Month())*100 + t.Day() }, -1, "daily snapshot"},
		{p.Weekly, func(t time.Time, _ int) int { y, w := t.ISOWeek(); return y*100 + w }, -1, "weekly snapshot"},
		{p.Monthly, func(t time.Time, _ int) int { return t.Year()*100 + int(t.Month()) }, -1, "monthly snapshot"},
		{p.Yearly, func(t time.Time, _ int) int { return t.Year() }, -1, "yearly snapshot"},
	}
	withinFrom := p.Within.before(list[0].Completed.UTC())
	for nr, b := range list {
		var reasons []string
		if nr == 0 {
			reasons = append(reasons, ReasonNewest)
		}
		if why, ok := protected[b.BackupID]; ok {
			reasons = append(reasons, why)
		}
		if p.Empty() {
			reasons = append(reasons, ReasonEmptyPolicy)
		}
		t := b.Completed.UTC()
		if !p.Within.Zero() && t.After(withinFrom) {
			reasons = append(reasons, "within "+p.Within.String())
		}
		for i := range buckets {
			bk := &buckets[i]
			if bk.count <= 0 {
				continue
			}
			if v := bk.key(t, nr); v != bk.last || nr == len(list)-1 {
				bk.last = v
				bk.count--
				reasons = append(reasons, bk.reason)
			}
		}
		if len(reasons) > 0 {
			d.Kept = append(d.Kept, KeptBackup{Dated: b, Reasons: reasons})
		} else {
			d.Removed = append(d.Removed, b)
		}
	}
	return d
}
