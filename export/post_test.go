package export

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/corso-temporal/corso/m365"
)

const storedReply = `{"@odata.etag":"W/\"CQAAAB\"","id":"AAMkAGI5=","createdDateTime":"2026-03-02T09:15:00Z",` +
	`"lastModifiedDateTime":"2026-03-02T09:15:00Z","changeKey":"CQAAAB","categories":[],"receivedDateTime":"2026-03-02T09:15:07Z",` +
	`"hasAttachments":true,"body":{"contentType":"html","content":"<html><body><div>Prêt à partir & on time</div></body></html>"},` +
	`"from":{"emailAddress":{"name":"Zoë Ana","address":"zoe@contoso.com"}},"sender":{"emailAddress":{"name":"Zoë Ana","address":"zoe@contoso.com"}},` +
	`"conversationThreadId":"AAQkAT=","conversationId":"AAQkAC=","newParticipants":[],"inReplyTo":{"@odata.etag":"W/\"x\"","id":"AAMkAFirst="},` +
	`"attachments":[{"@odata.type":"#microsoft.graph.fileAttachment","id":"AAMkAtt=","name":"Agenda.txt","contentType":"text/plain",` +
	`"size":11,"isInline":false,"contentId":null,"contentLocation":null,"contentBytes":"` + "SGVsbG8gd29ybGQ=" + `"}]}`

// TestPostEMLIsAMessageNetMailReads: a post becomes a message whose
// headers say who sent it, when, about what, and which post it answers;
// its HTML body and its attachment are MIME parts that decode to what
// Graph served.
func TestPostEMLIsAMessageNetMailReads(t *testing.T) {
	var out bytes.Buffer
	if err := PostEML(&out, []byte(storedReply), "Trip to Zürich"); err != nil {
		t.Fatal(err)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(out.Bytes()))
	if err != nil {
		t.Fatalf("%v:\n%s", err, out.String())
	}
	from, err := msg.Header.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != "Zoë Ana" || from[0].Address != "zoe@contoso.com" {
		t.Fatalf("From %v (%v)", from, err)
	}
	if d, err := msg.Header.Date(); err != nil || !d.Equal(time.Date(2026, 3, 2, 9, 15, 7, 0, time.UTC)) {
		t.Fatalf("Date %v (%v)", d, err)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if subject != "Trip to Zürich" {
		t.Fatalf("Subject %q", subject)
	}
	if msg.Header.Get("Message-ID") != "<AAMkAGI5=@graph.microsoft.com>" || msg.Header.Get("In-Reply-To") != "<AAMkAFirst=@graph.microsoft.com>" {
		t.Fatalf("Message-ID %q, In-Reply-To %q", msg.Header.Get("Message-ID"), msg.Header.Get("In-Reply-To"))
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		t.Fatalf("Content-Type %q", msg.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var parts []string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(m365.TransferDecoded(p.Header.Get("Content-Transfer-Encoding"), p))
		parts = append(parts, p.Header.Get("Content-Type")+"|"+p.FileName()+"|"+strings.TrimRight(string(b), "\r\n"))
	}
	want := []string{
		"text/html; charset=utf-8||<html><body><div>Prêt à partir & on time</div></body></html>",
		"text/plain; name=Agenda.txt|Agenda.txt|Hello world",
	}
	if strings.Join(parts, "\n") != strings.Join(want, "\n") {
		t.Fatalf("parts\n%s\nwant\n%s", strings.Join(parts, "\n"), strings.Join(want, "\n"))
	}

	// A first post without attachments is one HTML part answering none.
	first := strings.Replace(strings.Replace(storedReply, `"inReplyTo":{"@odata.etag":"W/\"x\"","id":"AAMkAFirst="},`, "", 1),
		`"contentBytes":"SGVsbG8gd29ybGQ="`, `"contentBytes":""`, 1)
	out.Reset()
	if err := PostEML(&out, []byte(first), ""); err != nil {
		t.Fatal(err)
	}
	msg, err = mail.ReadMessage(bytes.NewReader(out.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(m365.TransferDecoded(msg.Header.Get("Content-Transfer-Encoding"), msg.Body))
	if msg.Header.Get("In-Reply-To") != "" || !strings.HasPrefix(msg.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(body), "Prêt à partir & on time") {
		t.Fatalf("first post:\n%s", out.String())
	}

	if err := PostEML(io.Discard, []byte(`{"message":{}}`), "x"); err == nil {
		t.Fatal("a channel thread was written as a post")
	}
	if name := PostFileName(time.Date(2026, 3, 2, 9, 15, 7, 0, time.UTC), "Zoë Ana"); name != "2026-03-02 09.15 Zoë Ana.eml" {
		t.Fatalf("file name %q", name)
	}
}
