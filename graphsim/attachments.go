package graphsim

import (
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"
)

// Attachments of messages and events. Graph lists all attachments of an
// item in one page (attachment paging is unreliable in real Graph, and
// clients do not rely on it).

// storedAttachment is an attachment a client wrote.
type storedAttachment struct {
	name, contentType, contentID string
	inline                       bool
	item                         map[string]any // itemAttachment: the embedded item's JSON
	data                         []byte
	modified                     time.Time
}

func (sa *storedAttachment) spec() *attSpec {
	a := &attSpec{name: sa.name, contentType: sa.contentType, contentID: sa.contentID,
		inline: sa.inline, modified: sa.modified}
	if sa.item != nil {
		a.item = true
		doc := sa.item
		a.itemSpec = func() *msgSpec { return specFromJSON(doc, time.Time{}) }
		b := a.itemSpec().mime()
		a.data = func() []byte { return b }
		a.size = len(b)
		return a
	}
	data := sa.data
	a.data = func() []byte { return data }
	a.size = len(data)
	return a
}

func (s *Server) attachmentObject(a *attSpec, expandItem bool) object {
	id := s.ids().encode(a.ref)
	if a.item {
		o := object{
			{"@odata.type", "#microsoft.graph.itemAttachment"},
			{"id", id},
			{"lastModifiedDateTime", ts(a.modified)},
			{"name", a.name},
			{"contentType", nil},
			{"size", lazy(func() any { return a.sizeOf() })},
			{"isInline", false},
		}
		if expandItem {
			im := a.itemSpec()
			item := object{
				{"@odata.type", "#microsoft.graph.message"},
				{"createdDateTime", ts(im.created)},
				{"lastModifiedDateTime", ts(im.modified)},
				{"receivedDateTime", ts(im.received)},
				{"sentDateTime", ts(im.sent)},
				{"hasAttachments", im.hasAttachments()},
				{"internetMessageId", im.messageID},
				{"subject", im.subject},
				{"importance", im.importance},
				{"body", lazy(func() any {
					_, html := im.body()
					return map[string]any{"contentType": "html", "content": html}
				})},
				{"from", im.from.json()},
				{"sender", im.sender.json()},
				{"toRecipients", recipientsJSON(im.to)},
				{"ccRecipients", recipientsJSON(im.cc)},
				{"bccRecipients", recipientsJSON(im.bcc)},
			}
			o = append(o, kv{"item", item})
		}
		return o
	}
	var cid any
	if a.contentID != "" {
		cid = a.contentID
	}
	return object{
		{"@odata.type", "#microsoft.graph.fileAttachment"},
		{"@odata.mediaContentType", a.contentType},
		{"id", id},
		{"lastModifiedDateTime", ts(a.modified)},
		{"name", a.name},
		{"contentType", a.contentType},
		{"size", lazy(func() any { return a.sizeOf() })},
		{"isInline", a.inline},
		{"contentId", cid},
		{"contentLocation", nil},
		{"contentBytes", lazy(func() any { return base64.StdEncoding.EncodeToString(a.data()) })},
	}
}

var attachmentKnownProps = object{{"id", nil}, {"lastModifiedDateTime", nil}, {"name", nil},
	{"contentType", nil}, {"size", nil}, {"isInline", nil}, {"contentId", nil},
	{"contentLocation", nil}, {"contentBytes", nil}, {"item", nil}}

// expandsItem reports whether $expand asks for an item attachment's item:
// Graph serves it only for $expand=microsoft.graph.itemattachment/item
// (learn.microsoft.com/graph/api/attachment-get, the examples that get an
// item attachment with its item).
func expandsItem(expand string) bool {
	return strings.Contains(strings.ToLower(expand), "itemattachment/item")
}

func (s *Server) attachmentObjects(m *msgSpec, expand bool, sel []string) []any {
	out := make([]any, len(m.atts))
	for i, a := range m.atts {
		out[i] = s.attachmentObject(a, expand).project(sel)
	}
	return out
}

// attachmentOwner resolves the message or event whose attachments a call
// addresses and returns its attachments.
func (rq *request) attachmentOwner() (view, []*attSpec, *apiError) {
	u, err := rq.mailboxUser()
	if err != nil {
		return view{}, nil, err
	}
	if id, ok := rq.params["message"]; ok {
		v, err := rq.lookupItem(kMessage, u, id)
		if err != nil {
			return view{}, nil, err
		}
		return v, rq.s.message(v).atts, nil
	}
	if v, atts, isOccurrence, err := rq.occurrenceAttachmentOwner(u, rq.params["event"]); isOccurrence || err != nil {
		return v, atts, err
	}
	v, err := rq.lookupItem(kEvent, u, rq.params["event"])
	if err != nil {
		return view{}, nil, err
	}
	return v, rq.s.event(v).atts, nil
}

func (rq *request) listAttachments() error {
	v, atts, err := rq.attachmentOwner()
	if err != nil {
		return err
	}
	sel, err := selectList(rq.q.sel, "attachment", attachmentKnownProps)
	if err != nil {
		return err
	}
	expand := expandsItem(rq.q.expand)
	values := make([]any, len(atts))
	for i, a := range atts {
		values[i] = rq.s.attachmentObject(a, expand).project(sel)
		if len(sel) == 0 || containsFold(sel, "contentBytes") {
			rq.fetchedItem("attachment", rq.s.ids().encode(a.ref))
		}
	}
	seg := "messages"
	if v.ref.Kind == kEvent {
		seg = "events"
	}
	rq.sendJSON(http.StatusOK, collectionPage{
		Context: rq.graphLink("$metadata#users('" + rq.s.t.users[v.ref.Owner].id + "')/" + seg + "('" + rq.s.ids().encode(v.ref) + "')/attachments"),
		Value:   values,
	})
	return nil
}

func containsFold(xs []string, s string) bool {
	for _, x := range xs {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

func (rq *request) findAttachment() (*attSpec, *apiError) {
	v, atts, err := rq.attachmentOwner()
	if err != nil {
		return nil, err
	}
	r, ok := rq.s.ids().decodeKind(rq.params["attachment"], kAttachment)
	if !ok {
		return nil, newError(http.StatusBadRequest, "ErrorInvalidIdMalformed", "Id is malformed.")
	}
	parent, i := attachmentParent(r)
	if parent != v.ref || i < 0 || i >= len(atts) {
		return nil, errItemNotFound()
	}
	return atts[i], nil
}

func (rq *request) getAttachment() error {
	a, err := rq.findAttachment()
	if err != nil {
		return err
	}
	sel, err := selectList(rq.q.sel, "attachment", attachmentKnownProps)
	if err != nil {
		return err
	}
	rq.fetchedItem("attachment", rq.s.ids().encode(a.ref))
	rq.sendJSON(http.StatusOK, rq.s.attachmentObject(a, expandsItem(rq.q.expand)).project(sel))
	return nil
}

func (rq *request) getAttachmentValue() error {
	a, err := rq.findAttachment()
	if err != nil {
		return err
	}
	ct := a.contentType
	if a.item {
		ct = "message/rfc822"
	}
	if ct == "" {
		ct = "application/octet-stream"
	}
	rq.fetchedItem("attachment", rq.s.ids().encode(a.ref))
	rq.sendBytes(ct, a.data())
	return nil
}

// readBody reads a Graph request body of at most limit bytes, decoded
// from gzip when Content-Encoding says so: the SDKs compress request
// bodies by default, and Graph accepts them.
func (rq *request) readBody(limit int64) ([]byte, *apiError) {
	var r io.Reader = rq.r.Body
	if strings.EqualFold(strings.TrimSpace(rq.r.Header.Get("Content-Encoding")), "gzip") {
		zr, err := gzip.NewReader(rq.r.Body)
		if err != nil {
			return nil, errBadRequest("Cannot read the request body.")
		}
		defer zr.Close()
		r = zr
	}
	body, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, errBadRequest("Cannot read the request body.")
	}
	if int64(len(body)) > limit {
		return nil, newError(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "The maximum request length supported is 4MB.")
	}
	return body, nil
}

// maxRequestBody bounds every Graph request but an upload session's
// chunks: "there is a 4MB limit on the size of a request"
// (microsoftgraph/microsoft-graph-docs#85, #11806; python-o365#308 shows
// the 413 a larger body gets).
const maxRequestBody = 4 << 20

// readJSONBody decodes a JSON request body into a generic map.
func (rq *request) readJSONBody() (map[string]any, *apiError) {
	body, err := rq.readBody(maxRequestBody)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, errBadRequest("Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")
	}
	return doc, nil
}

// maxPostedAttachmentSize bounds the file one POST .../attachments may
// carry: Graph takes requests of at most 4 MB, which base64 content of
// 3 MB already fills. Larger files go through an upload session.
const maxPostedAttachmentSize = 3 << 20

// addAttachment handles POST .../attachments.
func (rq *request) addAttachment() error {
	v, _, err := rq.attachmentOwner()
	if err != nil {
		return err
	}
	doc, err := rq.readJSONBody()
	if err != nil {
		return err
	}
	sa, err := storedAttachmentFromJSON(doc, rq.s.now())
	if err != nil {
		return err
	}
	if len(sa.data) >= maxPostedAttachmentSize {
		return newError(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "The maximum request length supported is 4MB.")
	}
	a := rq.s.appendAttachment(v, sa)
	rq.sendJSON(http.StatusCreated, rq.s.attachmentObject(a, false))
	return nil
}

func storedAttachmentFromJSON(doc map[string]any, now time.Time) (*storedAttachment, *apiError) {
	typ, _ := doc["@odata.type"].(string)
	sa := &storedAttachment{modified: now}
	sa.name, _ = doc["name"].(string)
	sa.contentType, _ = doc["contentType"].(string)
	sa.contentID, _ = doc["contentId"].(string)
	sa.inline, _ = doc["isInline"].(bool)
	switch strings.ToLower(strings.TrimPrefix(typ, "#")) {
	case "microsoft.graph.fileattachment":
		cb, _ := doc["contentBytes"].(string)
		data, err := base64.StdEncoding.DecodeString(cb)
		if err != nil {
			return nil, errBadRequest("The contentBytes property is not valid base64.")
		}
		sa.data = data
	case "microsoft.graph.itemattachment":
		item, _ := doc["item"].(map[string]any)
		if item == nil {
			return nil, errBadRequest("An item attachment needs an item.")
		}
		sa.item = item
	case "microsoft.graph.referenceattachment":
		sa.data = []byte{}
	default:
		return nil, errBadRequest("The attachment type '%s' is not supported.", typ)
	}
	return sa, nil
}

// appendAttachment stores an attachment on a message or event; the item
// changes (new version) and so shows in later deltas.
func (s *Server) appendAttachment(v view, sa *storedAttachment) *attSpec {
	if v.ref.Kind == kEvent && v.ref.Sub != 0 {
		return s.appendOccurrenceAttachment(v, sa)
	}
	m := s.model
	m.mu.Lock()
	cur, _ := m.viewLocked(v.ref)
	st := m.modifyLocked(cur)
	st.storedAtts = append(st.storedAtts, sa)
	m.mu.Unlock()
	nv, _ := m.view(v.ref)
	var atts []*attSpec
	if v.ref.Kind == kMessage {
		atts = s.message(nv).atts
	} else {
		atts = s.event(nv).atts
	}
	return atts[len(atts)-1]
}
