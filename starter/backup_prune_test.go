package main

import (
	"strings"
	"testing"
	"time"

	"github.com/corso-temporal/corso/backup"
)

func TestPlanPrune(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	hour := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	sum := func(id, tenant, res, name, status string, done time.Time) backup.Summary {
		return backup.Summary{BackupID: id, Tenant: tenant, Resource: res, ResourceName: name, Status: status, Completed: done}
	}
	bs := []backup.Summary{
		sum("a1", "t", "u1", "ann@x", backup.StatusCompleted, hour(1)),
		sum("a2", "t", "u1", "ann@x", backup.StatusCompleted, hour(2)),
		sum("a3", "t", "u1", "ann@x", backup.StatusCompleted, hour(3)),
		sum("a4", "t", "u1", "ann@x", backup.StatusCompleted, hour(4)),
		sum("af", "t", "u1", "ann@x", backup.StatusFailed, hour(5)),
		sum("b1", "t", "u2", "bob@x", backup.StatusCompleted, hour(1)),
		sum("b2", "t", "u2", "bob@x", backup.StatusCompleted, hour(2)),
		sum("o1", "other", "u1", "ann@x", backup.StatusCompleted, hour(1)),
	}
	render := func(rs []pruneResource) string {
		var lines []string
		for _, r := range rs {
			var kept, removed []string
			for _, k := range r.Kept {
				kept = append(kept, k.BackupID+"("+strings.Join(k.Reasons, "; ")+")")
			}
			for _, d := range r.Removed {
				removed = append(removed, d.BackupID)
			}
			lines = append(lines, r.Tenant+"/"+r.ResourceName+" keep "+strings.Join(kept, " ")+" remove "+strings.Join(removed, " "))
		}
		return strings.Join(lines, "\n")
	}
	tests := []struct {
		name    string
		running []runningBackup
		only    []string
		want    string
		err     string
	}{
		{
			name: "each tenant and resource on its own; failed backups are left alone",
			want: "other/ann@x keep o1(newest backup; last snapshot) remove \n" +
				"t/ann@x keep a4(newest backup; last snapshot) remove a3 a2 a1\n" +
				"t/bob@x keep b2(newest backup; last snapshot) remove b1",
		},
		{
			name: "--resource by address or id, case-insensitive",
			only: []string{"BOB@x", "u1"},
			want: "other/ann@x keep o1(newest backup; last snapshot) remove \n" +
				"t/ann@x keep a4(newest backup; last snapshot) remove a3 a2 a1\n" +
				"t/bob@x keep b2(newest backup; last snapshot) remove b1",
		},
		{
			name: "an unknown --resource is an error",
			only: []string{"carl@x"},
			err:  "--resource carl@x: no completed backups of it",
		},
		{
			name: "a running backup protects the newest completed before it started and all completed since",
			running: []runningBackup{
				{BackupID: "r", Tenant: "t", Resource: "ann@x", Started: hour(2).Add(30 * time.Minute)},
			},
			only: []string{"ann@x"},
			want: "other/ann@x keep o1(newest backup; last snapshot) remove \n" +
				"t/ann@x keep a4(newest backup; may be the base of running backup r; last snapshot) " +
				"a3(may be the base of running backup r) a2(may be the base of running backup r) remove a1",
		},
		{
			name: "a backup completed just before the run started, within the clocks' margin, is protected too",
			running: []runningBackup{
				{BackupID: "r", Tenant: "t", Resource: "bob@x", Started: hour(2).Add(30 * time.Second)},
			},
			only: []string{"bob@x"},
			want: "t/bob@x keep b2(newest backup; may be the base of running backup r; last snapshot) " +
				"b1(may be the base of running backup r) remove ",
		},
		{
			name: "a running backup of another tenant's resource of the same name protects nothing here",
			running: []runningBackup{
				{BackupID: "r", Tenant: "other", Resource: "bob@x", Started: hour(9)},
			},
			only: []string{"bob@x"},
			want: "t/bob@x keep b2(newest backup; last snapshot) remove b1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := planPrune(bs, tt.running, backup.Retention{Last: 1}, tt.only)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := render(rs); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestPruneFlagsValidate(t *testing.T) {
	tests := []struct {
		f   pruneFlags
		err string
	}{
		{f: pruneFlags{}, err: "no retention policy: give at least one of --keep-last"},
		{f: pruneFlags{retention: retentionFlags{policy: backup.Retention{Last: -2}}}, err: "--keep-last must be 0 or more, not -2"},
		{f: pruneFlags{retention: retentionFlags{within: "3 days"}}, err: `--keep-within: invalid duration "3 days"`},
		{f: pruneFlags{retention: retentionFlags{within: "3d"}}},
		{f: pruneFlags{retention: retentionFlags{policy: backup.Retention{Yearly: 3}}}},
	}
	for _, tt := range tests {
		err := tt.f.validate()
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("%+v: %v", tt.f, err)
		case tt.err != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.err)):
			t.Errorf("%+v: err = %v, want %q", tt.f, err, tt.err)
		}
	}
}
