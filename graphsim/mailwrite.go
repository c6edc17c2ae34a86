package graphsim

import (
	"encoding/base64"
	"fmt"
	"mime"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// Write paths for mail: what a restore needs. Written messages keep the
// MIME or JSON the client sent; the simulator serves stored MIME back
// verbatim, so a restore of backed-up MIME round-trips byte for byte.

// storedMessage turns a written message into a spec.
func (s *Server) storedMessage(u *user, st *itemState) *msgSpec {
	var m *msgSpec
	if st.content != nil {
		m = specFromMIME(st.content)
	} else {
		m = specFromJSON(st.doc, st.createdAt)
	}
	if st.content != nil {
		// A message created from MIME is a draft, and the store stamps it
		// when it is saved: nothing in MIME sets PidTagMessageFlags, and
		// the flags cannot change once the item is saved
		// (learn.microsoft.com/graph/api/user-post-messages: "Create a
		// draft of a new message in either JSON or MIME format";
		// microsoftgraph/microsoft-graph-docs-contrib#2790, #8631).
		m.isDraft = true
		m.sent, m.received = st.createdAt, st.createdAt
		applyMessagePatch(m, st.doc)
	}
	// Exchange stamps an item's creation when the item enters the store;
	// only sent and received times come from the MIME.
	m.created = st.createdAt
	m.modified = st.modified
	if m.from.addr == "" {
		m.from = mailAddr{u.displayName, u.mail}
	}
	if m.sender.addr == "" {
		m.sender = m.from
	}
	return m
}

func specFromMIME(raw []byte) *msgSpec {
	m := &msgSpec{raw: raw, importance: "normal", flag: "notFlagged", isRead: true}
	p, err := parseMIME(raw)
	if err != nil {
		m.body = func() (string, string) { return "", "" }
		return m
	}
	m.subject, m.messageID = p.subject, p.messageID
	m.from, m.sender = p.from, p.from
	m.to, m.cc, m.bcc = p.to, p.cc, p.bcc
	m.sent, m.received, m.created = p.sent, p.received, p.received
	m.categories, m.importance = p.categories, p.importance
	m.conversationID = "AAQk" + base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%016x", hashOf(0, uint64(len(raw)), uint64(len(p.subject))))))
	text, html := p.text, p.html
	if html == "" {
		html = "<html><body><pre>" + htmlEscape(text) + "</pre></body></html>"
	}
	if text == "" {
		text = stripTags(html)
	}
	m.body = func() (string, string) { return text, html }
	for _, part := range p.attachments {
		part := part
		a := &attSpec{name: part.name, contentType: part.contentType, contentID: part.contentID,
			inline: part.inline, item: part.rfc822, size: len(part.data), modified: m.received}
		a.data = func() []byte { return part.data }
		if part.rfc822 {
			a.itemSpec = func() *msgSpec { return specFromMIME(part.data) }
		}
		m.atts = append(m.atts, a)
	}
	return m
}

var tagRE = regexp.MustCompile(`<[^>]*>`)

func stripTags(html string) string { return strings.TrimSpace(tagRE.ReplaceAllString(html, " ")) }

func jsonAddr(v any) mailAddr {
	m, _ := v.(map[string]any)
	ea, _ := m["emailAddress"].(map[string]any)
	name, _ := ea["name"].(string)
	addr, _ := ea["address"].(string)
	return mailAddr{name, addr}
}

func jsonAddrs(v any) []mailAddr {
	list, _ := v.([]any)
	out := make([]mailAddr, 0, len(list))
	for _, x := range list {
		if a := jsonAddr(x); a.addr != "" {
			out = append(out, a)
		}
	}
	return out
}

func jsonTime(v any, def time.Time) time.Time {
	if s, ok := v.(string); ok {
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.0000000", "2006-01-02T15:04:05"} {
			if t, err := time.Parse(layout, s); err == nil {
				return t.UTC()
			}
		}
	}
	return def
}

// specFromJSON builds a message from the JSON a client posted.
func specFromJSON(doc map[string]any, created time.Time) *msgSpec {
	m := &msgSpec{importance: "normal", flag: "notFlagged", isDraft: true}
	m.subject, _ = doc["subject"].(string)
	m.from = jsonAddr(doc["from"])
	m.sender = jsonAddr(doc["sender"])
	m.to, m.cc, m.bcc = jsonAddrs(doc["toRecipients"]), jsonAddrs(doc["ccRecipients"]), jsonAddrs(doc["bccRecipients"])
	m.sent = jsonTime(doc["sentDateTime"], created)
	m.received = jsonTime(doc["receivedDateTime"], m.sent)
	m.created = created
	if v, ok := doc["internetMessageId"].(string); ok && v != "" {
		m.messageID = v
	} else {
		m.messageID = fmt.Sprintf("<SIM%016X@%s>", hashOf(uint64(created.UnixNano()), uint64(len(m.subject))), "sim.local")
	}
	if v, ok := doc["isDraft"].(bool); ok {
		m.isDraft = v
	}
	// PR_MESSAGE_FLAGS (0x0E07) without mfUnsent (8) marks a restored
	// message as not a draft, which is how restore tools avoid drafts;
	// mfRead (1) as read (MS-OXCMSG 2.2.1.6).
	if props, ok := doc["singleValueExtendedProperties"].([]any); ok {
		for _, p := range props {
			pm, _ := p.(map[string]any)
			if id, _ := pm["id"].(string); strings.EqualFold(id, "Integer 0x0E07") {
				var flags int
				fmt.Sscan(fmt.Sprint(pm["value"]), &flags)
				m.isDraft = flags&8 != 0
				m.isRead = flags&1 != 0
			}
			if id, _ := pm["id"].(string); strings.EqualFold(id, "SystemTime 0x0E06") {
				m.received = jsonTime(pm["value"], m.received)
			}
			if id, _ := pm["id"].(string); strings.EqualFold(id, "SystemTime 0x0039") {
				m.sent = jsonTime(pm["value"], m.sent)
			}
		}
	}
	applyMessagePatch(m, doc)
	m.conversationID = "AAQk" + base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%016x", hashOf(uint64(len(m.subject)), uint64(m.sent.Unix())))))
	m.boundarySeed = hashOf(uint64(created.UnixNano()), 3)
	body, _ := doc["body"].(map[string]any)
	content, _ := body["content"].(string)
	ctype, _ := body["contentType"].(string)
	var text, html string
	if strings.EqualFold(ctype, "text") {
		text = content
		html = "<html><body><pre>" + htmlEscape(content) + "</pre></body></html>"
	} else {
		html = content
		text = stripTags(content)
	}
	m.body = func() (string, string) { return text, html }
	if atts, ok := doc["attachments"].([]any); ok {
		for _, x := range atts {
			if ad, ok := x.(map[string]any); ok {
				if sa, err := storedAttachmentFromJSON(ad, created); err == nil {
					m.atts = append(m.atts, sa.spec())
				}
			}
		}
	}
	return m
}

// createMessage handles POST .../messages with JSON or with base64 MIME in
// a text/plain body (Graph's "create message in MIME format").
func (rq *request) createMessage() error {
	s := rq.s
	u, err := rq.mailboxUser()
	if err != nil {
		return err
	}
	folderKey := rq.params["folder"]
	if folderKey == "" {
		folderKey = "drafts"
	}
	f, err := s.resolveFolder(kMailFolder, u, folderKey)
	if err != nil {
		return err
	}
	var content []byte
	var doc map[string]any
	ct, _, _ := mime.ParseMediaType(rq.r.Header.Get("Content-Type"))
	if ct == "text/plain" {
		body, rerr := rq.readBody(maxRequestBody)
		if rerr != nil {
			return rerr
		}
		raw, derr := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(body)), ""))
		if derr != nil {
			return newError(http.StatusBadRequest, "ErrorMimeContentInvalidBase64String", "Invalid base64 string for MIME content.")
		}
		if _, perr := parseMIME(raw); perr != nil {
			return newError(http.StatusBadRequest, "ErrorMimeContentConversionFailed", "Could not convert the MIME content: %s", perr.Error())
		}
		content = raw
	} else {
		if doc, err = rq.readJSONBody(); err != nil {
			return err
		}
	}
	m := s.model
	m.mu.Lock()
	st := m.createLocked(kMessage, uint32(u.idx), f.ref, ref{}, 0)
	st.content, st.doc = content, doc
	m.mu.Unlock()
	v, _ := m.view(st.ref)
	rq.sendJSON(http.StatusCreated, s.messageObject(v, s.message(v), false))
	return nil
}

// patchItem handles PATCH of a message, contact or event: properties merge
// into the item's stored document and the item gets a new version.
func (rq *request) patchItem(k kind, param string) error {
	s := rq.s
	u, err := rq.mailboxUser()
	if err != nil {
		return err
	}
	v, err := rq.lookupItem(k, u, rq.params[param])
	if err != nil {
		return err
	}
	doc, err := rq.readJSONBody()
	if err != nil {
		return err
	}
	if k != kMessage {
		doc = withoutServerAssigned(doc)
	}
	m := s.model
	m.mu.Lock()
	cur, _ := m.viewLocked(v.ref)
	st := m.modifyLocked(cur)
	merged := map[string]any{}
	for k, x := range st.doc {
		merged[k] = x
	}
	for k, x := range doc {
		merged[k] = x
	}
	st.doc = merged
	m.mu.Unlock()
	nv, _ := m.view(v.ref)
	rq.sendJSON(http.StatusOK, s.renderItem(nv))
	return nil
}

// renderItem renders any Exchange item view.
func (s *Server) renderItem(v view) object {
	switch v.ref.Kind {
	case kMessage:
		return s.messageObject(v, s.message(v), false)
	case kContact:
		return s.contactObject(v)
	case kEvent:
		return s.eventObject(v, s.event(v), false, eventExpansion{})
	}
	return object{{"id", s.ids().encode(v.ref)}}
}

func (rq *request) deleteItem(k kind, param string) error {
	u, err := rq.mailboxUser()
	if err != nil {
		return err
	}
	v, err := rq.lookupItem(k, u, rq.params[param])
	if err != nil {
		return err
	}
	m := rq.s.model
	m.mu.Lock()
	if cur, ok := m.viewLocked(v.ref); ok && m.aliveLocked(cur) {
		m.deleteLocked(cur)
	}
	m.mu.Unlock()
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}

// moveMessage handles POST .../messages/{id}/move {"destinationId": ...}.
func (rq *request) moveMessage() error {
	s := rq.s
	u, err := rq.mailboxUser()
	if err != nil {
		return err
	}
	v, err := rq.lookupItem(kMessage, u, rq.params["message"])
	if err != nil {
		return err
	}
	doc, err := rq.readJSONBody()
	if err != nil {
		return err
	}
	dest, _ := doc["destinationId"].(string)
	f, err := s.resolveFolder(kMailFolder, u, dest)
	if err != nil {
		return err
	}
	m := s.model
	m.mu.Lock()
	cur, _ := m.viewLocked(v.ref)
	nr := cur.ref
	if cur.container != f.ref {
		nr = m.moveLocked(cur, f.ref)
	}
	m.mu.Unlock()
	nv, _ := m.view(nr)
	rq.sendJSON(http.StatusCreated, s.messageObject(nv, s.message(nv), false))
	return nil
}

// ---- folders (mail and contacts) ----

func folderRender(s *Server, k kind) func(view) object {
	switch k {
	case kContactFolder:
		return s.contactFolderObject
	case kCalendar:
		return s.calendarObject
	}
	return s.mailFolderObject
}

// createFolder handles POST of mailFolders, childFolders, contactFolders
// and calendars.
func (rq *request) createFolder(k kind) error {
	s := rq.s
	u, err := rq.mailboxUser()
	if err != nil {
		return err
	}
	var parent view
	switch {
	case rq.params["folder"] != "":
		if parent, err = s.resolveFolder(k, u, rq.params["folder"]); err != nil {
			return err
		}
	case k == kMailFolder:
		if parent, err = s.resolveFolder(k, u, "msgfolderroot"); err != nil {
			return err
		}
	case k == kContactFolder:
		if parent, err = s.resolveFolder(k, u, "contacts"); err != nil {
			return err
		}
	}
	doc, err := rq.readJSONBody()
	if err != nil {
		return err
	}
	nameKey := "displayName"
	if k == kCalendar {
		nameKey = "name"
	}
	name, _ := doc[nameKey].(string)
	if strings.TrimSpace(name) == "" {
		return errBadRequest("The %s property is required.", nameKey)
	}
	var siblings []view
	if k == kCalendar {
		siblings = s.calendars(u)
	} else {
		siblings = s.subfolders(parent)
	}
	for _, sib := range siblings {
		if strings.EqualFold(s.folderName(sib), name) {
			return newError(http.StatusConflict, "ErrorFolderExists", "A folder with the specified name already exists.")
		}
	}
	m := s.model
	m.mu.Lock()
	st := m.createLocked(k, uint32(u.idx), parent.ref, ref{}, 0)
	st.name = name
	st.doc = doc
	m.mu.Unlock()
	v, _ := m.view(st.ref)
	rq.sendJSON(http.StatusCreated, folderRender(s, k)(v))
	return nil
}

func (rq *request) patchFolder(k kind) error {
	s := rq.s
	u, err := rq.mailboxUser()
	if err != nil {
		return err
	}
	f, err := s.resolveFolder(k, u, rq.params["folder"])
	if err != nil {
		return err
	}
	doc, err := rq.readJSONBody()
	if err != nil {
		return err
	}
	nameKey := "displayName"
	if k == kCalendar {
		nameKey = "name"
	}
	if name, ok := doc[nameKey].(string); ok && name != "" {
		m := s.model
		m.mu.Lock()
		cur, _ := m.viewLocked(f.ref)
		m.renameLocked(cur, name)
		m.mu.Unlock()
	}
	v, _ := s.model.view(f.ref)
	rq.sendJSON(http.StatusOK, folderRender(s, k)(v))
	return nil
}

func (rq *request) deleteFolder(k kind) error {
	s := rq.s
	u, err := rq.mailboxUser()
	if err != nil {
		return err
	}
	f, err := s.resolveFolder(k, u, rq.params["folder"])
	if err != nil {
		return err
	}
	if s.folderWellKnown(f.ref) != "" {
		return newError(http.StatusBadRequest, "ErrorDeleteDistinguishedFolder", "Distinguished folders cannot be deleted.")
	}
	m := s.model
	m.mu.Lock()
	cur, _ := m.viewLocked(f.ref)
	m.deleteLocked(cur)
	m.mu.Unlock()
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (rq *request) moveFolder(k kind) error {
	s := rq.s
	u, err := rq.mailboxUser()
	if err != nil {
		return err
	}
	f, err := s.resolveFolder(k, u, rq.params["folder"])
	if err != nil {
		return err
	}
	doc, err := rq.readJSONBody()
	if err != nil {
		return err
	}
	dest, _ := doc["destinationId"].(string)
	to, err := s.resolveFolder(k, u, dest)
	if err != nil {
		return err
	}
	if s.folderWellKnown(f.ref) != "" {
		return newError(http.StatusBadRequest, "ErrorMoveDistinguishedFolder", "Distinguished folders cannot be moved.")
	}
	m := s.model
	m.mu.Lock()
	cur, _ := m.viewLocked(f.ref)
	m.moveLocked(cur, to.ref)
	m.mu.Unlock()
	v, _ := m.view(f.ref)
	rq.sendJSON(http.StatusCreated, folderRender(s, k)(v))
	return nil
}
