package export

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

const prodID = "-//Corso//Exchange export//EN"

const (
	utcStamp   = "20060102T150405Z"
	localStamp = "20060102T150405" // with TZID, or in an observance's offset
	dateFormat = "20060102"
)

// zoneHorizon bounds how far past its start a series' VTIMEZONE lists its
// zone's transitions when the series has no end date, or a far one.
const zoneHorizon = 20 // years

// graphEvent is the part of a Microsoft Graph event (beta, with
// exceptionOccurrences and attachments expanded) that iCalendar carries.
type graphEvent struct {
	ID                         string            `json:"id"`
	UID                        string            `json:"uid"`
	ICalUID                    string            `json:"iCalUId"`
	Type                       string            `json:"type"`
	Subject                    string            `json:"subject"`
	Body                       *graphBody        `json:"body"`
	Start                      *graphDateTime    `json:"start"`
	End                        *graphDateTime    `json:"end"`
	OriginalStart              string            `json:"originalStart"`
	OriginalStartTimeZone      string            `json:"originalStartTimeZone"`
	IsAllDay                   bool              `json:"isAllDay"`
	IsCancelled                bool              `json:"isCancelled"`
	Location                   *graphLocation    `json:"location"`
	Locations                  []graphLocation   `json:"locations"`
	Organizer                  *graphRecipient   `json:"organizer"`
	Attendees                  []graphAttendee   `json:"attendees"`
	Categories                 []string          `json:"categories"`
	Sensitivity                string            `json:"sensitivity"`
	ShowAs                     string            `json:"showAs"`
	Importance                 string            `json:"importance"`
	CreatedDateTime            string            `json:"createdDateTime"`
	LastModifiedDateTime       string            `json:"lastModifiedDateTime"`
	IsReminderOn               bool              `json:"isReminderOn"`
	ReminderMinutesBeforeStart int               `json:"reminderMinutesBeforeStart"`
	Recurrence                 *graphRecurrence  `json:"recurrence"`
	CancelledOccurrences       []string          `json:"cancelledOccurrences"`
	ExceptionOccurrences       []graphEvent      `json:"exceptionOccurrences"`
	Attachments                []graphAttachment `json:"attachments"`
}

type graphBody struct {
	ContentType string `json:"contentType"`
	Content     string `json:"content"`
}

type graphDateTime struct {
	DateTime string `json:"dateTime"`
	TimeZone string `json:"timeZone"`
}

type graphLocation struct {
	DisplayName string `json:"displayName"`
}

type graphRecipient struct {
	EmailAddress struct {
		Name    string `json:"name"`
		Address string `json:"address"`
	} `json:"emailAddress"`
}

type graphAttendee struct {
	graphRecipient
	Type   string `json:"type"`
	Status *struct {
		Response string `json:"response"`
	} `json:"status"`
}

type graphRecurrence struct {
	Pattern *struct {
		Type           string   `json:"type"`
		Interval       int      `json:"interval"`
		Month          int      `json:"month"`
		DayOfMonth     int      `json:"dayOfMonth"`
		DaysOfWeek     []string `json:"daysOfWeek"`
		FirstDayOfWeek string   `json:"firstDayOfWeek"`
		Index          string   `json:"index"`
	} `json:"pattern"`
	Range *struct {
		Type                string `json:"type"`
		StartDate           string `json:"startDate"`
		EndDate             string `json:"endDate"`
		RecurrenceTimeZone  string `json:"recurrenceTimeZone"`
		NumberOfOccurrences int    `json:"numberOfOccurrences"`
	} `json:"range"`
}

type graphAttachment struct {
	ODataType    string `json:"@odata.type"`
	Name         string `json:"name"`
	ContentType  string `json:"contentType"`
	ContentBytes string `json:"contentBytes"`
	data         []byte // ContentBytes decoded
}

// parseEvent reads an event and decodes its attachments, so that a broken
// event is found before anything is written.
func parseEvent(event []byte) (*graphEvent, error) {
	var ev graphEvent
	if err := json.Unmarshal(event, &ev); err != nil {
		return nil, fmt.Errorf("event is not valid JSON: %w", err)
	}
	decode := func(e *graphEvent) error {
		for i := range e.Attachments {
			a := &e.Attachments[i]
			if a.ContentBytes == "" {
				continue
			}
			data, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(a.ContentBytes), ""))
			if err != nil {
				return fmt.Errorf("attachment %q: content is not base64: %w", a.Name, err)
			}
			a.data = data
		}
		return nil
	}
	if err := decode(&ev); err != nil {
		return nil, err
	}
	for i := range ev.ExceptionOccurrences {
		if err := decode(&ev.ExceptionOccurrences[i]); err != nil {
			return nil, err
		}
	}
	return &ev, nil
}

// EventTitle is the subject an event is filed under.
func EventTitle(event []byte) (string, error) {
	ev, err := parseEvent(event)
	if err != nil {
		return "", err
	}
	return ev.Subject, nil
}

// EventICS writes a Microsoft Graph event (its JSON as stored by a backup)
// as an iCalendar object (RFC 5545) holding one VEVENT for the event and,
// for a recurring series, one more VEVENT per changed occurrence. All-day
// events are written as dates, single events and series that recur in UTC
// in UTC.
//
// A series that recurs in another zone (recurrenceTimeZone, else
// originalStartTimeZone) is written in that zone, as Exchange expands it:
// DTSTART, DTEND, EXDATE, RECURRENCE-ID and the changed occurrences' times
// in local time with the zone's IANA name as TZID, the RRULE's days in that
// zone, and UNTIL in UTC (RFC 5545 3.3.10). So an occurrence keeps the
// local time of day of the first one across daylight-saving changes. A
// VTIMEZONE, made from Go's zone data, defines the zone: its observances
// from the one in effect at the series' start through its last occurrence,
// or zoneHorizon years when the series has no end (or a later one).
func EventICS(w io.Writer, event []byte) error {
	ev, err := parseEvent(event)
	if err != nil {
		return err
	}
	lw := newLineWriter(w)
	lw.prop("BEGIN", nil, "VCALENDAR")
	lw.prop("PRODID", nil, escapeText(prodID))
	lw.prop("VERSION", nil, "2.0")
	lw.prop("CALSCALE", nil, "GREGORIAN")
	lw.prop("METHOD", nil, "PUBLISH")
	s := newSeries(ev)
	if s.zone != nil {
		from, to := s.span(ev)
		writeVTimezone(lw, s.zone, from, to)
	}
	uid := firstNonBlank(ev.UID, ev.ICalUID, ev.ID)
	if err := writeVEvent(lw, ev, ev, uid, s); err != nil {
		return err
	}
	if s.rrule != "" {
		for i := range ev.ExceptionOccurrences {
			if err := writeVEvent(lw, ev, &ev.ExceptionOccurrences[i], uid, s); err != nil {
				return err
			}
		}
	}
	lw.prop("END", nil, "VCALENDAR")
	return lw.flush()
}

// when is an event's start or end: an instant, or a date for all-day
// events. An instant is written in UTC, or as local time in zone.
type when struct {
	t    time.Time // UTC instant, or the date at 00:00 UTC
	date bool
	ok   bool
	zone *time.Location // the zone it is written in (TZID), nil for UTC
	wall time.Time      // with zone: the local time written, read as UTC
}

func (w when) value() string {
	switch {
	case w.date:
		return w.t.Format(dateFormat)
	case w.zone != nil:
		return w.wall.Format(localStamp)
	}
	return w.t.Format(utcStamp)
}

func (w when) params() []param {
	switch {
	case w.date:
		return []param{{"VALUE", "DATE"}}
	case w.zone != nil:
		return []param{{"TZID", w.zone.String()}}
	}
	return nil
}

// in is w written as local time in zone; dates and missing times, and any
// time when zone is nil, stay as they are.
func (w when) in(zone *time.Location) when {
	if zone == nil || w.date || !w.ok {
		return w
	}
	l := w.t.In(zone)
	w.zone = zone
	w.wall = time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), 0, time.UTC)
	return w
}

// eventTimes resolves an event's start and end.
func eventTimes(ev *graphEvent) (start, end when) {
	if ev.IsAllDay {
		start.t, start.ok = wallDate(ev.Start)
		end.t, end.ok = wallDate(ev.End)
		start.date, end.date = true, true
		if start.ok && (!end.ok || !end.t.After(start.t)) {
			end = when{t: start.t.AddDate(0, 0, 1), date: true, ok: true}
		}
		return start, end
	}
	start.t, start.ok = instant(ev.Start, ev.OriginalStartTimeZone)
	end.t, end.ok = instant(ev.End, ev.OriginalStartTimeZone)
	if start.ok && end.ok && end.t.Before(start.t) {
		end.ok = false
	}
	return start, end
}

// instant resolves Graph's {dateTime, timeZone} to a UTC instant. A zone
// it does not know falls back to fallbackZone, then to UTC.
func instant(d *graphDateTime, fallbackZone string) (time.Time, bool) {
	if d == nil || strings.TrimSpace(d.DateTime) == "" {
		return time.Time{}, false
	}
	s := strings.TrimSpace(d.DateTime)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), true
	}
	loc, ok := location(d.TimeZone)
	if !ok {
		if loc, ok = location(fallbackZone); !ok {
			loc = time.UTC
		}
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// wallDate is the calendar date written in a Graph date-time, whatever its
// zone: all-day events span whole days wherever they are seen.
func wallDate(d *graphDateTime) (time.Time, bool) {
	if d == nil {
		return time.Time{}, false
	}
	s := strings.TrimSpace(d.DateTime)
	if len(s) < 10 {
		return time.Time{}, false
	}
	t, err := time.Parse("2006-01-02", s[:10])
	return t, err == nil
}

// parseInstant reads Graph's ISO 8601 timestamps ("2025-04-06T15:00:00Z").
func parseInstant(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), true
	}
	if t, err := time.Parse("2006-01-02T15:04:05.9999999", s); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// series is what a recurring event's occurrences are placed by.
type series struct {
	start, end when
	loc        *time.Location // the zone the pattern is defined in
	zone       *time.Location // loc, when times are written in it (TZID); nil: UTC
	rrule      string
	last       time.Time // no occurrence starts later (bounded by zoneHorizon)
	exdates    []when
}

func newSeries(ev *graphEvent) *series {
	s := &series{loc: time.UTC}
	s.start, s.end = eventTimes(ev)
	if ev.Recurrence == nil || ev.Recurrence.Pattern == nil || !s.start.ok {
		return s
	}
	rng := ev.Recurrence.Range
	zones := []string{ev.OriginalStartTimeZone}
	if ev.Start != nil {
		zones = append(zones, ev.Start.TimeZone)
	}
	if rng != nil {
		zones = append([]string{rng.RecurrenceTimeZone}, zones...)
	}
	for _, z := range zones {
		if l, ok := location(z); ok {
			s.loc = l
			break
		}
	}
	s.rrule = s.rule(ev.Recurrence)
	if s.rrule == "" {
		return s
	}
	// A series is written in its zone, where its pattern's days and times
	// are; an all-day series spans dates, which need none.
	if !s.start.date && s.loc != time.UTC {
		s.zone = s.loc
		s.start, s.end = s.start.in(s.zone), s.end.in(s.zone)
	}
	for _, c := range ev.CancelledOccurrences {
		// "OID.<series id>.<yyyy-mm-dd>": the occurrence's day in the
		// series' zone.
		i := strings.LastIndexByte(c, '.')
		if i < 0 {
			continue
		}
		d, err := time.Parse("2006-01-02", c[i+1:])
		if err != nil {
			continue
		}
		s.exdates = append(s.exdates, s.occurrence(d))
	}
	return s
}

// occurrence is the start of the occurrence on a day of the series' zone,
// as the RRULE generates it: the first one's local time on that day. It is
// written as that local time, so that it names the occurrence even when
// the time falls in a daylight-saving gap of the zone.
func (s *series) occurrence(day time.Time) when {
	if s.start.date {
		return when{t: day, date: true, ok: true}
	}
	h, m, sec := s.start.t.In(s.loc).Clock()
	w := when{t: time.Date(day.Year(), day.Month(), day.Day(), h, m, sec, 0, s.loc).UTC(), ok: true}
	if s.zone != nil {
		w.zone, w.wall = s.zone, time.Date(day.Year(), day.Month(), day.Day(), h, m, sec, 0, time.UTC)
	}
	return w
}

// recurrenceID places a changed occurrence, given its original start, on
// the series' grid.
func (s *series) recurrenceID(originalStart time.Time) when {
	var day time.Time
	if s.start.date && originalStart.Equal(originalStart.Truncate(24*time.Hour)) {
		day = originalStart
	} else {
		l := originalStart.In(s.loc)
		day = time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC)
	}
	return s.occurrence(day)
}

var weekdays = []string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}

// icalDay names a Graph day of the week in iCalendar.
func icalDay(day string) (string, bool) {
	for _, d := range weekdays {
		if strings.EqualFold(d, day) {
			return strings.ToUpper(d[:2]), true
		}
	}
	return "", false
}

var weekIndex = map[string]int{"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}

// rule translates a Graph recurrence into an RRULE value, or "" when the
// pattern is unknown, and sets s.last. The pattern's days are those of the
// series' zone, which the series is written in unless it is UTC.
func (s *series) rule(rec *graphRecurrence) string {
	p := rec.Pattern
	var parts []string
	add := func(k, v string) { parts = append(parts, k+"="+v) }
	days := func() []string {
		var out []string
		for _, d := range p.DaysOfWeek {
			if x, ok := icalDay(d); ok {
				out = append(out, x)
			}
		}
		return out
	}
	// relative places "the first Tuesday" and the like.
	relative := func() bool {
		ds := days()
		if len(ds) == 0 {
			return false
		}
		n, ok := weekIndex[strings.ToLower(p.Index)]
		if !ok {
			n = 1
		}
		if len(ds) > 1 {
			// The n-th of any of these days (e.g. the first weekday).
			add("BYDAY", strings.Join(ds, ","))
			add("BYSETPOS", strconv.Itoa(n))
		} else {
			add("BYDAY", strconv.Itoa(n)+ds[0])
		}
		return true
	}
	// absolute places a day of the month.
	absolute := func(month int) {
		d := p.DayOfMonth
		if d < 1 || d > 31 {
			d = s.localStartDay()
		}
		if month > 0 {
			add("BYMONTH", strconv.Itoa(month))
		}
		add("BYMONTHDAY", strconv.Itoa(d))
	}
	month := p.Month
	if month < 1 || month > 12 {
		month = int(s.start.t.In(s.loc).Month())
	}
	switch strings.ToLower(p.Type) {
	case "daily":
		add("FREQ", "DAILY")
	case "weekly":
		add("FREQ", "WEEKLY")
		if ds := days(); len(ds) > 0 {
			add("BYDAY", strings.Join(ds, ","))
		}
	case "absolutemonthly":
		add("FREQ", "MONTHLY")
		absolute(0)
	case "relativemonthly":
		add("FREQ", "MONTHLY")
		if !relative() {
			return ""
		}
	case "absoluteyearly":
		add("FREQ", "YEARLY")
		absolute(month)
	case "relativeyearly":
		add("FREQ", "YEARLY")
		add("BYMONTH", strconv.Itoa(month))
		if !relative() {
			return ""
		}
	default:
		return ""
	}
	if p.Interval > 1 {
		add("INTERVAL", strconv.Itoa(p.Interval))
		if strings.EqualFold(p.Type, "weekly") {
			if wk, ok := icalDay(p.FirstDayOfWeek); ok {
				add("WKST", wk)
			}
		}
	}
	horizon := s.start.t.AddDate(zoneHorizon, 0, 0)
	s.last = horizon
	if r := rec.Range; r != nil {
		switch strings.ToLower(r.Type) {
		case "enddate":
			if end, err := time.Parse("2006-01-02", strings.TrimSpace(r.EndDate)); err == nil {
				if s.start.date {
					add("UNTIL", end.Format(dateFormat))
					s.last = end
				} else {
					// The whole last day counts, in the series' zone;
					// UNTIL is in UTC, also when DTSTART has a TZID.
					last := time.Date(end.Year(), end.Month(), end.Day(), 23, 59, 59, 0, s.loc).UTC()
					add("UNTIL", last.Format(utcStamp))
					s.last = last
				}
			}
		case "numbered":
			if n := r.NumberOfOccurrences; n > 0 {
				add("COUNT", strconv.Itoa(n))
				// Twice n periods covers patterns that skip some (the
				// 31st of the month).
				n = 2 * n * max(p.Interval, 1)
				switch parts[0] {
				case "FREQ=DAILY":
					s.last = s.start.t.AddDate(0, 0, n)
				case "FREQ=WEEKLY":
					s.last = s.start.t.AddDate(0, 0, 7*n)
				case "FREQ=MONTHLY":
					s.last = s.start.t.AddDate(0, min(n, 12*zoneHorizon), 0)
				case "FREQ=YEARLY":
					s.last = s.start.t.AddDate(min(n, zoneHorizon), 0, 0)
				}
			}
		}
	}
	if s.last.After(horizon) {
		s.last = horizon
	}
	return strings.Join(parts, ";")
}

// exception resolves a changed occurrence: its place in the series
// (RECURRENCE-ID) and its own start and end, in the series' zone.
func (s *series) exception(ev *graphEvent) (rid, start, end when) {
	orig, ok := parseInstant(ev.OriginalStart)
	if !ok {
		orig, ok = instant(ev.Start, ev.OriginalStartTimeZone)
	}
	if ok {
		rid = s.recurrenceID(orig)
	}
	start, end = eventTimes(ev)
	return rid, start.in(s.zone), end.in(s.zone)
}

// span is the time a zoned series' VTIMEZONE must cover: from its first
// start, or an earlier changed occurrence, to its last occurrence's end.
func (s *series) span(ev *graphEvent) (from, to time.Time) {
	from, to = s.start.t, s.last.Add(s.end.t.Sub(s.start.t))
	if s.end.ok && s.end.t.After(to) {
		to = s.end.t
	}
	for _, x := range s.exdates {
		to = latest(to, x.t)
	}
	for i := range ev.ExceptionOccurrences {
		rid, start, end := s.exception(&ev.ExceptionOccurrences[i])
		for _, w := range []when{rid, start, end} {
			if w.ok {
				from, to = earliest(from, w.t), latest(to, w.t)
			}
		}
	}
	return from, to
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// writeVTimezone defines zone as a VTIMEZONE (RFC 5545 3.6.5) whose TZID
// is its IANA name, from Go's zone data: the observance in effect at from,
// then one per transition of the zone until to. Each observance starts at
// its onset as local time in the offset before it (TZOFFSETFROM).
func writeVTimezone(lw *lineWriter, zone *time.Location, from, to time.Time) {
	type observance struct {
		onset          time.Time // zero: since before the zone's data begins
		name           string
		offFrom, offTo int // seconds east of UTC
		dst            bool
	}
	t := from.In(zone)
	name, off := t.Zone()
	onset, next := t.ZoneBounds()
	first := observance{onset: onset, name: name, offFrom: off, offTo: off, dst: t.IsDST()}
	if !onset.IsZero() {
		_, first.offFrom = onset.Add(-time.Second).In(zone).Zone()
	}
	obs := []observance{first}
	for !next.IsZero() && !next.After(to) {
		t = next.In(zone)
		name, off = t.Zone()
		start, after := t.ZoneBounds()
		// Bounds also fall where nothing changes (Go starts each year
		// anew where a rule rather than a list gives the transitions).
		if prev := obs[len(obs)-1]; name != prev.name || off != prev.offTo || t.IsDST() != prev.dst {
			onset := next
			if start.After(onset) {
				onset = start // a transition in a day stepped over below
			}
			obs = append(obs, observance{onset: onset, name: name, offFrom: prev.offTo, offTo: off, dst: t.IsDST()})
		}
		if !after.After(next) {
			// On the last day of a leap year that a rule covers, Go
			// reports an end before the instant asked about
			// (golang/go#81583): look on from the next day.
			after = next.Add(24 * time.Hour)
		}
		next = after
	}
	if len(obs) == 1 {
		// One offset all along: standard time, whatever the zone calls it.
		obs[0].dst = false
	}
	lw.prop("BEGIN", nil, "VTIMEZONE")
	lw.prop("TZID", nil, escapeText(zone.String()))
	for _, o := range obs {
		kind := "STANDARD"
		if o.dst {
			kind = "DAYLIGHT"
		}
		start := "16010101T000000"
		if !o.onset.IsZero() {
			start = o.onset.UTC().Add(time.Duration(o.offFrom) * time.Second).Format(localStamp)
		}
		lw.prop("BEGIN", nil, kind)
		lw.prop("DTSTART", nil, start)
		lw.prop("TZOFFSETFROM", nil, utcOffset(o.offFrom))
		lw.prop("TZOFFSETTO", nil, utcOffset(o.offTo))
		if o.name != "" {
			lw.prop("TZNAME", nil, escapeText(o.name))
		}
		lw.prop("END", nil, kind)
	}
	lw.prop("END", nil, "VTIMEZONE")
}

// utcOffset writes seconds east of UTC as an iCalendar UTC-OFFSET:
// "+0100", "-0330", "+005328" (never "-0000").
func utcOffset(sec int) string {
	sign := byte('+')
	if sec < 0 {
		sign, sec = '-', -sec
	}
	s := fmt.Sprintf("%c%02d%02d", sign, sec/3600, sec/60%60)
	if sec%60 != 0 {
		s += fmt.Sprintf("%02d", sec%60)
	}
	return s
}

func (s *series) localStartDay() int {
	if s.start.date {
		return s.start.t.Day()
	}
	return s.start.t.In(s.loc).Day()
}

// writeVEvent writes the VEVENT of ev: the series master (ev == master) or
// one of its changed occurrences.
func writeVEvent(lw *lineWriter, master, ev *graphEvent, uid string, s *series) error {
	isMaster := ev == master
	lw.prop("BEGIN", nil, "VEVENT")
	if uid != "" {
		lw.prop("UID", nil, escapeText(uid))
	}
	stamp, ok := parseInstant(firstNonBlank(ev.LastModifiedDateTime, ev.CreatedDateTime, master.LastModifiedDateTime, master.CreatedDateTime))
	if !ok {
		stamp = time.Now().UTC()
	}
	lw.prop("DTSTAMP", nil, stamp.Format(utcStamp))
	var start, end when
	if isMaster {
		start, end = s.start, s.end
	} else {
		var rid when
		rid, start, end = s.exception(ev)
		if rid.ok {
			lw.prop("RECURRENCE-ID", rid.params(), rid.value())
		}
	}
	if start.ok {
		lw.prop("DTSTART", start.params(), start.value())
	}
	if end.ok {
		lw.prop("DTEND", end.params(), end.value())
	}
	if isMaster && s.rrule != "" {
		lw.prop("RRULE", nil, s.rrule)
		for _, x := range s.exdates {
			lw.prop("EXDATE", x.params(), x.value())
		}
	}
	if ev.Subject != "" {
		lw.prop("SUMMARY", nil, escapeText(ev.Subject))
	}
	if ev.Body != nil && strings.TrimSpace(ev.Body.Content) != "" {
		if strings.EqualFold(ev.Body.ContentType, "html") {
			if txt := htmlToText(ev.Body.Content); txt != "" {
				lw.prop("DESCRIPTION", nil, escapeText(txt))
			}
			lw.prop("X-ALT-DESC", []param{{"FMTTYPE", "text/html"}}, escapeText(ev.Body.Content))
		} else {
			lw.prop("DESCRIPTION", nil, escapeText(ev.Body.Content))
		}
	}
	if loc := eventLocation(ev); loc != "" {
		lw.prop("LOCATION", nil, escapeText(loc))
	}
	if o := ev.Organizer; o != nil && calAddress(o.EmailAddress.Address) != "" {
		var ps []param
		if n := oneLine(o.EmailAddress.Name); n != "" {
			ps = append(ps, param{"CN", n})
		}
		lw.prop("ORGANIZER", ps, calAddress(o.EmailAddress.Address))
	}
	for _, a := range ev.Attendees {
		addr := calAddress(a.EmailAddress.Address)
		if addr == "" {
			continue
		}
		var ps []param
		if n := oneLine(a.EmailAddress.Name); n != "" {
			ps = append(ps, param{"CN", n})
		}
		switch strings.ToLower(a.Type) {
		case "required":
			ps = append(ps, param{"ROLE", "REQ-PARTICIPANT"})
		case "optional":
			ps = append(ps, param{"ROLE", "OPT-PARTICIPANT"})
		case "resource":
			ps = append(ps, param{"CUTYPE", "RESOURCE"}, param{"ROLE", "NON-PARTICIPANT"})
		}
		if a.Status != nil {
			if st := partStat(a.Status.Response); st != "" {
				ps = append(ps, param{"PARTSTAT", st})
			}
		}
		lw.prop("ATTENDEE", ps, addr)
	}
	if cats := nonEmpty(ev.Categories...); len(cats) > 0 {
		esc := make([]string, len(cats))
		for i, c := range cats {
			esc[i] = escapeText(c)
		}
		lw.prop("CATEGORIES", nil, strings.Join(esc, ","))
	}
	switch strings.ToLower(ev.Sensitivity) {
	case "normal":
		lw.prop("CLASS", nil, "PUBLIC")
	case "personal", "private":
		lw.prop("CLASS", nil, "PRIVATE")
	case "confidential":
		lw.prop("CLASS", nil, "CONFIDENTIAL")
	}
	switch strings.ToLower(ev.ShowAs) {
	case "":
	case "free":
		lw.prop("TRANSP", nil, "TRANSPARENT")
	default:
		lw.prop("TRANSP", nil, "OPAQUE")
	}
	if ev.IsCancelled {
		lw.prop("STATUS", nil, "CANCELLED")
	}
	switch strings.ToLower(ev.Importance) {
	case "high":
		lw.prop("PRIORITY", nil, "1")
	case "low":
		lw.prop("PRIORITY", nil, "9")
	}
	if t, ok := parseInstant(ev.CreatedDateTime); ok {
		lw.prop("CREATED", nil, t.Format(utcStamp))
	}
	if t, ok := parseInstant(ev.LastModifiedDateTime); ok {
		lw.prop("LAST-MODIFIED", nil, t.Format(utcStamp))
	}
	for _, a := range ev.Attachments {
		writeAttach(lw, a)
	}
	if ev.IsReminderOn && ev.ReminderMinutesBeforeStart >= 0 {
		lw.prop("BEGIN", nil, "VALARM")
		lw.prop("ACTION", nil, "DISPLAY")
		lw.prop("DESCRIPTION", nil, escapeText(firstNonBlank(ev.Subject, "Reminder")))
		lw.prop("TRIGGER", nil, "-PT"+strconv.Itoa(ev.ReminderMinutesBeforeStart)+"M")
		lw.prop("END", nil, "VALARM")
	}
	lw.prop("END", nil, "VEVENT")
	return lw.err
}

// writeAttach embeds a file attachment; attachments without content (links
// to items or to cloud files) have nothing to embed.
func writeAttach(lw *lineWriter, a graphAttachment) {
	if a.data == nil {
		return
	}
	var ps []param
	if ct := strings.TrimSpace(a.ContentType); ct != "" {
		ps = append(ps, param{"FMTTYPE", ct})
	}
	ps = append(ps, param{"ENCODING", "BASE64"}, param{"VALUE", "BINARY"})
	if n := oneLine(a.Name); n != "" {
		ps = append(ps, param{"X-FILENAME", n})
	}
	lw.begin("ATTACH", ps)
	enc := base64.NewEncoder(base64.StdEncoding, lw)
	_, _ = enc.Write(a.data)
	_ = enc.Close()
	lw.end()
}

func eventLocation(ev *graphEvent) string {
	if ev.Location != nil {
		if s := oneLine(ev.Location.DisplayName); s != "" {
			return s
		}
	}
	var names []string
	for _, l := range ev.Locations {
		if s := oneLine(l.DisplayName); s != "" {
			names = append(names, s)
		}
	}
	return strings.Join(names, "; ")
}

// calAddress is the mailto: URI of an e-mail address, or "" for none.
func calAddress(addr string) string {
	addr = strings.Map(func(r rune) rune {
		if r <= ' ' || r == 0x7f || r == '"' {
			return -1
		}
		return r
	}, addr)
	if addr == "" {
		return ""
	}
	return "mailto:" + addr
}

func partStat(response string) string {
	switch strings.ToLower(response) {
	case "accepted", "organizer":
		return "ACCEPTED"
	case "tentativelyaccepted":
		return "TENTATIVE"
	case "declined":
		return "DECLINED"
	case "none", "notresponded":
		return "NEEDS-ACTION"
	}
	return ""
}

func firstNonBlank(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}
