package export

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"mime"
	"strings"

	"github.com/corso-temporal/corso/m365"
)

// CategoryMessages is the category of channel threads.
const CategoryMessages = "messages"

// Thread export formats.
const (
	ThreadAsJSON = "json"
	ThreadAsHTML = "html"
)

// ThreadFileName names a channel thread's file in the given format.
func ThreadFileName(title, format string) string {
	ext := "." + format
	stem := SafeName(oneLine(title))
	if stem == "" {
		stem = "(no text)"
	}
	if len(stem)+len(ext) > MaxNameBytes {
		stem = tidy(truncateUTF8(stem, MaxNameBytes-len(ext)))
	}
	return stem + ext
}

// ThreadJSON writes a stored channel thread (m365.ChannelThread) as
// indented JSON: the message and each reply as Graph served them.
func ThreadJSON(w io.Writer, stored []byte) error {
	var t m365.ChannelThread
	if err := json.Unmarshal(stored, &t); err != nil || len(t.Message) == 0 {
		return fmt.Errorf("not a stored channel thread")
	}
	return writeIndented(w, stored)
}

// writeIndented writes a stored JSON document indented, each value as
// stored.
func writeIndented(w io.Writer, stored []byte) error {
	var b bytes.Buffer
	if err := json.Indent(&b, stored, "", "  "); err != nil {
		return err
	}
	b.WriteByte('\n')
	_, err := w.Write(b.Bytes())
	return err
}

// ThreadHTML writes a stored channel thread as one self-contained HTML
// page: the message, then its replies, each with its sender, time and
// text. Bodies are rendered as text, never as markup, so nothing a message
// holds can run in the browser that opens the page; the inline images
// stored with the thread are shown under the text of their message, as
// data: URIs of known image types, the only images the page's policy
// lets load.
func ThreadHTML(w io.Writer, stored []byte) error {
	var t m365.ChannelThread
	if err := json.Unmarshal(stored, &t); err != nil || len(t.Message) == 0 {
		return fmt.Errorf("not a stored channel thread")
	}
	msgs := make([]m365.ChatMessage, 0, 1+len(t.Replies))
	for _, raw := range append([]json.RawMessage{t.Message}, t.Replies...) {
		var m m365.ChatMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return fmt.Errorf("unreadable message in the thread: %w", err)
		}
		msgs = append(msgs, m)
	}
	images := map[string][]m365.HostedContent{}
	for _, hc := range t.HostedContents {
		images[hc.MessageID] = append(images[hc.MessageID], hc)
	}
	title := msgs[0].Subject
	if title == "" {
		title = m365.ChatPreview(msgs[0].Body.ContentType, msgs[0].Body.Content)
	}
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n")
	b.WriteString("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n")
	fmt.Fprintf(&b, "<title>%s</title>\n", html.EscapeString(title))
	b.WriteString("<style>body{font-family:sans-serif;max-width:50em;margin:2em auto}" +
		".msg{border-left:3px solid #6264a7;padding:.3em .8em;margin:.8em 0}.reply{margin-left:2em;border-color:#bbb}" +
		".meta{color:#555;font-size:.85em}.text{white-space:pre-wrap}.image img{max-width:100%}</style>\n</head><body>\n")
	if msgs[0].Subject != "" {
		fmt.Fprintf(&b, "<h1>%s</h1>\n", html.EscapeString(msgs[0].Subject))
	}
	for i, m := range msgs {
		class := "msg"
		if i > 0 {
			class = "msg reply"
		}
		fmt.Fprintf(&b, "<div class=\"%s\" id=\"m%s\">\n", class, html.EscapeString(m.ID))
		sender := m365.ChatSender(m.From)
		if sender == "" {
			sender = m.MessageType
		}
		fmt.Fprintf(&b, "<div class=\"meta\"><strong>%s</strong> · %s", html.EscapeString(sender), html.EscapeString(m.Created))
		if m.Edited != "" {
			fmt.Fprintf(&b, " · edited %s", html.EscapeString(m.Edited))
		}
		b.WriteString("</div>\n")
		text := m.Body.Content
		if strings.EqualFold(m.Body.ContentType, "html") {
			text = htmlToText(text)
		}
		fmt.Fprintf(&b, "<div class=\"text\">%s</div>\n", html.EscapeString(strings.TrimSpace(text)))
		for _, hc := range images[m.ID] {
			if src, ok := imageDataURI(hc); ok {
				fmt.Fprintf(&b, "<div class=\"image\"><img src=\"%s\" alt=\"inline image\"></div>\n", src)
			} else {
				fmt.Fprintf(&b, "<div class=\"meta\">inline image: %s, %d bytes</div>\n", html.EscapeString(hc.ContentType), len(hc.ContentBytes))
			}
		}
		for _, a := range m.Attachments {
			fmt.Fprintf(&b, "<div class=\"meta\">attachment: %s %s</div>\n", html.EscapeString(a.Name), html.EscapeString(a.ContentURL))
		}
		b.WriteString("</div>\n")
	}
	b.WriteString("</body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// inlineImageTypes are the image types a thread's page shows; others
// (SVG, which can hold script and markup, among them) are named only.
var inlineImageTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true, "image/bmp": true}

// imageDataURI is an inline image as a data: URI, if its type is one the
// page shows.
func imageDataURI(hc m365.HostedContent) (string, bool) {
	ct, _, err := mime.ParseMediaType(hc.ContentType)
	if err != nil || !inlineImageTypes[ct] || len(hc.ContentBytes) == 0 {
		return "", false
	}
	return "data:" + ct + ";base64," + base64.StdEncoding.EncodeToString(hc.ContentBytes), true
}
