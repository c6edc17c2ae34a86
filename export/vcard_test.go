package export

import (
	"bytes"
	"strings"
	"testing"

	"github.com/emersion/go-vcard"
)

func TestContentLineFolding(t *testing.T) {
	for _, value := range []string{
		"",
		strings.Repeat("a", 74),
		strings.Repeat("a", 75),
		strings.Repeat("a", 300),
		strings.Repeat("é", 100),
		"x" + strings.Repeat("日本", 60),
		"xy" + strings.Repeat("😀", 50),
		strings.Repeat("a😀é日", 40),
	} {
		for prefix := 0; prefix < 5; prefix++ {
			name := "X-" + strings.Repeat("P", prefix)
			var buf bytes.Buffer
			lw := newLineWriter(&buf)
			lw.prop(name, nil, value)
			if err := lw.flush(); err != nil {
				t.Fatal(err)
			}
			checkContentLines(t, name, buf.Bytes())
			unfolded := strings.ReplaceAll(buf.String(), "\r\n ", "")
			if want := name + ":" + value + "\r\n"; unfolded != want {
				t.Errorf("unfolded %q, want %q", unfolded, want)
			}
		}
	}
}

func TestEscaping(t *testing.T) {
	for _, tc := range []struct{ in, ical, vcard string }{
		{`a,b;c\d`, `a\,b\;c\\d`, `a\,b;c\\d`},
		{"l1\r\nl2\nl3\rl4", `l1\nl2\nl3\nl4`, `l1\nl2\nl3\nl4`},
		{"tab\tkept, bell\x07 dropped", "tab\tkept\\, bell dropped", "tab\tkept\\, bell dropped"},
		{"bad \xff utf8", "bad \uFFFD utf8", "bad \uFFFD utf8"},
	} {
		if got := escapeText(tc.in); got != tc.ical {
			t.Errorf("escapeText(%q) = %q, want %q", tc.in, got, tc.ical)
		}
		if got := escapeVCardText(tc.in); got != tc.vcard {
			t.Errorf("escapeVCardText(%q) = %q, want %q", tc.in, got, tc.vcard)
		}
	}
	for in, want := range map[string]string{
		"plain":       "plain",
		"a;b":         `"a;b"`,
		"text/plain":  "text/plain",
		"a, b":        `"a, b"`,
		`say "hi"`:    "say 'hi'",
		"line\r\nnew": "line  new",
		"mailto:x":    `"mailto:x"`,
	} {
		if got := paramValue(in); got != want {
			t.Errorf("paramValue(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestContactVCardShapes(t *testing.T) {
	parse := func(raw string) (vcard.Card, string) {
		t.Helper()
		var buf bytes.Buffer
		if err := ContactVCard(&buf, []byte(raw)); err != nil {
			t.Fatal(err)
		}
		checkContentLines(t, raw, buf.Bytes())
		text := buf.String()
		c, err := vcard.NewDecoder(&buf).Decode()
		if err != nil {
			t.Fatal(err)
		}
		return c, text
	}
	c, text := parse(`{}`)
	if fn := c.Value(vcard.FieldFormattedName); fn != "Unnamed contact" {
		t.Errorf("FN %q", fn)
	}
	for _, f := range []string{vcard.FieldName, vcard.FieldEmail, vcard.FieldTelephone, vcard.FieldUID, vcard.FieldRevision, vcard.FieldAddress, vcard.FieldNote} {
		if c.Get(f) != nil {
			t.Errorf("%s written for an empty contact\n%s", f, text)
		}
	}
	if !strings.HasPrefix(text, "BEGIN:VCARD\r\nVERSION:4.0\r\n") {
		t.Errorf("VERSION must follow BEGIN:\n%s", text)
	}

	// Nulls, blanks and empty objects are absent values.
	c, text = parse(`{"displayName":null,"givenName":"  ","surname":null,"emailAddresses":[{"address":""},{"address":"x@example.com","type":"work"},{"address":"y@example.com","type":"personal"},{"address":"z@example.com","type":"other"}],
		"businessPhones":[""],"homeAddress":{},"businessAddress":{"street":" "},"categories":[""],"birthday":"garbage","lastModifiedDateTime":"bad"}`)
	if fn := c.Value(vcard.FieldFormattedName); fn != "x@example.com" {
		t.Errorf("FN %q: the first address stands in for a missing name", fn)
	}
	emails := c[vcard.FieldEmail]
	if len(emails) != 3 || !emails[0].Params.HasType("work") || !emails[1].Params.HasType("home") || len(emails[2].Params.Types()) != 0 {
		t.Errorf("EMAIL types wrong:\n%s", text)
	}
	for _, f := range []string{vcard.FieldName, vcard.FieldTelephone, vcard.FieldAddress, vcard.FieldCategories, vcard.FieldBirthday, vcard.FieldRevision} {
		if c.Get(f) != nil {
			t.Errorf("%s written for a blank value\n%s", f, text)
		}
	}

	// Name parts without a display name.
	c, _ = parse(`{"givenName":"Ann","surname":"Lee","title":"Dr.","companyName":"","department":"Lab"}`)
	if fn := c.Value(vcard.FieldFormattedName); fn != "Dr. Ann Lee" {
		t.Errorf("FN %q", fn)
	}
	if org := c.Value(vcard.FieldOrganization); org != ";Lab" {
		t.Errorf("ORG %q: a department alone keeps its place", org)
	}

	if err := ContactVCard(&bytes.Buffer{}, []byte(`[`)); err == nil {
		t.Error("invalid JSON accepted")
	}
	if _, err := ContactTitle([]byte(`nope`)); err == nil {
		t.Error("invalid JSON accepted")
	}
}

func TestMailSubject(t *testing.T) {
	for msg, want := range map[string]string{
		"Subject: Hello\r\n\r\nbody":                                       "Hello",
		"From: a@b\r\nSubject: =?UTF-8?B?w5xuw69jw7Zkw6kg4pyT?=\r\n\r\n":   "Ünïcödé ✓",
		"Subject: =?iso-8859-1?Q?caf=E9?=\r\n\r\n":                         "café",
		"Subject: =?windows-1252?Q?=93quoted=94_=80?=\r\n\r\n":             "“quoted” €",
		"Subject: folded\r\n  across lines\r\n\r\n":                        "folded across lines",
		"Subject: =?x-unknown?Q?raw?=\r\n\r\n":                             "raw",
		"To: x\r\n\r\nno subject":                                          "",
		"not a message at all":                                             "",
		"Subject: =?UTF-8?B?broken base64?=\r\n\r\n":                       "=?UTF-8?B?broken base64?=",
		"Subject: ok\r\nbroken header line without colon\r\n\r\nbody text": "ok",
	} {
		if got := MailSubject([]byte(msg)); got != want {
			t.Errorf("MailSubject(%q) = %q, want %q", msg, got, want)
		}
	}
}
