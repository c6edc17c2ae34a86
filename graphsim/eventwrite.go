package graphsim

import (
	"fmt"
	"maps"
	"net/http"
)

// Write paths for events beyond create. One occurrence of a series is
// changed or cancelled through its own id, as in Exchange: PATCH turns it
// into an exception, DELETE cancels it. Either change lands on the series
// master, which gets a new version (a new changeKey and an entry in the
// calendar's delta), while the occurrence keeps its id.

// iCalUID is the iCalendar UID Exchange gives a new event; every
// occurrence of a series shares its master's.
func (s *Server) iCalUID(r ref) string {
	return fmt.Sprintf("040000008200E00074C5B7101A82E008%016X%016X",
		hashOf(s.t.seed, tagEvent, uint64(r.Owner), uint64(r.Serial)), hashOf(s.t.seed, tagEvent, uint64(r.Serial)))
}

// occurrenceAddress resolves the id of one occurrence of a series to the
// series master and the occurrence number. isOccurrence is false for ids of
// whole events, which the caller handles.
func (rq *request) occurrenceAddress(u *user, key string) (master view, n int, isOccurrence bool, err *apiError) {
	r, ok := rq.s.ids().decode(key)
	if !ok || r.Kind != kEvent || r.Sub == 0 {
		return view{}, 0, false, nil
	}
	if int(r.Owner) != u.idx {
		return view{}, 0, true, errItemNotFound()
	}
	mr := r
	mr.Sub = 0
	v, alive := rq.s.model.alive(mr)
	if !alive {
		return view{}, 0, true, errItemNotFound()
	}
	return v, int(r.Sub) - 1, true, nil
}

// patchEvent handles PATCH /users/{u}/events/{id} of an event, a series
// master, or one occurrence of a series.
func (rq *request) patchEvent() error {
	s := rq.s
	u, err := rq.mailboxUser()
	if err != nil {
		return err
	}
	v, n, isOccurrence, err := rq.occurrenceAddress(u, rq.params["event"])
	if err != nil {
		return err
	}
	if !isOccurrence {
		return rq.patchItem(kEvent, "event")
	}
	doc, err := rq.readJSONBody()
	if err != nil {
		return err
	}
	sh, ok := s.event(v).occurrenceShape(v.ref, n)
	if !ok {
		return errItemNotFound()
	}
	ex := occurrence{start: sh.start, end: sh.end, subject: sh.subject, vals: maps.Clone(sh.vals)}
	for k, x := range withoutServerAssigned(doc) {
		switch k {
		case "subject":
			ex.subject, _ = x.(string)
		case "start":
			dur := ex.end.Sub(ex.start)
			ex.start = parseGraphDateTime(x, ex.start)
			if _, endToo := doc["end"]; !endToo {
				ex.end = ex.start.Add(dur)
			}
		case "end":
			ex.end = parseGraphDateTime(x, ex.end)
		case "recurrence":
			// An occurrence has no recurrence of its own.
		default:
			if ex.vals == nil {
				ex.vals = map[string]any{}
			}
			ex.vals[k] = x
		}
	}
	if ex.end.Before(ex.start) {
		return errBadRequest("The end time of an event cannot be before its start time.")
	}
	m := s.model
	m.mu.Lock()
	cur, _ := m.viewLocked(v.ref)
	st := m.modifyLocked(cur)
	if st.exceptions == nil {
		st.exceptions = map[int]occurrence{}
	}
	st.exceptions[n] = ex
	m.mu.Unlock()
	nv, _ := m.view(v.ref)
	o, ok := s.occurrenceObject(nv, s.event(nv), n)
	if !ok {
		return errItemNotFound()
	}
	rq.sendJSON(http.StatusOK, o)
	return nil
}

// deleteEvent handles DELETE /users/{u}/events/{id} of an event, a series
// (with all its occurrences), or one occurrence, which is cancelled.
func (rq *request) deleteEvent() error {
	s := rq.s
	u, err := rq.mailboxUser()
	if err != nil {
		return err
	}
	v, n, isOccurrence, err := rq.occurrenceAddress(u, rq.params["event"])
	if err != nil {
		return err
	}
	if !isOccurrence {
		return rq.deleteItem(kEvent, "event")
	}
	if _, ok := s.event(v).occurrenceShape(v.ref, n); !ok {
		return errItemNotFound()
	}
	m := s.model
	m.mu.Lock()
	cur, _ := m.viewLocked(v.ref)
	st := m.modifyLocked(cur)
	if st.cancelled == nil {
		st.cancelled = map[int]bool{}
	}
	st.cancelled[n] = true
	delete(st.exceptions, n)
	m.mu.Unlock()
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}
