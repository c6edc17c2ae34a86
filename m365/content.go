package m365

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/textproto"
	"slices"
	"sort"
	"strings"
)

// What a restore keeps of an item, as a digest: two items with equal
// digests say the same thing, whatever form Exchange gave them. A message
// keeps its subject, its body (the HTML one when it has one) and its
// attachments (name and bytes), not its MIME's boundaries, encodings, line
// ends or the plain-text alternative, which Exchange rewrites. Contacts and events keep what their collision keys cover
// (StoredItemKey); the rest of their JSON is Graph's to rewrite.

// maxMIMEDepth bounds nested messages.
const maxMIMEDepth = 8

// ContentDigest returns the digest of an item's stored form.
func ContentDigest(cat Category, stored []byte) (string, error) {
	if cat != Email {
		return StoredItemKey(cat, stored)
	}
	var d mailDigest
	if err := d.message(stored, 0); err != nil {
		return "", err
	}
	return d.sum(), nil
}

// sum digests the message. When it has an HTML body, that is the body:
// Exchange derives the plain-text alternative from it, its own way.
func (d *mailDigest) sum() string {
	bodies := d.bodies
	if html := slices.DeleteFunc(slices.Clone(d.bodies), func(b string) bool { return !strings.HasPrefix(b, "text/html:") }); len(html) > 0 {
		bodies = html
	}
	sort.Strings(d.attachments)
	sum := sha256.Sum256([]byte(d.subject + "\x00" + strings.Join(bodies, "\x00") + "\x00" + strings.Join(d.attachments, "\x00")))
	return hex.EncodeToString(sum[:])
}

type mailDigest struct {
	subject     string
	bodies      []string
	attachments []string
}

func (d *mailDigest) message(raw []byte, depth int) error {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("read message: %w", err)
	}
	d.subject = decodeHeader(m.Header.Get("Subject"))
	return d.part(textproto.MIMEHeader(m.Header), m.Body, depth)
}

func (d *mailDigest) part(h textproto.MIMEHeader, body io.Reader, depth int) error {
	if depth > maxMIMEDepth {
		return fmt.Errorf("message nested deeper than %d", maxMIMEDepth)
	}
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		mt = "text/plain"
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("read %s: %w", mt, err)
			}
			if err := d.part(p.Header, p, depth+1); err != nil {
				return err
			}
		}
	}
	data, err := io.ReadAll(TransferDecoded(h.Get("Content-Transfer-Encoding"), body))
	if err != nil {
		return fmt.Errorf("read %s part: %w", mt, err)
	}
	disp, dparams, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
	name := decodeHeader(dparams["filename"])
	if name == "" {
		name = decodeHeader(params["name"])
	}
	switch {
	case mt == "message/rfc822":
		var inner mailDigest
		if err := inner.message(data, depth+1); err != nil {
			return err
		}
		d.attachments = append(d.attachments, "item:"+inner.sum())
	case disp == "attachment" || name != "" || !strings.HasPrefix(mt, "text/"):
		sum := sha256.Sum256(data)
		d.attachments = append(d.attachments, name+"|"+hex.EncodeToString(sum[:]))
	default:
		text := strings.ReplaceAll(string(data), "\r\n", "\n")
		d.bodies = append(d.bodies, mt+":"+strings.TrimSpace(text))
	}
	return nil
}

func decodeHeader(s string) string {
	if d, err := new(mime.WordDecoder).DecodeHeader(s); err == nil {
		return d
	}
	return s
}
