package graphsim

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/mail"
	"strings"
	"testing"
	"time"
)

func TestMessageMIMEAgreesWithJSON(t *testing.T) {
	h := newHarness(t, noRevoke(Options{Tenant: TenantOptions{ItemsPerUser: 300}}))
	u := h.user(0)
	folders, _, _ := h.collect("users/" + u + "/mailFolders/delta")
	checked, withAtt, inline, items := 0, 0, 0, 0
	for _, f := range folders {
		msgs, _, _ := h.collect("users/"+u+"/mailFolders/"+f["id"].(string)+"/messages/delta", "Prefer", "odata.maxpagesize=50")
		for _, m := range msgs {
			raw, resp := h.bytes("users/"+u+"/messages/"+m["id"].(string)+"/$value", http.StatusOK)
			if resp.Header.Get("Content-Length") == "" {
				t.Fatal("no Content-Length on $value")
			}
			pm, err := mail.ReadMessage(bytes.NewReader(raw))
			if err != nil {
				t.Fatalf("MIME does not parse: %v", err)
			}
			subject, _ := new(mime.WordDecoder).DecodeHeader(pm.Header.Get("Subject"))
			if subject != m["subject"] {
				t.Fatalf("subject %q vs %q", subject, m["subject"])
			}
			from, _ := pm.Header.AddressList("From")
			if from[0].Address != m["from"].(map[string]any)["emailAddress"].(map[string]any)["address"] {
				t.Fatalf("from %v vs %v", from, m["from"])
			}
			to, _ := pm.Header.AddressList("To")
			if len(to) != len(m["toRecipients"].([]any)) {
				t.Fatalf("to count")
			}
			date, _ := pm.Header.Date()
			sent, _ := time.Parse(time.RFC3339, m["sentDateTime"].(string))
			if !date.Equal(sent) {
				t.Fatalf("Date %v vs sentDateTime %v", date, sent)
			}
			rcv := pm.Header.Get("Received")
			rdate, _ := mail.ParseDate(strings.TrimSpace(rcv[strings.LastIndex(rcv, ";")+1:]))
			received, _ := time.Parse(time.RFC3339, m["receivedDateTime"].(string))
			if !rdate.Equal(received) {
				t.Fatalf("Received %v vs receivedDateTime %v", rdate, received)
			}
			if pm.Header.Get("Message-ID") != m["internetMessageId"] {
				t.Fatalf("Message-ID")
			}
			nonInline, inl := countParts(t, pm.Header.Get("Content-Type"), pm.Body)
			if (nonInline > 0) != m["hasAttachments"].(bool) {
				t.Fatalf("hasAttachments %v but %d attachment parts", m["hasAttachments"], nonInline)
			}
			atts := h.getJSON("users/"+u+"/messages/"+m["id"].(string)+"/attachments?$expand=microsoft.graph.itemattachment/item", http.StatusOK)["value"].([]any)
			if len(atts) != nonInline+inl {
				t.Fatalf("%d attachments in JSON, %d+%d parts in MIME", len(atts), nonInline, inl)
			}
			for _, a := range atts {
				am := a.(map[string]any)
				items++
				if am["@odata.type"] == "#microsoft.graph.itemAttachment" && am["item"] == nil {
					t.Fatalf("$expand item missing: %v", am)
				}
				if am["@odata.type"] == "#microsoft.graph.fileAttachment" {
					v, _ := h.bytes("users/"+u+"/messages/"+m["id"].(string)+"/attachments/"+am["id"].(string)+"/$value", http.StatusOK)
					if int(am["size"].(float64)) != len(v) {
						t.Fatalf("attachment size %v, $value %d bytes", am["size"], len(v))
					}
				}
			}
			if nonInline > 0 {
				withAtt++
			}
			inline += inl
			checked++
		}
	}
	if checked < 100 || withAtt == 0 {
		t.Fatalf("checked %d messages, %d with attachments", checked, withAtt)
	}
	t.Logf("checked %d messages, %d with attachments, %d inline parts, %d attachments", checked, withAtt, inline, items)
}

// countParts counts attachment parts (non-inline and inline) of a MIME body.
func countParts(t *testing.T, ct string, body io.Reader) (attached, inline int) {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		t.Fatalf("content type %q: %v", ct, err)
	}
	if !strings.HasPrefix(mt, "multipart/") {
		return 0, 0
	}
	mr := multipart.NewReader(body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		pct := p.Header.Get("Content-Type")
		disp := p.Header.Get("Content-Disposition")
		switch {
		case strings.HasPrefix(pct, "multipart/"):
			a, i := countParts(t, pct, p)
			attached += a
			inline += i
		case strings.HasPrefix(disp, "inline"):
			inline++
		case strings.HasPrefix(disp, "attachment"):
			attached++
		}
	}
}

func TestRecurringSeriesExpandWithExceptionsAndCancellations(t *testing.T) {
	h := newHarness(t, Options{Tenant: TenantOptions{Users: 2, ItemsPerUser: 2000}})
	u := h.user(0)
	events, _, _ := h.collect("/beta/users/"+u+"/calendars/calendar/events/delta", "Prefer", "odata.maxpagesize=200")
	found := false
	for _, e := range events {
		if e["type"] != "seriesMaster" {
			continue
		}
		full := h.getJSON("/beta/users/"+u+"/events/"+e["id"].(string)+"?$expand=exceptionOccurrences", http.StatusOK)
		exc := full["exceptionOccurrences"].([]any)
		cancelled := full["cancelledOccurrences"].([]any)
		if len(exc) == 0 || len(cancelled) == 0 {
			continue
		}
		found = true
		count := int(full["recurrence"].(map[string]any)["range"].(map[string]any)["numberOfOccurrences"].(float64))
		inst := h.getJSON("users/"+u+"/events/"+e["id"].(string)+"/instances?startDateTime=2020-01-01T00:00:00Z&endDateTime=2030-01-01T00:00:00Z&$top=100", http.StatusOK)["value"].([]any)
		if len(inst) != count-len(cancelled) {
			t.Fatalf("%d instances, %d occurrences, %d cancelled", len(inst), count, len(cancelled))
		}
		exceptions := 0
		for _, i := range inst {
			im := i.(map[string]any)
			if im["seriesMasterId"] != e["id"] {
				t.Fatalf("instance without master")
			}
			if im["type"] == "exception" {
				exceptions++
				if !strings.HasSuffix(im["subject"].(string), "(moved)") {
					t.Fatalf("exception subject %v", im["subject"])
				}
				h.getJSON("users/"+u+"/events/"+im["id"].(string), http.StatusOK)
			}
		}
		if exceptions != len(exc) {
			t.Fatalf("%d exceptions in instances, %d in master", exceptions, len(exc))
		}
		break
	}
	if !found {
		t.Fatal("no series with both an exception and a cancellation")
	}
	// calendarView/delta expands occurrences in the window.
	vals, _, _ := h.collect("users/" + u + "/calendarView/delta?startDateTime=2024-01-01T00:00:00Z&endDateTime=2026-01-01T00:00:00Z")
	types := map[any]int{}
	for _, v := range vals {
		types[v["type"]]++
	}
	if types["occurrence"] == 0 || types["singleInstance"] == 0 || types["seriesMaster"] != 0 {
		t.Fatalf("calendarView/delta types %v", types)
	}
}

// Messages attached to messages are generated one level deep, whatever
// their coordinates: in this tenant a chain of attached messages would
// otherwise cycle and recurse until the stack overflows.
func TestEmbeddedMessagesEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 28,000 messages")
	}
	s := New(Options{Tenant: TenantOptions{Seed: 1, Users: 6, ItemsPerUser: 8000, Mix: ItemMix{Mail: 0.7, Contacts: 0.15, Events: 0.15}}})
	defer s.Close()
	st, err := s.State(StateFilter{Category: "mail", NoHashes: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Items) < 25000 {
		t.Fatalf("%d messages", len(st.Items))
	}
}
