package graphsim

import (
	"maps"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

var guidShape = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func eventTenant() Options {
	return noRevoke(Options{Tenant: TenantOptions{Users: 3, ItemsPerUser: 200,
		Mix: ItemMix{Mail: 0.1, Contacts: 0.1, Events: 0.7, Files: 0.1}}})
}

// transactionIDs maps every live event of user u to its transactionId
// ("" for null), as GET serves it.
func (h *harness) transactionIDs(u string) map[string]string {
	h.t.Helper()
	out := map[string]string{}
	for _, it := range h.stateItems(u, "events", "event") {
		tx, _ := h.getJSON("users/"+u+"/events/"+it.ID, http.StatusOK)["transactionId"].(string)
		out[it.ID] = tx
	}
	return out
}

func TestGeneratedEventsCarryTransactionIDsDeterministically(t *testing.T) {
	h := newHarness(t, eventTenant())
	again := newHarness(t, eventTenant())
	other := eventTenant()
	other.Tenant.Seed = 8
	elsewhere := newHarness(t, other)
	total, with := 0, 0
	seen := map[string]bool{}
	for _, u := range h.mailboxUsers() {
		got, want := h.transactionIDs(u), again.transactionIDs(u)
		if !maps.Equal(got, want) {
			t.Fatalf("%s: transactionIds differ between two servers of one seed", u)
		}
		for id, tx := range got {
			total++
			if tx == "" {
				continue
			}
			with++
			if !guidShape.MatchString(tx) || seen[tx] {
				t.Fatalf("event %s: transactionId %q malformed or repeated", id, tx)
			}
			seen[tx] = true
			src, ok := h.sim.generatedTransactionSource(tx)
			if !ok || h.sim.ids().encode(src) != id {
				t.Fatalf("event %s: transactionId %q decodes to %v", id, tx, src)
			}
			if _, ok := elsewhere.sim.generatedTransactionSource(tx); ok {
				t.Fatalf("transactionId %q of seed 7 decodes under seed 8", tx)
			}
		}
	}
	if total < 300 || with*100 < total*25 || with*100 > total*42 {
		t.Fatalf("%d of %d generated events carry a transactionId, want about a third", with, total)
	}
	for _, tx := range []string{"", "retry-1", "00000000-0000-0000-0000-000000000000", strings.Repeat("f", 32)} {
		if _, ok := h.sim.generatedTransactionSource(tx); ok {
			t.Fatalf("%q decodes as a generated transactionId", tx)
		}
	}
}

func eventBody(subject, tx string) map[string]any {
	b := map[string]any{
		"subject": subject,
		"start":   map[string]any{"dateTime": "2025-07-02T09:00:00", "timeZone": "UTC"},
		"end":     map[string]any{"dateTime": "2025-07-02T09:30:00", "timeZone": "UTC"},
		"body":    map[string]any{"contentType": "text", "content": "Agenda"},
	}
	if tx != "" {
		b["transactionId"] = tx
	}
	return b
}

// apiErr checks a decoded error answer's code and message.
func apiErr(t *testing.T, got map[string]any, code, message string) {
	t.Helper()
	e, _ := got["error"].(map[string]any)
	if e["code"] != code || e["message"] != message {
		t.Fatalf("error %v, want %s %q", got["error"], code, message)
	}
}

const duplicateTxMessage = "Your request can't be completed. The TransactionId specified in the request has already been used to create a different event."

func TestTransactionIDMakesEventCreationIdempotentWithinAMailbox(t *testing.T) {
	h := newHarness(t, eventTenant())
	users := h.mailboxUsers()
	u, v := users[0], users[1]
	count := func(user string) int { return len(h.stateItems(user, "events", "event")) }
	const tx = "1f7c2a9e-0c4b-4d7e-9a55-3c1d2e4f5a6b"
	before := count(u)

	first := h.sendJSON(http.MethodPost, "users/"+u+"/events", eventBody("Retry me", tx), http.StatusCreated)
	id := first["id"].(string)
	if first["transactionId"] != tx || count(u) != before+1 {
		t.Fatalf("first POST: transactionId %v, %d events", first["transactionId"], count(u))
	}
	// A retry, through any path and into any calendar of the mailbox,
	// answers 201 with the event the first POST made and makes nothing.
	cal := h.sendJSON(http.MethodPost, "users/"+u+"/calendars", map[string]any{"name": "Elsewhere"}, http.StatusCreated)["id"].(string)
	for _, path := range []string{"users/" + u + "/events", "users/" + u + "/calendars/calendar/events",
		"users/" + u + "/calendars/" + cal + "/events", "/beta/users/" + u + "/events"} {
		got := h.sendJSON(http.MethodPost, path, eventBody("Retry me", tx), http.StatusCreated)
		if got["id"] != id || got["subject"] != "Retry me" {
			t.Fatalf("retry through %s: %v", path, got["id"])
		}
	}
	if n := count(u); n != before+1 {
		t.Fatalf("retries created events: %d, want %d", n, before+1)
	}
	// Other content under the same transactionId is refused.
	apiErr(t, h.sendJSON(http.MethodPost, "users/"+u+"/events", eventBody("Something else", tx), http.StatusBadRequest),
		"ErrorDuplicateTransactionId", duplicateTxMessage)
	if got := h.getJSON("users/"+u+"/events/"+id, http.StatusOK); got["subject"] != "Retry me" || count(u) != before+1 {
		t.Fatalf("refused POST changed the mailbox: %v", got["subject"])
	}
	// Another mailbox has its own transactionIds.
	theirs := h.sendJSON(http.MethodPost, "users/"+v+"/events", eventBody("Something else", tx), http.StatusCreated)
	if theirs["id"] == id || theirs["transactionId"] != tx {
		t.Fatalf("POST into another mailbox: %v", theirs["id"])
	}
	// A deleted event no longer holds its transactionId.
	resp := h.do(http.MethodDelete, "users/"+u+"/events/"+id, nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	if re := h.sendJSON(http.MethodPost, "users/"+u+"/events", eventBody("Retry me", tx), http.StatusCreated); re["id"] == id {
		t.Fatal("the deleted event came back")
	}
	// Null or absent transactionIds never deduplicate.
	for _, body := range []map[string]any{eventBody("No key", ""), {"subject": "Null key", "transactionId": nil}} {
		a := h.sendJSON(http.MethodPost, "users/"+u+"/events", body, http.StatusCreated)
		b := h.sendJSON(http.MethodPost, "users/"+u+"/events", body, http.StatusCreated)
		if a["id"] == b["id"] || a["transactionId"] != nil {
			t.Fatalf("two POSTs without a transactionId: %v %v", a["id"], b["id"])
		}
	}
}

// A restore that posts a generated event's JSON back into the same mailbox
// with its transactionId gets the original back, or a refusal when it
// changed the content; it must post transactionId null to make a copy.
func TestGeneratedTransactionIDsHoldAcrossTheMailbox(t *testing.T) {
	h := newHarness(t, eventTenant())
	users := h.mailboxUsers()
	u, v := users[0], users[1]
	var id, tx string
	for eid, etx := range h.transactionIDs(u) {
		if etx != "" && (id == "" || eid < id) {
			id, tx = eid, etx
		}
	}
	if id == "" {
		t.Fatal("no generated event with a transactionId")
	}
	cal := h.sendJSON(http.MethodPost, "users/"+u+"/calendars", map[string]any{"name": "Restored"}, http.StatusCreated)["id"].(string)
	into := "users/" + u + "/calendars/" + cal + "/events"
	inCalendar := func() int {
		return len(h.getJSON(into, http.StatusOK)["value"].([]any))
	}
	for _, form := range []string{"users/" + u + "/events/" + id, "/beta/users/" + u + "/events/" + id + canonicalEventQuery} {
		orig := h.getJSON(form, http.StatusOK)
		if got := h.sendJSON(http.MethodPost, into, orig, http.StatusCreated); got["id"] != id {
			t.Fatalf("POST of %s: got %v, want the original", form, got["id"])
		}
		changed := maps.Clone(orig)
		changed["subject"] = "Restored: " + orig["subject"].(string)
		apiErr(t, h.sendJSON(http.MethodPost, into, changed, http.StatusBadRequest), "ErrorDuplicateTransactionId", duplicateTxMessage)
	}
	if n := inCalendar(); n != 0 {
		t.Fatalf("%d events in the restore calendar", n)
	}
	orig := h.getJSON("users/"+u+"/events/"+id, http.StatusOK)
	stripped := maps.Clone(orig)
	stripped["transactionId"] = nil
	if got := h.sendJSON(http.MethodPost, into, stripped, http.StatusCreated); got["id"] == id || got["transactionId"] != nil || inCalendar() != 1 {
		t.Fatalf("POST without transactionId: %v", got["id"])
	}
	if got := h.sendJSON(http.MethodPost, "users/"+v+"/events", orig, http.StatusCreated); got["id"] == id || got["transactionId"] != tx {
		t.Fatalf("POST into another mailbox: %v", got["id"])
	}
	// The transactionId follows the event when a move gives it a new id.
	res := h.sim.Mutate([]MutateOp{{Op: "move", ID: id, To: cal}})
	if len(res) != 1 || res[0].Error != "" || res[0].NewID == "" {
		t.Fatalf("move: %+v", res)
	}
	if got := h.sendJSON(http.MethodPost, "users/"+u+"/events", orig, http.StatusCreated); got["id"] != res[0].NewID {
		t.Fatalf("POST after the move: got %v, want %s", got["id"], res[0].NewID)
	}
}

func TestPostedEventsAndContactsRefuseUnknownProperties(t *testing.T) {
	h := newHarness(t, eventTenant())
	u := h.mailboxUsers()[0]
	events := func() int { return len(h.stateItems(u, "events", "event")) }
	contacts := func() int { return len(h.stateItems(u, "contacts", "contact")) }
	ne, nc := events(), contacts()
	post := func(path, raw string) map[string]any {
		return h.decode(h.do(http.MethodPost, path, strings.NewReader(raw)), http.StatusBadRequest)
	}
	want := func(prop, typ string) string {
		return "The property '" + prop + "' does not exist on type 'Microsoft.OutlookServices." + typ +
			"'. Make sure to only use property names that are defined by the type or mark the type as open type."
	}
	// The first unknown property in body order is named.
	apiErr(t, post("users/"+u+"/events", `{"subject":"x","iCalUId_v2":"abc","aaa":1}`), "RequestBodyRead", want("iCalUId_v2", "Event"))
	apiErr(t, post("users/"+u+"/calendars/calendar/events", `{"zzz":null,"subject":"x","iCalUId_v2":"abc"}`), "RequestBodyRead", want("zzz", "Event"))
	// occurrenceId and uid exist on the beta event only.
	apiErr(t, post("users/"+u+"/events", `{"subject":"x","occurrenceId":null}`), "RequestBodyRead", want("occurrenceId", "Event"))
	apiErr(t, post("users/"+u+"/contacts", `{"givenName":"x","nickName":"y","favouriteColour":"red"}`), "RequestBodyRead", want("favouriteColour", "Contact"))
	apiErr(t, post("/beta/users/"+u+"/contactFolders/contacts/contacts", `{"givenName":"x","calendarId":"y"}`), "RequestBodyRead", want("calendarId", "Contact"))
	if events() != ne || contacts() != nc {
		t.Fatal("a refused POST created an item")
	}

	// Read-only properties and annotations are accepted and ignored.
	e := h.sendJSON(http.MethodPost, "users/"+u+"/events", map[string]any{
		"@odata.type": "#microsoft.graph.event", "@odata.etag": `W/"abc"`, "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('x')/events/$entity",
		"calendar@odata.associationLink": "https://graph.microsoft.com/v1.0/users('x')/calendars('y')/$ref",
		"calendar@odata.navigationLink":  "https://graph.microsoft.com/v1.0/users('x')/calendars('y')",
		"id":                             "AAMkAGposted", "createdDateTime": "2001-01-01T00:00:00Z", "lastModifiedDateTime": "2001-01-01T00:00:00Z",
		"changeKey": "posted", "iCalUId": "posted", "webLink": "https://example.com", "type": "seriesMaster",
		"seriesMasterId": "AAMkAGmaster", "originalStart": "2001-01-01T00:00:00Z", "hasAttachments": true,
		"responseStatus": map[string]any{"response": "declined", "time": "2001-01-01T00:00:00Z"},
		"subject":        "Read-only ignored",
		"start":          map[string]any{"dateTime": "2025-07-03T10:00:00", "timeZone": "UTC"},
		"end":            map[string]any{"dateTime": "2025-07-03T11:00:00", "timeZone": "UTC"},
	}, http.StatusCreated)
	if e["id"] == "AAMkAGposted" || e["createdDateTime"] != ts(testNow) || e["changeKey"] == "posted" || e["iCalUId"] == "posted" ||
		e["webLink"] == "https://example.com" || e["type"] != "singleInstance" || e["seriesMasterId"] != nil ||
		e["hasAttachments"] != false || e["responseStatus"].(map[string]any)["response"] != "organizer" {
		t.Fatalf("created event keeps posted read-only values: %v", e)
	}
	beta := h.sendJSON(http.MethodPost, "/beta/users/"+u+"/events", map[string]any{"subject": "Beta", "uid": "posted", "occurrenceId": nil}, http.StatusCreated)
	if beta["id"] == nil {
		t.Fatal("beta POST with uid and occurrenceId")
	}
	folder := h.sendJSON(http.MethodPost, "users/"+u+"/contactFolders", map[string]any{"displayName": "Restored contacts"}, http.StatusCreated)["id"].(string)
	c := h.sendJSON(http.MethodPost, "users/"+u+"/contactFolders/"+folder+"/contacts", map[string]any{
		"@odata.etag": `W/"abc"`, "@odata.context": "x", "id": "AAMkAGposted", "parentFolderId": "AAMkAGelsewhere",
		"createdDateTime": "2001-01-01T00:00:00Z", "lastModifiedDateTime": "2001-01-01T00:00:00Z", "changeKey": "posted",
		"givenName": "Ada", "yomiGivenName": "エイダ",
	}, http.StatusCreated)
	if c["id"] == "AAMkAGposted" || c["parentFolderId"] != folder || c["createdDateTime"] != ts(testNow) || c["changeKey"] == "posted" || c["givenName"] != "Ada" {
		t.Fatalf("created contact keeps posted read-only values: %v", c)
	}
	if events() != ne+2 || contacts() != nc+1 {
		t.Fatalf("events %d→%d, contacts %d→%d", ne, events(), nc, contacts())
	}
}
