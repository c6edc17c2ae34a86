package graphsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

// Restore round trips: an item's backed-up JSON posted into another
// mailbox comes back equal to the original but for what Exchange assigns.

// mailboxUsers lists the ids of regular users with a mailbox.
func (h *harness) mailboxUsers() []string {
	h.sim.t.directory()
	var out []string
	for _, u := range h.sim.t.regularUsers() {
		if u.hasMailbox {
			out = append(out, u.id)
		}
	}
	return out
}

// stateItems lists the live items of one kind in a user's category.
func (h *harness) stateItems(user, category, kind string) []StateItem {
	h.t.Helper()
	st, err := h.sim.State(StateFilter{User: user, Category: category, NoHashes: true})
	if err != nil {
		h.t.Fatal(err)
	}
	var out []StateItem
	for _, it := range st.Items {
		if it.Kind == kind {
			out = append(out, it)
		}
	}
	return out
}

// normalizeJSON drops the keys in skip at every depth of a decoded JSON
// value and reduces cancelled occurrences (OID.{masterId}.{date}) to their
// dates, so values from different items compare.
func normalizeJSON(v any, skip map[string]bool) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if skip[k] {
				continue
			}
			if k == "cancelledOccurrences" {
				if list, ok := e.([]any); ok {
					dates := make([]any, len(list))
					for i, c := range list {
						s, _ := c.(string)
						dates[i] = s[strings.LastIndexByte(s, '.')+1:]
					}
					e = dates
				}
			}
			out[k] = normalizeJSON(e, skip)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalizeJSON(e, skip)
		}
		return out
	}
	return v
}

// firstDifference names the first path at which two decoded JSON values
// differ, or returns "".
func firstDifference(path string, a, b any) string {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			return path
		}
		keys := map[string]bool{}
		for k := range x {
			keys[k] = true
		}
		for k := range y {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			if d := firstDifference(path+"."+k, x[k], y[k]); d != "" {
				return d
			}
		}
		return ""
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return path + fmt.Sprintf(" (length %d vs %v)", len(x), b)
		}
		for i := range x {
			if d := firstDifference(fmt.Sprintf("%s[%d]", path, i), x[i], y[i]); d != "" {
				return d
			}
		}
		return ""
	}
	if !reflect.DeepEqual(a, b) {
		return fmt.Sprintf("%s (%v vs %v)", path, a, b)
	}
	return ""
}

func keySet(keys ...string) map[string]bool {
	m := map[string]bool{}
	for _, k := range keys {
		m[k] = true
	}
	return m
}

func TestContactsRoundTripThroughCreate(t *testing.T) {
	h := newHarness(t, noRevoke(Options{Tenant: TenantOptions{Users: 4, ItemsPerUser: 50, Mix: ItemMix{Mail: 0.2, Contacts: 0.6, Events: 0.1, Files: 0.1}}}))
	users := h.mailboxUsers()
	if len(users) < 3 {
		t.Fatalf("%d mailboxes", len(users))
	}
	skip := keySet("id", "createdDateTime", "lastModifiedDateTime", "changeKey", "parentFolderId", "@odata.etag")
	checked := 0
	for i, src := range users {
		dst := users[(i+1)%len(users)]
		folder := h.sendJSON(http.MethodPost, "users/"+dst+"/contactFolders", map[string]any{"displayName": "Restored from " + src}, http.StatusCreated)["id"].(string)
		for _, it := range h.stateItems(src, "contacts", "contact") {
			orig := h.getJSON("users/"+src+"/contacts/"+it.ID, http.StatusOK)
			created := h.sendJSON(http.MethodPost, "users/"+dst+"/contactFolders/"+folder+"/contacts", orig, http.StatusCreated)
			got := h.getJSON("users/"+dst+"/contacts/"+created["id"].(string), http.StatusOK)
			if d := firstDifference("contact", normalizeJSON(orig, skip), normalizeJSON(got, skip)); d != "" {
				t.Fatalf("contact %s restored differently at %s", it.ID, d)
			}
			if got["id"] == orig["id"] || got["parentFolderId"] != folder || got["createdDateTime"] != ts(testNow) {
				t.Fatalf("restored contact keeps the original's server values: %v", got)
			}
			checked++
		}
	}
	if checked < 80 {
		t.Fatalf("only %d contacts checked", checked)
	}
}

// restoreEvent recreates an event from its canonical JSON in dst's
// calendar the way a restore does: POST the JSON, then change and cancel
// occurrences to recreate the series' exceptions and cancellations, then
// add the attachments. It returns the new event's id.
func (h *harness) restoreEvent(orig map[string]any, dst, calendar string) string {
	h.t.Helper()
	created := h.sendJSON(http.MethodPost, "users/"+dst+"/calendars/"+calendar+"/events", orig, http.StatusCreated)
	id := created["id"].(string)
	exceptions, _ := orig["exceptionOccurrences"].([]any)
	cancelled, _ := orig["cancelledOccurrences"].([]any)
	if len(exceptions)+len(cancelled) > 0 {
		inst := h.getJSON("users/"+dst+"/events/"+id+"/instances?startDateTime=2020-01-01T00:00:00Z&endDateTime=2030-01-01T00:00:00Z&$top=500", http.StatusOK)["value"].([]any)
		byStart := map[string]string{}
		for _, x := range inst {
			o := x.(map[string]any)
			byStart[o["originalStart"].(string)] = o["id"].(string)
		}
		for _, x := range exceptions {
			ex := x.(map[string]any)
			occ := byStart[ex["originalStart"].(string)]
			if occ == "" {
				h.t.Fatalf("no occurrence at %v in the restored series", ex["originalStart"])
			}
			got := h.sendJSON(http.MethodPatch, "users/"+dst+"/events/"+occ, map[string]any{
				"subject": ex["subject"], "start": ex["start"], "end": ex["end"]}, http.StatusOK)
			if got["type"] != "exception" || got["id"] != occ || got["seriesMasterId"] != id {
				h.t.Fatalf("patched occurrence: %v", got)
			}
			exAtts, _ := ex["attachments"].([]any)
			h.postAttachments(dst, occ, exAtts)
		}
		// Cancelled occurrences are named by their date in the series'
		// recurrence zone.
		rng, _ := orig["recurrence"].(map[string]any)["range"].(map[string]any)
		zone, _ := rng["recurrenceTimeZone"].(string)
		loc, ok := zoneLocation(zone)
		if !ok {
			h.t.Fatalf("unknown recurrence zone %q", zone)
		}
		for _, x := range cancelled {
			c := x.(string)
			date := c[strings.LastIndexByte(c, '.')+1:]
			found := false
			for start, occ := range byStart {
				if at, err := time.Parse(time.RFC3339, start); err == nil && at.In(loc).Format("2006-01-02") == date {
					resp := h.do(http.MethodDelete, "users/"+dst+"/events/"+occ, nil)
					resp.Body.Close()
					if resp.StatusCode != http.StatusNoContent {
						h.t.Fatalf("cancel occurrence: %d", resp.StatusCode)
					}
					found = true
				}
			}
			if !found {
				h.t.Fatalf("no occurrence on %s in the restored series", date)
			}
		}
	}
	atts, _ := orig["attachments"].([]any)
	h.postAttachments(dst, id, atts)
	return id
}

// postAttachments adds attachments, as an event's content carries them
// (item attachments with their items), to an event or occurrence of dst.
func (h *harness) postAttachments(dst, id string, atts []any) {
	h.t.Helper()
	for _, x := range atts {
		a := x.(map[string]any)
		body := map[string]any{"@odata.type": a["@odata.type"], "name": a["name"], "contentType": a["contentType"],
			"isInline": a["isInline"]}
		if item, ok := a["item"].(map[string]any); ok {
			body["item"] = item
		} else {
			body["contentBytes"], body["contentId"] = a["contentBytes"], a["contentId"]
		}
		h.sendJSON(http.MethodPost, "users/"+dst+"/events/"+id+"/attachments", body, http.StatusCreated)
	}
}

// completedEvent is an event's content (State's): the canonical GET
// completed with its item attachments' items and its exceptions'
// attachments. An item attachment's size is the size of the item Exchange
// stores, which a copy need not share, so it is left out.
func (h *harness) completedEvent(u, id string) map[string]any {
	h.t.Helper()
	body, _ := h.bytes("/beta/users/"+u+"/events/"+id+canonicalEventQuery, http.StatusOK)
	var doc map[string]any
	if err := json.Unmarshal(h.completeEvent(u, body), &doc); err != nil {
		h.t.Fatal(err)
	}
	dropItemSize := func(m map[string]any) {
		atts, _ := m["attachments"].([]any)
		for _, x := range atts {
			if a := x.(map[string]any); a["@odata.type"] == "#microsoft.graph.itemAttachment" {
				delete(a, "size")
			}
		}
	}
	dropItemSize(doc)
	exceptions, _ := doc["exceptionOccurrences"].([]any)
	for _, x := range exceptions {
		dropItemSize(x.(map[string]any))
	}
	return doc
}

const canonicalEventQuery = "?$expand=exceptionOccurrences,attachments"

func TestEventsRoundTripThroughCreateAndOccurrenceWrites(t *testing.T) {
	h := newHarness(t, noRevoke(Options{Tenant: TenantOptions{Users: 3, ItemsPerUser: 200, MaxAttachmentSize: 64 << 10,
		Mix: ItemMix{Mail: 0.1, Contacts: 0.1, Events: 0.7, Files: 0.1}}}))
	users := h.mailboxUsers()
	skip := keySet("id", "createdDateTime", "lastModifiedDateTime", "changeKey", "@odata.etag", "webLink", "iCalUId", "seriesMasterId")
	var singles, series, withExceptions, withCancellations, withAttachments int
	for i, src := range users[:2] {
		dst := users[(i+1)%len(users)]
		cal := h.sendJSON(http.MethodPost, "users/"+dst+"/calendars", map[string]any{"name": "Restored from " + src}, http.StatusCreated)["id"].(string)
		for _, it := range h.stateItems(src, "events", "event") {
			orig := h.completedEvent(src, it.ID)
			// Every series and every event with attachments, and enough
			// plain single events.
			if orig["type"] != "seriesMaster" && len(orig["attachments"].([]any)) == 0 && singles >= 20 {
				continue
			}
			id := h.restoreEvent(orig, dst, cal)
			got := h.completedEvent(dst, id)
			if d := firstDifference("event", normalizeJSON(orig, skip), normalizeJSON(got, skip)); d != "" {
				t.Fatalf("event %s (%s) restored differently at %s", it.ID, orig["type"], d)
			}
			if got["iCalUId"] == nil || got["iCalUId"] == orig["iCalUId"] || got["createdDateTime"] != ts(testNow) {
				t.Fatalf("restored event keeps the original's server values: %v %v", got["iCalUId"], got["createdDateTime"])
			}
			exceptions, _ := got["exceptionOccurrences"].([]any)
			cancelled, _ := got["cancelledOccurrences"].([]any)
			for _, x := range exceptions {
				if x.(map[string]any)["seriesMasterId"] != id {
					t.Fatalf("exception of the restored series names master %v", x.(map[string]any)["seriesMasterId"])
				}
			}
			for _, x := range cancelled {
				if !strings.HasPrefix(x.(string), "OID."+id+".") {
					t.Fatalf("cancelled occurrence %v of the restored series", x)
				}
			}
			if orig["type"] == "seriesMaster" {
				series++
			} else {
				singles++
			}
			if len(exceptions) > 0 {
				withExceptions++
			}
			if len(cancelled) > 0 {
				withCancellations++
			}
			if len(got["attachments"].([]any)) > 0 {
				withAttachments++
			}
		}
	}
	if singles == 0 || series == 0 || withExceptions == 0 || withCancellations == 0 || withAttachments == 0 {
		t.Fatalf("coverage: %d singles, %d series, %d with exceptions, %d with cancellations, %d with attachments",
			singles, series, withExceptions, withCancellations, withAttachments)
	}
	t.Logf("%d singles, %d series, %d with exceptions, %d with cancellations, %d with attachments",
		singles, series, withExceptions, withCancellations, withAttachments)
}
