package export

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/corso-temporal/corso/m365"
)

const storedThread = `{"message":{"id":"1","messageType":"message","createdDateTime":"2026-01-10T09:00:00Z","subject":"Plan & <b>dates</b>",` +
	`"from":{"user":{"displayName":"Ann Lee","id":"u1"}},"body":{"contentType":"html","content":"<p>Ship on <b>Friday</b></p><script>alert(1)</script>"}},` +
	`"replies":[{"id":"2","replyToId":"1","messageType":"message","createdDateTime":"2026-01-10T10:00:00Z",` +
	`"from":{"user":{"displayName":"Bob Roy","id":"u2"}},"body":{"contentType":"html","content":"<p>Agreed &amp; done</p>"}}]}`

// TestThreadHTMLIsTextOnly: a thread's page shows each message's sender
// and text in order, and nothing of the messages' markup survives as
// markup.
func TestThreadHTMLIsTextOnly(t *testing.T) {
	var b bytes.Buffer
	if err := ThreadHTML(&b, []byte(storedThread)); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{"Ann Lee", "Ship on Friday", "Bob Roy", "Agreed &amp; done", "Plan &amp; &lt;b&gt;dates&lt;/b&gt;"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Index(page, "Ann Lee") > strings.Index(page, "Bob Roy") {
		t.Error("the reply comes before the message")
	}
	for _, bad := range []string{"<script", "<b>", "<p>"} {
		if strings.Contains(page, bad) {
			t.Errorf("page holds markup %q:\n%s", bad, page)
		}
	}
	if err := ThreadHTML(&b, []byte(`{"x":1}`)); err == nil {
		t.Error("a document without a message rendered")
	}
}

// TestThreadJSONKeepsEveryMessage: the JSON export is the stored thread,
// indented: every message parses back to the same values.
func TestThreadJSONKeepsEveryMessage(t *testing.T) {
	var b bytes.Buffer
	if err := ThreadJSON(&b, []byte(storedThread)); err != nil {
		t.Fatal(err)
	}
	var got, want m365.ChannelThread
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal([]byte(storedThread), &want)
	if len(got.Replies) != 1 || !jsonEqual(t, got.Message, want.Message) || !jsonEqual(t, got.Replies[0], want.Replies[0]) {
		t.Fatalf("export:\n%s", b.String())
	}
}

func jsonEqual(t *testing.T, a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		t.Fatal("unparsable")
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

// TestThreadHTMLShowsInlineImages: the stored inline images of a message
// and of a reply are shown under their own message as data: URIs, which
// the page's policy allows as images and nothing else; an image of a
// type the page does not show (SVG) is named, not shown; the messages'
// markup, the <img> tags of their bodies included, stays text.
func TestThreadHTMLShowsInlineImages(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\nsome pixels")
	var th map[string]any
	_ = json.Unmarshal([]byte(storedThread), &th)
	th["message"].(map[string]any)["body"].(map[string]any)["content"] =
		`<p>See <img src="https://graph.microsoft.com/v1.0/teams/t/channels/c/messages/1/hostedContents/aGM/$value" onerror="alert(1)"></p>`
	th["hostedContents"] = []m365.HostedContent{
		{MessageID: "2", ID: "cmVwbHk", ContentType: "image/jpeg", ContentBytes: []byte("\xff\xd8\xff\xe0reply")},
		{MessageID: "1", ID: "aGM", ContentType: "image/png", ContentBytes: png},
		{MessageID: "1", ID: "c3Zn", ContentType: "image/svg+xml", ContentBytes: []byte("<svg onload='alert(1)'/>")},
	}
	stored, _ := json.Marshal(th)
	var b bytes.Buffer
	if err := ThreadHTML(&b, stored); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	msgImg := `<img src="data:image/png;base64,` + base64.StdEncoding.EncodeToString(png) + `"`
	replyImg := `<img src="data:image/jpeg;base64,`
	if !strings.Contains(page, msgImg) || !strings.Contains(page, replyImg) {
		t.Fatalf("page lacks the inline images:\n%s", page)
	}
	if i, j, k := strings.Index(page, msgImg), strings.Index(page, "Bob Roy"), strings.Index(page, replyImg); !(i < j && j < k) {
		t.Errorf("images not under their messages: message image at %d, reply at %d, reply image at %d", i, j, k)
	}
	if !strings.Contains(page, "default-src 'none'; style-src 'unsafe-inline'; img-src data:\"") {
		t.Errorf("page policy does not allow data: images only:\n%s", page)
	}
	if strings.Count(page, "<img ") != 2 || strings.Contains(page, "<svg") || !strings.Contains(page, "inline image: image/svg+xml") {
		t.Errorf("page shows other images or markup:\n%s", page)
	}
	for _, bad := range []string{"<script", "<p>", "onerror", "graph.microsoft.com"} {
		if strings.Contains(page, bad) {
			t.Errorf("page holds markup %q:\n%s", bad, page)
		}
	}
}
