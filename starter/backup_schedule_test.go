package main

import (
	"bytes"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.temporal.io/sdk/client"

	"github.com/corso-temporal/corso/backup"
)

// TestScheduleSettings: the flags of `backup schedule create` become the
// schedule's id, its spec (an interval or a cron expression), its
// catch-up window and its retention policy.
func TestScheduleSettings(t *testing.T) {
	tests := []struct {
		name   string
		f      scheduleFlags
		id     string
		spec   client.ScheduleSpec
		policy *backup.Retention
	}{
		{"interval", scheduleFlags{name: "nightly", every: "4h", catchup: time.Hour}, "corso-backup-exchange-nightly",
			client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: 4 * time.Hour}}}, nil},
		{"Temporal's shortest interval", scheduleFlags{name: "e2e", every: "1s", catchup: time.Hour}, "corso-backup-exchange-e2e",
			client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: time.Second}}}, nil},
		{"cron", scheduleFlags{name: "n.1_a-b", cron: " 0 */4 * * * ", catchup: time.Hour}, "corso-backup-exchange-n.1_a-b",
			client.ScheduleSpec{CronExpressions: []string{"0 */4 * * *"}}, nil},
		{"cron shorthand", scheduleFlags{name: "d", cron: "@daily", catchup: time.Hour}, "corso-backup-exchange-d",
			client.ScheduleSpec{CronExpressions: []string{"@daily"}}, nil},
		{"with a policy", scheduleFlags{name: "p", every: "30m", catchup: time.Hour,
			retention: retentionFlags{policy: backup.Retention{Last: 3, Daily: 7}, within: "2d"}}, "corso-backup-exchange-p",
			client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: 30 * time.Minute}}},
			&backup.Retention{Last: 3, Daily: 7, Within: backup.Span{Days: 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := tt.f.settings("exchange")
			if err != nil {
				t.Fatal(err)
			}
			if st.id != tt.id || !reflect.DeepEqual(st.spec, tt.spec) || st.catchup != time.Hour || !reflect.DeepEqual(st.policy, tt.policy) {
				t.Errorf("got id %s spec %+v catch-up %s policy %+v\nwant id %s spec %+v policy %+v", st.id, st.spec, st.catchup, st.policy, tt.id, tt.spec, tt.policy)
			}
		})
	}
}

// TestScheduleFlagsRefused: bad schedule flags fail before anything is
// dialled, with one line that names the flag.
func TestScheduleFlagsRefused(t *testing.T) {
	tests := []struct {
		args []string
		err  string
	}{
		{[]string{"--every", "4h", "--cron", "0 */4 * * *"}, "give --every or --cron, not both"},
		{[]string{}, "a schedule needs --every (like 4h) or --cron"},
		{[]string{"--every", "4 hours"}, `--every "4 hours": want a duration like 4h`},
		{[]string{"--every", "500ms"}, "--every 500ms: Temporal's shortest interval is 1s"},
		{[]string{"--every", "-4h"}, "--every -4h: Temporal's shortest interval is 1s"},
		{[]string{"--cron", "0 */4 * *"}, `--cron "0 */4 * *": want 5 fields`},
		{[]string{"--cron", "@fortnightly"}, `--cron "@fortnightly": unknown shorthand`},
		{[]string{"--cron", "0 4 * * MON;rm"}, `--cron "0 4 * * MON;rm": field "MON;rm" is not a cron field`},
		{[]string{"--cron", "CRON_TZ=Europe/Paris 0 4 * * *"}, `--cron "CRON_TZ=Europe/Paris 0 4 * * *": schedules run in UTC`},
		{[]string{"--every", "4h", "--catchup-window", "5s"}, "--catchup-window 5s: Temporal's shortest is 10s"},
		{[]string{"--every", "4h", "--keep-last", "-1"}, "--keep-last must be 0 or more, not -1"},
		{[]string{"--every", "4h", "--keep-within", "3 days"}, `--keep-within: invalid duration "3 days"`},
		{[]string{"--every", "4h", "--id", ""}, "--id is required"},
		{[]string{"--every", "4h", "--id", "my schedule"}, `--id "my schedule": use up to 80 letters`},
		{[]string{"--every", "4h", "--id", "-x"}, `--id "-x": use up to 80 letters`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			args := append([]string{"backup", "schedule", "create", "exchange", "--mailbox", "ann@contoso.com", "--id", "nightly"}, tt.args...)
			err := runCLI(t, args...)
			if err == nil || !strings.HasPrefix(err.Error(), tt.err) || strings.Contains(err.Error(), "\n") {
				t.Errorf("err = %v, want one line starting %q", err, tt.err)
			}
		})
	}
	// The selection is checked as `backup create` checks it.
	for _, args := range [][]string{
		{"exchange", "--every", "4h", "--id", "x"},
		{"exchange", "--mailbox", "*,ann", "--every", "4h", "--id", "x"},
		{"exchange", "--mailbox", "ann", "--data", "notes", "--every", "4h", "--id", "x"},
		{"onedrive", "--every", "4h", "--id", "x"},
	} {
		create := runCLI(t, append([]string{"backup", "create"}, args[:slices.Index(args, "--every")]...)...)
		sched := runCLI(t, append([]string{"backup", "schedule", "create"}, args...)...)
		if create == nil || sched == nil || create.Error() != sched.Error() {
			t.Errorf("%v: backup create says %v, schedule create says %v", args, create, sched)
		}
	}
}

func runCLI(t *testing.T, args ...string) error {
	t.Helper()
	t.Setenv("CORSO_CONFIG_DIR", t.TempDir())
	root := newRootCommand()
	root.SetArgs(args)
	root.SetOut(&bytes.Buffer{})
	root.SetErr(&bytes.Buffer{})
	return root.Execute()
}

// TestScheduleCreateTakesBackupCreateSelectors: `backup schedule create
// SERVICE` has every selector flag of `backup create SERVICE`, and `backup
// prune`'s --keep-* flags.
func TestScheduleCreateTakesBackupCreateSelectors(t *testing.T) {
	root := newRootCommand()
	find := func(path ...string) *cobra.Command {
		c, _, err := root.Find(path)
		if err != nil || c.Name() != path[len(path)-1] {
			t.Fatalf("no command %v: %v", path, err)
		}
		return c
	}
	flags := func(c *cobra.Command, skip ...string) []string {
		var out []string
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if !slices.Contains(skip, f.Name) {
				out = append(out, f.Name+" "+f.Usage)
			}
		})
		return out
	}
	for _, service := range []string{"exchange", "onedrive", "sharepoint"} {
		sched := flags(find("backup", "schedule", "create", service))
		for _, f := range flags(find("backup", "create", service), "wait") {
			if !slices.Contains(sched, f) {
				t.Errorf("schedule create %s lacks backup create's --%s", service, f)
			}
		}
		for _, f := range flags(find("backup", "prune", service), "resource", "dry-run") {
			if !slices.Contains(sched, f) {
				t.Errorf("schedule create %s lacks prune's --%s", service, f)
			}
		}
	}
}

// TestDescribeSpec: how describe and list say when a schedule runs,
// including the calendar Temporal turns a cron expression into.
func TestDescribeSpec(t *testing.T) {
	for _, c := range []struct {
		spec client.ScheduleSpec
		want string
	}{
		{client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: 4 * time.Hour}}}, "every 4h"},
		{client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: 90 * time.Minute}}}, "every 1h30m"},
		{client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: 20 * time.Second}}}, "every 20s"},
		{client.ScheduleSpec{Calendars: []client.ScheduleCalendarSpec{{
			Minute: []client.ScheduleRange{{Start: 0}}, Hour: []client.ScheduleRange{{Start: 0, End: 23, Step: 4}},
			DayOfMonth: []client.ScheduleRange{{Start: 1, End: 31}}, Month: []client.ScheduleRange{{Start: 1, End: 12}},
			DayOfWeek: []client.ScheduleRange{{Start: 1, End: 5}},
		}}}, "calendar 0 */4 * * 1-5"},
	} {
		if got := describeSpec(&c.spec); got != c.want {
			t.Errorf("%+v: got %q, want %q", c.spec, got, c.want)
		}
	}
}
