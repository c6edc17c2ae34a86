package graphsim

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

// eventsHeavy is a tenant whose mailboxes are mostly calendar, with small
// attachments so that content checks stay fast.
func eventsHeavy(users, items int) Options {
	return Options{Tenant: TenantOptions{Users: users, ItemsPerUser: items, MaxAttachmentSize: 64 << 10,
		Mix: ItemMix{Mail: 0.1, Contacts: 0.1, Events: 0.7, Files: 0.1}}}
}

// topLevelKeys lists the property names of a JSON object in order.
func topLevelKeys(t *testing.T, b []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", b)
	}
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// writtenSeries creates a daily series of n occurrences from 2025-07-07
// 09:00 in u's default calendar and returns its id and its occurrences'
// ids in order.
func (h *harness) writtenSeries(u, subject string, n int) (string, []string) {
	h.t.Helper()
	e := h.sendJSON(http.MethodPost, "users/"+u+"/events", map[string]any{
		"subject": subject, "start": map[string]any{"dateTime": "2025-07-07T09:00:00", "timeZone": "UTC"},
		"end":        map[string]any{"dateTime": "2025-07-07T09:30:00", "timeZone": "UTC"},
		"recurrence": map[string]any{"pattern": map[string]any{"type": "daily", "interval": 1}, "range": map[string]any{"type": "numbered", "numberOfOccurrences": n}},
	}, http.StatusCreated)
	id := e["id"].(string)
	var occ []string
	for _, x := range h.instances(u, id) {
		occ = append(occ, x["id"].(string))
	}
	if len(occ) != n {
		h.t.Fatalf("series of %d has %d occurrences", n, len(occ))
	}
	return id, occ
}

func (h *harness) instances(u, id string) []map[string]any {
	h.t.Helper()
	vals, _, _ := h.collect("users/" + u + "/events/" + id + "/instances?startDateTime=2020-01-01T00:00:00Z&endDateTime=2030-01-01T00:00:00Z")
	return vals
}

func fileAttachment(name string, data []byte) map[string]any {
	return map[string]any{"@odata.type": "#microsoft.graph.fileAttachment", "name": name, "contentType": "application/octet-stream",
		"contentBytes": base64.StdEncoding.EncodeToString(data)}
}

func TestEventContentHashIsTheServedBody(t *testing.T) {
	h := newHarness(t, noRevoke(eventsHeavy(2, 300)))
	u := h.user(0)
	// A written series with an attachment, a changed and a cancelled
	// occurrence is hashed like the generated ones.
	id, occ := h.writtenSeries(u, "Written", 4)
	h.sendJSON(http.MethodPost, "users/"+u+"/events/"+id+"/attachments", fileAttachment("notes.txt", []byte("notes")), http.StatusCreated)
	h.sendJSON(http.MethodPatch, "users/"+u+"/events/"+occ[1], map[string]any{"subject": "Written (moved)"}, http.StatusOK)
	h.do(http.MethodDelete, "users/"+u+"/events/"+occ[2], nil).Body.Close()

	st, err := h.sim.State(StateFilter{User: u, Category: "events"})
	if err != nil {
		t.Fatal(err)
	}
	checked, withAttachments, withExceptions, written := 0, 0, 0, false
	for _, it := range st.Items {
		if it.Kind != "event" {
			continue
		}
		body, _ := h.bytes("/beta/users/"+u+"/events/"+it.ID+canonicalEventQuery, http.StatusOK)
		if full := h.completeEvent(u, body); sha256Sum(full) != it.Hash || int64(len(full)) != it.Size {
			t.Fatalf("event %s: served %d bytes %s, state %d bytes %s", it.ID, len(full), sha256Sum(full), it.Size, it.Hash)
		}
		if checked%5 == 0 {
			other, _ := h.bytes("/beta/users/"+u+"/events/"+it.ID+"?$expand=attachments,exceptionOccurrences", http.StatusOK)
			if !bytes.Equal(other, body) {
				t.Fatalf("event %s: the order of $expand names changes the body", it.ID)
			}
		}
		if bytes.Contains(body, []byte(`"attachments":[{`)) {
			withAttachments++
		}
		if bytes.Contains(body, []byte(`"exceptionOccurrences":[{`)) {
			withExceptions++
		}
		written = written || it.ID == id
		checked++
	}
	if !written || withAttachments < 2 || withExceptions < 2 {
		t.Fatalf("checked %d events (written series: %v), %d with attachments, %d with exceptions", checked, written, withAttachments, withExceptions)
	}
}

func TestEventGETExpandsAttachmentsLast(t *testing.T) {
	h := newHarness(t, noRevoke(eventsHeavy(1, 300)))
	u := h.user(0)
	var withAtt, without string
	for _, it := range h.stateItems(u, "events", "event") {
		n := len(h.getJSON("users/"+u+"/events/"+it.ID+"/attachments", http.StatusOK)["value"].([]any))
		if n > 0 && withAtt == "" {
			withAtt = it.ID
		}
		if n == 0 && without == "" {
			without = it.ID
		}
	}
	if withAtt == "" || without == "" {
		t.Fatal("no event with and one without attachments")
	}
	list := h.getJSON("users/"+u+"/events/"+withAtt+"/attachments", http.StatusOK)["value"].([]any)
	for _, path := range []string{"users/" + u + "/events/" + withAtt + "?$expand=attachments", "/beta/users/" + u + "/events/" + withAtt + canonicalEventQuery} {
		body, _ := h.bytes(path, http.StatusOK)
		keys := topLevelKeys(t, body)
		if keys[len(keys)-1] != "attachments" {
			t.Fatalf("%s: attachments is not the last property: %v", path, keys)
		}
		var got map[string]any
		json.Unmarshal(body, &got)
		if !reflect.DeepEqual(got["attachments"], list) {
			t.Fatalf("%s: expanded attachments differ from the attachments list", path)
		}
		a := got["attachments"].([]any)[0].(map[string]any)
		for _, k := range []string{"@odata.type", "id", "lastModifiedDateTime", "name", "contentType", "size", "isInline", "contentBytes"} {
			if _, ok := a[k]; !ok {
				t.Fatalf("%s: attachment without %s", path, k)
			}
		}
		if got["hasAttachments"] != true {
			t.Fatalf("%s: hasAttachments %v", path, got["hasAttachments"])
		}
	}
	v1 := h.getJSON("users/"+u+"/events/"+without+"?$expand=attachments", http.StatusOK)
	if a, ok := v1["attachments"].([]any); !ok || len(a) != 0 || v1["exceptionOccurrences"] != nil || v1["cancelledOccurrences"] != nil {
		t.Fatalf("v1.0 event with $expand=attachments: %v", v1)
	}
	sel := h.getJSON("users/"+u+"/events/"+withAtt+"?$select=subject&$expand=attachments", http.StatusOK)
	if len(sel["attachments"].([]any)) != len(list) || sel["body"] != nil || sel["subject"] == nil {
		t.Fatalf("$select with $expand: %v", sel)
	}
}

func TestOccurrenceWritesChangeTheSeries(t *testing.T) {
	h := newHarness(t, eventsHeavy(1, 400))
	u := h.user(0)
	// A generated series with an exception and a cancellation.
	var master map[string]any
	var cal string
	for _, it := range h.stateItems(u, "events", "event") {
		e := h.getJSON("/beta/users/"+u+"/events/"+it.ID+canonicalEventQuery, http.StatusOK)
		if ex, _ := e["exceptionOccurrences"].([]any); len(ex) > 0 && len(e["cancelledOccurrences"].([]any)) > 0 {
			master, cal = e, it.CollectionID
			break
		}
	}
	if master == nil {
		t.Fatal("no series with an exception and a cancellation")
	}
	id := master["id"].(string)
	_, _, dl := h.deltaRound("/beta/users/" + u + "/calendars/" + cal + "/events/delta")
	before := h.instances(u, id)
	var plain []string
	var generatedException string
	for _, o := range before {
		switch o["type"] {
		case "occurrence":
			plain = append(plain, o["id"].(string))
		case "exception":
			generatedException = o["id"].(string)
		}
	}
	if len(plain) < 2 || generatedException == "" {
		t.Fatalf("instances: %v", before)
	}
	moved, cancelled := plain[0], plain[1]

	got := h.sendJSON(http.MethodPatch, "users/"+u+"/events/"+moved, map[string]any{
		"subject": "Moved by hand", "start": map[string]any{"dateTime": "2024-12-31T10:00:00.0000000", "timeZone": "UTC"},
		"end": map[string]any{"dateTime": "2024-12-31T11:15:00.0000000", "timeZone": "UTC"}}, http.StatusOK)
	if got["id"] != moved || got["type"] != "exception" || got["subject"] != "Moved by hand" || got["seriesMasterId"] != id {
		t.Fatalf("patched occurrence: %v", got)
	}
	resp := h.do(http.MethodDelete, "users/"+u+"/events/"+cancelled, nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE occurrence: %d", resp.StatusCode)
	}
	h.do(http.MethodDelete, "users/"+u+"/events/"+generatedException, nil).Body.Close()
	h.getJSON("users/"+u+"/events/"+cancelled, http.StatusNotFound)
	h.sendJSON(http.MethodPatch, "users/"+u+"/events/"+cancelled, map[string]any{"subject": "x"}, http.StatusNotFound)
	errorOf(t, h.decode(h.do(http.MethodDelete, "users/"+u+"/events/"+cancelled, nil), http.StatusNotFound))

	after := h.getJSON("/beta/users/"+u+"/events/"+id+canonicalEventQuery, http.StatusOK)
	if after["changeKey"] == master["changeKey"] || after["id"] != id {
		t.Fatalf("the series kept its version")
	}
	exceptions := after["exceptionOccurrences"].([]any)
	if len(exceptions) != 1 || exceptions[0].(map[string]any)["id"] != moved || exceptions[0].(map[string]any)["start"].(map[string]any)["dateTime"] != "2024-12-31T10:00:00.0000000" {
		t.Fatalf("exceptions after the writes: %v", exceptions)
	}
	if n := len(after["cancelledOccurrences"].([]any)); n != len(master["cancelledOccurrences"].([]any))+2 {
		t.Fatalf("%d cancelled occurrences", n)
	}
	inst := h.instances(u, id)
	if len(inst) != len(before)-2 {
		t.Fatalf("%d instances after cancelling two of %d", len(inst), len(before))
	}
	for _, o := range inst {
		if o["id"] == cancelled || o["id"] == generatedException {
			t.Fatalf("cancelled occurrence still listed")
		}
		if o["id"] == moved && (o["type"] != "exception" || o["subject"] != "Moved by hand") {
			t.Fatalf("moved occurrence listed as %v", o)
		}
	}
	view, _, _ := h.collect("users/" + u + "/calendars/" + cal + "/calendarView?startDateTime=2024-12-31T00:00:00Z&endDateTime=2025-01-01T00:00:00Z")
	found := false
	for _, o := range view {
		found = found || o["id"] == moved && o["type"] == "exception"
	}
	if !found {
		t.Fatalf("calendarView does not show the moved occurrence: %v", view)
	}
	if one := h.getJSON("users/"+u+"/events/"+moved, http.StatusOK); one["type"] != "exception" || one["subject"] != "Moved by hand" {
		t.Fatalf("GET of the moved occurrence: %v", one)
	}
	up, _, _ := h.deltaRound(dl)
	// Beta's event delta carries no changeKey; its etag names the version.
	if up[id] == nil || up[id]["@odata.etag"] != after["@odata.etag"] {
		t.Fatalf("the series is not in the calendar's delta: %v", up)
	}
}

func TestOccurrenceWritesCountAgainstTheMailboxBudget(t *testing.T) {
	h := newHarness(t, Options{Throttle: ThrottleOptions{MailboxRequests: 4, MailboxWindow: 10 * time.Minute}})
	u := h.user(0)
	_, occ := h.writtenSeries(u, "Budget", 3) // POST and one instances page
	h.sendJSON(http.MethodPatch, "users/"+u+"/events/"+occ[0], map[string]any{"subject": "Changed"}, http.StatusOK)
	resp := h.do(http.MethodDelete, "users/"+u+"/events/"+occ[1], nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("fourth request: %d", resp.StatusCode)
	}
	resp = h.do(http.MethodDelete, "users/"+u+"/events/"+occ[2], nil)
	errorOf(t, h.decode(resp, http.StatusTooManyRequests))
	if st := h.sim.Stats(); st.Requests["events.update"]["200"] != 1 || st.Requests["events.delete"]["429"] != 1 {
		t.Fatalf("stats %v", st.Requests)
	}
}

func TestLargeAttachmentsNeedAnUploadSession(t *testing.T) {
	h := newHarness(t, Options{})
	u := h.user(0)
	e := h.sendJSON(http.MethodPost, "users/"+u+"/events", map[string]any{"subject": "With files",
		"start": map[string]any{"dateTime": "2025-07-03T09:00:00", "timeZone": "UTC"},
		"end":   map[string]any{"dateTime": "2025-07-03T10:00:00", "timeZone": "UTC"}}, http.StatusCreated)
	id := e["id"].(string)
	msg := h.sendJSON(http.MethodPost, "users/"+u+"/messages", map[string]any{"subject": "With files"}, http.StatusCreated)["id"].(string)

	small := h.sendJSON(http.MethodPost, "users/"+u+"/events/"+id+"/attachments", map[string]any{
		"@odata.type": "#microsoft.graph.fileAttachment", "name": "inline.png", "contentType": "image/png",
		"contentBytes": base64.StdEncoding.EncodeToString([]byte("png")), "isInline": true, "contentId": "img1@sim"}, http.StatusCreated)
	h.sendJSON(http.MethodPost, "users/"+u+"/messages/"+msg+"/attachments", fileAttachment("a.txt", []byte("a")), http.StatusCreated)

	big := bytes.Repeat([]byte("0123456789abcdef"), (3<<20)/16+64)
	for _, owner := range []string{"events/" + id, "messages/" + msg} {
		resp := h.do(http.MethodPost, "users/"+u+"/"+owner+"/attachments", strings.NewReader(mustJSON(fileAttachment("big.bin", big))))
		if e := errorOf(t, h.decode(resp, http.StatusRequestEntityTooLarge)); e["code"] != "RequestEntityTooLarge" {
			t.Fatalf("%s: %v", owner, e)
		}
	}

	sess := h.sendJSON(http.MethodPost, "users/"+u+"/events/"+id+"/attachments/createUploadSession", map[string]any{
		"AttachmentItem": map[string]any{"attachmentType": "file", "name": "big.bin", "size": len(big), "contentType": "application/octet-stream"}}, http.StatusCreated)
	var location string
	for off := 0; off < len(big); off += 1 << 20 {
		end := min(off+1<<20, len(big))
		req, _ := http.NewRequest(http.MethodPut, sess["uploadUrl"].(string), bytes.NewReader(big[off:end]))
		req.Header.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", off, end-1, len(big)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := http.StatusOK
		if end == len(big) {
			want = http.StatusCreated
			location = resp.Header.Get("Location")
		}
		if resp.StatusCode != want {
			t.Fatalf("chunk at %d: %d", off, resp.StatusCode)
		}
	}
	if !strings.Contains(location, "/Events('"+id+"')/Attachments('") {
		t.Fatalf("Location %q", location)
	}
	got := h.getJSON("/beta/users/"+u+"/events/"+id+canonicalEventQuery, http.StatusOK)
	atts := got["attachments"].([]any)
	if len(atts) != 2 {
		t.Fatalf("%d attachments", len(atts))
	}
	first, second := atts[0].(map[string]any), atts[1].(map[string]any)
	if first["id"] != small["id"] || first["isInline"] != true || first["contentId"] != "img1@sim" || first["contentBytes"] != base64.StdEncoding.EncodeToString([]byte("png")) {
		t.Fatalf("posted attachment renders as %v", first)
	}
	if second["name"] != "big.bin" || int(second["size"].(float64)) != len(big) || second["contentBytes"] != base64.StdEncoding.EncodeToString(big) {
		t.Fatalf("uploaded attachment renders as %v / %v", second["name"], second["size"])
	}
	if got["hasAttachments"] != true {
		t.Fatalf("hasAttachments after a non-inline upload: %v", got["hasAttachments"])
	}
	value, _ := h.bytes("users/"+u+"/events/"+id+"/attachments/"+second["id"].(string)+"/$value", http.StatusOK)
	if !bytes.Equal(value, big) {
		t.Fatal("uploaded attachment's $value differs")
	}
	if n := len(h.getJSON("users/"+u+"/messages/"+msg+"/attachments", http.StatusOK)["value"].([]any)); n != 1 {
		t.Fatalf("message has %d attachments", n)
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
