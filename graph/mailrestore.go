package graph

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/textproto"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
	abs "github.com/microsoft/kiota-abstractions-go"

	"github.com/corso-temporal/corso/m365"
)

// A message is backed up as its MIME, but restored from JSON: Graph makes
// a message created from MIME a draft stamped with the time of the
// restore, and a message's flags can only be set when it is created
// (learn.microsoft.com/graph/api/user-post-messages;
// microsoftgraph/microsoft-graph-docs-contrib#2790). So the MIME is read
// into a message's JSON, with three MAPI properties (MS-OXPROPS) that
// make it the message it was: PidTagMessageFlags (a draft only if it was
// one, read unless it was unread), PidTagMessageDeliveryTime (received)
// and PidTagClientSubmitTime (sent).
const (
	propMessageFlags = "Integer 0x0E07"
	propDeliveryTime = "SystemTime 0x0E06"
	propSubmitTime   = "SystemTime 0x0039"
	// PidTagMessageFlags bits (MS-OXCMSG 2.2.1.6).
	mfRead   = 0x1
	mfUnsent = 0x8

	// maxRequestBody is Graph's bound on one request (upload sessions
	// apart): "there is a 4MB limit on the size of a request"
	// (microsoftgraph/microsoft-graph-docs#85). A message is created with
	// as many of its attachments as keep the request below createBudget;
	// the others are added one by one, large ones through upload sessions.
	maxRequestBody = 4 << 20
	createBudget   = 3 << 20
	// maxMIMEDepth bounds nested multiparts and attached messages.
	maxMIMEDepth = 16
)

// mimeWords decodes RFC 2047 words in any charset Go's text encodings
// know; mimeAddress reads address lists with it.
var (
	mimeWords   = &mime.WordDecoder{CharsetReader: charset.Reader}
	mimeAddress = &mail.AddressParser{WordDecoder: mimeWords}
)

// mailBody is a message read from MIME: what its creation posts, and the
// attachments that go with it.
type mailBody struct {
	fields      map[string]any
	text, html  *string
	attachments []mailAttachment
	unnamed     int
}

// mailAttachment is one attachment as Graph takes it. An attached message
// whose own attachments Graph could not take with it (an item attachment
// carries its item's JSON) stays a file: the exact MIME, as a .eml.
type mailAttachment struct {
	name, contentType, contentID string
	inline                       bool
	data                         []byte
	item                         map[string]any
}

func (a mailAttachment) json() map[string]any {
	if a.item != nil {
		return map[string]any{"@odata.type": "#microsoft.graph.itemAttachment", "name": a.name, "item": a.item}
	}
	o := map[string]any{"@odata.type": "#microsoft.graph.fileAttachment", "name": a.name,
		"contentType": a.contentType, "contentBytes": base64.StdEncoding.EncodeToString(a.data), "isInline": a.inline}
	if a.contentID != "" {
		o["contentId"] = a.contentID
	}
	return o
}

// postedSize is about what the attachment adds to a request.
func (a mailAttachment) postedSize() int {
	if a.item != nil {
		b, _ := json.Marshal(a.item)
		return len(b) + len(a.name) + 64
	}
	return base64.StdEncoding.EncodedLen(len(a.data)) + len(a.name) + len(a.contentType) + len(a.contentID) + 128
}

// messageFromMIME reads a message's MIME into the JSON that creates it,
// in the state it was in.
func messageFromMIME(raw []byte, state m365.MessageState) (*mailBody, error) {
	m, err := readMessage(raw, 0)
	if err != nil {
		return nil, err
	}
	flags := mfRead
	if state.Unread {
		flags &^= mfRead
	}
	if state.Draft {
		flags |= mfUnsent
	}
	props := m.fields["singleValueExtendedProperties"].([]map[string]string)
	props[0]["value"] = strconv.Itoa(flags)
	m.fields["isRead"] = !state.Unread
	if state.Flag != "" {
		m.fields["flag"] = map[string]string{"flagStatus": state.Flag}
	}
	return m, nil
}

func readMessage(raw []byte, depth int) (*mailBody, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("reading the message's headers: %w", err)
	}
	m := &mailBody{fields: map[string]any{"@odata.type": "#microsoft.graph.message"}}
	h := msg.Header
	if s := h.Get("Subject"); s != "" {
		m.fields["subject"] = decodeWords(s)
	}
	for _, f := range []struct{ header, field string }{
		{"To", "toRecipients"}, {"Cc", "ccRecipients"}, {"Bcc", "bccRecipients"}, {"Reply-To", "replyTo"},
	} {
		if list := addresses(h.Get(f.header)); len(list) > 0 {
			m.fields[f.field] = list
		}
	}
	for _, f := range []struct{ header, field string }{{"From", "from"}, {"Sender", "sender"}} {
		if list := addresses(h.Get(f.header)); len(list) > 0 {
			m.fields[f.field] = list[0]
		}
	}
	if id := strings.TrimSpace(h.Get("Message-ID")); id != "" {
		m.fields["internetMessageId"] = id
	}
	if imp := importanceOf(h); imp != "" {
		m.fields["importance"] = imp
	}
	if kw := h.Get("Keywords"); kw != "" {
		var cats []string
		for _, c := range strings.Split(decodeWords(kw), ",") {
			if c = strings.TrimSpace(c); c != "" {
				cats = append(cats, c)
			}
		}
		if len(cats) > 0 {
			m.fields["categories"] = cats
		}
	}
	props := []map[string]string{{"id": propMessageFlags, "value": strconv.Itoa(mfRead)}}
	sent, sentErr := mail.ParseDate(h.Get("Date"))
	received, ok := receivedTime(h)
	if !ok && sentErr == nil {
		received, ok = sent, true
	}
	if sentErr == nil {
		props = append(props, map[string]string{"id": propSubmitTime, "value": sent.UTC().Format(time.RFC3339)})
	}
	if ok {
		props = append(props, map[string]string{"id": propDeliveryTime, "value": received.UTC().Format(time.RFC3339)})
	}
	m.fields["singleValueExtendedProperties"] = props

	if err := m.walk(textproto.MIMEHeader(h), msg.Body, depth); err != nil {
		return nil, err
	}
	switch {
	case m.html != nil:
		m.fields["body"] = map[string]string{"contentType": "html", "content": *m.html}
	case m.text != nil:
		m.fields["body"] = map[string]string{"contentType": "text", "content": *m.text}
	}
	return m, nil
}

// walk reads one entity: a multipart's parts in turn, the first HTML and
// plain-text parts as the body, everything else as an attachment.
func (m *mailBody) walk(h textproto.MIMEHeader, body io.Reader, depth int) error {
	if depth > maxMIMEDepth {
		return errors.New("MIME nested too deeply")
	}
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mt == "" {
		mt, params = "text/plain", map[string]string{}
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("reading a %s part: %w", mt, err)
			}
			if err := m.walk(p.Header, p, depth+1); err != nil {
				return err
			}
		}
	}
	data, err := io.ReadAll(m365.TransferDecoded(h.Get("Content-Transfer-Encoding"), body))
	if err != nil {
		return fmt.Errorf("decoding a %s part: %w", mt, err)
	}
	disp, dparams, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	name = decodeWords(name)
	cid := strings.Trim(strings.TrimSpace(h.Get("Content-ID")), "<>")
	if disp != "attachment" && name == "" && cid == "" {
		switch {
		case mt == "text/html" && m.html == nil:
			s := textOf(data, params["charset"])
			m.html = &s
			return nil
		case mt == "text/plain" && m.text == nil:
			s := textOf(data, params["charset"])
			m.text = &s
			return nil
		}
	}
	a := mailAttachment{name: name, contentType: mt, contentID: cid, data: data,
		inline: cid != "" && disp != "attachment"}
	if mt == "message/rfc822" {
		if inner, err := readMessage(data, depth+1); err == nil {
			if a.name == "" {
				a.name, _ = inner.fields["subject"].(string)
			}
			if len(inner.attachments) == 0 {
				a.item = inner.fields
			}
		}
		if a.name == "" {
			a.name = "Untitled"
		}
		if a.item == nil && !strings.HasSuffix(strings.ToLower(a.name), ".eml") {
			a.name += ".eml"
		}
	}
	if a.name == "" {
		// Exchange's own name for a part without one.
		m.unnamed++
		ext := ".dat"
		switch exts, _ := mime.ExtensionsByType(mt); {
		case mt == "text/plain":
			ext = ".txt"
		case mt == "text/html":
			ext = ".htm"
		case len(exts) > 0:
			ext = exts[0]
		}
		a.name = fmt.Sprintf("ATT%05d%s", m.unnamed, ext)
	}
	m.attachments = append(m.attachments, a)
	return nil
}

// textOf is a body part's text in UTF-8.
func textOf(data []byte, cs string) string {
	if cs != "" && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "us-ascii") {
		if r, err := charset.Reader(cs, bytes.NewReader(data)); err == nil {
			if b, err := io.ReadAll(r); err == nil {
				data = b
			}
		}
	}
	if utf8.Valid(data) {
		return string(data)
	}
	return strings.ToValidUTF8(string(data), "\uFFFD")
}

func decodeWords(s string) string {
	if d, err := mimeWords.DecodeHeader(s); err == nil {
		return d
	}
	return s
}

// addresses reads an address list as Graph's recipients; an address Go
// cannot parse keeps its text as the name.
func addresses(v string) []map[string]any {
	if strings.TrimSpace(v) == "" {
		return nil
	}
	list, err := mimeAddress.ParseList(v)
	if err != nil {
		a := strings.TrimSpace(decodeWords(v))
		return []map[string]any{{"emailAddress": map[string]string{"name": a, "address": a}}}
	}
	out := make([]map[string]any, 0, len(list))
	for _, a := range list {
		out = append(out, map[string]any{"emailAddress": map[string]string{"name": a.Name, "address": a.Address}})
	}
	return out
}

// receivedTime is when the message reached the mailbox: the date of its
// newest Received header, the first one.
func receivedTime(h mail.Header) (time.Time, bool) {
	for _, r := range h["Received"] {
		if i := strings.LastIndexByte(r, ';'); i >= 0 {
			if t, err := mail.ParseDate(strings.TrimSpace(r[i+1:])); err == nil {
				return t, true
			}
		}
		break
	}
	return time.Time{}, false
}

func importanceOf(h mail.Header) string {
	switch v := strings.ToLower(strings.TrimSpace(h.Get("Importance"))); v {
	case "high", "low", "normal":
		return v
	}
	if p := strings.TrimSpace(h.Get("X-Priority")); p != "" {
		switch p[0] {
		case '1', '2':
			return "high"
		case '4', '5':
			return "low"
		}
	}
	return ""
}

// restoreMessage creates a backed-up message in a folder (see mailBody),
// then adds the attachments its creation could not carry. A message whose
// attachments fail is deleted again, so that a retry never meets a
// half-restored one.
func (c *Client) restoreMessage(ctx context.Context, op, mailboxID, folderID string, stored []byte, state m365.MessageState) (string, error) {
	if len(stored) == 0 {
		return "", fmt.Errorf("%s: empty message: %w", op, ErrUnrestorable)
	}
	m, err := messageFromMIME(stored, state)
	if err != nil {
		return "", fmt.Errorf("%s: stored message: %w: %v", op, ErrUnrestorable, err)
	}
	post, err := json.Marshal(m.fields)
	if err != nil {
		return "", fmt.Errorf("%s: %w", op, err)
	}
	if len(post) > createBudget {
		return "", fmt.Errorf("%s: the message without its attachments takes %d bytes, above Graph's %d-byte request limit: %w",
			op, len(post), maxRequestBody, ErrUnrestorable)
	}
	size := len(post)
	var with []map[string]any
	var later []mailAttachment
	for _, a := range m.attachments {
		if n := a.postedSize(); size+n <= createBudget {
			size += n
			with = append(with, a.json())
		} else {
			later = append(later, a)
		}
	}
	if len(with) > 0 {
		m.fields["attachments"] = with
		if post, err = json.Marshal(m.fields); err != nil {
			return "", fmt.Errorf("%s: %w", op, err)
		}
	}
	a, err := c.send(forMailbox(ctx, mailboxID, "message.create"), op, rawCall{method: abs.POST,
		url: c.v1("users", mailboxID, "mailFolders", folderID, "messages"), body: post, contentType: "application/json"})
	if err != nil {
		return "", err
	}
	id, err := createdID(op, a)
	if err != nil {
		return "", err
	}
	list := c.v1("users", mailboxID, "messages", id, "attachments")
	for i, att := range later {
		if err = c.attachToMessage(ctx, op, mailboxID, list, att); err != nil {
			err = fmt.Errorf("attachment %d (%q): %w", i, att.name, err)
			break
		}
	}
	if err != nil {
		if derr := c.removeCreated(ctx, mailboxID, "message.delete", c.v1("users", mailboxID, "messages", id)); derr != nil {
			return "", fmt.Errorf("%w (and deleting the partly restored message %s failed: %v)", err, id, derr)
		}
		return "", err
	}
	return id, nil
}

// attachToMessage adds one attachment: posted when the request stays
// within Graph's limit, uploaded through a session otherwise (item
// attachments are always posted).
func (c *Client) attachToMessage(ctx context.Context, op, mailboxID, list string, att mailAttachment) error {
	if att.item != nil || len(att.data) < c.inlineAttachmentMax {
		body, err := json.Marshal(att.json())
		if err != nil {
			return err
		}
		_, err = c.send(forMailbox(ctx, mailboxID, "attachment.create"), op, rawCall{method: abs.POST, url: list,
			body: body, contentType: "application/json"})
		return err
	}
	meta := map[string]any{"name": att.name, "contentType": att.contentType, "isInline": att.inline}
	if att.contentID != "" {
		meta["contentId"] = att.contentID
	}
	b, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	o, err := parseObject(b)
	if err != nil {
		return err
	}
	return c.uploadAttachment(ctx, op, mailboxID, list, o, base64.StdEncoding.EncodeToString(att.data), len(att.data))
}

// removeCreated deletes an item a failed restore created, even when the
// failure was the caller's context ending.
func (c *Client) removeCreated(ctx context.Context, mailboxID, kind, itemURL string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	_, err := c.send(forMailbox(ctx, mailboxID, kind), "delete "+itemURL, rawCall{method: abs.DELETE, url: itemURL})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}
