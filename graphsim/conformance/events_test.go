package conformance

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
)

// TestSDKRestoresAnEventSeries writes an event the way a restore does with
// the SDK: POST a daily series, turn one occurrence into an exception and
// cancel another through their instance ids, add a small attachment (a
// large one is refused with 413 and needs an upload session), then read
// the series back with $expand=attachments into the SDK's models.
func TestSDKRestoresAnEventSeries(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	u := e.user0()
	events := e.client.Users().ByUserId(u.ID).Events()

	ev := dailySeries("Restored standup", "2025-07-07T09:00:00", "2025-07-07T09:15:00", 4)
	created, err := events.Post(e.ctx, ev, nil)
	if err != nil {
		t.Fatal(err)
	}
	id := deref(created.GetId())

	inst, err := events.ByEventId(id).Instances().Get(e.ctx, &users.ItemEventsItemInstancesRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.ItemEventsItemInstancesRequestBuilderGetQueryParameters{
			StartDateTime: ptr("2025-07-01T00:00:00Z"), EndDateTime: ptr("2025-08-01T00:00:00Z")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(inst.GetValue()); n != 4 {
		t.Fatalf("%d instances of a series of 4", n)
	}
	change := models.NewEvent()
	change.SetSubject(ptr("Restored standup (moved)"))
	patched, err := events.ByEventId(deref(inst.GetValue()[1].GetId())).Patch(e.ctx, change, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tp := patched.GetTypeEscaped(); tp == nil || *tp != models.EXCEPTION_EVENTTYPE || deref(patched.GetSeriesMasterId()) != id {
		t.Fatalf("patched occurrence: type %v, master %s", tp, deref(patched.GetSeriesMasterId()))
	}
	if err := events.ByEventId(deref(inst.GetValue()[2].GetId())).Delete(e.ctx, nil); err != nil {
		t.Fatal(err)
	}

	att := models.NewFileAttachment()
	att.SetName(ptr("agenda.txt"))
	att.SetContentType(ptr("text/plain"))
	att.SetContentBytes([]byte("agenda"))
	if _, err := events.ByEventId(id).Attachments().Post(e.ctx, att, nil); err != nil {
		t.Fatal(err)
	}
	big := models.NewFileAttachment()
	big.SetName(ptr("big.bin"))
	big.SetContentBytes(bytes.Repeat([]byte{7}, 3<<20))
	_, err = events.ByEventId(id).Attachments().Post(e.ctx, big, nil)
	odataError(t, err, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge")

	got, err := events.ByEventId(id).Get(e.ctx, &users.ItemEventsEventItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.ItemEventsEventItemRequestBuilderGetQueryParameters{Expand: []string{"attachments"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	atts := got.GetAttachments()
	if len(atts) != 1 || deref(got.GetHasAttachments()) != true {
		t.Fatalf("%d attachments after one was added", len(atts))
	}
	fa, ok := atts[0].(models.FileAttachmentable)
	if !ok || deref(fa.GetName()) != "agenda.txt" || string(fa.GetContentBytes()) != "agenda" {
		t.Fatalf("expanded attachment %T %+v", atts[0], atts[0])
	}
	inst, err = events.ByEventId(id).Instances().Get(e.ctx, &users.ItemEventsItemInstancesRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.ItemEventsItemInstancesRequestBuilderGetQueryParameters{
			StartDateTime: ptr("2025-07-01T00:00:00Z"), EndDateTime: ptr("2025-08-01T00:00:00Z")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(inst.GetValue()); n != 3 || deref(inst.GetValue()[1].GetSubject()) != "Restored standup (moved)" {
		t.Fatalf("%d instances after one was cancelled", n)
	}
}

func ptr[T any](v T) *T { return &v }

// TestSDKEventTransactionIDIsAnIdempotencyKey posts one event twice with
// the SDK under a transactionId, as a client retrying a create that timed
// out does: Graph answers the retry 201 with the event the first POST made
// (graphsim/eventtx.go cites the sources). Other content under the same
// transactionId is refused with 400 ErrorDuplicateTransactionId, another
// mailbox keeps its own transactionIds, and events without one are never
// merged.
func TestSDKEventTransactionIDIsAnIdempotencyKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	u := e.user0()
	events := e.client.Users().ByUserId(u.ID).Events()
	newEvent := func(subject string, tx *string) models.Eventable {
		ev := models.NewEvent()
		ev.SetSubject(ptr(subject))
		start, end := models.NewDateTimeTimeZone(), models.NewDateTimeTimeZone()
		start.SetDateTime(ptr("2025-07-08T09:00:00"))
		start.SetTimeZone(ptr("UTC"))
		end.SetDateTime(ptr("2025-07-08T09:30:00"))
		end.SetTimeZone(ptr("UTC"))
		ev.SetStart(start)
		ev.SetEnd(end)
		ev.SetTransactionId(tx)
		return ev
	}
	const tx = "9b2e4c1a-7d3f-4e5a-8b6c-0d1e2f3a4b5c"
	ev := newEvent("Retried create", ptr(tx))
	first, err := events.Post(e.ctx, ev, nil)
	if err != nil {
		t.Fatal(err)
	}
	retry, err := events.Post(e.ctx, ev, nil)
	if err != nil {
		t.Fatal(err)
	}
	id := deref(first.GetId())
	if deref(retry.GetId()) != id || deref(retry.GetTransactionId()) != tx {
		t.Fatalf("retry answered %s (transactionId %s), want the first event %s", deref(retry.GetId()), deref(retry.GetTransactionId()), id)
	}
	_, err = events.Post(e.ctx, newEvent("Another event", ptr(tx)), nil)
	oe := odataError(t, err, http.StatusBadRequest, "ErrorDuplicateTransactionId")
	if msg := deref(oe.GetErrorEscaped().GetMessage()); msg != "Your request can't be completed. The TransactionId specified in the request has already been used to create a different event." {
		t.Errorf("message %q", msg)
	}
	var other string
	for _, x := range e.info.Users[1:] {
		if x.HasMailbox {
			other = x.ID
			break
		}
	}
	theirs, err := e.client.Users().ByUserId(other).Events().Post(e.ctx, ev, nil)
	if err != nil {
		t.Fatal(err)
	}
	if deref(theirs.GetId()) == id {
		t.Fatal("another mailbox answered with user 0's event")
	}
	plain := newEvent("No transactionId", nil)
	a, err := events.Post(e.ctx, plain, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := events.Post(e.ctx, plain, nil)
	if err != nil {
		t.Fatal(err)
	}
	if deref(a.GetId()) == deref(b.GetId()) {
		t.Fatal("two events without a transactionId were merged")
	}
}

// TestSDKReadsAnExceptionsAttachments adds a file and an attached message
// to one occurrence of a series with the SDK, which makes it an exception
// with attachments of its own, and reads them back at the exception's id:
// the attached message comes with its item only under
// $expand=microsoft.graph.itemattachment/item, on the list and alone.
func TestSDKReadsAnExceptionsAttachments(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	u := e.user0()
	events := e.client.Users().ByUserId(u.ID).Events()

	ev := dailySeries("Weekly review", "2025-07-07T10:00:00", "2025-07-07T10:30:00", 3)
	created, err := events.Post(e.ctx, ev, nil)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := events.ByEventId(deref(created.GetId())).Instances().Get(e.ctx, &users.ItemEventsItemInstancesRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.ItemEventsItemInstancesRequestBuilderGetQueryParameters{
			StartDateTime: ptr("2025-07-01T00:00:00Z"), EndDateTime: ptr("2025-08-01T00:00:00Z")},
	})
	if err != nil || len(inst.GetValue()) != 3 {
		t.Fatalf("instances: %v", err)
	}
	occ := deref(inst.GetValue()[1].GetId())
	occAtts := events.ByEventId(occ).Attachments()

	file := models.NewFileAttachment()
	file.SetName(ptr("minutes.txt"))
	file.SetContentType(ptr("text/plain"))
	file.SetContentBytes([]byte("minutes"))
	if _, err := occAtts.Post(e.ctx, file, nil); err != nil {
		t.Fatal(err)
	}
	msg := models.NewMessage()
	msg.SetSubject(ptr("Fwd: numbers"))
	body := models.NewItemBody()
	html := models.HTML_BODYTYPE
	body.SetContentType(&html)
	body.SetContent(ptr("<p>numbers</p>"))
	msg.SetBody(body)
	item := models.NewItemAttachment()
	item.SetName(ptr("Fwd: numbers"))
	item.SetItem(msg)
	if _, err := occAtts.Post(e.ctx, item, nil); err != nil {
		t.Fatal(err)
	}

	got, err := events.ByEventId(occ).Get(e.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tp := got.GetTypeEscaped(); tp == nil || *tp != models.EXCEPTION_EVENTTYPE || !deref(got.GetHasAttachments()) {
		t.Fatalf("occurrence with attachments: type %v, hasAttachments %v", tp, deref(got.GetHasAttachments()))
	}
	expand := []string{"microsoft.graph.itemattachment/item"}
	for _, withItem := range []bool{false, true} {
		cfg := &users.ItemEventsItemAttachmentsRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.ItemEventsItemAttachmentsRequestBuilderGetQueryParameters{}}
		if withItem {
			cfg.QueryParameters.Expand = expand
		}
		list, err := occAtts.Get(e.ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		atts := list.GetValue()
		if len(atts) != 2 {
			t.Fatalf("%d attachments on the exception, want 2", len(atts))
		}
		fa, ok := atts[0].(models.FileAttachmentable)
		if !ok || deref(fa.GetName()) != "minutes.txt" || string(fa.GetContentBytes()) != "minutes" {
			t.Fatalf("file attachment %T %+v", atts[0], atts[0])
		}
		ia, ok := atts[1].(models.ItemAttachmentable)
		if !ok {
			t.Fatalf("item attachment read as %T", atts[1])
		}
		if !withItem {
			if ia.GetItem() != nil {
				t.Fatal("the item came without $expand=microsoft.graph.itemattachment/item")
			}
			continue
		}
		m, ok := ia.GetItem().(models.Messageable)
		if !ok || deref(m.GetSubject()) != "Fwd: numbers" {
			t.Fatalf("expanded item %T", ia.GetItem())
		}
		one, err := occAtts.ByAttachmentId(deref(ia.GetId())).Get(e.ctx, &users.ItemEventsItemAttachmentsAttachmentItemRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.ItemEventsItemAttachmentsAttachmentItemRequestBuilderGetQueryParameters{Expand: expand}})
		if err != nil {
			t.Fatal(err)
		}
		if oi, ok := one.(models.ItemAttachmentable); !ok || oi.GetItem() == nil {
			t.Fatalf("one item attachment with the expand: %T", one)
		}
	}
}

// dailySeries is a daily series of n occurrences, its first from start to
// end (UTC), as a client posts it.
func dailySeries(subject, start, end string, n int32) models.Eventable {
	ev := models.NewEvent()
	ev.SetSubject(ptr(subject))
	s, e := models.NewDateTimeTimeZone(), models.NewDateTimeTimeZone()
	s.SetDateTime(ptr(start))
	s.SetTimeZone(ptr("UTC"))
	e.SetDateTime(ptr(end))
	e.SetTimeZone(ptr("UTC"))
	ev.SetStart(s)
	ev.SetEnd(e)
	pattern, rng := models.NewRecurrencePattern(), models.NewRecurrenceRange()
	daily, numbered := models.DAILY_RECURRENCEPATTERNTYPE, models.NUMBERED_RECURRENCERANGETYPE
	pattern.SetTypeEscaped(&daily)
	pattern.SetInterval(ptr(int32(1)))
	rng.SetTypeEscaped(&numbered)
	rng.SetNumberOfOccurrences(ptr(n))
	rec := models.NewPatternedRecurrence()
	rec.SetPattern(pattern)
	rec.SetRangeEscaped(rng)
	ev.SetRecurrence(rec)
	return ev
}
