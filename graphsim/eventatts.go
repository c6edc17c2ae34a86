package graphsim

import (
	"fmt"
	"maps"
	"net/http"
	"time"
)

// What an event's GET with $expand=exceptionOccurrences,attachments leaves
// out, and a backup fetches on its own:
//
//   - an item attachment (an attached message) comes without its item
//     unless the request says $expand=microsoft.graph.itemattachment/item,
//     which GET .../attachments and GET .../attachments/{id} take
//     (learn.microsoft.com/graph/api/attachment-get, the examples that get
//     an item attachment with its item);
//   - an exception (a changed occurrence of a series) has attachments of
//     its own, listed at GET /users/{id}/events/{occurrenceId}/attachments;
//     the exceptions that $expand=exceptionOccurrences returns do not
//     carry them (Corso fetches them one exception at a time:
//     alcionai/corso src/pkg/services/m365/api/events.go,
//     fixupExceptionOccurrences). Attachments are added to an occurrence
//     with POST to the same path, which makes it an exception.
//
// Exchange copies a series' attachments into an exception when the
// exception is made (Corso's events_restore.go updateAttachments deletes
// those "automatically inherited from series master"); the simulator does
// not: an exception lists its own attachments only, and its hasAttachments
// says whether it has any.

// Item attachments of generated events, and exceptions with attachments,
// come from hash streams of their own, so the rest of a generated event
// is what it was without them.
const (
	eventItemAttachmentRate      = 0.06
	exceptionAttachmentRate      = 0.6
	exceptionItemAttachmentRate  = 0.3
	slotEventItemAttachment      = 0xe // low bits of an attached message's coordinates
	slotExceptionItemAttachment  = 0xd
	maxOccurrenceAttachments     = 0xf   // per occurrence: 4 bits of an attachment's ref
	maxOccurrenceWithAttachments = 0x3fe // occurrence numbers: 10 bits of an attachment's ref
)

// genEventAttachments adds to generated event e (coordinates c) an
// attached message now and then, and attachments to some of its
// exceptions: a file, and sometimes an attached message.
func (s *Server) genEventAttachments(owner *user, c [3]uint64, e *eventSpec) {
	t := s.t
	r := newRNG(t.seed, tagAttachment, tagEvent, c[0], c[1], c[2], 1)
	if r.chance(eventItemAttachmentRate) {
		e.atts = append(e.atts, s.attachedMessage(owner, c, slotEventItemAttachment, e.created))
	}
	for _, n := range sortedKeysInt(e.exceptions) {
		if !r.chance(exceptionAttachmentRate) {
			continue
		}
		ak := hashOf(t.seed, tagAttachment, tagEvent, c[0], c[1], c[2], 2, uint64(n))
		ar := newRNG(ak)
		fk := fileKinds[ar.intn(len(fileKinds))]
		size := max(min(int(ar.logNormal(12<<10, 1.0)), int(t.opts.MaxAttachmentSize)), 1)
		atts := []*attSpec{{name: fmt.Sprintf("Notes %d.%s", n+1, fk.ext), contentType: fk.mime, size: size, modified: e.created,
			data: func() []byte { return contentOf(ak, int64(size), fk.text).bytes() }}}
		if ar.chance(exceptionItemAttachmentRate) {
			atts = append(atts, s.attachedMessage(owner, [3]uint64{c[0], c[1], c[2]<<8 | uint64(n)}, slotExceptionItemAttachment, e.created))
		}
		if e.occAtts == nil {
			e.occAtts = map[int][]*attSpec{}
		}
		e.occAtts[n] = atts
	}
}

// attachedMessage is an item attachment holding a generated message, one
// level deep, as mail's item attachments are (genMessage).
func (s *Server) attachedMessage(owner *user, c [3]uint64, slot uint64, modified time.Time) *attSpec {
	ic := [3]uint64{c[0], c[1] | embeddedMessage, c[2]<<4 | slot}
	a := &attSpec{item: true, modified: modified, size: -1}
	a.itemSpec = func() *msgSpec {
		im := s.genMessage(owner, ic, 0, "inbox")
		im.atts = nil
		return im
	}
	a.name = a.itemSpec().subject
	if a.name == "" {
		a.name = "Untitled"
	}
	a.data = func() []byte { return a.itemSpec().mime() }
	return a
}

// occurrenceAttachments completes e, the spec of event view v, with the
// attachments clients added to its occurrences, keeps those of its
// exceptions only (a cancelled exception loses them) and gives them ids.
func (s *Server) occurrenceAttachments(v view, e *eventSpec) {
	if v.st != nil {
		for _, n := range sortedKeysInt(v.st.occAtts) {
			if e.occAtts == nil {
				e.occAtts = map[int][]*attSpec{}
			}
			for _, sa := range v.st.occAtts[n] {
				e.occAtts[n] = append(e.occAtts[n], sa.spec())
			}
		}
	}
	for n, atts := range e.occAtts {
		if _, ok := e.exceptions[n]; !ok {
			delete(e.occAtts, n)
			continue
		}
		for i, a := range atts {
			a.ref = attachmentRef(occurrenceRef(v.ref, n), i)
		}
	}
}

// listedAttachments reports whether atts make an item's hasAttachments
// true: inline ones do not.
func listedAttachments(atts []*attSpec) bool {
	for _, a := range atts {
		if !a.inline {
			return true
		}
	}
	return false
}

// withExceptionAttachments adds to exception n of e, rendered as o, its
// attachments as its attachments list serves them with their items, when
// x asks for them and it has any.
func (s *Server) withExceptionAttachments(o object, e *eventSpec, n int, x eventExpansion) object {
	if !x.exceptionAttachments || !listedAttachments(e.occAtts[n]) {
		return o
	}
	atts := make([]any, len(e.occAtts[n]))
	for i, a := range e.occAtts[n] {
		atts[i] = s.attachmentObject(a, true)
	}
	return append(o, kv{"attachments", atts})
}

// An occurrence's attachment refs pack the occurrence number and the
// attachment's index into Sub, below the two top bits (0xC000) that tell
// them from a message's (0) and a whole event's (0x8000) attachments.
func occurrenceAttachmentSub(occurrenceSub uint16, i int) uint16 {
	return 0xC000 | (occurrenceSub&0x3ff)<<4 | uint16(i+1)&0xf
}

func occurrenceAttachmentParent(r ref) (ref, int, bool) {
	if r.Sub&0xC000 != 0xC000 {
		return ref{}, 0, false
	}
	p := r
	p.Kind, p.Sub = kEvent, (r.Sub>>4)&0x3ff
	return p, int(r.Sub&0xf) - 1, true
}

// occurrenceAttachmentOwner resolves an occurrence id whose attachments a
// call addresses: the view is the series master's with the occurrence's
// ref. isOccurrence is false for ids of whole events.
func (rq *request) occurrenceAttachmentOwner(u *user, key string) (view, []*attSpec, bool, *apiError) {
	master, n, isOccurrence, err := rq.occurrenceAddress(u, key)
	if !isOccurrence || err != nil {
		return view{}, nil, isOccurrence, err
	}
	e := rq.s.event(master)
	if _, ok := e.occurrenceShape(master.ref, n); !ok {
		return view{}, nil, true, errItemNotFound()
	}
	atts := e.occAtts[n]
	if rq.r.Method == http.MethodPost && (n >= maxOccurrenceWithAttachments || len(atts) >= maxOccurrenceAttachments) {
		return view{}, nil, true, newError(http.StatusBadRequest, "ErrorInvalidRequest",
			"graphsim holds at most %d attachments on an occurrence, of occurrences 1 to %d of a series.",
			maxOccurrenceAttachments, maxOccurrenceWithAttachments)
	}
	occ := master
	occ.ref = occurrenceRef(master.ref, n)
	return occ, atts, true, nil
}

// appendOccurrenceAttachment stores an attachment on one occurrence of a
// series (v: the master's view with the occurrence's ref), which becomes
// an exception if it was not one; the series master gets a new version.
func (s *Server) appendOccurrenceAttachment(v view, sa *storedAttachment) *attSpec {
	n := int(v.ref.Sub) - 1
	master := v.ref
	master.Sub = 0
	m := s.model
	mv, _ := m.view(master)
	sh, _ := s.event(mv).occurrenceShape(master, n)
	m.mu.Lock()
	cur, _ := m.viewLocked(master)
	st := m.modifyLocked(cur)
	if sh.typ != "exception" {
		if st.exceptions == nil {
			st.exceptions = map[int]occurrence{}
		}
		if _, ok := st.exceptions[n]; !ok {
			st.exceptions[n] = occurrence{start: sh.start, end: sh.end, subject: sh.subject, vals: maps.Clone(sh.vals)}
		}
	}
	if st.occAtts == nil {
		st.occAtts = map[int][]*storedAttachment{}
	}
	st.occAtts[n] = append(st.occAtts[n], sa)
	m.mu.Unlock()
	nv, _ := m.view(master)
	atts := s.event(nv).occAtts[n]
	return atts[len(atts)-1]
}
