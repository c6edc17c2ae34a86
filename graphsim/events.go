package graphsim

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Calendars and events. Some generated events are weekly recurring series
// with an exception (one occurrence moved and renamed) and a cancellation
// (one occurrence deleted); /instances and /calendarView expand them the
// way Exchange does. Clients make the same changes to any series by
// patching or deleting one of its occurrences. An event's canonical content
// is the body of
// GET /beta/users/{id}/events/{id}?$expand=exceptionOccurrences,attachments,
// which carries the exceptions, cancellations and attachments a backup must
// keep.

type eventSpec struct {
	vals       map[string]any
	subject    string
	start, end time.Time
	allDay     bool
	typ        string // singleInstance or seriesMaster
	count      int    // occurrences of a series
	step       time.Duration
	zone       string // the series' recurrence zone as Graph names it; "" is UTC
	exceptions map[int]occurrence
	cancelled  map[int]bool
	atts       []*attSpec
	occAtts    map[int][]*attSpec // an exception's own attachments, by occurrence number (eventatts.go)
	created    time.Time
	modified   time.Time
}

// occurrence is an exception: one occurrence of a series that differs from
// the series.
type occurrence struct {
	start, end time.Time
	subject    string
	vals       map[string]any // properties set on this occurrence alone
}

// maxOccurrences bounds a series: occurrence numbers live in ref.Sub.
const maxOccurrences = 0x7fff

// eventShape is what one rendering of an event shows: a single event or a
// series master, or one occurrence or exception of a series (ref.Sub is
// the occurrence number plus one).
type eventShape struct {
	ref           ref
	typ           string // singleInstance, seriesMaster, occurrence or exception
	start, end    time.Time
	subject       string
	vals          map[string]any // an exception's own properties over the series'
	originalStart time.Time      // occurrences and exceptions
}

func (e *eventSpec) shape(r ref) eventShape {
	return eventShape{ref: r, typ: e.typ, start: e.start, end: e.end, subject: e.subject}
}

func occurrenceRef(master ref, n int) ref {
	r := master
	r.Sub = uint16(n + 1)
	return r
}

// occurrenceShape is occurrence n of the series whose master is r, as a
// plain occurrence or as the exception it was turned into; false when the
// series has no such occurrence or it was cancelled.
func (e *eventSpec) occurrenceShape(r ref, n int) (eventShape, bool) {
	if e.typ != "seriesMaster" || n < 0 || n >= e.count || e.cancelled[n] {
		return eventShape{}, false
	}
	orig := e.occurrenceStart(n)
	sh := eventShape{ref: occurrenceRef(r, n), typ: "occurrence", start: orig, end: orig.Add(e.end.Sub(e.start)),
		subject: e.subject, originalStart: orig}
	if ex, ok := e.exceptions[n]; ok {
		sh.typ, sh.start, sh.end, sh.subject, sh.vals = "exception", ex.start, ex.end, ex.subject, ex.vals
	}
	return sh, true
}

// eventExpansion is what $expand adds to a series master or single event.
type eventExpansion struct {
	exceptions  bool // exceptionOccurrences (beta only)
	attachments bool
	// Not forms of $expand: what a backup adds to the event as
	// GET .../attachments?$expand=microsoft.graph.itemattachment/item lists
	// it (eventatts.go): item attachments with their items, and each
	// exception's own attachments.
	items, exceptionAttachments bool
}

// parseEventExpansion reads the navigation properties named in $expand, in
// any order and letter case; names it does not serve are ignored.
func parseEventExpansion(expand string) eventExpansion {
	var x eventExpansion
	for _, name := range strings.Split(expand, ",") {
		name, _, _ = strings.Cut(name, "(")
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "exceptionoccurrences":
			x.exceptions = true
		case "attachments":
			x.attachments = true
		}
	}
	return x
}

// canonicalEventExpansion is the expansion of an event's canonical content.
var canonicalEventExpansion = eventExpansion{exceptions: true, attachments: true, items: true, exceptionAttachments: true}

var eventProps = []string{
	"createdDateTime", "lastModifiedDateTime", "changeKey", "categories", "transactionId",
	"originalStartTimeZone", "originalEndTimeZone", "iCalUId", "reminderMinutesBeforeStart",
	"isReminderOn", "hasAttachments", "subject", "bodyPreview", "importance", "sensitivity",
	"isAllDay", "isCancelled", "isOrganizer", "responseRequested", "seriesMasterId", "showAs",
	"type", "webLink", "onlineMeetingUrl", "isOnlineMeeting", "onlineMeetingProvider",
	"allowNewTimeProposals", "isDraft", "hideAttendees", "responseStatus", "body", "start", "end",
	"originalStart", "location", "locations", "recurrence", "attendees", "organizer", "onlineMeeting",
}

var eventKnownProps = func() object {
	o := object{{"id", nil}}
	for _, p := range eventProps {
		o = append(o, kv{p, nil})
	}
	return o
}()

func graphDateTime(t time.Time) map[string]any {
	return map[string]any{"dateTime": t.UTC().Format("2006-01-02T15:04:05.0000000"), "timeZone": "UTC"}
}

// parseGraphDateTime reads a dateTimeTimeZone: the wall-clock dateTime in
// the zone timeZone names (learn.microsoft.com/graph/api/resources/datetimetimezone),
// UTC when the zone is missing or unknown.
func parseGraphDateTime(v any, def time.Time) time.Time {
	m, ok := v.(map[string]any)
	if !ok {
		return def
	}
	t := jsonTime(m["dateTime"], def)
	name, _ := m["timeZone"].(string)
	if loc, ok := zoneLocation(name); ok && loc != time.UTC && !t.Equal(def) {
		if s, _ := m["dateTime"].(string); !strings.ContainsAny(s[min(len(s), 10):], "Z+-") {
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc).UTC()
		}
	}
	return t
}

// event derives the spec of an event view (series masters and singles).
func (s *Server) event(v view) *eventSpec {
	u := s.t.users[v.ref.Owner]
	var e *eventSpec
	if v.src.isZero() && v.st != nil {
		e = s.storedEvent(u, v.st)
	} else {
		e = s.genEvent(u, msgCoords(v.src), v.version)
		if s.t.quirkOf(v.src) == quirkInstanceHeavy {
			s.t.instanceHeavySeries(e, msgCoords(v.src))
		}
		if v.st != nil {
			for k, x := range v.st.doc {
				e.vals[k] = x
			}
			if sub, ok := v.st.doc["subject"].(string); ok {
				e.subject = sub
			}
			if _, ok := v.st.doc["start"]; ok {
				dur := e.end.Sub(e.start)
				e.start = parseGraphDateTime(v.st.doc["start"], e.start)
				e.end = e.start.Add(dur)
			}
			e.end = parseGraphDateTime(v.st.doc["end"], e.end)
			if v.version > 0 || v.st.doc != nil {
				e.modified = v.st.modified
			}
		}
	}
	if v.st != nil {
		e.applyOccurrenceEdits(v.st)
	}
	for i, a := range e.atts {
		a.ref = attachmentRef(v.ref, i)
	}
	if v.st != nil {
		for _, sa := range v.st.storedAtts {
			a := sa.spec()
			a.ref = attachmentRef(v.ref, len(e.atts))
			e.atts = append(e.atts, a)
		}
	}
	s.occurrenceAttachments(v, e)
	return e
}

func (s *Server) genEvent(owner *user, c [3]uint64, version uint32) *eventSpec {
	t := s.t
	e, r := t.eventHead(c)
	var attendees []any
	for n := r.between(1, 4); n > 0; n-- {
		a := s.otherPerson(r, owner.idx)
		attendees = append(attendees, map[string]any{
			"type":         pick(r, []string{"required", "optional"}),
			"status":       map[string]any{"response": pick(r, []string{"none", "accepted", "tentativelyAccepted", "declined"}), "time": "0001-01-01T00:00:00Z"},
			"emailAddress": map[string]any{"name": a.name, "address": a.addr},
		})
	}
	organizer := mailAddr{owner.displayName, owner.mail}
	isOrganizer := true
	if r.chance(0.3) {
		organizer, isOrganizer = s.otherPerson(r, owner.idx), false
	}
	room := pick(r, []string{"Conference Room 1", "Café ☕", "Teams", "Building 4 / Room 12", ""})
	bodyKey := r.next()
	bodyWords := r.between(5, 120)
	text, html := genBody(t.seed, bodyKey, bodyWords, nil)
	e.vals["body"] = map[string]any{"contentType": "html", "content": html}
	e.vals["bodyPreview"] = preview(text)
	e.vals["attendees"] = nonNilAny(attendees)
	e.vals["organizer"] = organizer.json()
	e.vals["isOrganizer"] = isOrganizer
	e.vals["location"] = map[string]any{"displayName": room, "locationType": "default", "uniqueIdType": "unknown"}
	e.vals["locations"] = []any{}
	if room != "" {
		e.vals["locations"] = []any{map[string]any{"displayName": room, "locationType": "default"}}
	}
	e.vals["importance"] = "normal"
	e.vals["sensitivity"] = pick(r, []string{"normal", "normal", "private"})
	e.vals["showAs"] = pick(r, []string{"busy", "busy", "tentative", "free"})
	e.vals["reminderMinutesBeforeStart"] = pick(r, []int{0, 5, 15, 30})
	e.vals["isReminderOn"] = r.chance(0.8)
	e.vals["isOnlineMeeting"] = room == "Teams"
	e.vals["iCalUId"] = fmt.Sprintf("040000008200E00074C5B7101A82E008%016X%016X", r.next(), r.next())
	// A third of events were created by client apps that set a
	// transactionId; it comes from its own hash stream (eventtx.go).
	if tx, ok := s.generatedTransactionID(c); ok {
		e.vals["transactionId"] = tx
	}
	if r.chance(0.15) {
		e.vals["categories"] = []string{pick(r, []string{"Travel", "Customers", "Focus 🧠"})}
	}
	if r.chance(0.08) {
		ak := hashOf(t.seed, tagAttachment, tagEvent, c[0], c[1], c[2])
		ar := newRNG(ak)
		fk := fileKinds[ar.intn(4)]
		size := max(min(int(ar.logNormal(40<<10, 1.2)), int(t.opts.MaxAttachmentSize)), 1)
		e.atts = append(e.atts, &attSpec{name: "Agenda." + fk.ext, contentType: fk.mime, size: size, modified: e.created,
			data: func() []byte { return contentOf(ak, int64(size), fk.text).bytes() }})
	}
	s.genEventAttachments(owner, c, e)
	if version > 0 {
		e.subject = fmt.Sprintf("%s (v%d)", e.subject, version)
	}
	return e
}

// eventHead draws the start of a generated event from its own stream: its
// times, subject and whether it is a series. genEvent goes on with the
// same stream; the tenant reads the head alone to find series (quirks.go).
func (t *tenant) eventHead(c [3]uint64) (*eventSpec, *rng) {
	r := newRNG(t.seed, tagEvent, c[0], c[1], c[2])
	e := &eventSpec{vals: map[string]any{}, typ: "singleInstance", exceptions: map[int]occurrence{}, cancelled: map[int]bool{}}
	day := epoch.AddDate(0, 0, r.between(-180, 180))
	e.start = day.Add(time.Duration(8*60+30*r.intn(18)) * time.Minute)
	e.end = e.start.Add(time.Duration(pick(r, []int{30, 60, 90})) * time.Minute)
	if r.chance(0.05) {
		e.allDay = true
		e.start = day
		e.end = day.AddDate(0, 0, 1)
	}
	e.subject = capitalize(pickWords(r, r.between(2, 6)))
	e.created = e.start.AddDate(0, 0, -r.between(1, 60))
	e.modified = e.created
	if r.chance(0.12) {
		e.makeSeries(r, newRNG(t.seed, tagZone, c[0], c[1], c[2]))
	}
	return e, r
}

// seriesZones are the zones generated series recur in, with the local
// times their meetings start between (minutes after midnight). Exchange
// names them by their Windows names; a series recurs at the same local
// time in its zone across daylight saving changes. Evenings in Pacific
// time start on the next UTC day and mornings in Tokyo on the previous one,
// so those occurrences' local dates, which name cancelled occurrences,
// differ from their UTC dates.
var seriesZones = []struct {
	name     string
	from, to int
}{
	{"", 0, 0}, // UTC: the time drawn for the event
	{"Pacific Standard Time", 17 * 60, 20*60 + 30},
	{"Tokyo Standard Time", 7 * 60, 8*60 + 30},
	{"W. Europe Standard Time", 9 * 60, 16 * 60},
}

// makeSeries turns e into a weekly series of 6 to 12 occurrences, maybe
// with its third occurrence moved and its fourth cancelled. zr, a stream
// of its own, picks the series' zone and its local start time there.
func (e *eventSpec) makeSeries(r, zr *rng) {
	e.typ = "seriesMaster"
	e.count = r.between(6, 12)
	e.step = 7 * 24 * time.Hour
	if z := seriesZones[zr.intn(len(seriesZones))]; z.name != "" && !e.allDay {
		loc, _ := zoneLocation(z.name)
		dur := e.end.Sub(e.start)
		day := e.start.UTC()
		mins := z.from + 30*zr.intn((z.to-z.from)/30+1)
		e.zone = z.name
		e.start = time.Date(day.Year(), day.Month(), day.Day(), mins/60, mins%60, 0, 0, loc).UTC()
		e.end = e.start.Add(dur)
	}
	if r.chance(0.35) {
		e.moveOccurrence(2)
	}
	if r.chance(0.35) {
		e.cancelled[3] = true
	}
	if e.zone != "" {
		if zr.chance(0.6) {
			e.cancelled[1] = true
		}
		if zr.chance(0.4) {
			e.moveOccurrence(5)
		}
	}
}

// moveOccurrence makes occurrence n an exception: an hour later, renamed.
func (e *eventSpec) moveOccurrence(n int) {
	o := e.occurrenceStart(n)
	e.exceptions[n] = occurrence{start: o.Add(time.Hour), end: o.Add(time.Hour + e.end.Sub(e.start)), subject: e.subject + " (moved)"}
}

func nonNilAny(xs []any) []any {
	if xs == nil {
		return []any{}
	}
	return xs
}

// location is the zone a series recurs in.
func (e *eventSpec) location() *time.Location {
	if loc, ok := zoneLocation(e.zone); ok {
		return loc
	}
	return time.UTC
}

// occurrenceStart is when occurrence n of a series starts: a whole number
// of days after the first, at the same local time in the series' zone, so
// its UTC time moves with daylight saving
// (learn.microsoft.com/graph/api/resources/recurrencerange: startDate and
// endDate are in recurrenceTimeZone).
func (e *eventSpec) occurrenceStart(n int) time.Time {
	if n == 0 || e.step%(24*time.Hour) != 0 {
		return e.start.Add(time.Duration(n) * e.step)
	}
	l := e.start.In(e.location())
	return time.Date(l.Year(), l.Month(), l.Day()+n*int(e.step/(24*time.Hour)), l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), l.Location()).UTC()
}

// occurrenceDay is the local date of occurrence n in the series' zone,
// which Exchange names occurrences by: a series' deleted instance dates
// are kept in its own time zone ([MS-OXOCAL] 2.2.1.44.1, RecurrencePattern
// DeletedInstanceDates; learn.microsoft.com/openspecs/exchange_server_protocols/ms-oxocal),
// and an occurrence's original start is read in recurrenceTimeZone
// (github.com/microsoftgraph/microsoft-graph-docs/issues/7163).
func (e *eventSpec) occurrenceDay(n int) string {
	return e.occurrenceStart(n).In(e.location()).Format("2006-01-02")
}

// applyOccurrenceEdits lays the occurrences clients changed or cancelled
// over the series' own exceptions and cancellations. A cancelled exception
// is only cancelled, as in Exchange.
func (e *eventSpec) applyOccurrenceEdits(st *itemState) {
	for n, oc := range st.exceptions {
		e.exceptions[n] = oc
	}
	for n := range st.cancelled {
		e.cancelled[n] = true
		delete(e.exceptions, n)
	}
	for n := range e.exceptions {
		if n >= e.count {
			delete(e.exceptions, n)
		}
	}
	for n := range e.cancelled {
		if n >= e.count {
			delete(e.cancelled, n)
		}
	}
}

func (s *Server) storedEvent(u *user, st *itemState) *eventSpec {
	doc := st.doc
	e := &eventSpec{vals: map[string]any{}, typ: "singleInstance", exceptions: map[int]occurrence{}, cancelled: map[int]bool{}}
	for k, x := range doc {
		if len(k) > 0 && k[0] != '@' && k != "id" {
			e.vals[k] = x
		}
	}
	e.subject, _ = doc["subject"].(string)
	e.start = parseGraphDateTime(doc["start"], st.createdAt)
	e.end = parseGraphDateTime(doc["end"], e.start.Add(time.Hour))
	e.allDay, _ = doc["isAllDay"].(bool)
	e.created, e.modified = st.createdAt, st.modified
	if rec, ok := doc["recurrence"].(map[string]any); ok && rec != nil {
		e.typ = "seriesMaster"
		pat, _ := rec["pattern"].(map[string]any)
		rng, _ := rec["range"].(map[string]any)
		// A series recurs in recurrenceTimeZone, else in the zone of its
		// start (learn.microsoft.com/graph/api/resources/recurrencerange).
		e.zone, _ = rng["recurrenceTimeZone"].(string)
		if e.zone == "" {
			if start, ok := doc["start"].(map[string]any); ok {
				e.zone, _ = start["timeZone"].(string)
			}
		}
		if _, ok := zoneLocation(e.zone); !ok {
			e.zone = ""
		}
		interval := 1
		if f, ok := pat["interval"].(float64); ok && f >= 1 {
			interval = int(f)
		}
		e.step = 7 * 24 * time.Hour * time.Duration(interval)
		if typ, _ := pat["type"].(string); strings.EqualFold(typ, "daily") {
			e.step = 24 * time.Hour * time.Duration(interval)
		}
		e.count = 10
		if f, ok := rng["numberOfOccurrences"].(float64); ok && f >= 1 {
			e.count = int(min(f, maxOccurrences))
		} else if last, err := time.ParseInLocation("2006-01-02", fmt.Sprint(rng["endDate"]), e.location()); err == nil && strings.EqualFold(fmt.Sprint(rng["type"]), "endDate") {
			e.count = 1
			for e.count < maxOccurrences && e.occurrenceStart(e.count).Before(last.AddDate(0, 0, 1)) {
				e.count++
			}
		}
	}
	if _, ok := e.vals["organizer"]; !ok {
		e.vals["organizer"] = mailAddr{u.displayName, u.mail}.json()
	}
	return e
}

func (e *eventSpec) recurrence() any {
	if e.typ != "seriesMaster" {
		return nil
	}
	if rec, ok := e.vals["recurrence"]; ok && rec != nil {
		return rec
	}
	// The pattern's days and the range's dates are in recurrenceTimeZone.
	loc, zone := e.location(), e.zone
	if zone == "" {
		zone = "UTC"
	}
	first := e.start.In(loc)
	return map[string]any{
		"pattern": map[string]any{"type": "weekly", "interval": 1, "month": 0, "dayOfMonth": 0,
			"daysOfWeek": []string{strings.ToLower(first.Weekday().String())}, "firstDayOfWeek": "sunday", "index": "first"},
		"range": map[string]any{"type": "numbered", "startDate": first.Format("2006-01-02"), "endDate": e.occurrenceDay(e.count - 1),
			"recurrenceTimeZone": zone, "numberOfOccurrences": e.count},
	}
}

// eventObject renders a series master or single event. beta adds
// cancelledOccurrences to a series master; x adds the expansions.
func (s *Server) eventObject(v view, e *eventSpec, beta bool, x eventExpansion) object {
	return s.renderEvent(v.version, e, e.shape(v.ref), beta, x)
}

// occurrenceObject renders occurrence n of a series as /instances and
// GET /events/{occurrenceId} serve it.
func (s *Server) occurrenceObject(v view, e *eventSpec, n int) (object, bool) {
	sh, ok := e.occurrenceShape(v.ref, n)
	if !ok {
		return nil, false
	}
	return s.renderEvent(v.version, e, sh, false, eventExpansion{}).without("recurrence"), true
}

// renderEvent renders one shape of event e at the series' version. The
// properties Exchange assigns itself always carry the server's values.
func (s *Server) renderEvent(version uint32, e *eventSpec, sh eventShape, beta bool, x eventExpansion) object {
	ck := s.changeKey(sh.ref, version)
	id := s.ids().encode(sh.ref)
	hasAtt := false
	for _, a := range e.atts {
		if !a.inline {
			hasAtt = true
		}
	}
	// A series made in a zone keeps it as its original zones; start and
	// end are rendered in UTC, as Graph does without a Prefer:
	// outlook.timezone header (learn.microsoft.com/graph/api/resources/event).
	zone := e.zone
	if zone == "" {
		zone = "UTC"
	}
	vals := map[string]any{
		"categories":            []string{},
		"transactionId":         nil,
		"originalStartTimeZone": zone,
		"originalEndTimeZone":   zone,
		"isAllDay":              e.allDay,
		"isCancelled":           false,
		"responseRequested":     true,
		"onlineMeetingUrl":      nil,
		"onlineMeetingProvider": "unknown",
		"allowNewTimeProposals": true,
		"isDraft":               false,
		"hideAttendees":         false,
		"responseStatus":        map[string]any{"response": "organizer", "time": "0001-01-01T00:00:00Z"},
		"onlineMeeting":         nil,
	}
	for k, x := range e.vals {
		vals[k] = x
	}
	for k, x := range sh.vals {
		vals[k] = x
	}
	vals["createdDateTime"], vals["lastModifiedDateTime"] = ts(e.created), ts(e.modified)
	vals["changeKey"], vals["subject"], vals["type"] = ck, sh.subject, sh.typ
	vals["start"], vals["end"] = graphDateTime(sh.start), graphDateTime(sh.end)
	if sh.typ == "exception" {
		hasAtt = listedAttachments(e.occAtts[int(sh.ref.Sub)-1])
	}
	vals["hasAttachments"] = hasAtt
	vals["webLink"] = "https://outlook.office365.com/owa/?itemid=" + escapeQuery(id) + "&exvsurl=1&path=/calendar/item"
	vals["recurrence"] = nil
	if sh.typ == "seriesMaster" {
		vals["recurrence"] = e.recurrence()
	}
	master := sh.ref
	master.Sub = 0
	isOccurrence := sh.ref.Sub != 0
	vals["seriesMasterId"] = nil
	if isOccurrence {
		vals["seriesMasterId"] = s.ids().encode(master)
		vals["originalStart"] = ts(sh.originalStart)
	}
	o := make(object, 0, len(eventProps)+5)
	o = append(o, kv{"@odata.etag", `W/"` + ck + `"`}, kv{"id", id})
	for _, p := range eventProps {
		if p == "originalStart" && !isOccurrence {
			continue
		}
		o = append(o, kv{p, vals[p]})
	}
	if beta && sh.typ == "seriesMaster" {
		cancelled := []string{}
		for _, n := range sortedInts(e.cancelled) {
			cancelled = append(cancelled, "OID."+id+"."+e.occurrenceDay(n))
		}
		o = append(o, kv{"cancelledOccurrences", cancelled})
		if x.exceptions {
			var ex []any
			for _, n := range sortedKeysInt(e.exceptions) {
				if exSh, ok := e.occurrenceShape(sh.ref, n); ok {
					ex = append(ex, s.withExceptionAttachments(s.renderEvent(version, e, exSh, false, eventExpansion{}), e, n, x))
				}
			}
			o = append(o, kv{"exceptionOccurrences", nonNilAny(ex)})
		}
	}
	if x.attachments && !isOccurrence {
		atts := make([]any, len(e.atts))
		for i, a := range e.atts {
			atts[i] = s.attachmentObject(a, x.items)
		}
		o = append(o, kv{"attachments", atts})
	}
	return o
}

func sortedInts(m map[int]bool) []int {
	out := make([]int, 0, len(m))
	for k, v := range m {
		if v {
			out = append(out, k)
		}
	}
	sort.Ints(out)
	return out
}

func sortedKeysInt[V any](m map[int]V) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}

// instances expands an event into the occurrences between from and to.
func (s *Server) instances(v view, e *eventSpec, from, to time.Time) []object {
	if e.typ != "seriesMaster" {
		if e.start.Before(to) && e.end.After(from) {
			return []object{s.eventObject(v, e, false, eventExpansion{})}
		}
		return nil
	}
	var out []object
	for n := 0; n < e.count; n++ {
		sh, ok := e.occurrenceShape(v.ref, n)
		if ok && sh.start.Before(to) && sh.end.After(from) {
			out = append(out, s.renderEvent(v.version, e, sh, false, eventExpansion{}).without("recurrence"))
		}
	}
	return out
}

func (s *Server) calendarObject(v view) object {
	u := s.t.users[v.ref.Owner]
	isDefault := v.ref.Serial == 0 && v.ref.Index == 0
	return object{
		{"id", s.ids().encode(v.ref)},
		{"name", s.folderName(v)},
		{"color", "auto"},
		{"hexColor", ""},
		{"isDefaultCalendar", isDefault},
		{"changeKey", s.changeKey(v.ref, v.version)},
		{"canShare", true},
		{"canViewPrivateItems", true},
		{"canEdit", true},
		{"allowedOnlineMeetingProviders", []string{"teamsForBusiness"}},
		{"defaultOnlineMeetingProvider", "teamsForBusiness"},
		{"isTallyingResponses", true},
		{"isRemovable", !isDefault},
		{"owner", map[string]any{"name": u.displayName, "address": u.mail}},
	}
}

var calendarKnownProps = object{{"id", nil}, {"name", nil}, {"color", nil}, {"hexColor", nil},
	{"isDefaultCalendar", nil}, {"changeKey", nil}, {"canShare", nil}, {"canViewPrivateItems", nil},
	{"canEdit", nil}, {"allowedOnlineMeetingProviders", nil}, {"defaultOnlineMeetingProvider", nil},
	{"isTallyingResponses", nil}, {"isRemovable", nil}, {"owner", nil}}

// calendars lists a mailbox's live calendars.
func (s *Server) calendars(u *user) []view {
	m := s.model
	l := m.layoutFor(kCalendar, u)
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []view
	for i := range l.folders {
		if v, ok := m.viewLocked(ref{Kind: kCalendar, Owner: uint32(u.idx), Index: uint32(i)}); ok && m.aliveLocked(v) {
			out = append(out, v)
		}
	}
	for r, st := range m.items {
		if r.Kind == kCalendar && r.Owner == uint32(u.idx) && r.Serial != 0 && !st.deleted {
			v, _ := m.viewLocked(r)
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].ref.Serial < out[j].ref.Serial || out[i].ref.Serial == out[j].ref.Serial && out[i].ref.Index < out[j].ref.Index
	})
	return out
}

func (rq *request) listCalendars() error {
	u, err := rq.mailboxUser()
	if err != nil {
		return err
	}
	return rq.writeFolderList(rq.s.calendars(u), "users/"+u.id+"/calendars", rq.s.calendarObject, "calendar", calendarKnownProps)
}

func (rq *request) getCalendar() error {
	return rq.getFolder(kCalendar, rq.s.calendarObject, "calendar", calendarKnownProps)
}

func (rq *request) eventRenderer() func(view) object {
	beta := rq.version == "beta"
	x := parseEventExpansion(rq.q.expand)
	return func(v view) object {
		return rq.s.eventObject(v, rq.s.event(v), beta, x)
	}
}

func (rq *request) listEvents() error {
	if rq.params["folder"] == "" {
		rq.params["folder"] = "calendar"
	}
	return rq.listFolderItems(kCalendar, "event", eventKnownProps, "events", rq.eventRenderer())
}

func (rq *request) eventsDelta() error {
	render := rq.eventRenderer()
	if rq.version == "beta" {
		// Beta's event delta does not support $select and returns each
		// event's id, type, start and end only (microsoft-graph-docs-contrib,
		// api-reference/beta/api/event-delta.md: "the response includes only
		// the id, type, start and end properties").
		rq.q.sel = nil
		full := render
		render = func(v view) object { return full(v).project([]string{"type", "start", "end"}) }
		if u, err := rq.mailboxUser(); err == nil {
			rq.deltaPageLimit = rq.s.t.eventDeltaPageLimit(u)
		}
	}
	return rq.exchangeDelta(kCalendar, "event", eventKnownProps, "events", render)
}

func (rq *request) getEvent() error {
	s := rq.s
	u, err := rq.mailboxUser()
	if err != nil {
		return err
	}
	r, ok := s.ids().decodeKind(rq.params["event"], kEvent)
	if !ok || int(r.Owner) != u.idx {
		return errItemNotFound()
	}
	occ := int(r.Sub) - 1
	master := r
	master.Sub = 0
	v, alive := s.model.alive(master)
	if !alive {
		return errItemNotFound()
	}
	sel, err := selectList(rq.q.sel, "event", eventKnownProps, "exceptionOccurrences", "cancelledOccurrences")
	if err != nil {
		return err
	}
	if occ >= 0 {
		o, ok := s.occurrenceObject(v, s.event(v), occ)
		if !ok {
			return errItemNotFound()
		}
		rq.sendJSON(http.StatusOK, o.project(sel))
		return nil
	}
	// Expanded navigation properties stay when $select names others.
	x := parseEventExpansion(rq.q.expand)
	if len(sel) > 0 && x.exceptions {
		sel = append(sel, "exceptionOccurrences")
	}
	if len(sel) > 0 && x.attachments {
		sel = append(sel, "attachments")
	}
	rq.fetchedItem("event", rq.params["event"])
	rq.sendJSON(http.StatusOK, rq.eventRenderer()(v).project(sel))
	return nil
}

// windowParams reads the startDateTime and endDateTime of a calendar
// view or instance listing. A value without an offset is UTC
// (learn.microsoft.com/graph/api/user-list-calendarview, query parameters),
// and a date alone is accepted as that day's midnight.
func (rq *request) windowParams() (time.Time, time.Time, *apiError) {
	from := windowTime(rq.q.get("startDateTime"))
	to := windowTime(rq.q.get("endDateTime"))
	if from.IsZero() || to.IsZero() {
		return from, to, errBadRequest("This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.")
	}
	return from, to, nil
}

func windowTime(v string) time.Time {
	if d, err := time.Parse("2006-01-02", v); err == nil {
		return d
	}
	return jsonTime(v, time.Time{})
}

func (rq *request) listInstances() error {
	s := rq.s
	u, err := rq.mailboxUser()
	if err != nil {
		return err
	}
	v, err := rq.lookupItem(kEvent, u, rq.params["event"])
	if err != nil {
		return err
	}
	t, err := rq.listOptions()
	if err != nil {
		return err
	}
	if t.Extra == nil {
		from, to, werr := rq.windowParams()
		if werr != nil {
			return werr
		}
		t.Extra = map[string]string{"from": ts(from), "to": ts(to)}
	}
	from, to := jsonTime(t.Extra["from"], time.Time{}), jsonTime(t.Extra["to"], time.Time{})
	objs := s.instances(v, s.event(v), from, to)
	return rq.writeList("users/"+u.id+"/events/"+s.ids().encode(v.ref)+"/instances", "events", t, toAny(objs), rq.listPageSize(t, 10, 1000))
}

// calendarView expands the events of a calendar (default: the primary one)
// that overlap the window.
func (rq *request) calendarView() error {
	s := rq.s
	u, err := rq.mailboxUser()
	if err != nil {
		return err
	}
	key := rq.params["folder"]
	if key == "" {
		key = "calendar"
	}
	cal, err := s.resolveFolder(kCalendar, u, key)
	if err != nil {
		return err
	}
	t, err := rq.listOptions()
	if err != nil {
		return err
	}
	if t.Extra == nil {
		from, to, werr := rq.windowParams()
		if werr != nil {
			return werr
		}
		t.Extra = map[string]string{"from": ts(from), "to": ts(to)}
	}
	from, to := jsonTime(t.Extra["from"], time.Time{}), jsonTime(t.Extra["to"], time.Time{})
	var objs []object
	for _, v := range s.folderMembers(s.itemsCollection(cal)) {
		objs = append(objs, s.instances(v, s.event(v), from, to)...)
	}
	sort.SliceStable(objs, func(i, j int) bool {
		a, _ := objs[i].get("start")
		b, _ := objs[j].get("start")
		return a.(map[string]any)["dateTime"].(string) < b.(map[string]any)["dateTime"].(string)
	})
	return rq.writeList("users/"+u.id+"/calendarView", "events", t, toAny(objs), rq.listPageSize(t, 10, 1000))
}

func (rq *request) createEvent() error {
	return rq.createJSONItem(kEvent, kCalendar, "calendar")
}

// calendarViewDelta is the v1.0 event delta: the occurrences of a
// calendar's events inside a window. Rounds track the calendar's change log;
// a changed event re-sends its occurrences in the window, a removed one
// sends @removed for each of them.
func (rq *request) calendarViewDelta() error {
	s := rq.s
	u, err := rq.mailboxUser()
	if err != nil {
		return err
	}
	key := rq.params["folder"]
	if key == "" {
		key = "calendar"
	}
	cal, err := s.resolveFolder(kCalendar, u, key)
	if err != nil {
		return err
	}
	c := s.itemsCollection(cal)
	start := func() (map[string]string, *apiError) {
		from, to, werr := rq.windowParams()
		if werr != nil {
			return nil, werr
		}
		return map[string]string{"from": ts(from), "to": ts(to)}, nil
	}
	path := "users/" + u.id + "/calendarView/delta"
	if rq.params["folder"] != "" {
		path = "users/" + u.id + "/calendars/" + s.ids().encode(cal.ref) + "/calendarView/delta"
	}
	return rq.serveDeltaWith(c, path, "event", eventKnownProps, start, func(e deltaEntry, tok *deltaToken, _ filterExpr) []any {
		from, to := jsonTime(tok.Extra["from"], time.Time{}), jsonTime(tok.Extra["to"], time.Time{})
		var out []any
		for _, o := range s.instances(e.v, s.event(e.v), from, to) {
			if e.removed {
				id, _ := o.get("id")
				out = append(out, object{{"@odata.type", "#microsoft.graph.event"}, {"id", id}, {"@removed", map[string]any{"reason": "deleted"}}})
				continue
			}
			out = append(out, o.project(tok.Sel))
		}
		return out
	})
}
