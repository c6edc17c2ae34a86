package export

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/textproto"
	"strings"
	"unicode/utf8"
)

// Item is one Exchange item as a backup stores it.
type Item struct {
	// Category is CategoryEmail, CategoryContacts or CategoryEvents.
	Category string
	// Folder is the chain of folder display names from the mailbox root.
	Folder []string
	// Data is the stored content: a message's MIME, a contact's or an
	// event's Graph JSON.
	Data []byte
}

// WriteItem writes an item to s as a standard file: a message as .eml (its
// MIME unchanged), a contact as .vcf, an event as .ics, named by
// FileName from its subject or display name. It returns the file's path
// below the sink's root. A file that fails half way is abandoned.
func WriteItem(s Sink, it Item) (string, error) {
	var (
		title   string
		err     error
		convert func(io.Writer, []byte) error
	)
	switch strings.ToLower(it.Category) {
	case CategoryEmail, "mail":
		title = MailSubject(it.Data)
		convert = func(w io.Writer, b []byte) error { _, err := w.Write(b); return err }
	case CategoryContacts:
		title, err = ContactTitle(it.Data)
		convert = ContactVCard
	case CategoryEvents:
		title, err = EventTitle(it.Data)
		convert = EventICS
	default:
		return "", fmt.Errorf("export: unknown category %q", it.Category)
	}
	if err != nil {
		return "", err
	}
	w, err := s.Create(it.Folder, FileName(it.Category, title))
	if err != nil {
		return "", err
	}
	path := ""
	if e, ok := w.(Entry); ok {
		path = e.Path()
	}
	if err := convert(w, it.Data); err != nil {
		_ = Abort(w)
		return "", fmt.Errorf("export: %s: %w", path, err)
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	if e, ok := w.(Entry); ok {
		path = e.Path()
	}
	return path, nil
}

// MailSubject is the decoded Subject header of a MIME message, "" when it
// has none. Encoded words in charsets other than UTF-8, US-ASCII,
// ISO-8859-1 and Windows-1252 are kept as raw bytes (SafeName replaces
// what is not UTF-8).
func MailSubject(msg []byte) string {
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(msg)))
	h, err := tp.ReadMIMEHeader()
	if err != nil && len(h) == 0 {
		return ""
	}
	raw := h.Get("Subject")
	dec := mime.WordDecoder{CharsetReader: charsetReader}
	s, err := dec.DecodeHeader(raw)
	if err != nil {
		return raw
	}
	return s
}

func charsetReader(charset string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(charset) {
	case "windows-1252", "cp1252", "iso-8859-15", "latin1":
		b, err := io.ReadAll(input)
		if err != nil {
			return nil, err
		}
		out := make([]byte, 0, len(b)+len(b)/4)
		for _, c := range b {
			r := rune(c)
			if c >= 0x80 && c < 0xa0 {
				r = cp1252[c-0x80]
			}
			out = utf8.AppendRune(out, r)
		}
		return bytes.NewReader(out), nil
	}
	return input, nil
}

// cp1252 is what Windows-1252 puts at 0x80-0x9F, where ISO-8859-1 has
// control characters.
var cp1252 = [32]rune{
	'€', 0x81, '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 0x8d, 'Ž', 0x8f,
	0x90, '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', 0x9d, 'ž', 'Ÿ',
}
