package export

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
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

// CategoryConversations is the category of group conversation posts.
const CategoryConversations = "conversations"

// PostFileName names a post's file: when it arrived and who sent it,
// since every post of a thread shares its conversation's topic (the
// folder above).
func PostFileName(received time.Time, sender string) string {
	title := strings.TrimSpace(sender)
	if !received.IsZero() {
		title = strings.TrimSpace(received.UTC().Format("2006-01-02 15.04") + " " + title)
	}
	return FileName(CategoryEmail, title)
}

// storedPost is what an export reads of a stored post (Graph's post with
// its attachments and the id of the post it replies to expanded).
type storedPost struct {
	ID       string `json:"id"`
	Created  string `json:"createdDateTime"`
	Received string `json:"receivedDateTime"`
	Body     struct {
		ContentType string `json:"contentType"`
		Content     string `json:"content"`
	} `json:"body"`
	From      *postRecipient `json:"from"`
	Sender    *postRecipient `json:"sender"`
	InReplyTo *struct {
		ID string `json:"id"`
	} `json:"inReplyTo"`
	Attachments []struct {
		Type         string `json:"@odata.type"`
		Name         string `json:"name"`
		ContentType  string `json:"contentType"`
		IsInline     bool   `json:"isInline"`
		ContentID    string `json:"contentId"`
		ContentBytes string `json:"contentBytes"`
	} `json:"attachments"`
}

type postRecipient struct {
	EmailAddress struct {
		Name    string `json:"name"`
		Address string `json:"address"`
	} `json:"emailAddress"`
}

func (r *postRecipient) address() string {
	if r == nil || r.EmailAddress.Address == "" && r.EmailAddress.Name == "" {
		return ""
	}
	return (&mail.Address{Name: r.EmailAddress.Name, Address: r.EmailAddress.Address}).String()
}

// postMessageID is the Message-ID of a post: its Graph id, whose
// characters (base64's) are all allowed in one.
func postMessageID(id string) string { return "<" + id + "@graph.microsoft.com>" }

// PostEML writes a stored group conversation post as an RFC 5322 message:
// From (and Sender when another), Date (when the post arrived), Subject
// (its conversation's topic), Message-ID from the post's id, In-Reply-To
// the post it answers, the body as text/html (or text/plain), and each
// file attachment as a MIME part of its own.
func PostEML(w io.Writer, stored []byte, topic string) error {
	var p storedPost
	if err := json.Unmarshal(stored, &p); err != nil || p.ID == "" {
		return fmt.Errorf("not a stored conversation post")
	}
	var b bytes.Buffer
	h := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	from := p.From.address()
	if from == "" {
		from = p.Sender.address()
	}
	h("From", from)
	if s := p.Sender.address(); s != "" && s != from {
		h("Sender", s)
	}
	when := p.Received
	if when == "" {
		when = p.Created
	}
	if t, err := time.Parse(time.RFC3339Nano, when); err == nil {
		h("Date", t.UTC().Format(time.RFC1123Z))
	}
	h("Subject", mime.QEncoding.Encode("utf-8", oneLine(topic)))
	h("Message-ID", postMessageID(p.ID))
	if p.InReplyTo != nil && p.InReplyTo.ID != "" {
		h("In-Reply-To", postMessageID(p.InReplyTo.ID))
		h("References", postMessageID(p.InReplyTo.ID))
	}
	h("MIME-Version", "1.0")

	bodyType := "text/html; charset=utf-8"
	if !strings.EqualFold(p.Body.ContentType, "html") {
		bodyType = "text/plain; charset=utf-8"
	}
	var files []int
	for i, a := range p.Attachments {
		if a.ContentBytes != "" {
			files = append(files, i)
		}
	}
	if len(files) == 0 {
		h("Content-Type", bodyType)
		h("Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		if err := writeQuotedPrintable(&b, p.Body.Content); err != nil {
			return err
		}
		_, err := w.Write(b.Bytes())
		return err
	}
	mw := multipart.NewWriter(&b)
	// A boundary from the post's id keeps an export byte for byte the same.
	sum := sha256.Sum256([]byte(p.ID))
	if err := mw.SetBoundary("corso-" + hex.EncodeToString(sum[:12])); err != nil {
		return err
	}
	h("Content-Type", mime.FormatMediaType("multipart/mixed", map[string]string{"boundary": mw.Boundary()}))
	b.WriteString("\r\n")
	part, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {bodyType}, "Content-Transfer-Encoding": {"quoted-printable"}})
	if err != nil {
		return err
	}
	if err := writeQuotedPrintable(part, p.Body.Content); err != nil {
		return err
	}
	for _, i := range files {
		a := p.Attachments[i]
		data, err := base64.StdEncoding.DecodeString(a.ContentBytes)
		if err != nil {
			return fmt.Errorf("attachment %q of the post: unreadable contentBytes", a.Name)
		}
		ctype := a.ContentType
		if _, _, err := mime.ParseMediaType(ctype); err != nil || ctype == "" {
			ctype = "application/octet-stream"
		}
		name := SafeName(oneLine(a.Name))
		disp := "attachment"
		if a.IsInline {
			disp = "inline"
		}
		hdr := textproto.MIMEHeader{
			"Content-Type":              {mime.FormatMediaType(ctype, map[string]string{"name": name})},
			"Content-Disposition":       {mime.FormatMediaType(disp, map[string]string{"filename": name})},
			"Content-Transfer-Encoding": {"base64"},
		}
		if a.ContentID != "" {
			hdr.Set("Content-ID", "<"+strings.Trim(a.ContentID, "<>")+">")
		}
		pw, err := mw.CreatePart(hdr)
		if err != nil {
			return err
		}
		if err := writeBase64Lines(pw, data); err != nil {
			return err
		}
	}
	if err := mw.Close(); err != nil {
		return err
	}
	_, err = w.Write(b.Bytes())
	return err
}

func writeQuotedPrintable(w io.Writer, s string) error {
	qw := quotedprintable.NewWriter(w)
	if _, err := io.WriteString(qw, s); err != nil {
		return err
	}
	if err := qw.Close(); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\r\n")
	return err
}

// writeBase64Lines writes data in base64 lines of 76 characters (RFC 2045).
func writeBase64Lines(w io.Writer, data []byte) error {
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 0 {
		n := min(76, len(enc))
		if _, err := io.WriteString(w, enc[:n]+"\r\n"); err != nil {
			return err
		}
		enc = enc[n:]
	}
	return nil
}
