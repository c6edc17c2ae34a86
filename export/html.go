package export

import (
	"html"
	"strings"
	"unicode/utf8"
)

// htmlToText renders an Outlook HTML body as plain text: markup and
// invisible parts (head, style, script, comments) are dropped, block
// elements and <br> become line breaks, list items become "- " lines,
// entities are decoded and runs of white space collapse as a browser
// would collapse them.
func htmlToText(s string) string {
	out := make([]byte, 0, len(s)/2)
	var text strings.Builder // pending character data, entities not yet decoded
	lastIs := func(c byte) bool { return len(out) > 0 && out[len(out)-1] == c }
	flush := func() {
		if text.Len() == 0 {
			return
		}
		t := html.UnescapeString(text.String())
		text.Reset()
		for _, r := range t {
			switch r {
			case ' ', '\t', '\n', '\r', '\f', '\u00a0':
				// White space collapses to one space, never at a line start.
				if len(out) > 0 && !lastIs(' ') && !lastIs('\n') {
					out = append(out, ' ')
				}
			default:
				out = utf8.AppendRune(out, r)
			}
		}
	}
	brk := func(n int) {
		flush()
		for lastIs(' ') {
			out = out[:len(out)-1]
		}
		if len(out) == 0 {
			return
		}
		have := 0
		for k := len(out) - 1; k >= 0 && out[k] == '\n'; k-- {
			have++
		}
		for ; have < n; have++ {
			out = append(out, '\n')
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c != '<' {
			j := strings.IndexByte(s[i:], '<')
			if j < 0 {
				j = len(s) - i
			}
			text.WriteString(s[i : i+j])
			i += j
			continue
		}
		if strings.HasPrefix(s[i:], "<!--") {
			end := strings.Index(s[i+4:], "-->")
			if end < 0 {
				break
			}
			i += 4 + end + 3
			continue
		}
		end := tagEnd(s, i)
		if end < 0 {
			// A lone "<" is text.
			text.WriteByte('<')
			i++
			continue
		}
		name, closing := tagName(s[i+1 : end])
		i = end + 1
		switch name {
		case "head", "style", "script", "title", "xml":
			if !closing {
				// Skip to the matching end tag.
				k := indexFold(s[i:], "</"+name)
				if k < 0 {
					i = len(s)
				} else if e := strings.IndexByte(s[i+k:], '>'); e >= 0 {
					i += k + e + 1
				} else {
					i = len(s)
				}
			}
		case "br":
			flush()
			out = append(out, '\n')
		case "p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "ul", "ol", "hr":
			brk(2)
		case "div", "tr", "dt", "dd", "section", "article", "header", "footer":
			brk(1)
		case "li":
			brk(1)
			if !closing {
				out = append(out, "- "...)
			}
		case "td", "th":
			flush()
			if !closing && len(out) > 0 && !lastIs('\n') && !lastIs(' ') {
				out = append(out, ' ')
			}
		default:
			// Inline markup adds nothing.
		}
	}
	flush()
	lines := strings.Split(string(out), "\n")
	var b strings.Builder
	blank := 0
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" {
			blank++
			continue
		}
		if b.Len() > 0 {
			if blank > 0 {
				b.WriteString("\n\n")
			} else {
				b.WriteByte('\n')
			}
		}
		blank = 0
		b.WriteString(l)
	}
	return b.String()
}

// tagEnd finds the ">" closing the tag that starts at s[i], skipping quoted
// attribute values; -1 when s[i] does not start a tag.
func tagEnd(s string, i int) int {
	if i+1 >= len(s) {
		return -1
	}
	if c := s[i+1]; !(c == '/' || c == '!' || c == '?' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
		return -1
	}
	var quote byte
	for j := i + 1; j < len(s); j++ {
		c := s[j]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return j
		}
	}
	return -1
}

// tagName returns the lower-cased element name of a tag's inside.
func tagName(inner string) (name string, closing bool) {
	if strings.HasPrefix(inner, "/") {
		closing = true
		inner = inner[1:]
	}
	end := strings.IndexAny(inner, " \t\r\n/>")
	if end < 0 {
		end = len(inner)
	}
	name = strings.ToLower(inner[:end])
	if k := strings.IndexByte(name, ':'); k >= 0 {
		// Office namespaces (o:p, v:shape) are inline.
		name = ""
	}
	return name, closing
}

// indexFold finds an ASCII needle in s, ignoring ASCII letter case.
func indexFold(s, needle string) int {
	for i := 0; i+len(needle) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(needle)], needle) {
			return i
		}
	}
	return -1
}
