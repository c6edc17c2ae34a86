package m365

import (
	"strings"
	"testing"
)

func mimeMessage(boundary, plain, htmlEnc, html, attachment string) []byte {
	return []byte(strings.ReplaceAll(`Subject: =?utf-8?q?Q3_r=C3=A9sum=C3=A9?=
Date: Tue, 22 Aug 2023 04:05:48 +0000
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="`+boundary+`m"

--`+boundary+`m
Content-Type: multipart/alternative; boundary="`+boundary+`a"

--`+boundary+`a
Content-Type: text/plain; charset="utf-8"

`+plain+`
--`+boundary+`a
Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: `+htmlEnc+`

`+html+`
--`+boundary+`a--
--`+boundary+`m
Content-Type: application/pdf; name="q3.pdf"
Content-Disposition: attachment; filename="q3.pdf"
Content-Transfer-Encoding: base64

`+attachment+`
--`+boundary+`m--
`, "\n", "\r\n"))
}

func TestContentDigestKeepsWhatARestoreKeeps(t *testing.T) {
	html := "<p>caf\u00e9 notes</p>"
	orig := mimeMessage("b1", "café notes\n\nsecond paragraph", "8bit", html, "JVBERi0xLjQK")
	digest := func(raw []byte) string {
		d, err := ContentDigest(Email, raw)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	want := digest(orig)
	for _, tc := range []struct {
		name string
		raw  []byte
		same bool
	}{
		{"other boundaries, encodings and plain-text alternative", mimeMessage("b2", "café notes  second paragraph", "quoted-printable", "<p>caf=C3=A9 notes</p>", "JVBE\r\nRi0xLjQK"), true},
		{"another body", mimeMessage("b1", "café notes", "8bit", "<p>cafe notes</p>", "JVBERi0xLjQK"), false},
		{"another attachment", mimeMessage("b1", "café notes", "8bit", html, "JVBERi0xLjUK"), false},
	} {
		if got := digest(tc.raw); (got == want) != tc.same {
			t.Errorf("%s: same digest %v, want %v", tc.name, got == want, tc.same)
		}
	}
}
