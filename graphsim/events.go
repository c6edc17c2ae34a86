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
// way Exchange does. An event's canonical content is the body of
// GET /beta/users/{id}/events/{id}?$expand=exceptionOccurrences, which
// carries the exceptions and cancellations a backup must keep.

type eventSpec struct {
	vals       map[string]any
	subject    string
	start, end time.Time
	allDay     bool
	typ        string // singleInstance or seriesMaster
	count      int    // occurrences of a series
	step       time.Duration
	exceptions map[int]occurrence
	cancelled  map[int]bool
	atts       []*attSpec
	created    time.Time
	modified   time.Time
}

type occurrence struct {
	start, end time.Time
	subject    string
}

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

func parseGraphDateTime(v any, def time.Time) time.Time {
	m, ok := v.(map[string]any)
	if !ok {
		return def
	}
	return jsonTime(m["dateTime"], def)
}

// event derives the spec of an event view (series masters and singles).
func (s *Server) event(v view) *eventSpec {
	u := s.t.users[v.ref.Owner]
	var e *eventSpec
	if v.src.isZero() && v.st != nil {
		e = s.storedEvent(u, v.st)
	} else {
		e = s.genEvent(u, msgCoords(v.src), v.version)
		if v.st != nil {
			for k, x := range v.st.doc {
				e.vals[k] = x
			}
			if sub, ok := v.st.doc["subject"].(string); ok {
				e.subject = sub
			}
			if v.version > 0 || v.st.doc != nil {
				e.modified = v.st.modified
			}
		}
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
	return e
}

func (s *Server) genEvent(owner *user, c [3]uint64, version uint32) *eventSpec {
	t := s.t
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
		e.typ = "seriesMaster"
		e.count = r.between(6, 12)
		e.step = 7 * 24 * time.Hour
		if r.chance(0.35) {
			o := e.occurrenceStart(2)
			e.exceptions[2] = occurrence{start: o.Add(time.Hour), end: o.Add(time.Hour + e.end.Sub(e.start)), subject: e.subject + " (moved)"}
		}
		if r.chance(0.35) {
			e.cancelled[3] = true
		}
	}
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
	if version > 0 {
		e.subject = fmt.Sprintf("%s (v%d)", e.subject, version)
	}
	return e
}

func nonNilAny(xs []any) []any {
	if xs == nil {
		return []any{}
	}
	return xs
}

func (e *eventSpec) occurrenceStart(n int) time.Time { return e.start.Add(time.Duration(n) * e.step) }

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
			e.count = int(f)
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
	last := e.occurrenceStart(e.count - 1)
	return map[string]any{
		"pattern": map[string]any{"type": "weekly", "interval": 1, "month": 0, "dayOfMonth": 0,
			"daysOfWeek": []string{strings.ToLower(e.start.Weekday().String())}, "firstDayOfWeek": "sunday", "index": "first"},
		"range": map[string]any{"type": "numbered", "startDate": e.start.Format("2006-01-02"), "endDate": last.Format("2006-01-02"),
			"recurrenceTimeZone": "UTC", "numberOfOccurrences": e.count},
	}
}

// eventObject renders a series master or single event. beta adds
// cancelledOccurrences; expand adds exceptionOccurrences.
func (s *Server) eventObject(v view, e *eventSpec, beta bool) object {
	return s.renderEvent(v.ref, v.version, e, e.typ, e.start, e.end, e.subject, "", time.Time{}, beta, false)
}

func (s *Server) renderEvent(r ref, version uint32, e *eventSpec, typ string, start, end time.Time, subject, masterID string, originalStart time.Time, beta, expand bool) object {
	ck := s.changeKey(r, version)
	id := s.ids().encode(r)
	hasAtt := false
	for _, a := range e.atts {
		if !a.inline {
			hasAtt = true
		}
	}
	vals := map[string]any{
		"createdDateTime":       ts(e.created),
		"lastModifiedDateTime":  ts(e.modified),
		"changeKey":             ck,
		"categories":            []string{},
		"transactionId":         nil,
		"originalStartTimeZone": "UTC",
		"originalEndTimeZone":   "UTC",
		"hasAttachments":        hasAtt,
		"subject":               subject,
		"isAllDay":              e.allDay,
		"isCancelled":           false,
		"responseRequested":     true,
		"seriesMasterId":        nil,
		"type":                  typ,
		"webLink":               "https://outlook.office365.com/owa/?itemid=" + escapeQuery(id) + "&exvsurl=1&path=/calendar/item",
		"onlineMeetingUrl":      nil,
		"onlineMeetingProvider": "unknown",
		"allowNewTimeProposals": true,
		"isDraft":               false,
		"hideAttendees":         false,
		"responseStatus":        map[string]any{"response": "organizer", "time": "0001-01-01T00:00:00Z"},
		"start":                 graphDateTime(start),
		"end":                   graphDateTime(end),
		"recurrence":            nil,
		"onlineMeeting":         nil,
	}
	for k, x := range e.vals {
		vals[k] = x
	}
	vals["changeKey"], vals["subject"], vals["type"] = ck, subject, typ
	vals["start"], vals["end"] = graphDateTime(start), graphDateTime(end)
	vals["hasAttachments"] = hasAtt
	if typ == "seriesMaster" {
		vals["recurrence"] = e.recurrence()
	} else {
		vals["recurrence"] = nil
	}
	if masterID != "" {
		vals["seriesMasterId"] = masterID
		vals["originalStart"] = ts(originalStart)
	}
	o := make(object, 0, len(eventProps)+4)
	o = append(o, kv{"@odata.etag", `W/"` + ck + `"`}, kv{"id", id})
	for _, p := range eventProps {
		if p == "originalStart" && masterID == "" {
			continue
		}
		x, ok := vals[p]
		if !ok {
			x = nil
		}
		o = append(o, kv{p, x})
	}
	if beta && typ == "seriesMaster" {
		cancelled := []string{}
		for _, n := range sortedInts(e.cancelled) {
			cancelled = append(cancelled, "OID."+id+"."+e.occurrenceStart(n).Format("2006-01-02"))
		}
		o = append(o, kv{"cancelledOccurrences", cancelled})
		if expand {
			var ex []any
			for _, n := range sortedKeysInt(e.exceptions) {
				oc := e.exceptions[n]
				or := r
				or.Sub = uint16(n + 1)
				ex = append(ex, s.renderEvent(or, version, e, "exception", oc.start, oc.end, oc.subject, id, e.occurrenceStart(n), false, false))
			}
			o = append(o, kv{"exceptionOccurrences", nonNilAny(ex)})
		}
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
			return []object{s.eventObject(v, e, false)}
		}
		return nil
	}
	masterID := s.ids().encode(v.ref)
	var out []object
	dur := e.end.Sub(e.start)
	for n := 0; n < e.count; n++ {
		if e.cancelled[n] {
			continue
		}
		orig := e.occurrenceStart(n)
		r := v.ref
		r.Sub = uint16(n + 1)
		st, en, subj, typ := orig, orig.Add(dur), e.subject, "occurrence"
		if ex, ok := e.exceptions[n]; ok {
			st, en, subj, typ = ex.start, ex.end, ex.subject, "exception"
		}
		if st.Before(to) && en.After(from) {
			o := s.renderEvent(r, v.version, e, typ, st, en, subj, masterID, orig, false, false)
			out = append(out, o.without("recurrence"))
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
	expand := strings.Contains(strings.ToLower(rq.q.expand), "exceptionoccurrences")
	return func(v view) object {
		e := rq.s.event(v)
		return rq.s.renderEvent(v.ref, v.version, e, e.typ, e.start, e.end, e.subject, "", time.Time{}, beta, expand)
	}
}

func (rq *request) listEvents() error {
	if rq.params["folder"] == "" {
		rq.params["folder"] = "calendar"
	}
	return rq.listFolderItems(kCalendar, "event", eventKnownProps, "events", rq.eventRenderer())
}

func (rq *request) eventsDelta() error {
	return rq.exchangeDelta(kCalendar, "event", eventKnownProps, "events", rq.eventRenderer())
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
		e := s.event(v)
		for _, o := range s.instances(v, e, time.Time{}, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)) {
			if id, _ := o.get("id"); id == rq.params["event"] {
				rq.sendJSON(http.StatusOK, o.project(sel))
				return nil
			}
		}
		return errItemNotFound()
	}
	rq.fetchedItem("event", rq.params["event"])
	rq.sendJSON(http.StatusOK, rq.eventRenderer()(v).project(sel))
	return nil
}

func (rq *request) windowParams() (time.Time, time.Time, *apiError) {
	from := jsonTime(rq.q.get("startDateTime"), time.Time{})
	to := jsonTime(rq.q.get("endDateTime"), time.Time{})
	if from.IsZero() || to.IsZero() {
		return from, to, errBadRequest("This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.")
	}
	return from, to, nil
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
