package graph

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/corso-temporal/corso/m365"
)

// graphGet reads a path of the simulated tenant as an application does.
func (e *env) graphGet(path string) map[string]any {
	e.t.Helper()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	e.control(http.MethodPost, "token", nil, &tok)
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/v1.0/"+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// mailView is what a restore must keep of a message, as Graph shows it:
// everything but what Exchange assigns (ids, creation, conversation),
// with attachments by content.
func mailView(e *env, mailbox, id string) map[string]any {
	e.t.Helper()
	m := e.graphGet("users/" + mailbox + "/messages/" + id + "?$expand=attachments")
	out := map[string]any{}
	for _, k := range []string{"subject", "from", "sender", "toRecipients", "ccRecipients", "bccRecipients", "replyTo",
		"importance", "categories", "internetMessageId", "isDraft", "isRead", "flag", "sentDateTime", "receivedDateTime", "hasAttachments"} {
		out[k] = m[k]
	}
	if body, _ := m["body"].(map[string]any); body != nil {
		content, _ := body["content"].(string)
		out["body"] = fmt.Sprint(body["contentType"], ":", strings.ReplaceAll(content, "\r\n", "\n"))
	}
	var atts []string
	list, _ := m["attachments"].([]any)
	for _, x := range list {
		a := x.(map[string]any)
		content := ""
		if cb, ok := a["contentBytes"].(string); ok {
			raw, _ := base64.StdEncoding.DecodeString(cb)
			h := sha256.Sum256(raw)
			content = hex.EncodeToString(h[:8])
		}
		atts = append(atts, fmt.Sprint(a["@odata.type"], "|", a["name"], "|", a["contentType"], "|", a["isInline"], "|", a["contentId"], "|", content))
	}
	sort.Strings(atts)
	out["attachments"] = atts
	return out
}

func TestRestoreMail(t *testing.T) {
	var posts, jsonPosts atomic.Int64
	// The first message is throttled once: the retry sends the body again.
	watch := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/messages") {
				if posts.Add(1) == 1 {
					w.Header().Set("Retry-After", "0")
					w.WriteHeader(http.StatusTooManyRequests)
					return
				}
				if r.ContentLength > 0 && r.Header.Get("Content-Type") == "application/json" {
					jsonPosts.Add(1)
				}
			}
			h.ServeHTTP(w, r)
		})
	}
	e := newEnv(t, watch)
	c := e.client(func(cfg *Config) { cfg.PageSize = 7 })
	ctx := context.Background()
	src, dst := e.user(0).ID, e.user(targetUser).ID

	from := biggest(t, e, c, src, Email)
	msgs := sourceItems(t, c, src, Email, from)
	if len(msgs) < 8 {
		t.Fatalf("only %d messages in %q", len(msgs), from.Path)
	}
	folder, err := c.EnsureContainer(ctx, dst, Email, append([]string{"Restored"}, from.Path...))
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	restore := func(folder string, m sourceItem) string {
		t.Helper()
		id, err := c.RestoreItem(ctx, dst, Email, folder, m.stored, m.state)
		if err != nil {
			t.Fatalf("restore %s: %v", m.id, err)
		}
		want, got := mailView(e, src, m.id), mailView(e, dst, id)
		if got["isDraft"] != m.state.Draft {
			t.Errorf("message %s: draft %v, want %v", m.id, got["isDraft"], m.state.Draft)
		}
		if d := diffJSON(want, got); d != "" {
			t.Errorf("message %s restored as %s differs: %s", m.id, id, d)
		}
		for _, a := range want["attachments"].([]string) {
			kinds[a[:strings.IndexByte(a, '|')]]++
			if strings.Contains(a, "|true|") {
				kinds["inline"]++
			}
		}
		return id
	}
	restored := map[string][]byte{}
	for _, m := range msgs {
		restored[restore(folder, m)] = m.stored
	}
	// Attached messages are rarer: the other folders' ones too.
	cs, err := c.Containers(ctx, src, Email)
	if err != nil {
		t.Fatal(err)
	}
	withItems := 0
	for _, ct := range cs {
		if ct.ID == from.ID {
			continue
		}
		for _, m := range sourceItems(t, c, src, Email, ct) {
			if bytes.Contains(m.stored, []byte("Content-Type: message/rfc822")) {
				restored[restore(folder, m)] = m.stored
				withItems++
			}
		}
	}
	if kinds["#microsoft.graph.fileAttachment"] == 0 || kinds["#microsoft.graph.itemAttachment"] == 0 || kinds["inline"] == 0 {
		t.Errorf("the folder's messages hold too few kinds of attachments to prove anything: %v", kinds)
	}
	if posts.Load() != int64(len(msgs)+withItems)+1 || jsonPosts.Load() != posts.Load()-1 {
		t.Errorf("%d posts, %d of them JSON", posts.Load(), jsonPosts.Load())
	}
	checkExisting(t, c, dst, Email, folder, restored)
	if n := c.Stats().Requests["messages.list"]; n < 2 {
		t.Errorf("%d list requests: pages not followed", n)
	}
}

// largeMessage is a message of about 10 MB: an HTML body, a 6 MB and a
// 2.5 MB file, and an inline image.
func largeMessage() ([]byte, map[string][]byte) {
	r := rand.New(rand.NewPCG(7, 7))
	file := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	files := map[string][]byte{"report.bin": file(6 << 20), "slides.bin": file(5 << 19), "logo.png": file(40 << 10)}
	var b bytes.Buffer
	b.WriteString("Received: from mx.example.com by mbx.example.com; Tue, 03 Jun 2025 08:30:00 +0000\r\n" +
		"From: \"Zoë Ärger\" <zoe@example.com>\r\nTo: a@example.com, \"B, Bee\" <b@example.com>\r\n" +
		"Subject: =?iso-8859-1?q?Gr=FC=DFe_und_Bericht?=\r\nDate: Tue, 03 Jun 2025 10:29:00 +0200\r\n" +
		"Message-ID: <large-1@example.com>\r\nImportance: high\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n" +
		"--outer\r\nContent-Type: multipart/related; boundary=\"rel\"\r\n\r\n" +
		"--rel\r\nContent-Type: text/html; charset=\"iso-8859-1\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
		"<html><body><p>Gr=FC=DFe</p><img src=3D\"cid:logo@x\"></body></html>\r\n")
	part := func(name, disp, cid string, data []byte) {
		b.WriteString("Content-Type: application/octet-stream; name=\"" + name + "\"\r\nContent-Transfer-Encoding: base64\r\n" +
			"Content-Disposition: " + disp + "; filename=\"" + name + "\"\r\n")
		if cid != "" {
			b.WriteString("Content-ID: <" + cid + ">\r\n")
		}
		b.WriteString("\r\n")
		enc := base64.StdEncoding.EncodeToString(data)
		for len(enc) > 76 {
			b.WriteString(enc[:76] + "\r\n")
			enc = enc[76:]
		}
		b.WriteString(enc + "\r\n")
	}
	b.WriteString("--rel\r\n")
	part("logo.png", "inline", "logo@x", files["logo.png"])
	b.WriteString("--rel--\r\n--outer\r\n")
	part("report.bin", "attachment", "", files["report.bin"])
	b.WriteString("--outer\r\n")
	part("slides.bin", "attachment", "", files["slides.bin"])
	b.WriteString("--outer--\r\n")
	return b.Bytes(), files
}

func TestRestoreLargeMessage(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(nil)
	ctx := context.Background()
	dst := e.user(targetUser).ID
	inbox, err := c.EnsureContainer(ctx, dst, Email, []string{"Inbox"})
	if err != nil {
		t.Fatal(err)
	}
	raw, files := largeMessage()
	id, err := c.RestoreItem(ctx, dst, Email, inbox, raw, m365.MessageState{Unread: true, Flag: "flagged"})
	if err != nil {
		t.Fatalf("restore of a %d-byte message: %v", len(raw), err)
	}
	m := e.graphGet("users/" + dst + "/messages/" + id)
	if m["isDraft"] != false || m["isRead"] != false || m["subject"] != "Grüße und Bericht" || m["importance"] != "high" ||
		m["sentDateTime"] != "2025-06-03T08:29:00Z" || m["receivedDateTime"] != "2025-06-03T08:30:00Z" {
		t.Errorf("restored message: draft %v subject %q importance %v sent %v received %v",
			m["isDraft"], m["subject"], m["importance"], m["sentDateTime"], m["receivedDateTime"])
	}
	from, _ := m["from"].(map[string]any)
	if addr, _ := from["emailAddress"].(map[string]any); addr["name"] != "Zoë Ärger" || addr["address"] != "zoe@example.com" {
		t.Errorf("from: %v", from)
	}
	if body, _ := m["body"].(map[string]any); !strings.Contains(fmt.Sprint(body["content"]), "Grüße") {
		t.Errorf("body: %v", body)
	}
	list := e.graphGet("users/" + dst + "/messages/" + id + "/attachments")["value"].([]any)
	if len(list) != len(files) {
		t.Fatalf("%d attachments, want %d", len(list), len(files))
	}
	for _, x := range list {
		a := x.(map[string]any)
		name := a["name"].(string)
		full := e.graphGet("users/" + dst + "/messages/" + id + "/attachments/" + a["id"].(string))
		got, _ := base64.StdEncoding.DecodeString(full["contentBytes"].(string))
		if !bytes.Equal(got, files[name]) {
			t.Errorf("attachment %q: %d bytes differ from the %d sent", name, len(got), len(files[name]))
		}
		if inline := name == "logo.png"; a["isInline"] != inline || inline && a["contentId"] != "logo@x" {
			t.Errorf("attachment %q: inline %v content id %v", name, a["isInline"], a["contentId"])
		}
	}
	if n := c.Stats().Requests["attachment.uploadSession"]; n != 1 {
		t.Errorf("%d upload sessions, want 1 (the 6 MB file)", n)
	}
}

func TestMailFromMIMEReadsAwkwardMessages(t *testing.T) {
	for _, tc := range []struct {
		name, mime string
		check      func(m *mailBody) string
	}{{
		name: "plain text only, no MIME-Version",
		mime: "From: a@example.com\r\nSubject: hi\r\nDate: Mon, 02 Jun 2025 10:00:00 +0000\r\n\r\nbody\r\n",
		check: func(m *mailBody) string {
			if m.fields["body"].(map[string]string)["contentType"] != "text" || m.html != nil || *m.text != "body\r\n" {
				return fmt.Sprint(m.fields["body"])
			}
			return ""
		},
	}, {
		name: "a second text part without a name is an attachment, as Exchange names it",
		mime: "Subject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\none\r\n" +
			"--b\r\nContent-Type: text/plain\r\n\r\ntwo\r\n--b--\r\n",
		check: func(m *mailBody) string {
			if len(m.attachments) != 1 || m.attachments[0].name != "ATT00001.txt" || string(m.attachments[0].data) != "two" {
				return fmt.Sprintf("%+v", m.attachments)
			}
			return ""
		},
	}, {
		name: "an attached message with attachments of its own stays a file",
		mime: "Subject: outer\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee\r\n" +
			"--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n" +
			"--c\r\nContent-Type: text/plain\r\n\r\nhi\r\n--c\r\nContent-Type: application/pdf; name=a.pdf\r\n\r\n%PDF\r\n--c--\r\n--b--\r\n",
		check: func(m *mailBody) string {
			if len(m.attachments) != 1 || m.attachments[0].item != nil || m.attachments[0].name != "inner.eml" ||
				!bytes.HasPrefix(m.attachments[0].data, []byte("Subject: inner")) {
				return fmt.Sprintf("%+v", m.attachments)
			}
			return ""
		},
	}, {
		name: "an attached message alone is an item attachment",
		mime: "Subject: outer\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee\r\n" +
			"--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\nFrom: x@example.com\r\n\r\nhi\r\n--b--\r\n",
		check: func(m *mailBody) string {
			if len(m.attachments) != 1 || m.attachments[0].item == nil || m.attachments[0].name != "inner" ||
				m.attachments[0].item["subject"] != "inner" {
				return fmt.Sprintf("%+v", m.attachments)
			}
			return ""
		},
	}, {
		name: "windows-1252 body, RFC 2231 file name, X-Priority",
		mime: "Subject: x\r\nX-Priority: 5 (Lowest)\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
			"--b\r\nContent-Type: text/plain; charset=windows-1252\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=80 5\r\n" +
			"--b\r\nContent-Type: text/csv\r\nContent-Disposition: attachment; filename*=UTF-8''K%C3%A4se.csv\r\n\r\na;b\r\n--b--\r\n",
		check: func(m *mailBody) string {
			if *m.text != "€ 5" || m.fields["importance"] != "low" || len(m.attachments) != 1 || m.attachments[0].name != "Käse.csv" {
				return fmt.Sprintf("%q %v %+v", *m.text, m.fields["importance"], m.attachments)
			}
			return ""
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := messageFromMIME([]byte(tc.mime), m365.MessageState{})
			if err != nil {
				t.Fatal(err)
			}
			if bad := tc.check(m); bad != "" {
				t.Error(bad)
			}
		})
	}
}
