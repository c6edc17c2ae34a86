package backup

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func dated(pairs ...string) []Dated {
	var ds []Dated
	for i := 0; i < len(pairs); i += 2 {
		ds = append(ds, Dated{BackupID: pairs[i], Completed: at(pairs[i+1])})
	}
	return ds
}

// kept renders a decision as "id: reason, reason" lines and removed ids,
// so expectations read literally.
func render(d RetentionDecision) (kept []string, removed []string) {
	for _, k := range d.Kept {
		kept = append(kept, k.BackupID+": "+strings.Join(k.Reasons, ", "))
	}
	for _, r := range d.Removed {
		removed = append(removed, r.BackupID)
	}
	return kept, removed
}

// Eight Sunday backups and a few weekday ones, in UTC.
var sundays = dated(
	"s1", "2026-01-04T10:00:00Z",
	"s2", "2026-01-11T10:00:00Z",
	"s3", "2026-01-18T10:00:00Z",
	"s4", "2026-01-25T10:00:00Z",
	"s5", "2026-02-01T10:00:00Z",
	"s6", "2026-02-08T10:00:00Z",
	"s7", "2026-02-15T10:00:00Z",
	"s8", "2026-02-22T10:00:00Z",
)

// The forum example restic's maintainers point to: a1..a5 over May 1-5.
var may = dated(
	"a1", "2026-05-01T08:00:00Z",
	"a2", "2026-05-02T08:00:00Z",
	"a3", "2026-05-02T11:00:00Z",
	"a4", "2026-05-04T09:00:00Z",
	"a5", "2026-05-05T10:00:00Z",
)

func TestRetain(t *testing.T) {
	tests := []struct {
		name      string
		backups   []Dated
		policy    Retention
		protected map[string]string
		kept      []string
		removed   []string
	}{
		{
			name:    "no backups keeps and removes nothing",
			policy:  Retention{Last: 2},
			kept:    nil,
			removed: nil,
		},
		{
			name:    "an empty policy keeps everything",
			backups: dated("a", "2026-01-01T00:00:00Z", "b", "2026-01-02T00:00:00Z"),
			kept:    []string{"b: newest backup, policy is empty", "a: policy is empty"},
		},
		{
			name:    "keep-last keeps the newest N, whatever their order in",
			backups: dated("c", "2026-01-03T00:00:00Z", "a", "2026-01-01T00:00:00Z", "d", "2026-01-04T00:00:00Z", "b", "2026-01-02T00:00:00Z"),
			policy:  Retention{Last: 2},
			kept:    []string{"d: newest backup, last snapshot", "c: last snapshot"},
			removed: []string{"b", "a"},
		},
		{
			name:    "keep-last larger than the list keeps all",
			backups: dated("a", "2026-01-01T00:00:00Z", "b", "2026-01-02T00:00:00Z"),
			policy:  Retention{Last: 5},
			kept:    []string{"b: newest backup, last snapshot", "a: last snapshot"},
		},
		{
			name:    "the newest backup is kept even by a policy that keeps nothing of it",
			backups: dated("a", "2026-01-01T00:00:00Z", "b", "2026-03-01T00:00:00Z"),
			policy:  Retention{Within: Span{Hours: 1}},
			kept:    []string{"b: newest backup, within 1h"},
			removed: []string{"a"},
		},
		{
			name:    "keep-daily keeps the newest of each day that has a backup",
			backups: may,
			policy:  Retention{Daily: 3},
			kept:    []string{"a5: newest backup, daily snapshot", "a4: daily snapshot", "a3: daily snapshot"},
			removed: []string{"a2", "a1"},
		},
		{
			// restic forum: --keep-daily 4 keeps a1, a3, a4, a5.
			name:    "restic example: keep-daily 4 skips days without backups",
			backups: may,
			policy:  Retention{Daily: 4},
			kept:    []string{"a5: newest backup, daily snapshot", "a4: daily snapshot", "a3: daily snapshot", "a1: daily snapshot"},
			removed: []string{"a2"},
		},
		{
			// restic docs: with backups only on Sundays, --keep-daily 4
			// keeps the last four Sundays, not four calendar days.
			name:    "restic example: keep-daily 4 of Sunday-only backups keeps four Sundays",
			backups: sundays,
			policy:  Retention{Daily: 4},
			kept:    []string{"s8: newest backup, daily snapshot", "s7: daily snapshot", "s6: daily snapshot", "s5: daily snapshot"},
			removed: []string{"s4", "s3", "s2", "s1"},
		},
		{
			name:    "a bucket with counts left at the oldest backup keeps it too, as restic does",
			backups: dated("early", "2026-05-01T08:00:00Z", "late", "2026-05-01T10:00:00Z", "next", "2026-05-02T10:00:00Z"),
			policy:  Retention{Daily: 10},
			kept:    []string{"next: newest backup, daily snapshot", "late: daily snapshot", "early: daily snapshot"},
		},
		{
			name:    "a bucket with no counts left at the oldest backup does not keep it",
			backups: dated("early", "2026-05-01T08:00:00Z", "late", "2026-05-01T10:00:00Z", "next", "2026-05-02T10:00:00Z"),
			policy:  Retention{Daily: 2},
			kept:    []string{"next: newest backup, daily snapshot", "late: daily snapshot"},
			removed: []string{"early"},
		},
		{
			name: "keep-hourly buckets by UTC hour",
			backups: dated(
				"h1", "2026-06-01T10:05:00Z",
				"h2", "2026-06-01T10:55:00Z",
				"h3", "2026-06-01T11:10:00+02:00", // 09:10 UTC
				"h4", "2026-06-01T11:30:00Z",
			),
			policy:  Retention{Hourly: 2},
			kept:    []string{"h4: newest backup, hourly snapshot", "h2: hourly snapshot"},
			removed: []string{"h1", "h3"},
		},
		{
			name: "keep-weekly buckets by ISO week, Monday to Sunday",
			backups: dated(
				"sun", "2026-03-01T12:00:00Z", // ISO week 9
				"mon", "2026-03-02T12:00:00Z", // ISO week 10
				"wed", "2026-03-04T12:00:00Z", // ISO week 10
				"nextmon", "2026-03-09T12:00:00Z", // ISO week 11
			),
			policy:  Retention{Weekly: 2},
			kept:    []string{"nextmon: newest backup, weekly snapshot", "wed: weekly snapshot"},
			removed: []string{"mon", "sun"},
		},
		{
			name: "an ISO week spans the new year",
			backups: dated(
				"dec29", "2025-12-29T12:00:00Z", // ISO 2026-W01
				"jan2", "2026-01-02T12:00:00Z", // ISO 2026-W01
				"dec28", "2025-12-28T12:00:00Z", // ISO 2025-W52
			),
			policy:  Retention{Weekly: 2},
			kept:    []string{"jan2: newest backup, weekly snapshot", "dec28: weekly snapshot"},
			removed: []string{"dec29"},
		},
		{
			name: "keep-monthly and keep-yearly",
			backups: dated(
				"y24", "2024-07-01T00:00:00Z",
				"y25a", "2025-03-01T00:00:00Z",
				"y25b", "2025-11-30T00:00:00Z",
				"m1a", "2026-01-10T00:00:00Z",
				"m1b", "2026-01-20T00:00:00Z",
				"m2", "2026-02-05T00:00:00Z",
			),
			policy:  Retention{Monthly: 2, Yearly: 2},
			kept:    []string{"m2: newest backup, monthly snapshot, yearly snapshot", "m1b: monthly snapshot", "y25b: yearly snapshot"},
			removed: []string{"m1a", "y25a", "y24"},
		},
		{
			name:    "keep-within keeps everything within the span of the newest, not of now",
			backups: may,
			policy:  Retention{Within: Span{Days: 3}},
			// from 2026-05-02T10:00Z, exclusive
			kept:    []string{"a5: newest backup, within 3d", "a4: within 3d", "a3: within 3d"},
			removed: []string{"a2", "a1"},
		},
		{
			name:    "keep-within is exclusive at its boundary",
			backups: dated("edge", "2026-05-04T10:00:00Z", "new", "2026-05-05T10:00:00Z"),
			policy:  Retention{Within: Span{Days: 1}},
			kept:    []string{"new: newest backup, within 1d"},
			removed: []string{"edge"},
		},
		{
			// restic docs: --keep-within 2y5m7d3h keeps what was made in the
			// two years, five months, seven days and three hours before the
			// newest backup (calendar arithmetic).
			name: "restic example: keep-within 2y5m7d3h",
			backups: dated(
				"in", "2023-09-26T09:00:01Z",
				"out", "2023-09-26T09:00:00Z",
				"newest", "2026-03-03T12:00:00Z",
			),
			policy:  Retention{Within: Span{Years: 2, Months: 5, Days: 7, Hours: 3}},
			kept:    []string{"newest: newest backup, within 2y5m7d3h", "in: within 2y5m7d3h"},
			removed: []string{"out"},
		},
		{
			name:    "rules combine: a backup kept by any rule is kept, with every reason",
			backups: may,
			policy:  Retention{Last: 1, Daily: 2, Within: Span{Hours: 30}},
			kept:    []string{"a5: newest backup, within 30h, last snapshot, daily snapshot", "a4: within 30h, daily snapshot"},
			removed: []string{"a3", "a2", "a1"},
		},
		{
			name:      "a protected backup is kept whatever the policy",
			backups:   may,
			policy:    Retention{Last: 1},
			protected: map[string]string{"a2": "base of running backup x"},
			kept:      []string{"a5: newest backup, last snapshot", "a2: base of running backup x"},
			removed:   []string{"a4", "a3", "a1"},
		},
		{
			name:    "equal times order by id, so the answer does not depend on input order",
			backups: dated("b", "2026-01-01T00:00:00Z", "a", "2026-01-01T00:00:00Z", "c", "2026-01-01T00:00:00Z"),
			policy:  Retention{Last: 1},
			kept:    []string{"c: newest backup, last snapshot"},
			removed: []string{"b", "a"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kept, removed := render(Retain(tt.backups, tt.policy, tt.protected))
			if !reflect.DeepEqual(kept, tt.kept) {
				t.Errorf("kept\n got %q\nwant %q", kept, tt.kept)
			}
			if !reflect.DeepEqual(removed, tt.removed) {
				t.Errorf("removed\n got %q\nwant %q", removed, tt.removed)
			}
		})
	}
}

func TestRetainNeverRemovesTheNewest(t *testing.T) {
	// Every policy with a rule, over lists of every length up to 6.
	policies := []Retention{
		{Last: 1}, {Hourly: 1}, {Daily: 1}, {Weekly: 1}, {Monthly: 1}, {Yearly: 1},
		{Within: Span{Hours: 1}},
	}
	all := dated(
		"1", "2020-01-01T00:00:00Z", "2", "2021-06-01T00:00:00Z", "3", "2026-01-01T00:00:00Z",
		"4", "2026-01-01T00:30:00Z", "5", "2026-01-01T00:45:00Z", "6", "2026-01-01T00:50:00Z",
	)
	for n := 1; n <= len(all); n++ {
		for _, p := range policies {
			d := Retain(all[:n], p, nil)
			newest := all[n-1].BackupID
			if len(d.Kept) == 0 || d.Kept[0].BackupID != newest {
				t.Errorf("%+v over %d backups: newest %s not kept first: %+v", p, n, newest, d)
			}
			for _, r := range d.Removed {
				if r.BackupID == newest {
					t.Errorf("%+v removed the newest backup %s", p, newest)
				}
			}
			if len(d.Kept)+len(d.Removed) != n {
				t.Errorf("%+v over %d backups: %d kept + %d removed", p, n, len(d.Kept), len(d.Removed))
			}
		}
	}
}

func TestParseSpan(t *testing.T) {
	tests := []struct {
		in   string
		want Span
		err  string
	}{
		{in: "7d", want: Span{Days: 7}},
		{in: "36h", want: Span{Hours: 36}},
		{in: "1y5m7d2h", want: Span{Years: 1, Months: 5, Days: 7, Hours: 2}},
		{in: "", err: `invalid duration ""`},
		{in: "7", err: `invalid duration "7"`},
		{in: "d", err: `invalid duration "d"`},
		{in: "-1d", err: `invalid duration "-1d"`},
		{in: "10s", err: `unknown unit 's'`},
		{in: "1w", err: `unknown unit 'w'`},
	}
	for _, tt := range tests {
		got, err := ParseSpan(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseSpan(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseSpan(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
		if got.String() != tt.in {
			t.Errorf("Span(%q).String() = %q", tt.in, got.String())
		}
	}
}

func TestRetentionValidate(t *testing.T) {
	if err := (Retention{Daily: -1}).Validate(); err == nil || err.Error() != "--keep-daily must be 0 or more, not -1" {
		t.Errorf("negative daily: %v", err)
	}
	if err := (Retention{Last: 3, Within: Span{Days: 2}}).Validate(); err != nil {
		t.Errorf("valid policy refused: %v", err)
	}
}
