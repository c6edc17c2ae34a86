package main

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/corso-temporal/corso/backup"
)

// Limits Temporal's schedules set: an interval of at least a second, and a
// catch-up window of at least ten seconds (a shorter one is silently
// raised).
const (
	minScheduleInterval = time.Second
	minCatchupWindow    = 10 * time.Second
)

// scheduleFlags are when a backup schedule runs and what it keeps.
type scheduleFlags struct {
	name      string
	every     string
	cron      string
	catchup   time.Duration
	retention retentionFlags
}

func (f *scheduleFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.name, "id", "", "name of the schedule (letters, digits, '.', '_', '-'); its id is corso-backup-SERVICE-NAME")
	fl.StringVar(&f.every, "every", "", "run at this interval, like 4h, 30m or 24h (Temporal's minimum is 1s)")
	fl.StringVar(&f.cron, "cron", "", `run at the times of this cron expression, in UTC, like "0 */4 * * *"`)
	fl.DurationVar(&f.catchup, "catchup-window", time.Hour, "after Temporal was unavailable, still start a missed run up to this late (at least 10s)")
	f.retention.add(cmd)
}

// scheduleName is what --id accepts: it ends up in workflow ids.
var scheduleName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$`)

// cronField is one field of a cron expression: numbers, names (JAN, MON),
// *, ?, ranges, lists and steps.
var cronField = regexp.MustCompile(`^[0-9A-Za-z*?,/\-]+$`)

// cronShorthands are the named cron schedules Temporal accepts.
var cronShorthands = map[string]bool{"@yearly": true, "@annually": true, "@monthly": true, "@weekly": true, "@daily": true, "@midnight": true, "@hourly": true}

// scheduleSettings is a validated schedule: its id, when it runs, and
// its retention policy (nil: none).
type scheduleSettings struct {
	id      string
	spec    client.ScheduleSpec
	catchup time.Duration
	policy  *backup.Retention
}

// settings validates the flags for a schedule of service.
func (f *scheduleFlags) settings(service string) (scheduleSettings, error) {
	var st scheduleSettings
	switch {
	case f.name == "":
		return st, errors.New("--id is required: a name for the schedule, like nightly")
	case !scheduleName.MatchString(f.name):
		return st, fmt.Errorf("--id %q: use up to 80 letters, digits, '.', '_' and '-', starting with a letter or digit", f.name)
	}
	st.id = scheduleID(service, f.name)
	var err error
	if st.spec, st.catchup, err = scheduleTiming(f.every, f.cron, f.catchup); err != nil {
		return st, err
	}
	p, err := f.retention.parse()
	if err != nil {
		return st, err
	}
	if !p.Empty() {
		st.policy = &p
	}
	return st, nil
}

// scheduleTiming validates when a schedule runs: --every or --cron, and
// its catch-up window.
func scheduleTiming(every, cron string, catchup time.Duration) (client.ScheduleSpec, time.Duration, error) {
	var spec client.ScheduleSpec
	every, cron = strings.TrimSpace(every), strings.TrimSpace(cron)
	switch {
	case every != "" && cron != "":
		return spec, 0, errors.New("give --every or --cron, not both")
	case every == "" && cron == "":
		return spec, 0, errors.New(`a schedule needs --every (like 4h) or --cron (like "0 */4 * * *")`)
	case every != "":
		d, err := time.ParseDuration(every)
		if err != nil {
			return spec, 0, fmt.Errorf("--every %q: want a duration like 4h, 30m or 90s", every)
		}
		if d < minScheduleInterval {
			return spec, 0, fmt.Errorf("--every %s: Temporal's shortest interval is %s", every, minScheduleInterval)
		}
		spec.Intervals = []client.ScheduleIntervalSpec{{Every: d}}
	default:
		if err := validateCron(cron); err != nil {
			return spec, 0, err
		}
		spec.CronExpressions = []string{cron}
	}
	if catchup < minCatchupWindow {
		return spec, 0, fmt.Errorf("--catchup-window %s: Temporal's shortest is %s", catchup, minCatchupWindow)
	}
	return spec, catchup, nil
}

// validateCron catches what is plainly not a cron expression; Temporal
// checks the rest when the schedule is created.
func validateCron(expr string) error {
	if strings.HasPrefix(expr, "@") {
		if cronShorthands[expr] {
			return nil
		}
		return fmt.Errorf("--cron %q: unknown shorthand (use @hourly, @daily, @weekly, @monthly or @yearly, or 5 fields)", expr)
	}
	if strings.Contains(expr, "TZ=") {
		return fmt.Errorf("--cron %q: schedules run in UTC; give the times in UTC without a time zone", expr)
	}
	fields := strings.Fields(expr)
	if len(fields) < 5 || len(fields) > 7 {
		return fmt.Errorf(`--cron %q: want 5 fields (minute hour day-of-month month day-of-week), like "0 */4 * * *"`, expr)
	}
	for _, fl := range fields {
		if !cronField.MatchString(fl) {
			return fmt.Errorf("--cron %q: field %q is not a cron field", expr, fl)
		}
	}
	return nil
}

// scheduleIDPrefix starts the id of every backup schedule corso creates.
const scheduleIDPrefix = "corso-backup-"

// scheduleID is the id of the backup schedule of service named name: the
// Web UI's Schedules page lists it so, and each run's workflow id is it
// followed by the run's time.
func scheduleID(service, name string) string { return scheduleIDPrefix + service + "-" + name }

// describeSpec says when a schedule runs, in the words of its flags.
func describeSpec(spec *client.ScheduleSpec) string {
	if spec == nil {
		return ""
	}
	var parts []string
	for _, iv := range spec.Intervals {
		parts = append(parts, "every "+shortDuration(iv.Every))
	}
	for _, c := range spec.CronExpressions {
		parts = append(parts, "cron "+c)
	}
	for _, c := range spec.Calendars {
		parts = append(parts, "calendar "+calendarString(c))
	}
	return strings.Join(parts, "; ")
}

// shortDuration writes 4h0m0s as 4h and 1h30m0s as 1h30m.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// calendarString writes a calendar spec (what Temporal turns a cron
// expression into) as cron-like fields: minute hour day-of-month month
// day-of-week.
func calendarString(c client.ScheduleCalendarSpec) string {
	field := func(rs []client.ScheduleRange, lo, hi int) string {
		if len(rs) == 0 {
			return "*"
		}
		var out []string
		for _, r := range rs {
			end := max(r.End, r.Start)
			step := max(r.Step, 1)
			switch {
			case r.Start == lo && end >= hi && step == 1:
				out = append(out, "*")
			case end == r.Start:
				out = append(out, fmt.Sprint(r.Start))
			case step == 1:
				out = append(out, fmt.Sprintf("%d-%d", r.Start, end))
			case r.Start == lo && end >= hi:
				out = append(out, fmt.Sprintf("*/%d", step))
			default:
				out = append(out, fmt.Sprintf("%d-%d/%d", r.Start, end, step))
			}
		}
		return strings.Join(out, ",")
	}
	return strings.Join([]string{field(c.Minute, 0, 59), field(c.Hour, 0, 23), field(c.DayOfMonth, 1, 31),
		field(c.Month, 1, 12), field(c.DayOfWeek, 0, 6)}, " ")
}
