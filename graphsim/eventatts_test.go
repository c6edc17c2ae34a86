package graphsim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// rawField is one property of a JSON object, its value as served.
type rawField struct {
	key string
	val json.RawMessage
}

func parseRawObject(t testing.TB, b []byte) []rawField {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object: %.200s", b)
	}
	var out []rawField
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			t.Fatal(err)
		}
		out = append(out, rawField{tok.(string), val})
	}
	return out
}

func rawGet(o []rawField, key string) json.RawMessage {
	for _, f := range o {
		if f.key == key {
			return f.val
		}
	}
	return nil
}

func rawWith(o []rawField, key string, val json.RawMessage) []rawField {
	for i, f := range o {
		if f.key == key {
			o[i].val = val
			return o
		}
	}
	return append(o, rawField{key, val})
}

func rawBytes(o []rawField) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.key)
		b.Write(k)
		b.WriteByte(':')
		b.Write(f.val)
	}
	b.WriteByte('}')
	return b.Bytes()
}

const itemExpand = "?$expand=microsoft.graph.itemattachment/item"

// completeEvent adds to the served body of an event of user u what a
// backup fetches on its own (State's event content): the event's
// attachments as its attachments list gives them with their items, when it
// has an item attachment, and each exception's, when it has any, as its
// last property.
func (h *harness) completeEvent(u string, body []byte) []byte {
	h.t.Helper()
	o := parseRawObject(h.t, body)
	id := ""
	_ = json.Unmarshal(rawGet(o, "id"), &id)
	list := func(eventID string) json.RawMessage {
		b, _ := h.bytes("/beta/users/"+u+"/events/"+url.PathEscape(eventID)+"/attachments"+itemExpand, http.StatusOK)
		return rawGet(parseRawObject(h.t, b), "value")
	}
	if bytes.Contains(rawGet(o, "attachments"), []byte(`"#microsoft.graph.itemAttachment"`)) {
		o = rawWith(o, "attachments", list(id))
	}
	var exceptions []json.RawMessage
	if raw := rawGet(o, "exceptionOccurrences"); raw != nil {
		if err := json.Unmarshal(raw, &exceptions); err != nil {
			h.t.Fatal(err)
		}
	}
	changed := false
	for i, x := range exceptions {
		ex := parseRawObject(h.t, x)
		if string(rawGet(ex, "hasAttachments")) != "true" {
			continue
		}
		exID := ""
		_ = json.Unmarshal(rawGet(ex, "id"), &exID)
		exceptions[i], changed = rawBytes(rawWith(ex, "attachments", list(exID))), true
	}
	if changed {
		parts := make([][]byte, len(exceptions))
		for i, x := range exceptions {
			parts[i] = x
		}
		o = rawWith(o, "exceptionOccurrences", append(append([]byte("["), bytes.Join(parts, []byte(","))...), ']'))
	}
	return rawBytes(o)
}

// Generated events carry attached messages, which come with their item
// only when the request expands it, on the list and on one attachment.
func TestEventItemAttachmentsExpandTheirItem(t *testing.T) {
	h := newHarness(t, noRevoke(eventsHeavy(3, 400)))
	found := 0
	for i := 0; i < 3; i++ {
		u := h.user(i)
		for _, it := range h.stateItems(u, "events", "event") {
			ev := h.getJSON("/beta/users/"+u+"/events/"+it.ID+canonicalEventQuery, http.StatusOK)
			for _, x := range ev["attachments"].([]any) {
				a := x.(map[string]any)
				if a["@odata.type"] != "#microsoft.graph.itemAttachment" {
					continue
				}
				if _, ok := a["item"]; ok {
					t.Fatalf("event %s: $expand=attachments serves the item", it.ID)
				}
				base := "users/" + u + "/events/" + it.ID + "/attachments"
				for _, l := range h.getJSON(base, http.StatusOK)["value"].([]any) {
					if _, ok := l.(map[string]any)["item"]; ok {
						t.Fatalf("event %s: the list serves the item without the expand", it.ID)
					}
				}
				var listed map[string]any
				for _, l := range h.getJSON(base+itemExpand, http.StatusOK)["value"].([]any) {
					if l.(map[string]any)["id"] == a["id"] {
						listed = l.(map[string]any)
					}
				}
				one := h.getJSON(base+"/"+a["id"].(string)+itemExpand, http.StatusOK)
				for _, got := range []map[string]any{listed, one} {
					item, _ := got["item"].(map[string]any)
					if item == nil || item["@odata.type"] != "#microsoft.graph.message" || item["subject"] != a["name"] {
						t.Fatalf("event %s: item attachment %q expanded as %v", it.ID, a["name"], got)
					}
				}
				found++
			}
		}
	}
	if found == 0 {
		t.Fatal("no generated event has an item attachment")
	}
}

// Some generated exceptions have attachments of their own, served at the
// exception's id, not in the series' $expand=exceptionOccurrences; a
// client adds more there, or to a plain occurrence, which becomes an
// exception. State's event content carries them.
func TestExceptionAttachments(t *testing.T) {
	h := newHarness(t, noRevoke(eventsHeavy(3, 400)))
	generated, withItems := 0, 0
	for i := 0; i < 3; i++ {
		u := h.user(i)
		st, err := h.sim.State(StateFilter{User: u, Category: "events"})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range st.Items {
			if it.Kind != "event" {
				continue
			}
			body, _ := h.bytes("/beta/users/"+u+"/events/"+it.ID+canonicalEventQuery, http.StatusOK)
			if bytes.Contains(body, []byte(`"type":"exception"`)) {
				ev := h.getJSON("/beta/users/"+u+"/events/"+it.ID+canonicalEventQuery, http.StatusOK)
				for _, x := range ev["exceptionOccurrences"].([]any) {
					ex := x.(map[string]any)
					if _, ok := ex["attachments"]; ok {
						t.Fatalf("event %s: $expand=exceptionOccurrences serves an exception's attachments", it.ID)
					}
					list := h.getJSON("users/"+u+"/events/"+ex["id"].(string)+"/attachments"+itemExpand, http.StatusOK)["value"].([]any)
					if (len(list) > 0) != (ex["hasAttachments"] == true) {
						t.Fatalf("exception %s: hasAttachments %v with %d attachments", ex["id"], ex["hasAttachments"], len(list))
					}
					for _, l := range list {
						a := l.(map[string]any)
						one := h.getJSON("users/"+u+"/events/"+ex["id"].(string)+"/attachments/"+a["id"].(string)+itemExpand, http.StatusOK)
						if one["name"] != a["name"] || (a["@odata.type"] == "#microsoft.graph.itemAttachment") != (one["item"] != nil) {
							t.Fatalf("exception %s: attachment %v served alone as %v", ex["id"], a["name"], one)
						}
						if one["item"] != nil {
							withItems++
						}
					}
					if len(list) > 0 {
						generated++
					}
				}
			}
			if got := h.completeEvent(u, body); sha256Sum(got) != it.Hash || int64(len(got)) != it.Size {
				t.Fatalf("event %s: completed content %d bytes %s, State %d bytes %s", it.ID, len(got), sha256Sum(got), it.Size, it.Hash)
			}
		}
	}
	if generated == 0 || withItems == 0 {
		t.Fatalf("%d generated exceptions with attachments, %d attached messages among them", generated, withItems)
	}

	// Written: a series, one occurrence patched, then attachments on it and
	// on a plain occurrence.
	u := h.user(0)
	id, occ := h.writtenSeries(u, "With notes", 5)
	h.sendJSON(http.MethodPatch, "users/"+u+"/events/"+occ[1], map[string]any{"subject": "With notes (moved)"}, http.StatusOK)
	msg := map[string]any{"@odata.type": "#microsoft.graph.itemAttachment", "name": "Fwd: plan",
		"item": map[string]any{"@odata.type": "#microsoft.graph.message", "subject": "Fwd: plan",
			"body": map[string]any{"contentType": "html", "content": "<p>plan</p>"}}}
	for _, o := range []string{occ[1], occ[3]} {
		h.sendJSON(http.MethodPost, "users/"+u+"/events/"+o+"/attachments", fileAttachment("notes.txt", []byte("notes "+o)), http.StatusCreated)
		h.sendJSON(http.MethodPost, "users/"+u+"/events/"+o+"/attachments", msg, http.StatusCreated)
	}
	ev := h.getJSON("/beta/users/"+u+"/events/"+id+canonicalEventQuery, http.StatusOK)
	exceptions := ev["exceptionOccurrences"].([]any)
	if len(exceptions) != 2 {
		t.Fatalf("%d exceptions, want the patched occurrence and the one given attachments", len(exceptions))
	}
	for _, x := range exceptions {
		ex := x.(map[string]any)
		if ex["hasAttachments"] != true {
			t.Fatalf("exception %s has no attachments", ex["id"])
		}
		list := h.getJSON("users/"+u+"/events/"+ex["id"].(string)+"/attachments"+itemExpand, http.StatusOK)["value"].([]any)
		if len(list) != 2 || list[1].(map[string]any)["item"].(map[string]any)["subject"] != "Fwd: plan" {
			t.Fatalf("exception %s: attachments %v", ex["id"], list)
		}
	}
	if ev["hasAttachments"] != false {
		t.Fatal("the series master shows its exceptions' attachments as its own")
	}
	body, _ := h.bytes("/beta/users/"+u+"/events/"+id+canonicalEventQuery, http.StatusOK)
	st, _ := h.sim.State(StateFilter{User: u, Category: "events"})
	for _, it := range st.Items {
		if it.ID == id {
			if got := h.completeEvent(u, body); sha256Sum(got) != it.Hash || !strings.Contains(string(got), `"name":"notes.txt"`) {
				t.Fatalf("written series: State does not hash its exceptions' attachments")
			}
		}
	}
	// A cancelled exception takes its attachments with it.
	h.do(http.MethodDelete, "users/"+u+"/events/"+occ[3], nil).Body.Close()
	resp := h.do(http.MethodGet, "users/"+u+"/events/"+occ[3]+"/attachments", nil)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(b), "ErrorItemNotFound") {
		t.Fatalf("attachments of a cancelled occurrence: %d %s", resp.StatusCode, b)
	}
}
