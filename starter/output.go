package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"unicode/utf8"
)

// Everything the CLI prints goes through terminalText (root command) or
// printable (error lines): subjects, file and folder names, senders and
// failure messages come from mailboxes and drives anyone can write to, and
// a terminal obeys the control characters in them (ESC and CSI sequences
// rewrite the screen, set the title, or plant hyperlinks). Each control
// character is shown as an escape instead: C0 and DEL as \u00XX (also
// valid in --json output, where it means the same character), C1 likewise,
// and bytes that are not UTF-8 (a lone 0x9b is CSI to an 8-bit terminal)
// as \xNN.

// terminalText writes to w with every control character but the layout's
// tab and newline neutralised.
type terminalText struct{ w io.Writer }

func (t terminalText) Write(p []byte) (int, error) {
	if _, err := t.w.Write(neutralise(p, "\t\n")); err != nil {
		return 0, err
	}
	return len(p), nil
}

// printable neutralises every control character in s, for text that ends
// up inside a line (an error message, a table cell).
func printable(s string) string {
	return string(neutralise([]byte(s), ""))
}

// neutralise returns p with control characters other than those in keep,
// and bytes that are not UTF-8, replaced by visible escapes. Writers hand
// whole strings to Write (fmt, tabwriter, encoding/json), so a character
// split across two writes is rare; it shows as \xNN escapes, never as a
// control.
func neutralise(p []byte, keep string) []byte {
	var out []byte
	for i := 0; i < len(p); {
		r, n := utf8.DecodeRune(p[i:])
		var esc string
		switch {
		case r == utf8.RuneError && n == 1:
			esc = fmt.Sprintf(`\x%02x`, p[i])
		case (r < 0x20 || r >= 0x7f && r <= 0x9f) && !strings.ContainsRune(keep, r):
			esc = fmt.Sprintf(`\u%04x`, r)
		}
		if esc != "" && out == nil {
			out = append(make([]byte, 0, len(p)+8), p[:i]...)
		}
		switch {
		case esc != "":
			out = append(out, esc...)
		case out != nil:
			out = append(out, p[i:i+n]...)
		}
		i += n
	}
	if out == nil {
		return p
	}
	return out
}

func printJSON(out io.Writer, v any) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// webUILink points at the run in the Temporal Web UI when CORSO_TEMPORAL_UI
// says where that is.
func webUILink(g *globals, s submitted) string {
	base := strings.TrimRight(os.Getenv("CORSO_TEMPORAL_UI"), "/")
	if base == "" {
		return ""
	}
	return base + "/namespaces/" + url.PathEscape(g.temporal.Namespace) + "/workflows/" + url.PathEscape(s.WorkflowID)
}

func envOr(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}
