package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/m365/m365test"
	"github.com/corso-temporal/corso/workflows"
)

// serverAssigned are the properties Graph gives every new item itself; a
// restored item is the same item when everything else is equal.
var serverAssigned = map[string]bool{
	"id": true, "@odata.etag": true, "@odata.context": true, "createdDateTime": true, "lastModifiedDateTime": true,
	"changeKey": true, "parentFolderId": true, "webLink": true, "iCalUId": true, "seriesMasterId": true,
	"calendar@odata.associationLink": true, "calendar@odata.navigationLink": true,
	// The key of the request that created an event: a restored copy is
	// created by another request.
	"transactionId": true,
}

// eventNotes are what a restore changes on purpose in an event: its
// attendees are listed in the body instead of being invited again (see
// m365test.AsRestored), and the preview Exchange derives from the body follows.
var eventNotes = map[string]bool{"bodyPreview": true}

var occurrenceID = regexp.MustCompile(`^OID\..*\.(\d{4}-\d{2}-\d{2})$`)

// normalize drops server-assigned properties, and those in also, at
// every depth.
func normalize(v any, also map[string]bool) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if !serverAssigned[k] && !also[k] {
				out[k] = normalize(e, also)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e, also)
		}
		return out
	case string:
		if m := occurrenceID.FindStringSubmatch(x); m != nil {
			return "OID." + m[1]
		}
	}
	return v
}

// simClient reads a simulated tenant the way an app does, renewing its
// token when the tenant refuses it before its expiry (as real Graph does
// now and then, and the simulated tenant does after a number of requests).
type simClient struct {
	sim   *simTenant
	mu    sync.Mutex
	token string
}

func (c *simClient) bearer(t *testing.T, renew bool) string {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && !renew {
		return c.token
	}
	resp, err := http.Post(c.sim.Endpoint+"/_sim/token", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil {
		t.Fatal(err)
	}
	c.token = tok.AccessToken
	return c.token
}

func (c *simClient) get(t *testing.T, path string) []byte {
	t.Helper()
	status, b := c.do(t, http.MethodGet, c.sim.Endpoint+path, nil, "")
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, status, b)
	}
	return b
}

// post sends a JSON body and fails the test on an error status.
func (c *simClient) post(t *testing.T, path, body string) {
	t.Helper()
	c.send(t, http.MethodPost, c.sim.Endpoint+path, []byte(body), "application/json")
}

// send makes a request (to a Graph path, or an upload URL) and returns
// the answer's body; an error status fails the test.
func (c *simClient) send(t *testing.T, method, url string, body []byte, contentType string, header ...string) []byte {
	t.Helper()
	status, b := c.do(t, method, url, body, contentType, header...)
	if status >= 300 {
		t.Fatalf("%s %s: %d %s", method, url, status, b)
	}
	return b
}

// do makes a request with the client's token (Graph paths only; upload
// URLs carry their own authorization) and sends it once more with a new
// token if the tenant refused the token.
func (c *simClient) do(t *testing.T, method, url string, body []byte, contentType string, header ...string) (int, []byte) {
	t.Helper()
	graph := strings.HasPrefix(url, c.sim.Endpoint+"/v1.0/") || strings.HasPrefix(url, c.sim.Endpoint+"/beta/")
	for attempt := 0; ; attempt++ {
		req, _ := http.NewRequest(method, url, bytes.NewReader(body))
		if graph {
			req.Header.Set("Authorization", "Bearer "+c.bearer(t, attempt > 0))
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("%s %s: %v", method, url, err)
		}
		if graph && attempt == 0 && resp.StatusCode == http.StatusUnauthorized && bytes.Contains(b, []byte("InvalidAuthenticationToken")) {
			continue
		}
		if wait, err := strconv.Atoi(resp.Header.Get("Retry-After")); graph && err == nil && resp.StatusCode == http.StatusTooManyRequests && attempt < 10 {
			// Rate limits (Teams') apply to the test's own reads too.
			time.Sleep(time.Duration(wait) * time.Second)
			continue
		}
		return resp.StatusCode, b
	}
}

// addLargeMessage puts a message of about 10 MB in a mailbox's inbox the
// way a mail client does: created as a received message (flags without
// mfUnsent, its delivery and submit times), then given a 7 MB file
// through an upload session and a 2.5 MB one posted. It returns the
// message's id.
func (c *simClient) addLargeMessage(t *testing.T, user string) string {
	t.Helper()
	msg, _ := json.Marshal(map[string]any{
		"subject":      "Quarterly archive (large)",
		"body":         map[string]any{"contentType": "html", "content": "<html><body><p>Both files attached.</p></body></html>"},
		"from":         map[string]any{"emailAddress": map[string]any{"name": "Archive", "address": "archive@example.com"}},
		"toRecipients": []any{map[string]any{"emailAddress": map[string]any{"address": user}}},
		"singleValueExtendedProperties": []any{
			map[string]any{"id": "Integer 0x0E07", "value": "1"},
			map[string]any{"id": "SystemTime 0x0039", "value": "2024-03-01T09:00:00Z"},
			map[string]any{"id": "SystemTime 0x0E06", "value": "2024-03-01T09:00:05Z"},
		}})
	var created struct {
		ID string `json:"id"`
	}
	base := c.sim.Endpoint + "/v1.0/users/" + user
	_ = json.Unmarshal(c.send(t, http.MethodPost, base+"/mailFolders/inbox/messages", msg, "application/json"), &created)
	file := func(n int, seed byte) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*31) ^ seed
		}
		return b
	}
	big := file(7<<20, 1)
	sess, _ := json.Marshal(map[string]any{"AttachmentItem": map[string]any{
		"attachmentType": "file", "name": "archive.bin", "size": len(big), "contentType": "application/octet-stream"}})
	var upload struct {
		UploadURL string `json:"uploadUrl"`
	}
	_ = json.Unmarshal(c.send(t, http.MethodPost, base+"/messages/"+created.ID+"/attachments/createUploadSession", sess, "application/json"), &upload)
	for off, chunk := 0, 4<<20; off < len(big); off += chunk {
		end := min(off+chunk, len(big))
		c.send(t, http.MethodPut, upload.UploadURL, big[off:end], "application/octet-stream",
			"Content-Range", fmt.Sprintf("bytes %d-%d/%d", off, end-1, len(big)))
	}
	small, _ := json.Marshal(map[string]any{"@odata.type": "#microsoft.graph.fileAttachment", "name": "index.bin",
		"contentType": "application/octet-stream", "contentBytes": base64.StdEncoding.EncodeToString(file(5<<19, 2))})
	c.send(t, http.MethodPost, base+"/messages/"+created.ID+"/attachments", small, "application/json")
	return created.ID
}

// contentHash is what must survive a restore: what a message says (its
// addresses, times, draft state, body and attachments, whatever form its
// MIME takes), and the JSON of a contact or event without what Graph
// assigns.
func (c *simClient) contentHash(t *testing.T, it graphsim.StateItem) string {
	t.Helper()
	if it.Category == "mail" {
		return it.Content
	}
	var path string
	var also map[string]bool
	switch it.Category {
	case "contacts":
		path = "/v1.0/users/" + it.ResourceID + "/contacts/" + it.ID
	case "events":
		path = "/beta/users/" + it.ResourceID + "/events/" + it.ID + "?$expand=exceptionOccurrences,attachments"
		also = eventNotes
	}
	var doc any
	if err := json.Unmarshal(c.get(t, path), &doc); err != nil {
		t.Fatal(err)
	}
	if it.Category == "events" {
		c.completeEvent(t, it.ResourceID, doc.(map[string]any))
		m365test.AsRestored(doc.(map[string]any))
	}
	b, _ := json.Marshal(normalize(doc, also))
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// completeEvent adds to an event what its GET leaves out and a backup
// must keep: its attachments as its attachments list gives them with the
// items of item attachments, and each exception's own attachments, listed
// at the exception's id. An item attachment's size is that of the item
// Exchange stores, which a copy need not share, so it is left out.
func (c *simClient) completeEvent(t *testing.T, user string, doc map[string]any) {
	t.Helper()
	list := func(id string) []any {
		var page struct {
			Value []any `json:"value"`
		}
		path := "/beta/users/" + user + "/events/" + url.PathEscape(id) + "/attachments?$expand=microsoft.graph.itemattachment/item"
		if err := json.Unmarshal(c.get(t, path), &page); err != nil {
			t.Fatal(err)
		}
		for _, x := range page.Value {
			if a, _ := x.(map[string]any); a["@odata.type"] == "#microsoft.graph.itemAttachment" {
				delete(a, "size")
			}
		}
		return page.Value
	}
	if doc["hasAttachments"] == true {
		doc["attachments"] = list(doc["id"].(string))
	}
	exceptions, _ := doc["exceptionOccurrences"].([]any)
	for _, x := range exceptions {
		if ex, _ := x.(map[string]any); ex["hasAttachments"] == true {
			ex["attachments"] = list(ex["id"].(string))
		}
	}
}

// contents lists a mailbox's items as "category/folders/content hash",
// with repeats, keeping those whose folders pass keep, mapped through it.
// Folders are a quoted list of names, so that a folder named "Q3 /
// Budget" is never taken for two.
func (c *simClient) contents(t *testing.T, user string, keep func(cat string, folders []string) ([]string, bool)) []string {
	t.Helper()
	st, err := c.sim.State(graphsim.StateFilter{User: user})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, it := range st.Items {
		if it.Kind == "folder" || (it.Category != "mail" && it.Category != "contacts" && it.Category != "events") {
			continue
		}
		folders, ok := keep(it.Category, it.Folders)
		if !ok {
			continue
		}
		out = append(out, fmt.Sprintf("%s/%q/%s", it.Category, folders, c.contentHash(t, it)))
	}
	sort.Strings(out)
	return out
}

func assertSameContents(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(want) == 0 {
		t.Fatalf("%s: nothing to compare", what)
	}
	count := map[string]int{}
	for _, w := range want {
		count[w]++
	}
	for _, g := range got {
		count[g]--
	}
	bad := 0
	for k, n := range count {
		if n != 0 {
			bad++
			if bad <= 5 {
				t.Errorf("%s: %s: %+d (missing > 0, extra < 0)", what, k, n)
			}
		}
	}
	if bad > 0 || len(got) != len(want) {
		t.Fatalf("%s: %d items restored, want %d; %d differ", what, len(got), len(want), bad)
	}
}

// under keeps items below the destination folder dest and strips it. Mail
// and calendars have it at the top; contact folders live inside the default
// contacts folder, so there it is one level down.
func under(dest string) func(cat string, folders []string) ([]string, bool) {
	return func(cat string, folders []string) ([]string, bool) {
		at := 0
		if cat == "contacts" {
			at = 1
		}
		if len(folders) <= at || folders[at] != dest {
			return nil, false
		}
		return append(append([]string{}, folders[:at]...), folders[at+1:]...), true
	}
}

// restoredPath is where an item of the original mailbox lands under the
// destination: mail and contacts keep their folders, calendars are flat.
func restoredPath(cat string, folders []string) ([]string, bool) {
	if cat == "events" {
		return nil, true
	}
	return folders, true
}

type restoreJSON struct {
	workflows.RestoreResult
}

func (a exchangeAdmin) restore(t *testing.T, args ...string) workflows.RestoreResult {
	t.Helper()
	r := a.run(t, append([]string{"restore", "exchange", "--json"}, args...)...)
	mustSucceed(t, r)
	var out restoreJSON
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
		t.Fatalf("parse: %v\n%s", err, r.Stdout)
	}
	return out.RestoreResult
}

func TestExchangeRestoreToAnotherMailbox(t *testing.T) {
	a := newExchangeAdmin(t, tenant, "exchange-restore")
	users := mailboxes(t, tenant)
	from, to := users[0], users[1]
	c := &simClient{sim: tenant}
	large := c.addLargeMessage(t, from)
	t.Cleanup(func() { c.send(t, http.MethodDelete, tenant.Endpoint+"/v1.0/users/"+from+"/messages/"+large, nil, "") })
	bs := a.backup(t, from)
	id := bs[0].BackupID
	original := c.contents(t, from, restoredPath)
	requireZonedCancellation(t, c, from)

	res := a.restore(t, "--backup", id, "--to-resource", to, "--destination", "Restored")
	if res.Total.Restored != int64(len(original)) || res.Total.Failed != 0 {
		t.Fatalf("restore: %+v, want %d restored", res.Total, len(original))
	}
	assertSameContents(t, "restore", c.contents(t, to, under("Restored")), original)
	assertRestoredAsSent(t, from, to, "Restored", large)

	// Again with skip: everything collides, nothing is written.
	res = a.restore(t, "--backup", id, "--to-resource", to, "--destination", "Restored")
	if res.Total.Skipped != int64(len(original)) || res.Total.Restored != 0 {
		t.Fatalf("restore with skip: %+v", res.Total)
	}
	assertSameContents(t, "after skip", c.contents(t, to, under("Restored")), original)

	// Copy restores alongside: two of everything.
	res = a.restore(t, "--backup", id, "--to-resource", to, "--destination", "Restored", "--collisions", "copy")
	if res.Total.Restored != int64(len(original)) {
		t.Fatalf("restore with copy: %+v", res.Total)
	}
	assertSameContents(t, "after copy", c.contents(t, to, under("Restored")), append(slicesClone(original), original...))

	// Replace leaves one of each.
	res = a.restore(t, "--backup", id, "--to-resource", to, "--destination", "Restored", "--collisions", "replace")
	if res.Total.Replaced != int64(len(original)) {
		t.Fatalf("restore with replace: %+v", res.Total)
	}
	assertSameContents(t, "after replace", c.contents(t, to, under("Restored")), original)
	assertFirstAttempts(t, "CorsoBackupID = '"+id+"'", 5)
}

func slicesClone(s []string) []string { return append([]string(nil), s...) }

// assertRestoredAsSent checks what the content comparison covers, in
// plain words: the restored messages are not drafts and keep their
// received and sent times, and the large one came back whole.
func assertRestoredAsSent(t *testing.T, from, to, dest, large string) {
	t.Helper()
	c := &simClient{sim: tenant}
	var orig struct {
		Subject  string `json:"subject"`
		Sent     string `json:"sentDateTime"`
		Received string `json:"receivedDateTime"`
	}
	_ = json.Unmarshal(c.get(t, "/v1.0/users/"+from+"/messages/"+large), &orig)
	st, err := tenant.State(graphsim.StateFilter{User: to, Category: "mail"})
	if err != nil {
		t.Fatal(err)
	}
	checked, found := 0, false
	for _, it := range st.Items {
		if it.Kind != "message" || !strings.HasPrefix(it.Path, dest+"/") || checked > 40 && it.Name != orig.Subject {
			continue
		}
		checked++
		var m struct {
			IsDraft  bool   `json:"isDraft"`
			Sent     string `json:"sentDateTime"`
			Received string `json:"receivedDateTime"`
			Created  string `json:"createdDateTime"`
		}
		_ = json.Unmarshal(c.get(t, "/v1.0/users/"+to+"/messages/"+it.ID), &m)
		if m.IsDraft || m.Received == m.Created {
			t.Errorf("restored message %q: draft %v, received %s, created %s", it.Name, m.IsDraft, m.Received, m.Created)
		}
		if it.Name == orig.Subject {
			found = true
			if m.Sent != orig.Sent || m.Received != orig.Received || it.Size < 10<<20 {
				t.Errorf("large message restored sent %s received %s (want %s, %s), %d bytes", m.Sent, m.Received, orig.Sent, orig.Received, it.Size)
			}
		}
	}
	if !found {
		t.Errorf("the large message %q was not restored", orig.Subject)
	}
}

func TestExchangeRestoreSelected(t *testing.T) {
	a := newExchangeAdmin(t, tenant, "exchange-restore-selected")
	users := mailboxes(t, tenant)
	from := users[2%len(users)]
	id := a.backup(t, from)[0].BackupID
	c := &simClient{sim: tenant}

	// One folder (the fullest top-level mail folder, with its subfolders),
	// back into the same mailbox under a new folder.
	st, err := tenant.State(graphsim.StateFilter{User: from, Category: "mail", NoHashes: true})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	folder := ""
	for _, it := range st.Items {
		// A name holding "/" would read as a path on the command line.
		if it.Kind == "message" && len(it.Folders) > 0 && !strings.Contains(it.Folders[0], "/") {
			top := it.Folders[0]
			if count[top]++; count[top] > count[folder] {
				folder = top
			}
		}
	}
	res := a.restore(t, "--backup", id, "--email-folder", folder, "--destination", "OneFolder")
	inbox := c.contents(t, from, func(cat string, folders []string) ([]string, bool) {
		return folders, cat == "mail" && len(folders) > 0 && folders[0] == folder
	})
	if res.Total.Restored != int64(len(inbox)) {
		t.Fatalf("folder restore: %+v, want %d", res.Total, len(inbox))
	}
	assertSameContents(t, "folder restore", c.contents(t, from, under("OneFolder")), inbox)

	// One message by subject.
	st, err = tenant.State(graphsim.StateFilter{User: from, Category: "mail"})
	if err != nil {
		t.Fatal(err)
	}
	var subject string
	for _, it := range st.Items {
		if it.Kind == "message" && len(it.Name) > 12 && subject == "" {
			subject = it.Name
		}
	}
	if subject == "" {
		t.Fatal("no message with a subject to select")
	}
	// The messages the backup holds with that subject, in their folders.
	var want []string
	for _, it := range st.Items {
		if it.Kind == "message" && strings.Contains(strings.ToLower(it.Name), strings.ToLower(subject)) &&
			len(it.Folders) > 0 && it.Folders[0] != "OneFolder" {
			want = append(want, fmt.Sprintf("mail/%q/%s", it.Folders, c.contentHash(t, it)))
		}
	}
	sort.Strings(want)
	res = a.restore(t, "--backup", id, "--email-subject", subject, "--destination", "OneMessage")
	if res.Total.Restored != int64(len(want)) {
		t.Fatalf("subject restore of %q: %+v, want %d", subject, res.Total, len(want))
	}
	assertSameContents(t, "subject restore", c.contents(t, from, under("OneMessage")), want)
}

func TestExchangeRestoreBadInput(t *testing.T) {
	a := newExchangeAdmin(t, tenant, "exchange-restore-bad")
	users := mailboxes(t, tenant)
	id := a.backup(t, users[0])[0].BackupID
	before, err := tenant.State(graphsim.StateFilter{NoHashes: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		args  []string
		wants []string
	}{
		{"unknown backup", []string{"--backup", "0123456789abcdef"}, []string{"no backup with id 0123456789abcdef"}},
		{"no backup", nil, []string{"--backup is required"}},
		{"bad date", []string{"--backup", id, "--email-received-after", "yesterday"}, []string{"--email-received-after", "yesterday"}},
		{"bad collisions", []string{"--backup", id, "--collisions", "merge"}, []string{"--collisions", "merge"}},
		{"bad destination", []string{"--backup", id, "--destination", "a/b"}, []string{"--destination"}},
		{"unknown mailbox", []string{"--backup", id, "--to-resource", "nobody@nowhere.example"}, []string{"nobody@nowhere.example"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mustFail(t, a.run(t, append([]string{"restore", "exchange"}, tc.args...)...), 30e9, tc.wants...)
		})
	}
	after, err := tenant.State(graphsim.StateFilter{NoHashes: true})
	if err != nil {
		t.Fatal(err)
	}
	if after.StateHash != before.StateHash {
		t.Fatal("a refused restore changed the tenant")
	}
}
