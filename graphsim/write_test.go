package graphsim

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

const sampleMIME = "From: \"Ann\" <ann@example.com>\r\nTo: bob@example.com\r\nSubject: =?utf-8?B?UmVzdG9yZWQg4pyT?=\r\n" +
	"Date: Mon, 02 Jun 2025 10:00:00 +0000\r\nMessage-ID: <restored-1@example.com>\r\nMIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello\r\n" +
	"--b1\r\nContent-Type: application/pdf; name=\"a.pdf\"\r\nContent-Disposition: attachment; filename=\"a.pdf\"\r\n" +
	"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b1--\r\n"

func TestRestoredMailJoinsTheTenantAndLaterDeltas(t *testing.T) {
	h := newHarness(t, Options{})
	u := h.user(1)
	_, _, folderDL := h.deltaRound("users/" + u + "/mailFolders/delta")
	folder := h.sendJSON(http.MethodPost, "users/"+u+"/mailFolders", map[string]any{"displayName": "Restore 2025"}, http.StatusCreated)
	fid := folder["id"].(string)
	h.sendJSON(http.MethodPost, "users/"+u+"/mailFolders", map[string]any{"displayName": "restore 2025"}, http.StatusConflict)
	child := h.sendJSON(http.MethodPost, "users/"+u+"/mailFolders/"+fid+"/childFolders", map[string]any{"displayName": "Nested"}, http.StatusCreated)
	up, _, _ := h.deltaRound(folderDL)
	if up[fid] == nil || up[child["id"].(string)]["parentFolderId"] != fid {
		t.Fatalf("created folders not in hierarchy delta: %v", up)
	}
	_, _, msgDL := h.deltaRound("users/" + u + "/mailFolders/" + fid + "/messages/delta")

	resp := h.do(http.MethodPost, "users/"+u+"/mailFolders/"+fid+"/messages",
		strings.NewReader(base64.StdEncoding.EncodeToString([]byte(sampleMIME))), "Content-Type", "text/plain")
	msg := h.decode(resp, http.StatusCreated)
	if msg["subject"] != "Restored ✓" || msg["hasAttachments"] != true || msg["internetMessageId"] != "<restored-1@example.com>" {
		t.Fatalf("message from MIME: %v", msg)
	}
	mid := msg["id"].(string)
	raw, _ := h.bytes("users/"+u+"/messages/"+mid+"/$value", http.StatusOK)
	if string(raw) != sampleMIME {
		t.Fatalf("stored MIME not served verbatim")
	}
	json := h.sendJSON(http.MethodPost, "users/"+u+"/mailFolders/"+fid+"/messages", map[string]any{
		"subject": "From JSON", "body": map[string]any{"contentType": "text", "content": "plain body"},
		"toRecipients":                  []any{map[string]any{"emailAddress": map[string]any{"address": "x@example.com"}}},
		"singleValueExtendedProperties": []any{map[string]any{"id": "Integer 0x0E07", "value": "1"}},
	}, http.StatusCreated)
	if json["isDraft"] != false {
		t.Fatalf("PR_MESSAGE_FLAGS without unsent should not be a draft")
	}
	jid := json["id"].(string)
	att := h.sendJSON(http.MethodPost, "users/"+u+"/messages/"+jid+"/attachments", map[string]any{
		"@odata.type": "#microsoft.graph.fileAttachment", "name": "n.txt", "contentBytes": base64.StdEncoding.EncodeToString([]byte("note")),
	}, http.StatusCreated)
	v, _ := h.bytes("users/"+u+"/messages/"+jid+"/attachments/"+att["id"].(string)+"/$value", http.StatusOK)
	if string(v) != "note" {
		t.Fatalf("attachment value %q", v)
	}
	// A large attachment through an upload session.
	sess := h.sendJSON(http.MethodPost, "users/"+u+"/messages/"+jid+"/attachments/createUploadSession", map[string]any{
		"AttachmentItem": map[string]any{"attachmentType": "file", "name": "big.bin", "size": 10}}, http.StatusCreated)
	uploadURL := sess["uploadUrl"].(string)
	for _, chunk := range []struct {
		rng, data string
		status    int
	}{{"bytes 0-5/10", "012345", 200}, {"bytes 6-9/10", "6789", 201}} {
		req, _ := http.NewRequest(http.MethodPut, uploadURL, strings.NewReader(chunk.data))
		req.Header.Set("Content-Range", chunk.rng)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != chunk.status {
			t.Fatalf("chunk %s: %v %v", chunk.rng, err, resp.StatusCode)
		}
		resp.Body.Close()
	}
	atts := h.getJSON("users/"+u+"/messages/"+jid+"/attachments", http.StatusOK)["value"].([]any)
	if len(atts) != 2 || atts[1].(map[string]any)["size"].(float64) != 10 {
		t.Fatalf("attachments after upload session: %v", atts)
	}
	up, _, _ = h.deltaRound(msgDL)
	if up[mid] == nil || up[jid] == nil || len(up) != 2 {
		t.Fatalf("restored messages not in delta: %d", len(up))
	}
	st, _ := h.sim.State(StateFilter{User: u, Category: "mail"})
	found := false
	for _, it := range st.Items {
		if it.ID == mid {
			found = it.Hash == sha256Sum([]byte(sampleMIME)) && it.Path == "Restore 2025"
		}
	}
	if !found {
		t.Fatalf("restored message missing from state or wrong hash")
	}
}

func TestRestoredContactsAndEventsJoinTheTenant(t *testing.T) {
	h := newHarness(t, Options{})
	u := h.user(0)
	_, _, dl := h.deltaRound("users/" + u + "/contactFolders/contacts/contacts/delta")
	c := h.sendJSON(http.MethodPost, "users/"+u+"/contacts", map[string]any{"givenName": "Zed", "surname": "Quux",
		"emailAddresses": []any{map[string]any{"address": "zed@example.com"}}}, http.StatusCreated)
	up, _, _ := h.deltaRound(dl)
	if up[c["id"].(string)]["givenName"] != "Zed" {
		t.Fatalf("contact not in delta")
	}
	got := h.getJSON("users/"+u+"/contacts/"+c["id"].(string), http.StatusOK)
	patched := h.sendJSON(http.MethodPatch, "users/"+u+"/contacts/"+c["id"].(string), map[string]any{"jobTitle": "CTO"}, http.StatusOK)
	if patched["jobTitle"] != "CTO" || patched["changeKey"] == got["changeKey"] {
		t.Fatalf("patch: %v", patched)
	}
	e := h.sendJSON(http.MethodPost, "users/"+u+"/calendars/calendar/events", map[string]any{
		"subject": "Standup", "start": map[string]any{"dateTime": "2025-07-01T09:00:00", "timeZone": "UTC"},
		"end":        map[string]any{"dateTime": "2025-07-01T09:15:00", "timeZone": "UTC"},
		"recurrence": map[string]any{"pattern": map[string]any{"type": "daily", "interval": 1}, "range": map[string]any{"type": "numbered", "numberOfOccurrences": 5}},
	}, http.StatusCreated)
	inst := h.getJSON("users/"+u+"/events/"+e["id"].(string)+"/instances?startDateTime=2025-07-01T00:00:00Z&endDateTime=2025-08-01T00:00:00Z", http.StatusOK)["value"].([]any)
	if len(inst) != 5 || e["type"] != "seriesMaster" {
		t.Fatalf("restored series: %s with %d instances", e["type"], len(inst))
	}
}

func (h *harness) put(u string, body []byte, hdr ...string) map[string]any {
	h.t.Helper()
	resp := h.do(http.MethodPut, u, bytes.NewReader(body), append(hdr, "Content-Type", "application/octet-stream")...)
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusAccepted {
		b, _ := io.ReadAll(resp.Body)
		h.t.Fatalf("PUT %s: %d %s", u, resp.StatusCode, b)
	}
	return h.decode(resp, resp.StatusCode)
}

func TestRestoredDriveItemsJoinTheTenant(t *testing.T) {
	h := newHarness(t, Options{})
	u := h.user(0)
	drive := h.getJSON("users/"+u+"/drive", http.StatusOK)["id"].(string)
	_, _, dl := h.deltaRound("drives/" + drive + "/items/root/delta")
	folder := h.sendJSON(http.MethodPost, "drives/"+drive+"/items/root/children", map[string]any{
		"name": "Restored", "folder": map[string]any{}, "@microsoft.graph.conflictBehavior": "fail"}, http.StatusCreated)
	fid := folder["id"].(string)
	h.sendJSON(http.MethodPost, "drives/"+drive+"/items/root/children", map[string]any{
		"name": "restored", "folder": map[string]any{}, "@microsoft.graph.conflictBehavior": "fail"}, http.StatusConflict)
	small := h.put("drives/"+drive+"/items/"+fid+":/"+url.PathEscape("a b.txt")+":/content", []byte("hello world"))
	if small["size"].(float64) != 11 || small["file"].(map[string]any)["hashes"].(map[string]any)["quickXorHash"] != QuickXorBase64([]byte("hello world")) {
		t.Fatalf("simple upload: %v", small)
	}
	// Upload session with three chunks.
	data := bytes.Repeat([]byte("0123456789abcdef"), 1000)
	sess := h.sendJSON(http.MethodPost, "drives/"+drive+"/items/"+fid+":/big.bin:/createUploadSession",
		map[string]any{"item": map[string]any{"@microsoft.graph.conflictBehavior": "replace"}}, http.StatusOK)
	var item map[string]any
	for off := 0; off < len(data); off += 6000 {
		end := min(off+6000, len(data))
		item = h.put(sess["uploadUrl"].(string), data[off:end], "Content-Range", fmt.Sprintf("bytes %d-%d/%d", off, end-1, len(data)))
	}
	if item["name"] != "big.bin" || item["size"].(float64) != float64(len(data)) {
		t.Fatalf("upload session result %v", item)
	}
	body, _ := h.bytes(item["@microsoft.graph.downloadUrl"].(string), http.StatusOK)
	if !bytes.Equal(body, data) {
		t.Fatalf("uploaded bytes differ")
	}
	renamed := h.sendJSON(http.MethodPatch, "drives/"+drive+"/items/"+small["id"].(string), map[string]any{"name": "c.txt", "parentReference": map[string]any{"id": h.getJSON("drives/"+drive+"/items/root", http.StatusOK)["id"]}}, http.StatusOK)
	if renamed["name"] != "c.txt" || renamed["parentReference"].(map[string]any)["path"] != "/drive/root:" {
		t.Fatalf("rename+move: %v", renamed)
	}
	perm := h.sendJSON(http.MethodPost, "drives/"+drive+"/items/"+item["id"].(string)+"/invite", map[string]any{
		"recipients": []any{map[string]any{"email": h.sim.t.users[1].mail}}, "roles": []any{"write"}}, http.StatusOK)
	if len(perm["value"].([]any)) != 1 {
		t.Fatalf("invite: %v", perm)
	}
	perms := h.getJSON("drives/"+drive+"/items/"+item["id"].(string)+"/permissions", http.StatusOK)["value"].([]any)
	if len(perms) != 2 {
		t.Fatalf("permissions after invite: %v", perms)
	}
	up, rm, _ := h.deltaRound(dl)
	for _, id := range []string{fid, small["id"].(string), item["id"].(string)} {
		if up[id] == nil {
			t.Fatalf("%s not in delta", id)
		}
	}
	if up[item["id"].(string)]["shared"] == nil || len(rm) != 0 {
		t.Fatalf("shared facet after invite: %v", up[item["id"].(string)])
	}
	st, _ := h.sim.State(StateFilter{User: u, Category: "files"})
	for _, it := range st.Items {
		if it.ID == item["id"].(string) && (it.Hash != sha256Sum(data) || it.Path != "Restored") {
			t.Fatalf("state of uploaded file: %+v", it)
		}
	}
	h.do(http.MethodDelete, "drives/"+drive+"/items/"+fid, nil).Body.Close()
	h.getJSON("drives/"+drive+"/items/"+item["id"].(string), http.StatusNotFound)
}

// Clients set the modification time users see (fileSystemInfo) with a
// PATCH or when they create an upload session; new content resets it.
func TestDriveItemsKeepTheModificationTimeAClientSets(t *testing.T) {
	h := newHarness(t, Options{})
	u := h.user(0)
	drive := h.getJSON("users/"+u+"/drive", http.StatusOK)["id"].(string)
	shown := func(it map[string]any) string {
		return it["fileSystemInfo"].(map[string]any)["lastModifiedDateTime"].(string)
	}
	const then = "2019-03-04T05:06:07Z"
	small := h.put("drives/"+drive+"/items/root:/small.txt:/content", []byte("small"))
	id := small["id"].(string)
	if shown(small) == then {
		t.Fatal("a new file shows the time it was set before it was set")
	}
	patched := h.sendJSON(http.MethodPatch, "drives/"+drive+"/items/"+id, map[string]any{
		"fileSystemInfo": map[string]any{"lastModifiedDateTime": then}}, http.StatusOK)
	if shown(patched) != then || shown(h.getJSON("drives/"+drive+"/items/"+id, http.StatusOK)) != then {
		t.Fatalf("after PATCH: %v", patched["fileSystemInfo"])
	}
	st, _ := h.sim.State(StateFilter{User: u, Category: "files", NoHashes: true})
	for _, it := range st.Items {
		if it.ID == id && it.Modified.Format(time.RFC3339) != then {
			t.Fatalf("state shows %v", it.Modified)
		}
	}
	h.sendJSON(http.MethodPatch, "drives/"+drive+"/items/"+id, map[string]any{
		"fileSystemInfo": map[string]any{"lastModifiedDateTime": "yesterday"}}, http.StatusBadRequest)
	if replaced := h.put("drives/"+drive+"/items/"+id+"/content", []byte("new content")); shown(replaced) == then {
		t.Fatal("new content kept the old modification time")
	}

	sess := h.sendJSON(http.MethodPost, "drives/"+drive+"/items/root:/big.bin:/createUploadSession", map[string]any{"item": map[string]any{
		"@microsoft.graph.conflictBehavior": "replace", "fileSystemInfo": map[string]any{"lastModifiedDateTime": then}}}, http.StatusOK)
	item := h.put(sess["uploadUrl"].(string), []byte("0123456789"), "Content-Range", "bytes 0-9/10")
	if shown(item) != then {
		t.Fatalf("upload session: %v", item["fileSystemInfo"])
	}
}

func TestCreatedMessagesAreStampedWhenTheyEnterTheStore(t *testing.T) {
	h := newHarness(t, Options{})
	u := h.user(0)
	h.clock.Advance(10 * time.Minute)
	stamped := ts(testNow.Add(10 * time.Minute))
	resp := h.do(http.MethodPost, "users/"+u+"/mailFolders/inbox/messages",
		strings.NewReader(base64.StdEncoding.EncodeToString([]byte(sampleMIME))), "Content-Type", "text/plain")
	msg := h.decode(resp, http.StatusCreated)
	id := msg["id"].(string)
	h.clock.Advance(10 * time.Minute)
	got := h.getJSON("users/"+u+"/messages/"+id, http.StatusOK)
	// The MIME's Date (Mon, 02 Jun 2025 10:00:00 +0000) is not what a
	// draft shows: it is stamped when it was saved.
	if got["createdDateTime"] != stamped || got["sentDateTime"] != stamped || got["receivedDateTime"] != stamped || got["isDraft"] != true {
		t.Fatalf("created %v sent %v received %v draft %v", got["createdDateTime"], got["sentDateTime"], got["receivedDateTime"], got["isDraft"])
	}
	if raw, _ := h.bytes("users/"+u+"/messages/"+id+"/$value", http.StatusOK); string(raw) != sampleMIME {
		t.Fatal("stored MIME not served verbatim")
	}
	js := h.sendJSON(http.MethodPost, "users/"+u+"/mailFolders/inbox/messages", map[string]any{
		"subject": "JSON", "createdDateTime": "2001-01-01T00:00:00Z", "sentDateTime": "2025-05-01T08:00:00Z"}, http.StatusCreated)
	if js["createdDateTime"] != ts(testNow.Add(20*time.Minute)) || js["sentDateTime"] != "2025-05-01T08:00:00Z" {
		t.Fatalf("JSON message: created %v sent %v", js["createdDateTime"], js["sentDateTime"])
	}
	// A move keeps the creation time.
	moved := h.sendJSON(http.MethodPost, "users/"+u+"/messages/"+id+"/move", map[string]any{"destinationId": "archive"}, http.StatusCreated)
	if moved["id"] == id || moved["createdDateTime"] != stamped {
		t.Fatalf("moved message: %v %v", moved["id"], moved["createdDateTime"])
	}
}

func TestRequestsAboveFourMegabytesAreRefused(t *testing.T) {
	h := newHarness(t, Options{})
	u := h.user(0)
	big := strings.Repeat("x", maxRequestBody)
	h.sendJSON(http.MethodPost, "users/"+u+"/mailFolders/inbox/messages", map[string]any{
		"subject": "big", "body": map[string]any{"contentType": "text", "content": big}}, http.StatusRequestEntityTooLarge)
	resp := h.do(http.MethodPost, "users/"+u+"/mailFolders/inbox/messages",
		strings.NewReader(base64.StdEncoding.EncodeToString([]byte(sampleMIME+big))), "Content-Type", "text/plain")
	h.decode(resp, http.StatusRequestEntityTooLarge)
	h.sendJSON(http.MethodPost, "users/"+u+"/mailFolders/inbox/messages", map[string]any{
		"subject": "small", "body": map[string]any{"contentType": "text", "content": big[:3<<20]}}, http.StatusCreated)
}
