package graphsim

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// msgSpec is a message as both JSON and MIME see it. Generated messages
// derive it from (seed, origin coordinates, version); written messages from
// their stored JSON or MIME. Body and attachment bytes are lazy.
type msgSpec struct {
	from, sender   mailAddr
	to, cc, bcc    []mailAddr
	subject        string
	sent, received time.Time
	created        time.Time
	modified       time.Time
	messageID      string
	conversationID string
	importance     string
	categories     []string
	isRead         bool
	isDraft        bool
	flag           string
	body           func() (text, html string)
	atts           []*attSpec
	raw            []byte // stored MIME served verbatim while unchanged
	boundarySeed   uint64
}

// attSpec is one attachment of a message or event.
type attSpec struct {
	ref         ref
	name        string
	contentType string
	contentID   string
	inline      bool
	item        bool
	size        int
	modified    time.Time
	data        func() []byte   // file bytes, or the MIME of an item attachment
	itemSpec    func() *msgSpec // item attachments
	unopenable  bool            // its body cannot be read (quirks.go)
}

// sizeOf is the attachment's size, rendering an embedded item if needed.
func (a *attSpec) sizeOf() int {
	if a.size < 0 {
		a.size = len(a.data())
	}
	return a.size
}

func (m *msgSpec) hasAttachments() bool {
	for _, a := range m.atts {
		if !a.inline {
			return true
		}
	}
	return false
}

// mime renders the message.
func (m *msgSpec) mime() []byte {
	if m.raw != nil {
		return m.raw
	}
	text, html := m.body()
	mm := &mimeMessage{
		from: m.from, to: m.to, cc: m.cc, bcc: m.bcc,
		subject: m.subject, sent: m.sent, received: m.received,
		messageID: m.messageID, importance: m.importance, categories: m.categories,
		text: text, html: html, boundarySeed: m.boundarySeed,
		hasNonInlineParts: m.hasAttachments(),
	}
	for _, a := range m.atts {
		mm.parts = append(mm.parts, mimePart{name: a.name, contentType: a.contentType,
			contentID: a.contentID, inline: a.inline, rfc822: a.item, data: a.data()})
	}
	return renderMIME(mm)
}

// msgCoords are the hash coordinates of a generated message's content.
func msgCoords(src ref) [3]uint64 {
	if src.Serial != 0 {
		return [3]uint64{uint64(src.Owner), 0xffffffff, uint64(src.Serial)}
	}
	return [3]uint64{uint64(src.Owner), uint64(src.Coll), uint64(src.Index)}
}

func (s *Server) otherPerson(r *rng, not int) mailAddr {
	t := s.t
	if r.chance(0.3) || t.nRegular < 2 {
		first, last := pick(r, firstNames), pick(r, lastNames)
		return mailAddr{first + " " + last, addressLocal(first, last) + "@" + pick(r, []string{"fabrikam.com", "example.org", "tailspintoys.com"})}
	}
	i := r.intn(t.nRegular)
	if i == not {
		i = (i + 1) % t.nRegular
	}
	u := t.users[i]
	return mailAddr{u.displayName, u.mail}
}

// genMessage derives a generated message. origin is the well-known key of
// the folder the message was generated in (it decides who sent it).
// embeddedMessage marks the coordinates of a message attached to another.
const embeddedMessage = 1 << 40

func (s *Server) genMessage(owner *user, c [3]uint64, version uint32, origin string) *msgSpec {
	t := s.t
	r := newRNG(t.seed, tagMessage, c[0], c[1], c[2])
	me := mailAddr{owner.displayName, owner.mail}
	m := &msgSpec{importance: "normal", flag: "notFlagged", boundarySeed: hashOf(t.seed, tagMessage, c[0], c[1], c[2], 7)}
	switch p := r.float(); {
	case p < 0.01:
		m.subject = ""
	case p < 0.03:
		m.subject = capitalize(pickWords(r, 40))
	default:
		m.subject = pick(r, subjectDecor) + capitalize(pickWords(r, r.between(3, 8)))
	}
	other := s.otherPerson(r, owner.idx)
	if origin == "sentitems" || origin == "drafts" {
		m.from = me
		m.to = []mailAddr{other}
	} else {
		m.from = other
		m.to = []mailAddr{me}
	}
	for n := r.intn(3); n > 0; n-- {
		m.to = append(m.to, s.otherPerson(r, owner.idx))
	}
	for n := r.intn(3) - 1; n > 0; n-- {
		m.cc = append(m.cc, s.otherPerson(r, owner.idx))
	}
	m.sender = m.from
	m.received = epoch.Add(-time.Duration(r.intn(730*24*3600)) * time.Second)
	m.sent = m.received.Add(-time.Duration(r.between(5, 300)) * time.Second)
	m.created, m.modified = m.received, m.received
	m.isDraft = origin == "drafts"
	switch p := r.float(); {
	case p < 0.10:
		m.importance = "high"
	case p < 0.15:
		m.importance = "low"
	}
	m.isRead = r.chance(0.7)
	if r.chance(0.05) {
		m.flag = "flagged"
	}
	if r.chance(0.1) {
		m.categories = []string{pick(r, []string{"Red category", "Blue category", "Projects ✓"})}
	}
	domain := m.from.addr[strings.IndexByte(m.from.addr, '@')+1:]
	m.messageID = fmt.Sprintf("<%016X%08X@%s>", r.next(), uint32(r.next()), domain)
	m.conversationID = fmt.Sprintf("AAQkA%016X%016X=", r.next(), uint64(c[0])<<32|uint64(r.next()&0xffffffff))
	words := min(int(r.logNormal(120, 1.0))+5, 8000)
	bodyKey := r.next()

	// Attachments.
	maxAtt := int(t.opts.MaxAttachmentSize)
	var atts []*attSpec
	if r.chance(0.25) {
		n := 1
		for n < 6 && r.chance(0.4) {
			n++
		}
		for i := 0; i < n; i++ {
			ak := hashOf(t.seed, tagAttachment, c[0], c[1], c[2], uint64(i))
			ar := newRNG(ak)
			a := &attSpec{modified: m.received}
			switch p := ar.float(); {
			case p < 0.12:
				a.inline = true
				a.name = fmt.Sprintf("image%03d.png", i+1)
				a.contentType = "image/png"
				a.contentID = fmt.Sprintf("image%03d.png@01DB%08X.%08X", i+1, uint32(ak), uint32(ak>>32))
				a.size = ar.between(200, 20000)
				size := a.size
				a.data = func() []byte { return pngLike(ak, size) }
			case p < 0.22:
				a.item = true
				if c[1]&embeddedMessage != 0 {
					// An embedded message's own attachments are dropped
					// (below); following its item attachments would
					// recurse, forever where their coordinates cycle.
					break
				}
				ic := [3]uint64{c[0], c[1] | embeddedMessage, c[2]<<4 | uint64(i)}
				a.itemSpec = func() *msgSpec {
					im := s.genMessage(owner, ic, 0, "inbox")
					im.atts = nil // embedded messages stay one level deep
					return im
				}
				inner := a.itemSpec()
				a.name = inner.subject
				if a.name == "" {
					a.name = "Untitled"
				}
				a.data = func() []byte { return a.itemSpec().mime() }
				a.size = -1 // computed on demand: it needs the embedded MIME
			default:
				fk := fileKinds[ar.intn(len(fileKinds))]
				a.name = fmt.Sprintf("%s %d.%s", pick(ar, fileStems), i+1, fk.ext)
				a.contentType = fk.mime
				size := int(ar.logNormal(24<<10, 1.5))
				if ar.chance(0.01) {
					size = maxAtt/2 + ar.intn(maxAtt/2+1)
				}
				a.size = max(min(size, maxAtt), 1)
				sz, text := a.size, fk.text
				a.data = func() []byte { return contentOf(ak, int64(sz), text).bytes() }
			}
			atts = append(atts, a)
		}
	}
	m.atts = atts
	var inlineIDs []string
	for _, a := range atts {
		if a.inline {
			inlineIDs = append(inlineIDs, a.contentID)
		}
	}
	m.body = func() (string, string) { return genBody(t.seed, bodyKey, words, inlineIDs) }

	if version > 0 {
		// Modifications are visible in both JSON and MIME (Keywords).
		if version%2 == 1 {
			m.isRead = !m.isRead
		}
		m.categories = append(append([]string(nil), m.categories...), fmt.Sprintf("Reviewed v%d", version))
		if version%3 == 0 {
			m.flag = "flagged"
		}
	}
	return m
}

// genBody renders a plain-text and an HTML body of about words words.
func genBody(seed, key uint64, words int, inlineIDs []string) (string, string) {
	r := newRNG(seed, tagMessage, key)
	var text, html strings.Builder
	html.WriteString("<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"></head><body><div>")
	for done := 0; done < words; {
		n := min(r.between(20, 80), words-done)
		p := capitalize(pickWords(r, n)) + "."
		done += n
		if text.Len() > 0 {
			text.WriteString("\r\n\r\n")
		}
		text.WriteString(p)
		html.WriteString("<p>")
		html.WriteString(htmlEscape(p))
		html.WriteString("</p>")
	}
	for _, id := range inlineIDs {
		html.WriteString(`<p><img src="cid:` + id + `"></p>`)
	}
	html.WriteString("</div></body></html>")
	return text.String(), html.String()
}

var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")

func htmlEscape(s string) string { return htmlEscaper.Replace(s) }

// pngLike returns size bytes that start like a PNG file.
func pngLike(key uint64, size int) []byte {
	b := contentOf(key, int64(size), false).bytes()
	copy(b, "\x89PNG\r\n\x1a\n")
	return b
}

// message returns the spec of a message view.
func (s *Server) message(v view) *msgSpec {
	u := s.t.users[v.ref.Owner]
	var m *msgSpec
	if v.src.isZero() && v.st != nil {
		m = s.storedMessage(u, v.st)
	} else {
		origin := ""
		if v.src.Serial == 0 {
			origin = s.folderWellKnown(ref{Kind: kMailFolder, Owner: v.src.Owner, Index: v.src.Coll})
		}
		m = s.genMessage(u, msgCoords(v.src), v.version, origin)
		if s.t.quirkOf(v.src) == quirkCannotOpen {
			c := msgCoords(v.src)
			m.atts = append(m.atts, unopenableAttachment(hashOf(s.t.seed, tagAttachment, c[0], c[1], c[2], 0xbad), m))
		}
		if v.st != nil {
			applyMessagePatch(m, v.st.doc)
			if v.version > 0 || v.st.doc != nil {
				m.modified = v.st.modified
			}
		}
	}
	// Attachment ids follow the message id; written attachments come last.
	for i, a := range m.atts {
		a.ref = attachmentRef(v.ref, i)
	}
	if v.st != nil {
		for _, sa := range v.st.storedAtts {
			a := sa.spec()
			a.ref = attachmentRef(v.ref, len(m.atts))
			m.atts = append(m.atts, a)
			m.raw = nil // the stored MIME no longer describes the message
		}
	}
	return m
}

func attachmentRef(parent ref, i int) ref {
	r := parent
	sub := uint16(i + 1)
	if parent.Kind == kEvent {
		sub |= 0x8000
		if parent.Sub != 0 {
			sub = occurrenceAttachmentSub(parent.Sub, i)
		}
	}
	r.Kind, r.Sub = kAttachment, sub
	return r
}

func attachmentParent(r ref) (ref, int) {
	if occ, i, ok := occurrenceAttachmentParent(r); ok {
		return occ, i
	}
	p := r
	p.Kind = kMessage
	if r.Sub&0x8000 != 0 {
		p.Kind = kEvent
	}
	p.Sub = 0
	return p, int(r.Sub&0x7fff) - 1
}

// applyMessagePatch applies PATCHed properties of a generated message.
func applyMessagePatch(m *msgSpec, doc map[string]any) {
	if doc == nil {
		return
	}
	if v, ok := doc["isRead"].(bool); ok {
		m.isRead = v
	}
	if v, ok := doc["subject"].(string); ok {
		m.subject = v
	}
	if v, ok := doc["importance"].(string); ok {
		m.importance = v
	}
	if v, ok := doc["categories"].([]any); ok {
		m.categories = toStrings(v)
	}
	if f, ok := doc["flag"].(map[string]any); ok {
		if st, ok := f["flagStatus"].(string); ok {
			m.flag = st
		}
	}
}

func toStrings(v []any) []string {
	out := make([]string, 0, len(v))
	for _, x := range v {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// messageObject renders a message as Graph JSON.
func (s *Server) messageObject(v view, m *msgSpec, withType bool) object {
	id := s.ids().encode(v.ref)
	ck := s.changeKey(v.ref, v.version)
	o := make(object, 0, 32)
	if withType {
		o = append(o, kv{"@odata.type", "#microsoft.graph.message"})
	}
	o = append(o,
		kv{"@odata.etag", `W/"` + ck + `"`},
		kv{"id", id},
		kv{"createdDateTime", lazyTime(m.created)},
		kv{"lastModifiedDateTime", lazyTime(m.modified)},
		kv{"changeKey", ck},
		kv{"categories", nonNil(m.categories)},
		kv{"receivedDateTime", lazyTime(m.received)},
		kv{"sentDateTime", lazyTime(m.sent)},
		kv{"hasAttachments", m.hasAttachments()},
		kv{"internetMessageId", m.messageID},
		kv{"subject", m.subject},
		kv{"bodyPreview", lazy(func() any {
			text, _ := m.body()
			return preview(text)
		})},
		kv{"importance", m.importance},
		kv{"parentFolderId", lazy(func() any { return s.ids().encode(v.container) })},
		kv{"conversationId", m.conversationID},
		kv{"conversationIndex", lazy(func() any { return b64std([]byte(m.conversationID[:16])) })},
		kv{"isDeliveryReceiptRequested", false},
		kv{"isReadReceiptRequested", false},
		kv{"isRead", m.isRead},
		kv{"isDraft", m.isDraft},
		kv{"webLink", lazy(func() any {
			return "https://outlook.office365.com/owa/?ItemID=" + escapeQuery(id) + "&exvsurl=1&viewmodel=ReadMessageItem"
		})},
		kv{"inferenceClassification", "focused"},
		kv{"body", lazy(func() any {
			_, html := m.body()
			return map[string]any{"contentType": "html", "content": html}
		})},
		kv{"sender", lazy(func() any { return m.sender.json() })},
		kv{"from", lazy(func() any { return m.from.json() })},
		kv{"toRecipients", lazy(func() any { return recipientsJSON(m.to) })},
		kv{"ccRecipients", lazy(func() any { return recipientsJSON(m.cc) })},
		kv{"bccRecipients", lazy(func() any { return recipientsJSON(m.bcc) })},
		kv{"replyTo", []any{}},
		kv{"flag", lazy(func() any { return map[string]any{"flagStatus": m.flag} })},
	)
	return o
}

func lazyTime(t time.Time) lazy { return func() any { return ts(t) } }

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func preview(text string) string {
	text = strings.Join(strings.Fields(text), " ")
	if r := []rune(text); len(r) > 255 {
		return string(r[:255])
	}
	return text
}

// messageKnownProps lists what $select may name on a message.
var messageKnownProps = object{
	{"id", nil}, {"createdDateTime", nil}, {"lastModifiedDateTime", nil}, {"changeKey", nil},
	{"categories", nil}, {"receivedDateTime", nil}, {"sentDateTime", nil}, {"hasAttachments", nil},
	{"internetMessageId", nil}, {"subject", nil}, {"bodyPreview", nil}, {"importance", nil},
	{"parentFolderId", nil}, {"conversationId", nil}, {"conversationIndex", nil},
	{"isDeliveryReceiptRequested", nil}, {"isReadReceiptRequested", nil}, {"isRead", nil},
	{"isDraft", nil}, {"webLink", nil}, {"inferenceClassification", nil}, {"body", nil},
	{"sender", nil}, {"from", nil}, {"toRecipients", nil}, {"ccRecipients", nil},
	{"bccRecipients", nil}, {"replyTo", nil}, {"flag", nil},
}

// lookupItem resolves an Exchange item id of kind k in u's mailbox.
func (rq *request) lookupItem(k kind, u *user, key string) (view, *apiError) {
	r, ok := rq.s.ids().decode(key)
	if !ok {
		return view{}, newError(http.StatusBadRequest, "ErrorInvalidIdMalformed", "Id is malformed.")
	}
	if r.Kind != k || int(r.Owner) != u.idx {
		return view{}, errItemNotFound()
	}
	v, alive := rq.s.model.alive(r)
	if !alive {
		return view{}, errItemNotFound()
	}
	return v, nil
}

// ---- mail folders ----

func (s *Server) mailFolderObject(v view) object {
	items, subs := s.folderCounts(v)
	parent := ""
	if !v.container.isZero() {
		parent = s.ids().encode(v.container)
	}
	unread := items / 3
	return object{
		{"id", s.ids().encode(v.ref)},
		{"displayName", s.folderName(v)},
		{"parentFolderId", parent},
		{"childFolderCount", subs},
		{"unreadItemCount", unread},
		{"totalItemCount", items},
		{"sizeInBytes", items * 12000},
		{"isHidden", false},
	}
}

func (rq *request) listMailFolders() error {
	u, err := rq.mailboxUser()
	if err != nil {
		return err
	}
	root, err := rq.s.resolveFolder(kMailFolder, u, "msgfolderroot")
	if err != nil {
		return err
	}
	var folders []view
	if rq.version == "beta" {
		// Corso lists beta mailFolders because it returns nested folders.
		c := rq.s.treeCollection(kMailFolder, u)
		folders = rq.s.folderMembers(c)
	} else {
		folders = rq.s.subfolders(root)
	}
	return rq.writeFolderList(folders, "users/"+u.id+"/mailFolders", rq.s.mailFolderObject, "mailFolder", mailFolderKnownProps)
}

func (rq *request) listChildFolders(k kind, render func(view) object, typeName string, known object) error {
	u, err := rq.mailboxUser()
	if err != nil {
		return err
	}
	f, err := rq.s.resolveFolder(k, u, rq.params["folder"])
	if err != nil {
		return err
	}
	seg := "mailFolders"
	if k == kContactFolder {
		seg = "contactFolders"
	}
	return rq.writeFolderList(rq.s.subfolders(f), "users/"+u.id+"/"+seg+"/"+rq.s.ids().encode(f.ref)+"/childFolders", render, typeName, known)
}

func (rq *request) writeFolderList(folders []view, path string, render func(view) object, typeName string, known object) error {
	t, err := rq.listOptions()
	if err != nil {
		return err
	}
	objs := make([]object, len(folders))
	for i, f := range folders {
		objs[i] = render(f)
	}
	sel, err := selectList(t.Sel, typeName, known)
	if err != nil {
		return err
	}
	objs, _, err = applyFilter(t.Filter, objs)
	if err != nil {
		return err
	}
	items := make([]any, len(objs))
	for i, o := range objs {
		items[i] = o.project(sel)
	}
	return rq.writeList(path, path, t, items, rq.listPageSize(t, 10, 1000))
}

func (rq *request) getMailFolder() error {
	return rq.getFolder(kMailFolder, rq.s.mailFolderObject, "mailFolder", mailFolderKnownProps)
}

func (rq *request) getFolder(k kind, render func(view) object, typeName string, known object) error {
	u, err := rq.mailboxUser()
	if err != nil {
		return err
	}
	f, err := rq.s.resolveFolder(k, u, rq.params["folder"])
	if err != nil {
		return err
	}
	sel, err := selectList(rq.q.sel, typeName, known)
	if err != nil {
		return err
	}
	rq.sendJSON(http.StatusOK, render(f).project(sel))
	return nil
}

// ---- messages ----

func (rq *request) getMessage() error {
	u, err := rq.mailboxUser()
	if err != nil {
		return err
	}
	v, err := rq.lookupItem(kMessage, u, rq.params["message"])
	if err != nil {
		return err
	}
	sel, err := selectList(rq.q.sel, "message", messageKnownProps)
	if err != nil {
		return err
	}
	m := rq.s.message(v)
	o := rq.s.messageObject(v, m, false).project(sel)
	if strings.Contains(strings.ToLower(rq.q.expand), "attachments") {
		o = append(o, kv{"attachments", rq.s.attachmentObjects(m, true, nil)})
	}
	rq.fetchedItem("message", rq.s.ids().encode(v.ref))
	rq.sendJSON(http.StatusOK, o)
	return nil
}

func (rq *request) getMessageMIME() error {
	u, err := rq.mailboxUser()
	if err != nil {
		return err
	}
	v, err := rq.lookupItem(kMessage, u, rq.params["message"])
	if err != nil {
		return err
	}
	b := rq.s.message(v).mime()
	rq.fetchedItem("message.mime", rq.s.ids().encode(v.ref))
	rq.sendBytes("message/rfc822", b)
	return nil
}

func (rq *request) sendBytes(ct string, b []byte) {
	h := rq.w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Length", itoa64(int64(len(b))))
	rq.w.WriteHeader(http.StatusOK)
	rq.s.faults.writeBody(rq.httpCtx, b)
}

// listMessages is the non-delta listing of a folder. Like Graph, it
// annotates no @odata.type on plain messages.
func (rq *request) listMessages() error {
	return rq.listFolderItems(kMailFolder, "message", messageKnownProps, "messages", func(v view) object {
		return rq.s.messageObject(v, rq.s.message(v), false)
	})
}

func (rq *request) listFolderItems(k kind, typeName string, known object, seg string, render func(view) object) error {
	u, err := rq.mailboxUser()
	if err != nil {
		return err
	}
	f, err := rq.s.resolveFolder(k, u, rq.params["folder"])
	if err != nil {
		return err
	}
	t, err := rq.listOptions()
	if err != nil {
		return err
	}
	sel, err := selectList(t.Sel, typeName, known)
	if err != nil {
		return err
	}
	members := rq.s.folderMembers(rq.s.itemsCollection(f))
	var filter filterExpr
	if t.Filter != "" {
		e, _, ferr := parseFilter(t.Filter)
		if ferr != nil {
			return errBadRequest("Invalid filter clause: %s", ferr.Error())
		}
		filter = e
	}
	size := rq.listPageSize(t, 10, 1000)
	var items []any
	// Only the requested page is rendered; a filter needs every object.
	if filter == nil {
		end := min(t.Off+size, len(members))
		items = make([]any, len(members))
		for i := t.Off; i < end; i++ {
			items[i] = render(members[i]).project(sel)
		}
	} else {
		for _, v := range members {
			o := render(v)
			if filter.eval(objectGetter(o)) {
				items = append(items, o.project(sel))
			}
		}
	}
	folderSeg := map[kind]string{kMailFolder: "mailFolders", kContactFolder: "contactFolders", kCalendar: "calendars"}[k]
	return rq.writeList("users/"+u.id+"/"+folderSeg+"/"+rq.s.ids().encode(f.ref)+"/"+seg, seg, t, items, size)
}

// ---- deltas of Exchange folders ----

// exchangeDelta serves messages/contacts/events delta of one folder.
func (rq *request) exchangeDelta(k kind, typeName string, known object, seg string, render func(view) object) error {
	s := rq.s
	u, err := rq.mailboxUser()
	if err != nil {
		return err
	}
	f, ferr := s.resolveFolder(k, u, rq.params["folder"])
	if ferr != nil {
		if ferr.status == http.StatusNotFound {
			return newError(http.StatusNotFound, "ErrorSyncFolderNotFound", "The specified folder could not be found in the store.")
		}
		return ferr
	}
	c := s.itemsCollection(f)
	folderSeg := map[kind]string{kMailFolder: "mailFolders", kContactFolder: "contactFolders", kCalendar: "calendars"}[k]
	path := "users/" + u.id + "/" + folderSeg + "('" + s.ids().encode(f.ref) + "')/" + seg + "/delta"
	return rq.serveDelta(c, path, typeName, known, render)
}

// serveDelta runs one delta call over c and writes the page.
func (rq *request) serveDelta(c collection, path, typeName string, known object, render func(view) object) error {
	return rq.serveDeltaWith(c, path, typeName, known, nil, func(e deltaEntry, tok *deltaToken, filter filterExpr) []any {
		if e.removed {
			return []any{rq.s.removedObject(e.v, c.service)}
		}
		o := render(e.v)
		if filter != nil && !filter.eval(objectGetter(o)) {
			return nil
		}
		if c.service == "drive" {
			return []any{projectDriveItem(o, tok.Sel)}
		}
		return []any{o.project(tok.Sel)}
	})
}

// serveDeltaWith handles tokens, expiry and paging; emit turns each entry
// into response values. start gives extra state for a new round (nil: none).
func (rq *request) serveDeltaWith(c collection, path, typeName string, known object, start func() (map[string]string, *apiError),
	emit func(e deltaEntry, tok *deltaToken, filter filterExpr) []any) error {
	s := rq.s
	var tok *deltaToken
	raw := firstNonEmpty(rq.q.skiptoken, rq.q.deltatoken, rq.q.token, rq.fnArgs["token"])
	fresh := rq.graphLink(path)
	switch {
	case raw == "latest" && c.service == "drive":
		tok = s.latestToken(c, rq.q.sel, rq.q.top, nil)
		rq.writeDeltaPage(deltaPage{delta: tok}, path, nil, c.service)
		return nil
	case raw != "":
		var ok bool
		tok, ok = s.deltaTokens.decodeDelta(raw)
		if !ok || tok.coll() != c.key {
			if c.service == "drive" {
				return errInvalidRequest("Invalid token.")
			}
			return newError(http.StatusBadRequest, "ErrorInvalidUrlQuery", "The value of the delta token is invalid.")
		}
		if code, expired := s.tokenExpired(c, tok); expired {
			return s.expiredDeltaError(c.service, code, fresh)
		}
	default:
		sel, err := selectList(rq.q.sel, typeName, known, "content.downloadUrl")
		if err != nil {
			return err
		}
		var extra map[string]string
		if start != nil {
			if extra, err = start(); err != nil {
				return err
			}
		}
		if rq.q.filter != "" {
			if _, _, ferr := parseFilter(rq.q.filter); ferr != nil {
				return errBadRequest("Invalid filter clause: %s", ferr.Error())
			}
			if extra == nil {
				extra = map[string]string{}
			}
			extra["filter"] = rq.q.filter
		}
		tok = s.startToken(c, sel, rq.q.top, extra)
	}
	size := pageSizeFor(c.service, rq.pref, tok.Top)
	if c.service != "drive" && tok.Top > 0 && rq.pref.maxPageSize == 0 {
		size = min(tok.Top, 1000)
	}
	first := raw == "" || tok.Link // the first page of a round
	page := s.runDelta(c, tok, size)
	if rq.deltaPageLimit > 0 && len(page.entries) > rq.deltaPageLimit {
		return errEventPageTooLarge()
	}
	if err := rq.deltaTransient(first, page); err != nil {
		return err
	}
	var filter filterExpr
	if f := tok.Extra["filter"]; f != "" {
		filter, _, _ = parseFilter(f)
	}
	values := make([]any, 0, len(page.entries))
	for _, e := range page.entries {
		values = append(values, emit(e, tok, filter)...)
	}
	rq.writeDeltaPage(page, path, values, c.service)
	return nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func (rq *request) writeDeltaPage(page deltaPage, path string, values []any, service string) {
	s := rq.s
	p := collectionPage{Context: rq.graphLink("$metadata#Collection"), Value: values}
	nextParam, deltaParam := "$skiptoken", "$deltatoken"
	if service == "drive" {
		nextParam, deltaParam = "token", "token"
	}
	if page.next != nil {
		p.NextLink = rq.graphLink(path) + "?" + nextParam + "=" + escapeQuery(s.deltaTokens.encodeDelta(*page.next))
	}
	if page.delta != nil {
		p.DeltaLink = rq.graphLink(path) + "?" + deltaParam + "=" + escapeQuery(s.deltaTokens.encodeDelta(*page.delta))
	}
	rq.sendJSON(http.StatusOK, p)
}

// removedObject is how a delta reports an object that left the collection.
func (s *Server) removedObject(v view, service string) object {
	id := s.ids().encode(v.ref)
	switch service {
	case "drive":
		return s.deletedDriveItem(v)
	}
	t := map[kind]string{kMessage: "#microsoft.graph.message", kContact: "#microsoft.graph.contact",
		kEvent: "#microsoft.graph.event", kMailFolder: "#microsoft.graph.mailFolder", kContactFolder: "#microsoft.graph.contactFolder"}[v.ref.Kind]
	return object{{"@odata.type", t}, {"id", id}, {"@removed", map[string]any{"reason": "deleted"}}}
}

func (rq *request) messagesDelta() error {
	return rq.exchangeDelta(kMailFolder, "message", messageKnownProps, "messages", func(v view) object {
		return rq.s.messageObject(v, rq.s.message(v), true)
	})
}

func (rq *request) mailFoldersDelta() error {
	u, err := rq.mailboxUser()
	if err != nil {
		return err
	}
	c := rq.s.treeCollection(kMailFolder, u)
	return rq.serveDelta(c, "users/"+u.id+"/mailFolders/delta", "mailFolder", mailFolderKnownProps, rq.s.mailFolderObject)
}

func b64std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func escapeQuery(s string) string { return url.QueryEscape(s) }

// mailFolderKnownProps lists what $select may name on a mail folder.
var mailFolderKnownProps = object{{"id", nil}, {"displayName", nil}, {"parentFolderId", nil},
	{"childFolderCount", nil}, {"unreadItemCount", nil}, {"totalItemCount", nil}, {"sizeInBytes", nil},
	{"isHidden", nil}}

// content is what a message says and its state: its addresses, subject,
// times, whether it is a draft or read, its follow-up flag, importance,
// categories, HTML body, and each attachment by name, type, placement and
// content (an attached message by what it says, without the state an
// attached copy does not have).
func (m *msgSpec) content() string { return m.contentOf(true) }

func (m *msgSpec) contentOf(state bool) string {
	var b strings.Builder
	addrs := func(l []mailAddr) {
		for _, a := range l {
			b.WriteString(a.String() + ";")
		}
		b.WriteByte('\n')
	}
	b.WriteString(m.from.String() + "\n")
	addrs(m.to)
	addrs(m.cc)
	addrs(m.bcc)
	_, html := m.body()
	fmt.Fprintf(&b, "%s\n%s\n%s\n%t %t %s\n%s\n%q\n%s\n", m.subject, m.sent.UTC().Format(time.RFC3339), m.received.UTC().Format(time.RFC3339),
		m.isDraft, m.isRead && state, map[bool]string{true: m.flag}[state], m.importance, m.categories, strings.ReplaceAll(html, "\r\n", "\n"))
	var atts []string
	for _, a := range m.atts {
		what := ""
		if a.item && a.itemSpec != nil {
			what = "item:" + sha256Hex([]byte(a.itemSpec().contentOf(false)))
		} else {
			what = sha256Hex(a.data())
		}
		atts = append(atts, fmt.Sprintf("%s|%s|%t|%s|%s", a.name, a.contentType, a.inline, a.contentID, what))
	}
	sort.Strings(atts)
	b.WriteString(strings.Join(atts, "\n"))
	return b.String()
}
