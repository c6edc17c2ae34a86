package graphsim

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
)

// Messages are served as real RFC 5322 / MIME documents whose headers agree
// with the JSON a client sees: Subject, From, To, Cc, Date (sentDateTime),
// the first Received header's date (receivedDateTime), Message-ID
// (internetMessageId), Keywords (categories) and Importance; non-inline
// attachment parts exist exactly when hasAttachments is true, and inline
// images are multipart/related parts referenced by cid: from the HTML.
// Output is byte-for-byte deterministic, so content hashes are stable.

type mailAddr struct{ name, addr string }

func (a mailAddr) String() string {
	if a.name == "" {
		return "<" + a.addr + ">"
	}
	return (&mail.Address{Name: a.name, Address: a.addr}).String()
}

func (a mailAddr) json() map[string]any {
	return map[string]any{"emailAddress": map[string]any{"name": a.name, "address": a.addr}}
}

func addrList(as []mailAddr) string {
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = a.String()
	}
	return strings.Join(parts, ", ")
}

func recipientsJSON(as []mailAddr) []any {
	out := make([]any, len(as))
	for i, a := range as {
		out[i] = a.json()
	}
	return out
}

// mimePart is one attachment as it appears in MIME.
type mimePart struct {
	name, contentType, contentID string
	inline                       bool
	rfc822                       bool // an item attachment: embedded message
	data                         []byte
}

// mimeMessage is everything the MIME renderer needs.
type mimeMessage struct {
	from              mailAddr
	to, cc, bcc       []mailAddr
	subject           string
	sent, received    time.Time
	messageID         string
	importance        string
	categories        []string
	text, html        string
	parts             []mimePart
	boundarySeed      uint64
	hasNonInlineParts bool
}

func encodeHeaderWord(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 || s[i] < 0x20 {
			return mime.BEncoding.Encode("utf-8", s)
		}
	}
	return s
}

func writeHeader(b *bytes.Buffer, k, v string) {
	b.WriteString(k)
	b.WriteString(": ")
	b.WriteString(v)
	b.WriteString("\r\n")
}

// renderMIME writes m as an RFC 5322 message.
func renderMIME(m *mimeMessage) []byte {
	var b bytes.Buffer
	writeHeader(&b, "Received", "from mail.protection.outlook.com by mbx.outlook.com with Microsoft SMTP Server; "+m.received.UTC().Format(time.RFC1123Z))
	writeHeader(&b, "From", m.from.String())
	if len(m.to) > 0 {
		writeHeader(&b, "To", addrList(m.to))
	}
	if len(m.cc) > 0 {
		writeHeader(&b, "Cc", addrList(m.cc))
	}
	if len(m.bcc) > 0 {
		writeHeader(&b, "Bcc", addrList(m.bcc))
	}
	writeHeader(&b, "Subject", encodeHeaderWord(m.subject))
	writeHeader(&b, "Date", m.sent.UTC().Format(time.RFC1123Z))
	writeHeader(&b, "Message-ID", m.messageID)
	if m.importance != "" && m.importance != "normal" {
		writeHeader(&b, "Importance", m.importance)
	}
	if len(m.categories) > 0 {
		writeHeader(&b, "Keywords", encodeHeaderWord(strings.Join(m.categories, ", ")))
	}
	if m.hasNonInlineParts {
		writeHeader(&b, "X-MS-Has-Attach", "yes")
	}
	writeHeader(&b, "Content-Language", "en-US")
	writeHeader(&b, "MIME-Version", "1.0")

	var inline, attached []mimePart
	for _, p := range m.parts {
		if p.inline {
			inline = append(inline, p)
		} else {
			attached = append(attached, p)
		}
	}
	bseq := 0
	boundary := func() string {
		bseq++
		return fmt.Sprintf("_%03d_sim%016x_", bseq, mix64(m.boundarySeed+uint64(bseq)))
	}

	// Outer structure: mixed(related(alternative, inline...), attached...).
	type node func(w io.Writer) string // writes the body, returns the content type
	alternative := func(w io.Writer) string {
		mw := multipart.NewWriter(w)
		_ = mw.SetBoundary(boundary())
		writeTextPart(mw, "text/plain; charset=\"utf-8\"", m.text)
		writeTextPart(mw, "text/html; charset=\"utf-8\"", m.html)
		_ = mw.Close()
		return "multipart/alternative; boundary=\"" + mw.Boundary() + "\""
	}
	body := node(alternative)
	if len(inline) > 0 {
		inner := body
		body = func(w io.Writer) string {
			mw := multipart.NewWriter(w)
			_ = mw.SetBoundary(boundary())
			var buf bytes.Buffer
			ct := inner(&buf)
			pw, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {ct}})
			_, _ = pw.Write(buf.Bytes())
			for _, p := range inline {
				writeAttachmentPart(mw, p)
			}
			_ = mw.Close()
			return "multipart/related; boundary=\"" + mw.Boundary() + "\"; type=\"multipart/alternative\""
		}
	}
	if len(attached) > 0 {
		inner := body
		body = func(w io.Writer) string {
			mw := multipart.NewWriter(w)
			_ = mw.SetBoundary(boundary())
			var buf bytes.Buffer
			ct := inner(&buf)
			pw, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {ct}})
			_, _ = pw.Write(buf.Bytes())
			for _, p := range attached {
				writeAttachmentPart(mw, p)
			}
			_ = mw.Close()
			return "multipart/mixed; boundary=\"" + mw.Boundary() + "\""
		}
	}
	var buf bytes.Buffer
	ct := body(&buf)
	writeHeader(&b, "Content-Type", ct)
	b.WriteString("\r\n")
	b.Write(buf.Bytes())
	return b.Bytes()
}

func writeTextPart(mw *multipart.Writer, ct, s string) {
	h := textproto.MIMEHeader{}
	h.Set("Content-Type", ct)
	h.Set("Content-Transfer-Encoding", "quoted-printable")
	pw, _ := mw.CreatePart(h)
	qw := quotedprintable.NewWriter(pw)
	_, _ = qw.Write([]byte(s))
	_ = qw.Close()
}

func writeAttachmentPart(mw *multipart.Writer, p mimePart) {
	h := textproto.MIMEHeader{}
	name := encodeHeaderWord(p.name)
	if p.rfc822 {
		h.Set("Content-Type", "message/rfc822")
		h.Set("Content-Disposition", "attachment")
		pw, _ := mw.CreatePart(h)
		_, _ = pw.Write(p.data)
		return
	}
	ct := p.contentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct+"; name=\""+name+"\"")
	h.Set("Content-Description", name)
	disp := "attachment"
	if p.inline {
		disp = "inline"
		h.Set("Content-ID", "<"+p.contentID+">")
	}
	h.Set("Content-Disposition", disp+"; filename=\""+name+"\"; size="+itoa64(int64(len(p.data))))
	h.Set("Content-Transfer-Encoding", "base64")
	pw, _ := mw.CreatePart(h)
	writeBase64Lines(pw, p.data)
}

// writeBase64Lines writes data base64-encoded in 76-character lines.
func writeBase64Lines(w io.Writer, data []byte) {
	const chunk = 57 // 57 bytes -> 76 characters
	line := make([]byte, 78)
	for off := 0; off < len(data); off += chunk {
		end := min(off+chunk, len(data))
		n := base64.StdEncoding.EncodedLen(end - off)
		base64.StdEncoding.Encode(line, data[off:end])
		line[n], line[n+1] = '\r', '\n'
		_, _ = w.Write(line[:n+2])
	}
}

// parsedMIME is what a written MIME message tells about itself.
type parsedMIME struct {
	subject, messageID string
	from               mailAddr
	to, cc, bcc        []mailAddr
	sent, received     time.Time
	categories         []string
	importance         string
	text, html         string
	attachments        []mimePart
}

var wordDecoder = &mime.WordDecoder{}

func parseAddrs(h mail.Header, key string) []mailAddr {
	list, err := h.AddressList(key)
	if err != nil {
		return nil
	}
	out := make([]mailAddr, len(list))
	for i, a := range list {
		out[i] = mailAddr{a.Name, a.Address}
	}
	return out
}

// parseMIME reads a message that a client uploaded.
func parseMIME(raw []byte) (*parsedMIME, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	p := &parsedMIME{}
	h := msg.Header
	if s, err := wordDecoder.DecodeHeader(h.Get("Subject")); err == nil {
		p.subject = s
	} else {
		p.subject = h.Get("Subject")
	}
	p.messageID = h.Get("Message-ID")
	if f := parseAddrs(h, "From"); len(f) > 0 {
		p.from = f[0]
	}
	p.to, p.cc, p.bcc = parseAddrs(h, "To"), parseAddrs(h, "Cc"), parseAddrs(h, "Bcc")
	if d, err := h.Date(); err == nil {
		p.sent = d
	}
	p.received = p.sent
	if rcv := h.Get("Received"); rcv != "" {
		if _, date, ok := strings.Cut(rcv, ";"); ok {
			if t, err := mail.ParseDate(strings.TrimSpace(date)); err == nil {
				p.received = t
			}
		}
	}
	if kw := h.Get("Keywords"); kw != "" {
		if s, err := wordDecoder.DecodeHeader(kw); err == nil {
			kw = s
		}
		for _, c := range strings.Split(kw, ",") {
			if c = strings.TrimSpace(c); c != "" {
				p.categories = append(p.categories, c)
			}
		}
	}
	p.importance = strings.ToLower(h.Get("Importance"))
	if p.importance == "" {
		p.importance = "normal"
	}
	walkMIME(textproto.MIMEHeader(h), msg.Body, p)
	return p, nil
}

func walkMIME(h textproto.MIMEHeader, body io.Reader, p *parsedMIME) {
	ct := h.Get("Content-Type")
	if ct == "" {
		ct = "text/plain"
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		mt = "application/octet-stream"
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextRawPart()
			if err != nil {
				return
			}
			walkMIME(part.Header, part, p)
		}
	}
	data, _ := io.ReadAll(decodeTransfer(h.Get("Content-Transfer-Encoding"), body))
	disp, dparams, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	if s, err := wordDecoder.DecodeHeader(name); err == nil {
		name = s
	}
	isAttachment := disp == "attachment" || disp == "inline" && name != "" || mt == "message/rfc822"
	switch {
	case !isAttachment && mt == "text/plain" && p.text == "":
		p.text = string(data)
	case !isAttachment && mt == "text/html" && p.html == "":
		p.html = string(data)
	case isAttachment || h.Get("Content-ID") != "":
		if name == "" && mt == "message/rfc822" {
			if inner, err := parseMIME(data); err == nil {
				name = inner.subject
			}
		}
		p.attachments = append(p.attachments, mimePart{
			name:        name,
			contentType: mt,
			contentID:   strings.Trim(h.Get("Content-ID"), "<>"),
			inline:      disp == "inline" || (disp == "" && h.Get("Content-ID") != ""),
			rfc822:      mt == "message/rfc822",
			data:        data,
		})
	}
}

func decodeTransfer(enc string, r io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(enc)) {
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, &newlineStripper{r: r})
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	}
	return r
}

// newlineStripper drops CR and LF so base64 can decode wrapped lines.
type newlineStripper struct{ r io.Reader }

func (n *newlineStripper) Read(p []byte) (int, error) {
	for {
		k, err := n.r.Read(p)
		j := 0
		for _, c := range p[:k] {
			if c != '\r' && c != '\n' && c != ' ' && c != '\t' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}
