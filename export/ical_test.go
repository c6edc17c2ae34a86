package export

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"
)

// icsOf converts an event given as a Go value and parses the result.
func icsOf(t *testing.T, ev map[string]any) (*ical.Calendar, string) {
	t.Helper()
	raw, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := EventICS(&buf, raw); err != nil {
		t.Fatal(err)
	}
	checkContentLines(t, "event", buf.Bytes())
	checkTimeZones(t, "event", buf.Bytes())
	cal, err := ical.NewDecoder(bytes.NewReader(buf.Bytes())).Decode()
	if err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	return cal, buf.String()
}

func dt(dateTime, zone string) map[string]any {
	return map[string]any{"dateTime": dateTime, "timeZone": zone}
}

func TestEventTimeZones(t *testing.T) {
	for _, tc := range []struct {
		dateTime, zone, fallback string
		want                     string
	}{
		{"2025-07-01T09:00:00.0000000", "UTC", "", "20250701T090000Z"},
		{"2025-07-01T09:00:00", "tzone://Microsoft/Utc", "", "20250701T090000Z"},
		{"2025-07-01T09:00:00", "Pacific Standard Time", "", "20250701T160000Z"},
		{"2025-01-15T09:00:00", "Pacific Standard Time", "", "20250115T170000Z"},
		{"2025-07-01T09:00:00", "pacific standard time", "", "20250701T160000Z"},
		{"2025-07-01T09:00:00", "W. Europe Standard Time", "", "20250701T070000Z"},
		{"2025-07-01T09:00:00", "Europe/Berlin", "", "20250701T070000Z"},
		{"2025-07-01T09:00:00", "India Standard Time", "", "20250701T033000Z"},
		{"2025-07-01T09:00:00", "Tokyo Standard Time", "", "20250701T000000Z"},
		{"2025-07-01T09:00:00", "AUS Eastern Standard Time", "", "20250630T230000Z"},
		{"2025-07-01T09:00:00", "Customized Time Zone", "Eastern Standard Time", "20250701T130000Z"},
		{"2025-07-01T09:00:00", "No Such Zone", "", "20250701T090000Z"},
		{"2025-07-01T09:00:00Z", "Pacific Standard Time", "", "20250701T090000Z"},
		{"2025-07-01T09:00:00+02:00", "", "", "20250701T070000Z"},
	} {
		cal, _ := icsOf(t, map[string]any{
			"id": "x", "subject": "s", "originalStartTimeZone": tc.fallback,
			"start": dt(tc.dateTime, tc.zone), "end": dt(tc.dateTime, tc.zone),
		})
		if got := cal.Events()[0].Props.Get(ical.PropDateTimeStart).Value; got != tc.want {
			t.Errorf("%s in %q: DTSTART %s, want %s", tc.dateTime, tc.zone, got, tc.want)
		}
	}
}

func TestWindowsZonesResolve(t *testing.T) {
	for _, win := range []string{"Pacific Standard Time", "W. Europe Standard Time", "Tokyo Standard Time", "Yukon Standard Time"} {
		if _, ok := location(win); !ok {
			t.Errorf("%q does not resolve", win)
		}
	}
	if _, ok := location("Local"); ok {
		t.Error(`"Local" resolved to the exporting machine's zone`)
	}
}

func TestRecurrenceRules(t *testing.T) {
	pat := func(kv ...any) map[string]any {
		m := map[string]any{"interval": 1}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	numbered := func(n int) map[string]any {
		return map[string]any{"type": "numbered", "startDate": "2025-07-01", "numberOfOccurrences": n, "recurrenceTimeZone": "UTC"}
	}
	noEnd := map[string]any{"type": "noEnd", "startDate": "2025-07-01", "recurrenceTimeZone": "UTC"}
	for _, tc := range []struct {
		name       string
		start      string
		pattern    map[string]any
		rng        map[string]any
		want       string
		firstDates []string // the first occurrences, as dates
	}{
		{"daily", "2025-07-01T09:00:00", pat("type", "daily", "interval", 3), numbered(4),
			"FREQ=DAILY;INTERVAL=3;COUNT=4", []string{"2025-07-01", "2025-07-04", "2025-07-07", "2025-07-10"}},
		{"weekly", "2025-07-02T09:00:00", pat("type", "weekly", "interval", 2, "daysOfWeek", []string{"monday", "wednesday", "friday"}, "firstDayOfWeek", "monday"),
			map[string]any{"type": "endDate", "startDate": "2025-07-02", "endDate": "2025-07-28", "recurrenceTimeZone": "UTC"},
			"FREQ=WEEKLY;BYDAY=MO,WE,FR;INTERVAL=2;WKST=MO;UNTIL=20250728T235959Z", []string{"2025-07-02", "2025-07-04", "2025-07-14", "2025-07-16", "2025-07-18", "2025-07-28"}},
		{"absoluteMonthly", "2025-07-31T09:00:00", pat("type", "absoluteMonthly", "dayOfMonth", 31), numbered(3),
			"FREQ=MONTHLY;BYMONTHDAY=31;COUNT=3", []string{"2025-07-31", "2025-08-31", "2025-10-31"}},
		{"relativeMonthly last", "2025-07-25T09:00:00", pat("type", "relativeMonthly", "daysOfWeek", []string{"friday"}, "index", "last"), noEnd,
			"FREQ=MONTHLY;BYDAY=-1FR", []string{"2025-07-25", "2025-08-29", "2025-09-26"}},
		{"relativeMonthly second", "2025-07-08T09:00:00", pat("type", "relativeMonthly", "interval", 2, "daysOfWeek", []string{"tuesday"}, "index", "second"), numbered(3),
			"FREQ=MONTHLY;BYDAY=2TU;INTERVAL=2;COUNT=3", []string{"2025-07-08", "2025-09-09", "2025-11-11"}},
		{"first weekday", "2025-07-01T09:00:00", pat("type", "relativeMonthly", "daysOfWeek", []string{"monday", "tuesday", "wednesday", "thursday", "friday"}, "index", "first"), numbered(3),
			"FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1;COUNT=3", []string{"2025-07-01", "2025-08-01", "2025-09-01"}},
		{"absoluteYearly", "2026-03-15T09:00:00", pat("type", "absoluteYearly", "month", 3, "dayOfMonth", 15), numbered(2),
			"FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=15;COUNT=2", []string{"2026-03-15", "2027-03-15"}},
		{"relativeYearly", "2025-11-27T18:00:00", pat("type", "relativeYearly", "month", 11, "daysOfWeek", []string{"thursday"}, "index", "fourth"), numbered(3),
			"FREQ=YEARLY;BYMONTH=11;BYDAY=4TH;COUNT=3", []string{"2025-11-27", "2026-11-26", "2027-11-25"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cal, text := icsOf(t, map[string]any{
				"id": "x", "subject": tc.name, "start": dt(tc.start, "UTC"), "end": dt(tc.start, "UTC"),
				"recurrence": map[string]any{"pattern": tc.pattern, "range": tc.rng},
			})
			ev := cal.Events()[0]
			if got := ev.Props.Get(ical.PropRecurrenceRule).Value; got != tc.want {
				t.Errorf("RRULE %s, want %s", got, tc.want)
			}
			set, err := ev.RecurrenceSet(time.UTC)
			if err != nil {
				t.Fatalf("%v\n%s", err, text)
			}
			var got []string
			next := set.Iterator()
			for range tc.firstDates {
				if occ, ok := next(); ok {
					got = append(got, occ.Format("2006-01-02"))
				}
			}
			if !slices.Equal(got, tc.firstDates) {
				t.Errorf("occurrences %v, want %v", got, tc.firstDates)
			}
		})
	}

	// A pattern iCalendar has no word for leaves a single event.
	cal, _ := icsOf(t, map[string]any{"id": "x", "start": dt("2025-07-01T09:00:00", "UTC"), "end": dt("2025-07-01T10:00:00", "UTC"),
		"recurrence": map[string]any{"pattern": map[string]any{"type": "lunar"}, "range": noEnd}})
	if cal.Events()[0].Props.Get(ical.PropRecurrenceRule) != nil {
		t.Error("an unknown pattern gave an RRULE")
	}
}

// TestRecurrenceAcrossUTCDay checks series whose start falls on another
// day in UTC than in their own zone: written in that zone, every
// occurrence falls on the day the pattern names there, at the local time
// of the first one.
func TestRecurrenceAcrossUTCDay(t *testing.T) {
	type want struct {
		weekdays []time.Weekday // allowed local weekdays (nil: any)
		check    func(d time.Time) bool
	}
	nth := func(n int, wd time.Weekday) func(time.Time) bool {
		return func(d time.Time) bool {
			if d.Weekday() != wd {
				return false
			}
			if n < 0 {
				return d.AddDate(0, 0, 7).Month() != d.Month()
			}
			return (d.Day()-1)/7+1 == n
		}
	}
	for _, tc := range []struct {
		name, zone, localStart string
		pattern                map[string]any
		count                  int
		check                  func(d time.Time) bool
	}{
		{"weekly Tue/Thu evening in Seattle", "Pacific Standard Time", "2025-07-01T17:00:00",
			map[string]any{"type": "weekly", "interval": 1, "daysOfWeek": []string{"tuesday", "thursday"}}, 40,
			func(d time.Time) bool { return d.Weekday() == time.Tuesday || d.Weekday() == time.Thursday }},
		{"weekly Monday morning in Tokyo", "Tokyo Standard Time", "2025-07-07T08:00:00",
			map[string]any{"type": "weekly", "interval": 1, "daysOfWeek": []string{"monday"}}, 30,
			func(d time.Time) bool { return d.Weekday() == time.Monday }},
		{"second Thursday evening in Seattle", "Pacific Standard Time", "2025-07-10T18:30:00",
			map[string]any{"type": "relativeMonthly", "interval": 1, "daysOfWeek": []string{"thursday"}, "index": "second"}, 24,
			nth(2, time.Thursday)},
		{"first Monday morning in Tokyo", "Asia/Tokyo", "2025-07-07T08:00:00",
			map[string]any{"type": "relativeMonthly", "interval": 1, "daysOfWeek": []string{"monday"}, "index": "first"}, 24,
			nth(1, time.Monday)},
		{"last Friday evening in New York", "Eastern Standard Time", "2025-07-25T20:00:00",
			map[string]any{"type": "relativeMonthly", "interval": 1, "daysOfWeek": []string{"friday"}, "index": "last"}, 24,
			nth(-1, time.Friday)},
		{"last Sunday morning in Sydney", "AUS Eastern Standard Time", "2025-07-27T09:00:00",
			map[string]any{"type": "relativeMonthly", "interval": 1, "daysOfWeek": []string{"sunday"}, "index": "last"}, 24,
			nth(-1, time.Sunday)},
		{"the 1st, morning in Tokyo", "Tokyo Standard Time", "2025-08-01T08:00:00",
			map[string]any{"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 1}, 24,
			func(d time.Time) bool { return d.Day() == 1 }},
		{"the 15th, evening in Seattle", "Pacific Standard Time", "2025-07-15T17:00:00",
			map[string]any{"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 15}, 24,
			func(d time.Time) bool { return d.Day() == 15 }},
		{"March 1st, morning in Tokyo", "Tokyo Standard Time", "2026-03-01T08:00:00",
			map[string]any{"type": "absoluteYearly", "interval": 1, "month": 3, "dayOfMonth": 1}, 6,
			func(d time.Time) bool { return d.Month() == time.March && d.Day() == 1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			loc, ok := location(tc.zone)
			if !ok {
				t.Fatalf("zone %q", tc.zone)
			}
			local, _ := time.ParseInLocation("2006-01-02T15:04:05", tc.localStart, loc)
			utc := local.UTC().Format("2006-01-02T15:04:05")
			if local.UTC().Day() == local.Day() {
				t.Fatalf("%s starts on the same day in UTC", tc.name)
			}
			cal, text := icsOf(t, map[string]any{
				"id": "x", "subject": tc.name, "start": dt(utc, "UTC"), "end": dt(utc, "UTC"),
				"recurrence": map[string]any{"pattern": tc.pattern, "range": map[string]any{
					"type": "numbered", "numberOfOccurrences": tc.count, "recurrenceTimeZone": tc.zone}},
			})
			set, err := cal.Events()[0].RecurrenceSet(time.UTC)
			if err != nil {
				t.Fatal(err)
			}
			all := set.All()
			if len(all) != tc.count {
				t.Fatalf("%d occurrences, want %d\n%s", len(all), tc.count, text)
			}
			if p := cal.Events()[0].Props.Get(ical.PropDateTimeStart); p.Params.Get(ical.ParamTimezoneID) != loc.String() {
				t.Errorf("DTSTART %s;TZID=%s, want the series' zone %s", p.Value, p.Params.Get(ical.ParamTimezoneID), loc)
			}
			var prev time.Time
			for i, occ := range all {
				// The local time of day is kept, across daylight-saving
				// changes too.
				l := occ.In(loc)
				if l.Format("15:04") != local.Format("15:04") {
					t.Errorf("occurrence %d at %s local (%s), want %s", i, l.Format("Mon 2006-01-02 15:04"), occ.UTC().Format(time.RFC3339), local.Format("15:04"))
				}
				if !tc.check(l) {
					t.Errorf("occurrence %d at %s (%s): not on the pattern's day\n%s", i, l.Format("Mon 2006-01-02 15:04"), occ.Format(time.RFC3339), cal.Events()[0].Props.Get(ical.PropRecurrenceRule).Value)
				}
				if i > 0 && !occ.After(prev) {
					t.Errorf("occurrences out of order")
				}
				prev = occ
			}
			// No day the pattern names is skipped: the dates are those
			// of the pattern, from the first one on.
			day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, time.UTC)
			for i := 0; i < len(all); day = day.AddDate(0, 0, 1) {
				if !tc.check(day) {
					continue
				}
				l := all[i].In(loc)
				if got := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC); !got.Equal(day) {
					if interval, _ := tc.pattern["interval"].(int); interval <= 1 {
						t.Fatalf("occurrence %d on %s, want %s", i, got.Format("2006-01-02"), day.Format("2006-01-02"))
					}
				}
				i++
			}
		})
	}
}

func TestCancelledAndChangedOccurrences(t *testing.T) {
	// Weekly on Monday 08:00 in Tokyo: Sunday 23:00 UTC.
	cal, text := icsOf(t, map[string]any{
		"id": "master", "iCalUId": "ical-uid", "subject": "Sync",
		"start": dt("2025-09-07T23:00:00", "UTC"), "end": dt("2025-09-07T23:30:00", "UTC"),
		"recurrence": map[string]any{
			"pattern": map[string]any{"type": "weekly", "interval": 1, "daysOfWeek": []string{"monday"}},
			"range":   map[string]any{"type": "numbered", "numberOfOccurrences": 6, "recurrenceTimeZone": "Tokyo Standard Time"},
		},
		"cancelledOccurrences": []string{"OID.master.2025-09-15", "OID.master.2025-10-06", "garbage"},
		"exceptionOccurrences": []any{map[string]any{
			"id": "occ", "type": "exception", "subject": "Sync (moved)", "originalStart": "2025-09-21T23:00:00Z",
			"start": dt("2025-09-22T01:00:00", "UTC"), "end": dt("2025-09-22T01:30:00", "UTC"),
		}},
	})
	evs := cal.Events()
	if len(evs) != 2 {
		t.Fatalf("%d VEVENTs\n%s", len(evs), text)
	}
	var ex []string
	for _, p := range evs[0].Props.Values(ical.PropExceptionDates) {
		ex = append(ex, zoned(&p))
	}
	// Cancelled occurrences are named by their day in Tokyo.
	if want := []string{"Asia/Tokyo:20250915T080000", "Asia/Tokyo:20251006T080000"}; !slices.Equal(ex, want) {
		t.Errorf("EXDATE %v, want %v\n%s", ex, want, text)
	}
	set, _ := evs[0].RecurrenceSet(time.UTC)
	var got []string
	for _, o := range set.All() {
		got = append(got, o.UTC().Format("01-02T15"))
	}
	if want := []string{"09-07T23", "09-21T23", "09-28T23", "10-12T23"}; !slices.Equal(got, want) {
		t.Errorf("occurrences %v, want %v", got, want)
	}
	if uid, _ := evs[1].Props.Text(ical.PropUID); uid != "ical-uid" {
		t.Errorf("exception UID %q", uid)
	}
	if rid := zoned(evs[1].Props.Get(ical.PropRecurrenceID)); rid != "Asia/Tokyo:20250922T080000" {
		t.Errorf("RECURRENCE-ID %s", rid)
	}
	if s := zoned(evs[1].Props.Get(ical.PropDateTimeStart)); s != "Asia/Tokyo:20250922T100000" {
		t.Errorf("exception DTSTART %s", s)
	}
	if evs[1].Props.Get(ical.PropRecurrenceRule) != nil || evs[1].Props.Get(ical.PropExceptionDates) != nil {
		t.Error("the exception has a recurrence of its own")
	}

	// Across a daylight-saving change the series keeps its local time of
	// day, and cancelled and changed occurrences are named by it.
	cal, text = icsOf(t, map[string]any{
		"id": "m", "subject": "Standup",
		"start": dt("2025-10-28T16:00:00", "UTC"), "end": dt("2025-10-28T16:15:00", "UTC"), // 09:00 PDT
		"recurrence": map[string]any{
			"pattern": map[string]any{"type": "weekly", "interval": 1, "daysOfWeek": []string{"tuesday"}},
			"range":   map[string]any{"type": "numbered", "numberOfOccurrences": 4, "recurrenceTimeZone": "Pacific Standard Time"},
		},
		"cancelledOccurrences": []string{"OID.m.2025-11-04"},
		"exceptionOccurrences": []any{map[string]any{
			"subject": "Standup (late)", "originalStart": "2025-11-11T17:00:00Z", // 09:00 PST
			"start": dt("2025-11-11T18:00:00", "UTC"), "end": dt("2025-11-11T18:15:00", "UTC"),
		}},
	})
	evs = cal.Events()
	if x := zoned(evs[0].Props.Get(ical.PropExceptionDates)); x != "America/Los_Angeles:20251104T090000" {
		t.Errorf("EXDATE %s\n%s", x, text)
	}
	if rid := zoned(evs[1].Props.Get(ical.PropRecurrenceID)); rid != "America/Los_Angeles:20251111T090000" {
		t.Errorf("RECURRENCE-ID %s", rid)
	}
	set, _ = evs[0].RecurrenceSet(time.UTC)
	var all []string
	for _, o := range set.All() {
		all = append(all, o.UTC().Format("01-02T15:04"))
	}
	// 09:00 PDT, then 09:00 PST; the changed occurrence is one of them.
	if want := []string{"10-28T16:00", "11-11T17:00", "11-18T17:00"}; !slices.Equal(all, want) {
		t.Errorf("occurrences %v, want %v", all, want)
	}
	if rid, _ := evs[1].Props.DateTime(ical.PropRecurrenceID, nil); !rid.Equal(time.Date(2025, 11, 11, 17, 0, 0, 0, time.UTC)) {
		t.Errorf("RECURRENCE-ID at %v, want the original start", rid)
	}
}

// zoned shows a date-time property as "TZID:value".
func zoned(p *ical.Prop) string {
	if p == nil {
		return "<none>"
	}
	if z := p.Params.Get(ical.ParamTimezoneID); z != "" {
		return z + ":" + p.Value
	}
	return p.Value
}

func TestAllDayEvents(t *testing.T) {
	cal, text := icsOf(t, map[string]any{
		"id": "x", "subject": "Vacation", "isAllDay": true,
		"start": dt("2025-08-11T00:00:00.0000000", "Pacific Standard Time"), "end": dt("2025-08-11T00:00:00.0000000", "Pacific Standard Time"),
		"recurrence": map[string]any{
			"pattern": map[string]any{"type": "weekly", "interval": 1, "daysOfWeek": []string{"monday"}},
			"range":   map[string]any{"type": "endDate", "endDate": "2025-09-01", "recurrenceTimeZone": "Pacific Standard Time"},
		},
		"cancelledOccurrences": []string{"OID.x.2025-08-18"},
		"exceptionOccurrences": []any{map[string]any{"subject": "Vacation (half)", "isAllDay": true, "originalStart": "2025-08-25T07:00:00Z",
			"start": dt("2025-08-26T00:00:00", "Pacific Standard Time"), "end": dt("2025-08-27T00:00:00", "Pacific Standard Time")}},
	})
	for _, want := range []string{
		"DTSTART;VALUE=DATE:20250811\r\n", "DTEND;VALUE=DATE:20250812\r\n", // an empty span becomes one day
		"RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20250901\r\n", "EXDATE;VALUE=DATE:20250818\r\n",
		"RECURRENCE-ID;VALUE=DATE:20250825\r\n", "DTSTART;VALUE=DATE:20250826\r\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in\n%s", want, text)
		}
	}
	set, err := cal.Events()[0].RecurrenceSet(time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range set.All() {
		got = append(got, o.Format("2006-01-02"))
	}
	if want := []string{"2025-08-11", "2025-08-25", "2025-09-01"}; !slices.Equal(got, want) {
		t.Errorf("occurrences %v, want %v", got, want)
	}
}

func TestEventProperties(t *testing.T) {
	att := []byte("binary\x00\xff data")
	ev := map[string]any{
		"id": "AAMk=", "subject": "Plan, review; decide \\ now",
		"start": dt("2025-07-01T09:00:00", "UTC"), "end": dt("2025-07-01T10:00:00", "UTC"),
		"body": map[string]any{"contentType": "html", "content": "<html><head><style>p{color:red}</style></head><body>" +
			"<p>Hello&nbsp;<b>team</b>,</p><p>Agenda:</p><ul><li>one &amp; two</li><li>three</li></ul>" +
			"<!-- hidden --><div>Thanks<br>Ann</div><script>alert(1)</script></body></html>"},
		"location":  map[string]any{"displayName": ""},
		"locations": []any{map[string]any{"displayName": "Room 1"}, map[string]any{"displayName": "Teams"}},
		"organizer": map[string]any{"emailAddress": map[string]any{"name": "Ann: Lead", "address": "ann@example.com"}},
		"attendees": []any{
			map[string]any{"type": "required", "status": map[string]any{"response": "tentativelyAccepted"}, "emailAddress": map[string]any{"name": "Bob \"B\"", "address": "bob@example.com"}},
			map[string]any{"type": "optional", "status": map[string]any{"response": "declined"}, "emailAddress": map[string]any{"address": "cy@example.com"}},
			map[string]any{"type": "resource", "status": map[string]any{"response": "none"}, "emailAddress": map[string]any{"name": "Room 1", "address": "room1@example.com"}},
			map[string]any{"type": "required", "emailAddress": map[string]any{"name": "No address"}},
		},
		"categories":  []string{"Red, category", "Blue"},
		"sensitivity": "confidential", "showAs": "free", "isCancelled": true, "importance": "low",
		"createdDateTime": "2025-06-01T08:00:00Z", "lastModifiedDateTime": "2025-06-02T08:00:00.1234567Z",
		"isReminderOn": true, "reminderMinutesBeforeStart": 1080,
		"attachments": []any{
			map[string]any{"@odata.type": "#microsoft.graph.fileAttachment", "name": "a \"quoted\".bin", "contentType": "application/octet-stream", "contentBytes": base64.StdEncoding.EncodeToString(att)},
			map[string]any{"@odata.type": "#microsoft.graph.itemAttachment", "name": "Forwarded mail"},
		},
	}
	cal, text := icsOf(t, ev)
	e := cal.Events()[0]
	text1 := func(name string) string {
		s, err := e.Props.Text(name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		return s
	}
	if got := text1(ical.PropUID); got != "AAMk=" {
		t.Errorf("UID %q: the id stands in for a missing iCalUId", got)
	}
	if got := text1(ical.PropSummary); got != "Plan, review; decide \\ now" {
		t.Errorf("SUMMARY %q", got)
	}
	if got, want := text1(ical.PropDescription), "Hello team,\n\nAgenda:\n\n- one & two\n- three\n\nThanks\nAnn"; got != want {
		t.Errorf("DESCRIPTION %q, want %q", got, want)
	}
	if got := text1(ical.PropLocation); got != "Room 1; Teams" {
		t.Errorf("LOCATION %q", got)
	}
	if cats, _ := e.Props.Get(ical.PropCategories).TextList(); !slices.Equal(cats, []string{"Red, category", "Blue"}) {
		t.Errorf("CATEGORIES %q", cats)
	}
	org := e.Props.Get(ical.PropOrganizer)
	if org.Value != "mailto:ann@example.com" || org.Params.Get("CN") != "Ann: Lead" {
		t.Errorf("ORGANIZER %+v", org)
	}
	var att2 []string
	for _, a := range e.Props.Values(ical.PropAttendee) {
		att2 = append(att2, fmt.Sprintf("%s %s %s %s %s", a.Value, a.Params.Get("CN"), a.Params.Get("ROLE"), a.Params.Get("PARTSTAT"), a.Params.Get("CUTYPE")))
	}
	if want := []string{
		"mailto:bob@example.com Bob 'B' REQ-PARTICIPANT TENTATIVE ",
		"mailto:cy@example.com  OPT-PARTICIPANT DECLINED ",
		"mailto:room1@example.com Room 1 NON-PARTICIPANT NEEDS-ACTION RESOURCE",
	}; !slices.Equal(att2, want) {
		t.Errorf("ATTENDEE\n%q\nwant\n%q", att2, want)
	}
	for name, want := range map[string]string{
		ical.PropClass: "CONFIDENTIAL", ical.PropTransparency: "TRANSPARENT", ical.PropStatus: "CANCELLED",
		ical.PropPriority: "9", ical.PropCreated: "20250601T080000Z", ical.PropLastModified: "20250602T080000Z",
		ical.PropDateTimeStamp: "20250602T080000Z",
	} {
		if p := e.Props.Get(name); p == nil || p.Value != want {
			t.Errorf("%s %v, want %s", name, p, want)
		}
	}
	atts := e.Props.Values(ical.PropAttach)
	if len(atts) != 1 {
		t.Fatalf("%d ATTACH: only file attachments have content", len(atts))
	}
	if b, err := atts[0].Binary(); err != nil || !bytes.Equal(b, att) {
		t.Errorf("ATTACH %q %v", b, err)
	}
	if fn := atts[0].Params.Get("X-FILENAME"); fn != "a 'quoted'.bin" {
		t.Errorf("X-FILENAME %q", fn)
	}
	alarms := e.Children
	if len(alarms) != 1 || alarms[0].Name != ical.CompAlarm || alarms[0].Props.Get(ical.PropTrigger).Value != "-PT1080M" {
		t.Errorf("VALARM %v\n%s", alarms, text)
	}

	// A broken attachment is an error, not a silent loss.
	ev["attachments"] = []any{map[string]any{"name": "x", "contentBytes": "not base64!"}}
	raw, _ := json.Marshal(ev)
	if err := EventICS(&bytes.Buffer{}, raw); err == nil {
		t.Error("invalid attachment content accepted")
	}
	if err := EventICS(&bytes.Buffer{}, []byte("{")); err == nil {
		t.Error("invalid JSON accepted")
	}
}

func TestEventMinimal(t *testing.T) {
	cal, text := icsOf(t, map[string]any{})
	evs := cal.Events()
	if len(evs) != 1 {
		t.Fatalf("%d VEVENTs", len(evs))
	}
	for _, p := range []string{ical.PropDateTimeStart, ical.PropSummary, ical.PropRecurrenceRule, ical.PropOrganizer} {
		if evs[0].Props.Get(p) != nil {
			t.Errorf("%s written for an event without it\n%s", p, text)
		}
	}
	if evs[0].Props.Get(ical.PropDateTimeStamp) == nil {
		t.Error("no DTSTAMP")
	}
}

func TestHTMLToText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain &amp; simple", "plain & simple"},
		{"<p>a</p><p>b</p>", "a\n\nb"},
		{"<div>a</div><div>b</div>", "a\nb"},
		{"a<br>b<BR/>c", "a\nb\nc"},
		{"<ul><li>x</li><li>y</li></ul>after", "- x\n- y\n\nafter"},
		{"<table><tr><td>1</td><td>2</td></tr><tr><td>3</td><td>4</td></tr></table>", "1 2\n3 4"},
		{"  lots   of\n\n  space  ", "lots of space"},
		{"<head><title>T</title></head><body>body</body>", "body"},
		{"<STYLE>x{}</STYLE>text<script type='x'>if (a<b) {}</script>", "text"},
		{"a <!-- <p>hidden</p> --> b", "a b"},
		{`<a href="x>y">link</a>`, "link"},
		{"1 < 2 and 3 > 2", "1 < 2 and 3 > 2"},
		{"<o:p>office</o:p>", "office"},
		{"&lt;tag&gt; &quot;q&quot; &#x263A; &eacute;", `<tag> "q" ☺ é`},
		{"<p>unterminated", "unterminated"},
		{"<!-- never closed", ""},
	} {
		if got := htmlToText(tc.in); got != tc.want {
			t.Errorf("htmlToText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// observance is one STANDARD or DAYLIGHT part of a VTIMEZONE.
type observance struct {
	kind, name string
	start      string    // DTSTART as written: local time in offFrom
	onset      time.Time // the instant it begins
	from, to   int       // TZOFFSETFROM, TZOFFSETTO in seconds
}

// vtimezones reads a calendar's VTIMEZONEs: TZID → observances, by onset.
func vtimezones(t *testing.T, name string, cal *ical.Calendar) map[string][]observance {
	t.Helper()
	zones := map[string][]observance{}
	for _, c := range cal.Children {
		if c.Name != ical.CompTimezone {
			continue
		}
		tzid, _ := c.Props.Text(ical.PropTimezoneID)
		if tzid == "" {
			t.Errorf("%s: VTIMEZONE without TZID", name)
			continue
		}
		if _, dup := zones[tzid]; dup {
			t.Errorf("%s: two VTIMEZONEs %s", name, tzid)
		}
		var obs []observance
		for _, o := range c.Children {
			if o.Name != ical.CompTimezoneStandard && o.Name != ical.CompTimezoneDaylight {
				t.Errorf("%s: %s in VTIMEZONE %s", name, o.Name, tzid)
				continue
			}
			ob := observance{kind: o.Name}
			ob.name, _ = o.Props.Text(ical.PropTimezoneName)
			ob.from = parseOffset(o.Props.Get(ical.PropTimezoneOffsetFrom))
			ob.to = parseOffset(o.Props.Get(ical.PropTimezoneOffsetTo))
			if ob.from == badOffset || ob.to == badOffset {
				t.Errorf("%s: %s %s: bad offsets %v / %v", name, tzid, o.Name, o.Props.Get(ical.PropTimezoneOffsetFrom), o.Props.Get(ical.PropTimezoneOffsetTo))
				continue
			}
			ds := o.Props.Get(ical.PropDateTimeStart)
			if ds == nil || len(ds.Value) != len(localStamp) || ds.Params.Get(ical.ParamTimezoneID) != "" {
				t.Errorf("%s: %s %s: DTSTART %v is not a local date-time", name, tzid, o.Name, ds)
				continue
			}
			ob.start = ds.Value
			local, err := time.Parse(localStamp, ds.Value)
			if err != nil {
				t.Errorf("%s: %s: DTSTART %q: %v", name, tzid, ds.Value, err)
				continue
			}
			ob.onset = local.Add(-time.Duration(ob.from) * time.Second)
			obs = append(obs, ob)
		}
		if len(obs) == 0 {
			t.Errorf("%s: VTIMEZONE %s has no STANDARD or DAYLIGHT", name, tzid)
		}
		for i := 1; i < len(obs); i++ {
			if !obs[i].onset.After(obs[i-1].onset) {
				t.Errorf("%s: %s: observances out of order at %s", name, tzid, obs[i].start)
			}
			if obs[i].from != obs[i-1].to {
				t.Errorf("%s: %s: %s starts from %d, the one before ends at %d", name, tzid, obs[i].start, obs[i].from, obs[i-1].to)
			}
		}
		zones[tzid] = obs
	}
	return zones
}

const badOffset = -1 << 31

func parseOffset(p *ical.Prop) int {
	if p == nil {
		return badOffset
	}
	v := p.Value
	if (len(v) != 5 && len(v) != 7) || (v[0] != '+' && v[0] != '-') || v == "-0000" || v == "-000000" {
		return badOffset
	}
	n := 0
	for _, part := range []string{v[1:3], v[3:5], v[5:]} {
		if part == "" {
			continue
		}
		x, err := strconv.Atoi(part)
		if err != nil {
			return badOffset
		}
		n = n*60 + x
	}
	if len(v) == 5 {
		n *= 60
	}
	if v[0] == '-' {
		n = -n
	}
	return n
}

// offsetAt is the offset a VTIMEZONE's observances give at instant at,
// or false before the first of them.
func offsetAt(obs []observance, at time.Time) (int, bool) {
	off, ok := 0, false
	for _, o := range obs {
		if o.onset.After(at) {
			break
		}
		off, ok = o.to, true
	}
	return off, ok
}

// checkTimeZones checks what RFC 5545 asks of local times with a TZID:
// each TZID names a VTIMEZONE of the calendar (3.2.19, 3.6.5), and UNTIL is
// in UTC when DTSTART has one (3.3.10). It also checks the VTIMEZONE
// against Go's zone data at every time written with that TZID, since the
// parser the tests use ignores VTIMEZONEs and loads the TZID by name.
func checkTimeZones(t *testing.T, name string, ics []byte) {
	t.Helper()
	cal, err := ical.NewDecoder(bytes.NewReader(ics)).Decode()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	zones := vtimezones(t, name, cal)
	used := map[string]bool{}
	var walk func(c *ical.Component)
	walk = func(c *ical.Component) {
		if c.Name == ical.CompTimezone {
			return
		}
		for pname, ps := range c.Props {
			for _, p := range ps {
				tzid := p.Params.Get(ical.ParamTimezoneID)
				if tzid == "" {
					continue
				}
				used[tzid] = true
				obs, ok := zones[tzid]
				if !ok {
					t.Errorf("%s: %s;TZID=%s without a VTIMEZONE", name, pname, tzid)
					continue
				}
				at, err := p.DateTime(nil)
				if err != nil || strings.HasSuffix(p.Value, "Z") {
					t.Errorf("%s: %s;TZID=%s:%s: %v", name, pname, tzid, p.Value, err)
					continue
				}
				_, want := at.Zone()
				if got, ok := offsetAt(obs, at); !ok || got != want {
					t.Errorf("%s: %s;TZID=%s:%s: the VTIMEZONE gives offset %d (covered: %v), the zone %d", name, pname, tzid, p.Value, got, ok, want)
				}
			}
		}
		if ds := c.Props.Get(ical.PropDateTimeStart); ds != nil && ds.Params.Get(ical.ParamTimezoneID) != "" {
			if rr := c.Props.Get(ical.PropRecurrenceRule); rr != nil {
				for _, part := range strings.Split(rr.Value, ";") {
					if v, ok := strings.CutPrefix(part, "UNTIL="); ok && !strings.HasSuffix(v, "Z") {
						t.Errorf("%s: RRULE %s: UNTIL must be UTC with a TZID'd DTSTART", name, rr.Value)
					}
				}
			}
		}
		for _, ch := range c.Children {
			walk(ch)
		}
	}
	walk(cal.Component)
	for tzid := range zones {
		if !used[tzid] {
			t.Errorf("%s: VTIMEZONE %s is not used", name, tzid)
		}
	}
}

// berlinWeekly is a weekly Monday 09:30 meeting in Berlin from the 17th of
// March 2025, across the change to summer time on the 30th.
func berlinWeekly(rng map[string]any) map[string]any {
	rng["recurrenceTimeZone"] = "W. Europe Standard Time"
	return map[string]any{
		"id": "b", "subject": "Weekly in Berlin", "originalStartTimeZone": "W. Europe Standard Time",
		"start": dt("2025-03-17T08:30:00", "UTC"), "end": dt("2025-03-17T09:00:00", "UTC"),
		"recurrence": map[string]any{
			"pattern": map[string]any{"type": "weekly", "interval": 1, "daysOfWeek": []string{"monday"}, "firstDayOfWeek": "sunday"},
			"range":   rng,
		},
	}
}

// TestZonedSeriesAcrossDST: a series in a zone with daylight saving keeps
// its local time of day, so its UTC time moves an hour earlier in summer.
func TestZonedSeriesAcrossDST(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rng   map[string]any
		rrule string
	}{
		{"numbered", map[string]any{"type": "numbered", "startDate": "2025-03-17", "numberOfOccurrences": 4}, "FREQ=WEEKLY;BYDAY=MO;COUNT=4"},
		// The whole end date counts, in Berlin: 23:59:59 CEST.
		{"endDate", map[string]any{"type": "endDate", "startDate": "2025-03-17", "endDate": "2025-04-07"}, "FREQ=WEEKLY;BYDAY=MO;UNTIL=20250407T215959Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cal, text := icsOf(t, berlinWeekly(tc.rng))
			ev := cal.Events()[0]
			for prop, want := range map[string]string{
				ical.PropDateTimeStart:  "Europe/Berlin:20250317T093000",
				ical.PropDateTimeEnd:    "Europe/Berlin:20250317T100000",
				ical.PropRecurrenceRule: tc.rrule,
			} {
				if got := zoned(ev.Props.Get(prop)); got != want {
					t.Errorf("%s %s, want %s\n%s", prop, got, want, text)
				}
			}
			set, err := ev.RecurrenceSet(time.UTC)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range set.All() {
				got = append(got, o.UTC().Format(time.RFC3339))
			}
			want := []string{"2025-03-17T08:30:00Z", "2025-03-24T08:30:00Z", "2025-03-31T07:30:00Z", "2025-04-07T07:30:00Z"}
			if !slices.Equal(got, want) {
				t.Errorf("occurrences %v, want %v\n%s", got, want, text)
			}
		})
	}
}

// TestVTimezone checks the VTIMEZONE of a zoned series: Berlin's
// observances around the series, and a horizon for a series without end.
func TestVTimezone(t *testing.T) {
	cal, text := icsOf(t, berlinWeekly(map[string]any{"type": "numbered", "startDate": "2025-03-17", "numberOfOccurrences": 4}))
	if cal.Children[0].Name != ical.CompTimezone {
		t.Errorf("the VTIMEZONE is not the calendar's first component\n%s", text)
	}
	obs := vtimezones(t, "event", cal)["Europe/Berlin"]
	type part struct{ kind, start, from, to, name string }
	var got []part
	for _, c := range cal.Children[0].Children {
		got = append(got, part{c.Name, c.Props.Get(ical.PropDateTimeStart).Value, c.Props.Get(ical.PropTimezoneOffsetFrom).Value,
			c.Props.Get(ical.PropTimezoneOffsetTo).Value, c.Props.Get(ical.PropTimezoneName).Value})
	}
	// Standard time since October 2024, summer time from 02:00 CET on the
	// 30th of March; the series ends before October.
	want := []part{
		{"STANDARD", "20241027T030000", "+0200", "+0100", "CET"},
		{"DAYLIGHT", "20250330T020000", "+0100", "+0200", "CEST"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("observances\n%v\nwant\n%v\n%s", got, want, text)
	}
	if len(obs) == 2 && !obs[1].onset.Equal(time.Date(2025, 3, 30, 1, 0, 0, 0, time.UTC)) {
		t.Errorf("summer time begins at %v", obs[1].onset)
	}

	// Without an end the zone is described for zoneHorizon years.
	cal, text = icsOf(t, berlinWeekly(map[string]any{"type": "noEnd", "startDate": "2025-03-17"}))
	obs = vtimezones(t, "event", cal)["Europe/Berlin"]
	if n := len(obs); n != 2*zoneHorizon+1 {
		t.Errorf("%d observances for %d years\n%s", n, zoneHorizon, text)
	}
	for _, o := range obs {
		ok := o.kind == ical.CompTimezoneDaylight && o.from == 3600 && o.to == 7200 && o.name == "CEST" ||
			o.kind == ical.CompTimezoneStandard && o.from == 7200 && o.to == 3600 && o.name == "CET"
		if !ok {
			t.Errorf("observance %+v", o)
		}
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	for at := time.Date(2025, 3, 17, 8, 30, 0, 0, time.UTC); at.Before(time.Date(2045, 3, 1, 0, 0, 0, 0, time.UTC)); at = at.AddDate(0, 0, 7) {
		_, want := at.In(berlin).Zone()
		if got, _ := offsetAt(obs, at); got != want {
			t.Errorf("at %v the VTIMEZONE gives %d, Go %d", at, got, want)
			break
		}
	}

	// From the last day of a leap year that Go's rule for the zone
	// covers, where its ZoneBounds stalls (golang/go#81583).
	var buf bytes.Buffer
	lw := newLineWriter(&buf)
	lw.prop("BEGIN", nil, "VCALENDAR")
	writeVTimezone(lw, berlin, time.Date(2040, 12, 31, 12, 0, 0, 0, time.UTC), time.Date(2042, 1, 1, 0, 0, 0, 0, time.UTC))
	lw.prop("END", nil, "VCALENDAR")
	if err := lw.flush(); err != nil {
		t.Fatal(err)
	}
	cal, err := ical.NewDecoder(bytes.NewReader(buf.Bytes())).Decode()
	if err != nil {
		t.Fatal(err)
	}
	var starts []string
	for _, o := range vtimezones(t, "2040", cal)["Europe/Berlin"] {
		starts = append(starts, o.kind+" "+o.start)
	}
	if want := []string{"STANDARD 20401028T030000", "DAYLIGHT 20410331T020000", "STANDARD 20411027T030000"}; !slices.Equal(starts, want) {
		t.Errorf("observances %v, want %v", starts, want)
	}
}

// TestVTimezoneWithoutDST: a zone without daylight saving is one STANDARD
// observance.
func TestVTimezoneWithoutDST(t *testing.T) {
	cal, text := icsOf(t, map[string]any{
		"id": "t", "subject": "Weekly in Tokyo",
		"start": dt("2025-07-06T23:00:00", "UTC"), "end": dt("2025-07-06T23:30:00", "UTC"),
		"recurrence": map[string]any{
			"pattern": map[string]any{"type": "weekly", "interval": 1, "daysOfWeek": []string{"monday"}},
			"range":   map[string]any{"type": "noEnd", "startDate": "2025-07-07", "recurrenceTimeZone": "Tokyo Standard Time"},
		},
	})
	if got := zoned(cal.Events()[0].Props.Get(ical.PropDateTimeStart)); got != "Asia/Tokyo:20250707T080000" {
		t.Errorf("DTSTART %s", got)
	}
	obs := vtimezones(t, "event", cal)["Asia/Tokyo"]
	if len(obs) != 1 || obs[0].kind != ical.CompTimezoneStandard || obs[0].to != 9*3600 || obs[0].name != "JST" {
		t.Errorf("observances %+v\n%s", obs, text)
	}

	// A zone Go knows no transitions of at all, and a TZID long enough to
	// be folded.
	long := time.FixedZone("Etc/An-unusually-long-zone-name-that-the-TZID-line-must-fold-somewhere", -(3*3600 + 30*60))
	var buf bytes.Buffer
	lw := newLineWriter(&buf)
	lw.prop("BEGIN", nil, "VCALENDAR")
	writeVTimezone(lw, long, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2045, 1, 1, 0, 0, 0, 0, time.UTC))
	lw.prop("END", nil, "VCALENDAR")
	if err := lw.flush(); err != nil {
		t.Fatal(err)
	}
	checkContentLines(t, "fixed zone", buf.Bytes())
	if !bytes.Contains(buf.Bytes(), []byte("\r\n ")) {
		t.Errorf("nothing was folded:\n%s", buf.String())
	}
	cal, err := ical.NewDecoder(bytes.NewReader(buf.Bytes())).Decode()
	if err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	obs = vtimezones(t, "fixed zone", cal)[long.String()]
	want := observance{kind: ical.CompTimezoneStandard, name: long.String(), start: "16010101T000000", from: -12600, to: -12600}
	if len(obs) != 1 || obs[0].kind != want.kind || obs[0].start != want.start || obs[0].from != want.from || obs[0].to != want.to || obs[0].name != want.name {
		t.Errorf("observances %+v, want one %+v\n%s", obs, want, buf.String())
	}
}

func TestUTCOffset(t *testing.T) {
	for sec, want := range map[int]string{0: "+0000", 3600: "+0100", -8 * 3600: "-0800", -(3*3600 + 30*60): "-0330", 3208: "+005328", -(45*60 + 1): "-004501"} {
		if got := utcOffset(sec); got != want {
			t.Errorf("utcOffset(%d) = %s, want %s", sec, got, want)
		}
	}
}
