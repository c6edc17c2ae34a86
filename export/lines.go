package export

import (
	"bufio"
	"io"
	"strings"
)

// vCard 4.0 (RFC 6350) and iCalendar (RFC 5545) share one line syntax:
// content lines "NAME;PARAM=value:value" ended by CRLF, folded so that no
// physical line is longer than 75 octets by inserting CRLF followed by one
// space. Folding never splits a UTF-8 sequence.

const maxLineOctets = 75

// lineWriter writes content lines and keeps the first error.
type lineWriter struct {
	w   *bufio.Writer
	col int // octets on the current physical line
	err error
}

func newLineWriter(w io.Writer) *lineWriter {
	return &lineWriter{w: bufio.NewWriterSize(w, 16<<10)}
}

// param is one property parameter; its value is quoted when needed.
type param struct{ name, value string }

// prop writes a whole content line; value is already escaped for its type.
func (lw *lineWriter) prop(name string, params []param, value string) {
	lw.begin(name, params)
	lw.text(value)
	lw.end()
}

// begin writes the name and parameters and the colon before the value.
func (lw *lineWriter) begin(name string, params []param) {
	lw.text(name)
	for _, p := range params {
		lw.text(";")
		lw.text(p.name)
		lw.text("=")
		lw.text(paramValue(p.value))
	}
	lw.text(":")
}

// end terminates the content line.
func (lw *lineWriter) end() {
	if lw.err == nil {
		_, lw.err = lw.w.WriteString("\r\n")
	}
	lw.col = 0
}

func (lw *lineWriter) text(s string) {
	for i := 0; i < len(s) && lw.err == nil; i++ {
		lw.byte(s[i])
	}
}

// Write lets a value be streamed (e.g. base64 of an attachment) into the
// current line.
func (lw *lineWriter) Write(p []byte) (int, error) {
	for i := 0; i < len(p) && lw.err == nil; i++ {
		lw.byte(p[i])
	}
	if lw.err != nil {
		return 0, lw.err
	}
	return len(p), nil
}

func (lw *lineWriter) byte(b byte) {
	if n := utf8SeqLen(b); n > 0 && lw.col+n > maxLineOctets {
		if _, lw.err = lw.w.WriteString("\r\n "); lw.err != nil {
			return
		}
		lw.col = 1
	}
	lw.err = lw.w.WriteByte(b)
	lw.col++
}

// utf8SeqLen is the length of the UTF-8 sequence that b starts, or 0 for a
// continuation byte (before which a line is never folded).
func utf8SeqLen(b byte) int {
	switch {
	case b < 0x80:
		return 1
	case b < 0xC0:
		return 0
	case b < 0xE0:
		return 2
	case b < 0xF0:
		return 3
	default:
		return 4
	}
}

func (lw *lineWriter) flush() error {
	if lw.err != nil {
		return lw.err
	}
	return lw.w.Flush()
}

// paramValue makes a parameter value legal: double quotes cannot appear in
// one at all and control characters are not allowed, so they are replaced;
// values with ";", ":" or "," are quoted.
func paramValue(v string) string {
	v = strings.Map(func(r rune) rune {
		switch {
		case r == '"':
			return '\''
		case r < 0x20 || r == 0x7f:
			return ' '
		}
		return r
	}, strings.ToValidUTF8(v, "\uFFFD"))
	if strings.ContainsAny(v, ";:,") {
		return `"` + v + `"`
	}
	return v
}

// escapeText escapes an iCalendar TEXT value and a vCard component value
// (N, ADR and ORG parts): backslash, semicolon, comma and line breaks.
// Other control characters are not allowed and are dropped.
func escapeText(s string) string { return escape(s, true) }

// escapeVCardText escapes a vCard 4.0 text value, where only backslash,
// comma and line breaks are escaped (a semicolon stays as it is).
func escapeVCardText(s string) string { return escape(s, false) }

func escape(s string, semicolon bool) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			b.WriteString(`\\`)
		case c == ',':
			b.WriteString(`\,`)
		case c == ';' && semicolon:
			b.WriteString(`\;`)
		case c == '\r':
			b.WriteString(`\n`)
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\t':
			b.WriteByte(c)
		case c < 0x20 || c == 0x7f:
			// dropped
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
