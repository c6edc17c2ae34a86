package export

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"
)

var pdfLike = append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte{0, 0xff, 0x10, 0x80, '\r', '\n'}, 500)...)

// craftedEvents are events with what the generated ones lack: other
// patterns and ranges, all-day events, a zone that puts the start on
// another UTC day, text bodies with separators, attachments.
var craftedEvents = []map[string]any{
	{
		"subject": "Stand-up, daily; every other day",
		"start":   map[string]any{"dateTime": "2025-08-04T09:00:00", "timeZone": "UTC"},
		"end":     map[string]any{"dateTime": "2025-08-04T09:15:00", "timeZone": "UTC"},
		"body":    map[string]any{"contentType": "text", "content": "Agenda:\r\n1. yesterday, today; blockers\r\n2. \\o/"},
		"recurrence": map[string]any{
			"pattern": map[string]any{"type": "daily", "interval": 2},
			"range":   map[string]any{"type": "numbered", "startDate": "2025-08-04", "numberOfOccurrences": 5, "recurrenceTimeZone": "UTC"},
		},
	},
	{
		"subject":     "Weekly review with files",
		"start":       map[string]any{"dateTime": "2025-09-01T14:00:00", "timeZone": "UTC"},
		"end":         map[string]any{"dateTime": "2025-09-01T15:00:00", "timeZone": "UTC"},
		"categories":  []string{"Customers", "Focus 🧠"},
		"sensitivity": "private", "showAs": "free", "importance": "high",
		"isReminderOn": true, "reminderMinutesBeforeStart": 30,
		"location": map[string]any{"displayName": "Building 4 / Room 12"},
		"attendees": []any{
			map[string]any{"type": "required", "status": map[string]any{"response": "accepted"}, "emailAddress": map[string]any{"name": "Uma Quispe", "address": "uma@fabrikam.com"}},
			map[string]any{"type": "optional", "status": map[string]any{"response": "none"}, "emailAddress": map[string]any{"name": "Bob, the \"builder\"", "address": "bob@contoso.com"}},
			map[string]any{"type": "resource", "status": map[string]any{"response": "accepted"}, "emailAddress": map[string]any{"name": "Room 12", "address": "room12@contoso.com"}},
		},
		"recurrence": map[string]any{
			"pattern": map[string]any{"type": "weekly", "interval": 1, "daysOfWeek": []string{"monday"}, "firstDayOfWeek": "sunday"},
			"range":   map[string]any{"type": "numbered", "startDate": "2025-09-01", "numberOfOccurrences": 6, "recurrenceTimeZone": "UTC"},
		},
		"attachments": []any{
			map[string]any{"@odata.type": "#microsoft.graph.fileAttachment", "name": "minutes; draft.txt", "contentType": "text/plain; charset=utf-8", "contentBytes": base64.StdEncoding.EncodeToString([]byte("Minutes ✓\r\nline two\r\n"))},
			map[string]any{"@odata.type": "#microsoft.graph.fileAttachment", "name": "deck.pdf", "contentType": "application/pdf", "contentBytes": base64.StdEncoding.EncodeToString(pdfLike)},
		},
	},
	{
		"subject": "Second Thursday, evening in Seattle",
		"start":   map[string]any{"dateTime": "2025-09-12T01:30:00", "timeZone": "UTC"},
		"end":     map[string]any{"dateTime": "2025-09-12T02:30:00", "timeZone": "UTC"},
		"recurrence": map[string]any{
			"pattern": map[string]any{"type": "relativeMonthly", "interval": 1, "daysOfWeek": []string{"thursday"}, "index": "second"},
			"range":   map[string]any{"type": "endDate", "startDate": "2025-09-11", "endDate": "2026-03-12", "recurrenceTimeZone": "Pacific Standard Time"},
		},
	},
	{
		"subject":  "Holidays",
		"isAllDay": true,
		"start":    map[string]any{"dateTime": "2025-12-24T00:00:00", "timeZone": "UTC"},
		"end":      map[string]any{"dateTime": "2025-12-26T00:00:00", "timeZone": "UTC"},
	},
	{
		"subject":  "Anniversary",
		"isAllDay": true,
		"start":    map[string]any{"dateTime": "2025-03-15T00:00:00", "timeZone": "UTC"},
		"end":      map[string]any{"dateTime": "2025-03-16T00:00:00", "timeZone": "UTC"},
		"recurrence": map[string]any{
			"pattern": map[string]any{"type": "absoluteYearly", "interval": 1, "month": 3, "dayOfMonth": 15},
			"range":   map[string]any{"type": "noEnd", "startDate": "2025-03-15", "recurrenceTimeZone": "UTC"},
		},
	},
	{"subject": ""},
}

func TestSimulatedEventsAsICS(t *testing.T) {
	tn := newTenant(t)
	dir := t.TempDir()
	sink, err := NewDirSink(dir)
	if err != nil {
		t.Fatal(err)
	}
	sink.NoSync = true // durability is tested on its own
	changed := tn.postEvents(tn.mailboxUsers()[0].ID, craftedEvents)
	var stats eventStats
	for _, u := range tn.mailboxUsers() {
		st := tn.state(u.ID, "events")
		chains := folderChains(st)
		for _, it := range st.Items {
			if it.Kind != "event" {
				continue
			}
			raw := tn.storedEvent(u.ID, it.ID)
			path, err := WriteItem(sink, Item{Category: CategoryEvents, Folder: append([]string{u.UPN}, chains[it.CollectionID]...), Data: raw})
			if err != nil {
				t.Fatalf("event %s: %v", it.ID, err)
			}
			b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(path)))
			if err != nil {
				t.Fatal(err)
			}
			checkEvent(t, tn, u.ID, path, raw, b, &stats)
		}
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", stats)
	if stats.events < 20 || stats.series < 4 || stats.expanded < 3 || stats.exceptions < 1 || stats.attachments < 2 || stats.allDay < 2 ||
		changed && (stats.exdates < 1 || stats.exceptions < 2) {
		t.Errorf("too little was checked: %+v", stats)
	}
	if sink.Files() != stats.events {
		t.Errorf("sink wrote %d files for %d events", sink.Files(), stats.events)
	}
}

// postEvents creates events the way a client does: the event, then its
// attachments one by one. In each series it then cancels the third
// occurrence and moves the second, where the simulator supports changing
// single occurrences (changed reports whether it did).
func (tn *tenant) postEvents(user string, events []map[string]any) (changed bool) {
	tn.t.Helper()
	for _, e := range events {
		body := map[string]any{}
		for k, v := range e {
			if k != "attachments" {
				body[k] = v
			}
		}
		created := tn.post("/v1.0/users/"+user+"/events", body)
		id, _ := created["id"].(string)
		if atts, ok := e["attachments"].([]any); ok {
			for _, a := range atts {
				tn.post("/v1.0/users/"+user+"/events/"+url.PathEscape(id)+"/attachments", a)
			}
		}
		if e["recurrence"] == nil {
			continue
		}
		q := url.Values{"startDateTime": {"2025-01-01T00:00:00Z"}, "endDateTime": {"2027-01-01T00:00:00Z"}, "$top": {"500"}}
		var inst struct {
			Value []struct {
				ID    string         `json:"id"`
				Start *graphDateTime `json:"start"`
			} `json:"value"`
		}
		if err := json.Unmarshal(tn.get("/v1.0/users/"+user+"/events/"+url.PathEscape(id)+"/instances?"+q.Encode()), &inst); err != nil {
			tn.t.Fatal(err)
		}
		if len(inst.Value) < 3 {
			continue
		}
		if code, _ := tn.call(http.MethodDelete, "/v1.0/users/"+user+"/events/"+url.PathEscape(inst.Value[2].ID), nil); code != http.StatusNoContent {
			continue
		}
		st, _ := time.Parse("2006-01-02T15:04:05", inst.Value[1].Start.DateTime)
		patch := map[string]any{"subject": "Moved by two hours", "start": map[string]any{"dateTime": st.Add(2 * time.Hour).Format("2006-01-02T15:04:05"), "timeZone": "UTC"}}
		if code, b := tn.call(http.MethodPatch, "/v1.0/users/"+user+"/events/"+url.PathEscape(inst.Value[1].ID), patch); code != http.StatusOK {
			tn.t.Fatalf("PATCH occurrence: %d %s", code, b)
		}
		changed = true
	}
	return changed
}

type eventStats struct {
	events, series, expanded, exdates, exceptions, attachments, allDay int
}

func checkEvent(t *testing.T, tn *tenant, user, path string, raw, ics []byte, stats *eventStats) {
	t.Helper()
	stats.events++
	if !strings.HasSuffix(path, ".ics") {
		t.Errorf("%s: not an .ics name", path)
	}
	checkContentLines(t, path, ics)
	checkTimeZones(t, path, ics)
	var ev graphEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	dec := ical.NewDecoder(bytes.NewReader(ics))
	cal, err := dec.Decode()
	if err != nil {
		t.Fatalf("%s: %v\n%s", path, err, ics)
	}
	if _, err := dec.Decode(); err != io.EOF {
		t.Errorf("%s: more than one VCALENDAR (%v)", path, err)
	}
	for name, want := range map[string]string{ical.PropProductID: prodID, ical.PropVersion: "2.0", ical.PropMethod: "PUBLISH"} {
		if p := cal.Props.Get(name); p == nil || p.Value != want {
			t.Errorf("%s: %s %v, want %q", path, name, p, want)
		}
	}
	events := cal.Events()
	var master *ical.Event
	var overrides []ical.Event
	for i := range events {
		if events[i].Props.Get(ical.PropRecurrenceID) != nil {
			overrides = append(overrides, events[i])
		} else if master == nil {
			master = &events[i]
		} else {
			t.Errorf("%s: two VEVENTs without RECURRENCE-ID", path)
		}
	}
	if master == nil {
		t.Fatalf("%s: no master VEVENT", path)
	}
	uid := ev.ICalUID
	if uid == "" {
		uid = ev.ID
	}
	for _, e := range events {
		if got, _ := e.Props.Text(ical.PropUID); got != uid {
			t.Errorf("%s: UID %q, want %q", path, got, uid)
		}
	}
	if got, _ := master.Props.Text(ical.PropSummary); got != ev.Subject {
		t.Errorf("%s: SUMMARY %q, want %q", path, got, ev.Subject)
	}
	if ev.Subject == "" && filepath.Base(path) != "(no subject).ics" && !strings.HasPrefix(filepath.Base(path), "(no subject) (") {
		t.Errorf("%s: an event without subject is named so", path)
	}
	start, end := jsonTimes(t, &ev)
	if ev.IsAllDay {
		stats.allDay++
		for prop, want := range map[string]time.Time{ical.PropDateTimeStart: start, ical.PropDateTimeEnd: end} {
			p := master.Props.Get(prop)
			if p == nil || p.ValueType() != ical.ValueDate || p.Value != want.Format("20060102") {
				t.Errorf("%s: %s %v, want the date %s", path, prop, p, want.Format("2006-01-02"))
			}
		}
	} else {
		if got, err := master.DateTimeStart(nil); err != nil || !got.Equal(start) {
			t.Errorf("%s: DTSTART %v (%v), want %v", path, got, err, start)
		}
		if got, err := master.DateTimeEnd(nil); err != nil || !got.Equal(end) {
			t.Errorf("%s: DTEND %v (%v), want %v", path, got, err, end)
		}
	}
	if ev.Body != nil && ev.Body.Content != "" {
		desc, _ := master.Props.Text(ical.PropDescription)
		var preview struct {
			BodyPreview string `json:"bodyPreview"`
		}
		_ = json.Unmarshal(raw, &preview)
		want := preview.BodyPreview
		if !strings.EqualFold(ev.Body.ContentType, "html") {
			want = strings.ReplaceAll(ev.Body.Content, "\r\n", "\n")
			if desc != want {
				t.Errorf("%s: DESCRIPTION %q, want %q", path, desc, want)
			}
		} else if !strings.HasPrefix(oneLine(desc), oneLine(want)) || strings.Contains(desc, "<") {
			t.Errorf("%s: DESCRIPTION %q does not render body %q", path, desc, want)
		}
	}

	// Attachments decode to the stored bytes.
	atts := master.Props.Values(ical.PropAttach)
	var want []graphAttachment
	for _, a := range ev.Attachments {
		if a.ContentBytes != "" {
			want = append(want, a)
		}
	}
	if len(atts) != len(want) {
		t.Errorf("%s: %d ATTACH, want %d", path, len(atts), len(want))
	} else {
		for i, a := range want {
			stats.attachments++
			got, err := atts[i].Binary()
			wantBytes, _ := base64.StdEncoding.DecodeString(a.ContentBytes)
			if err != nil || !bytes.Equal(got, wantBytes) {
				t.Errorf("%s: attachment %q: %d bytes (%v), want %d", path, a.Name, len(got), err, len(wantBytes))
			}
			if fn := atts[i].Params.Get("X-FILENAME"); fn != a.Name {
				t.Errorf("%s: X-FILENAME %q, want %q", path, fn, a.Name)
			}
			if ct := atts[i].Params.Get("FMTTYPE"); ct != a.ContentType {
				t.Errorf("%s: FMTTYPE %q, want %q", path, ct, a.ContentType)
			}
		}
	}

	if ev.Recurrence == nil {
		if len(events) != 1 || master.Props.Get(ical.PropRecurrenceRule) != nil {
			t.Errorf("%s: a single event became %d VEVENTs / a series", path, len(events))
		}
		return
	}
	stats.series++
	set, err := master.RecurrenceSet(time.UTC)
	if err != nil || set == nil {
		t.Fatalf("%s: RRULE does not parse: %v", path, err)
	}
	if got := len(master.Props.Values(ical.PropExceptionDates)); got != len(ev.CancelledOccurrences) {
		t.Errorf("%s: %d EXDATE, want %d", path, got, len(ev.CancelledOccurrences))
	}
	stats.exdates += len(ev.CancelledOccurrences)
	if len(overrides) != len(ev.ExceptionOccurrences) {
		t.Errorf("%s: %d VEVENTs with RECURRENCE-ID, want %d", path, len(overrides), len(ev.ExceptionOccurrences))
	}
	stats.exceptions += len(ev.ExceptionOccurrences)
	// original start, in UTC → start. (Keys are UTC: times read with a
	// TZID each have a *time.Location of their own, which == compares.)
	moved := map[time.Time]time.Time{}
	for i, o := range overrides {
		rid, err := o.Props.DateTime(ical.PropRecurrenceID, time.UTC)
		if err != nil {
			t.Errorf("%s: RECURRENCE-ID: %v", path, err)
			continue
		}
		ex := ev.ExceptionOccurrences[i]
		if orig, _ := time.Parse(time.RFC3339, ex.OriginalStart); !orig.Equal(rid) {
			t.Errorf("%s: RECURRENCE-ID %v, want %v", path, rid, orig)
		}
		exStart, _ := jsonTimes(t, &ex)
		if got, err := o.DateTimeStart(nil); err != nil || !got.Equal(exStart) {
			t.Errorf("%s: exception DTSTART %v, want %v", path, got, exStart)
		}
		if got, _ := o.Props.Text(ical.PropSummary); got != ex.Subject {
			t.Errorf("%s: exception SUMMARY %q, want %q", path, got, ex.Subject)
		}
		moved[rid.UTC()] = exStart
	}

	// Weekly and daily series of one day a week expand to the occurrences
	// Exchange lists.
	p, r := ev.Recurrence.Pattern, ev.Recurrence.Range
	if p == nil || r == nil || !strings.EqualFold(r.Type, "numbered") || len(p.DaysOfWeek) > 1 ||
		!(strings.EqualFold(p.Type, "weekly") || strings.EqualFold(p.Type, "daily")) {
		return
	}
	stats.expanded++
	from, to := start.AddDate(0, 0, -1), start.AddDate(2, 0, 0)
	var instances struct {
		Value []graphEvent `json:"value"`
	}
	q := url.Values{"startDateTime": {from.Format(time.RFC3339)}, "endDateTime": {to.Format(time.RFC3339)}, "$top": {"500"}}
	if err := json.Unmarshal(tn.get("/v1.0/users/"+user+"/events/"+url.PathEscape(ev.ID)+"/instances?"+q.Encode()), &instances); err != nil {
		t.Fatal(err)
	}
	var wantStarts, gotStarts []time.Time
	for _, in := range instances.Value {
		s, _ := jsonTimes(t, &in)
		wantStarts = append(wantStarts, s)
	}
	for _, occ := range set.Between(from, to, true) {
		if s, ok := moved[occ.UTC()]; ok {
			occ = s
		}
		gotStarts = append(gotStarts, occ)
	}
	slices.SortFunc(wantStarts, time.Time.Compare)
	slices.SortFunc(gotStarts, time.Time.Compare)
	if !slices.EqualFunc(gotStarts, wantStarts, time.Time.Equal) {
		t.Errorf("%s: occurrences\n%v\nwant (instances)\n%v", path, gotStarts, wantStarts)
	}
}

// jsonTimes reads an event's start and end independently of the code
// under test: Graph's {dateTime, timeZone} in UTC, or dates.
func jsonTimes(t *testing.T, ev *graphEvent) (start, end time.Time) {
	t.Helper()
	parse := func(d *graphDateTime) time.Time {
		if d == nil {
			return time.Time{}
		}
		if d.TimeZone != "UTC" {
			t.Fatalf("simulated events are in UTC, not %q", d.TimeZone)
		}
		tm, err := time.Parse("2006-01-02T15:04:05", d.DateTime)
		if err != nil {
			t.Fatal(err)
		}
		// iCalendar has whole seconds.
		tm = tm.Truncate(time.Second)
		if ev.IsAllDay {
			return tm.Truncate(24 * time.Hour)
		}
		return tm
	}
	return parse(ev.Start), parse(ev.End)
}
