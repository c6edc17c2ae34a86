package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/corso-temporal/corso/backup"
)

func TestPrintedTextHasNoControlCharacters(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"plain", "Quarterly report", "Quarterly report"},
		{"non-ASCII text", "Ünïcödé 日本語 📎 — ok", "Ünïcödé 日本語 📎 — ok"},
		{"ESC colour sequence", "\x1b[31mred\x1b[0m", `\u001b[31mred\u001b[0m`},
		{"title change (OSC ... BEL)", "\x1b]0;pwned\x07x", `\u001b]0;pwned\u0007x`},
		{"hyperlink (OSC 8 ... ST)", "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\", `\u001b]8;;https://evil.example\u001b\click\u001b]8;;\u001b\`},
		{"8-bit CSI as UTF-8 (U+009B)", "a\u009b2Jb", `a\u009b2Jb`},
		{"8-bit CSI as a raw byte", "a\x9b2Jb", `a\x9b2Jb`},
		{"other C1 (NEL, OSC, ST)", "\u0085\u009d\u009c", `\u0085\u009d\u009c`},
		{"carriage return hides what came before", "real\rfake", `real\u000dfake`},
		{"backspace", "abc\b\b\bxyz", `abc\u0008\u0008\u0008xyz`},
		{"DEL", "a\x7fb", `a\u007fb`},
		{"NUL", "a\x00b", `a\u0000b`},
		{"tab and newline in a cell", "a\tb\nc", `a\u0009b\u000ac`},
		{"truncated UTF-8", "ok\xe6\x97", `ok\xe6\x97`},
	} {
		if got := printable(c.in); got != c.want {
			t.Errorf("%s: printable(%q) = %q, want %q", c.name, c.in, got, c.want)
		}
	}
}

func TestTerminalTextKeepsLayoutOnly(t *testing.T) {
	var buf bytes.Buffer
	w := terminalText{&buf}
	in := "ID\tSUBJECT\n1\t\x1b[2J\u009b2Jwiped\r\n"
	n, err := w.Write([]byte(in))
	if err != nil || n != len(in) {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if want := "ID\tSUBJECT\n1\t\\u001b[2J\\u009b2Jwiped\\u000d\n"; buf.String() != want {
		t.Fatalf("wrote %q, want %q", buf.String(), want)
	}
}

// --json output stays valid JSON meaning the same text: encoding/json
// escapes C0 itself, and the escapes for C1 and DEL are JSON's own.
func TestJSONThroughTerminalTextKeepsItsMeaning(t *testing.T) {
	subject := "a\x1b[31m\u009b\x7fz \"q\" \\ 日本"
	var buf bytes.Buffer
	if err := printJSON(terminalText{&buf}, map[string]string{"subject": subject}); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(buf.String(), "\x1b\u009b\x7f") {
		t.Fatalf("control characters reached the output: %q", buf.String())
	}
	var back map[string]string
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, buf.String())
	}
	if back["subject"] != subject {
		t.Fatalf("subject came back as %q, want %q", back["subject"], subject)
	}
}

// Every command writes through the root's writers, and the one-line error
// main prints is neutralised too.
func TestCommandsPrintThroughTerminalText(t *testing.T) {
	root := newRootCommand()
	for _, c := range root.Commands() {
		if _, ok := c.OutOrStdout().(terminalText); !ok {
			t.Errorf("%s prints to %T", c.Name(), c.OutOrStdout())
		}
		if _, ok := c.ErrOrStderr().(terminalText); !ok {
			t.Errorf("%s reports to %T", c.Name(), c.ErrOrStderr())
		}
	}
	if got := oneLine(errors.New("restore of \x1b]0;owned\x07 failed")); strings.ContainsAny(got, "\x1b\x07") {
		t.Errorf("oneLine kept control characters: %q", got)
	}
	var buf bytes.Buffer
	printBackupTable(terminalText{&buf}, []backup.Summary{{BackupID: "b1", Service: "exchange", ResourceName: "eve\x1b[8m", Status: "Failed", Error: "folder \x1b]8;;x\x1b\\ failed"}})
	if strings.ContainsAny(buf.String(), "\x1b") {
		t.Errorf("backup table kept ESC: %q", buf.String())
	}
}
