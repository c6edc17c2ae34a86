package export

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
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
// day in UTC than in their own zone: expanded in UTC, every occurrence
// must still fall on the day the pattern names in that zone.
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
			var prev time.Time
			for i, occ := range all {
				// The UTC time of day is kept; in the zone an occurrence
				// moves by the daylight-saving difference at most.
				l := occ.In(loc)
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
		ex = append(ex, p.Value)
	}
	if want := []string{"20250914T230000Z", "20251005T230000Z"}; !slices.Equal(ex, want) {
		t.Errorf("EXDATE %v, want %v", ex, want)
	}
	set, _ := evs[0].RecurrenceSet(time.UTC)
	var got []string
	for _, o := range set.All() {
		got = append(got, o.Format("01-02T15"))
	}
	if want := []string{"09-07T23", "09-21T23", "09-28T23", "10-12T23"}; !slices.Equal(got, want) {
		t.Errorf("occurrences %v, want %v", got, want)
	}
	if uid, _ := evs[1].Props.Text(ical.PropUID); uid != "ical-uid" {
		t.Errorf("exception UID %q", uid)
	}
	if rid := evs[1].Props.Get(ical.PropRecurrenceID).Value; rid != "20250921T230000Z" {
		t.Errorf("RECURRENCE-ID %s", rid)
	}
	if s := evs[1].Props.Get(ical.PropDateTimeStart).Value; s != "20250922T010000Z" {
		t.Errorf("exception DTSTART %s", s)
	}
	if evs[1].Props.Get(ical.PropRecurrenceRule) != nil || evs[1].Props.Get(ical.PropExceptionDates) != nil {
		t.Error("the exception has a recurrence of its own")
	}

	// Across a daylight-saving change the series keeps its UTC time of
	// day, and cancelled and changed occurrences are placed on that grid.
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
	if x := evs[0].Props.Get(ical.PropExceptionDates).Value; x != "20251104T160000Z" {
		t.Errorf("EXDATE %s\n%s", x, text)
	}
	if rid := evs[1].Props.Get(ical.PropRecurrenceID).Value; rid != "20251111T160000Z" {
		t.Errorf("RECURRENCE-ID %s", rid)
	}
	set, _ = evs[0].RecurrenceSet(time.UTC)
	if !slices.ContainsFunc(set.All(), func(o time.Time) bool { return o.Equal(time.Date(2025, 11, 11, 16, 0, 0, 0, time.UTC)) }) {
		t.Error("the changed occurrence is not one of the series")
	}
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
