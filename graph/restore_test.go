package graph

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/m365/m365test"
)

// target is a mailbox other than the source's (user 0); users 1 and 4
// have none.
const targetUser = 2

func TestEnsureContainer(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(nil)
	ctx := context.Background()
	u := e.user(targetUser).ID

	ensure := func(cat Category, path ...string) string {
		t.Helper()
		id, err := c.EnsureContainer(ctx, u, cat, path)
		if err != nil {
			t.Fatalf("ensure %s %q: %v", cat, path, err)
		}
		return id
	}
	creates := func() int64 {
		r := c.Stats().Requests
		return r["mailFolders.create"] + r["contactFolders.create"] + r["calendars.create"]
	}
	containers := func(cat Category) []Container {
		t.Helper()
		cs, err := c.Containers(ctx, u, cat)
		if err != nil {
			t.Fatal(err)
		}
		return cs
	}

	// Well-known folders are found, by name in any case, not duplicated.
	inbox := containerByPath(t, containers(Email), "Inbox").ID
	if got := ensure(Email, "Inbox"); got != inbox {
		t.Errorf("Inbox: %s, want %s", got, inbox)
	}
	if got := ensure(Email, "inbox"); got != inbox {
		t.Errorf("inbox: %s, want %s", got, inbox)
	}
	if got := ensure(Contacts, "Contacts"); got != containerByPath(t, containers(Contacts), "Contacts").ID {
		t.Errorf("Contacts: %s", got)
	}
	if got := ensure(Events, "Calendar"); got != containerByPath(t, containers(Events), "Calendar").ID {
		t.Errorf("Calendar: %s", got)
	}
	if n := creates(); n != 0 {
		t.Fatalf("%d folders created for well-known ones", n)
	}

	awkward := []string{"Restore 2025", `O'Brien's / "notes" 100% & more`, `a\b 'x'' ünï 📁`}
	for _, tc := range []struct {
		cat  Category
		path []string
	}{
		{Email, awkward},
		{Email, []string{"Inbox", "Restored"}},
		{Contacts, append([]string{"Contacts"}, awkward...)},
		{Events, awkward[1:2]},
	} {
		before := creates()
		id := ensure(tc.cat, tc.path...)
		if n := creates() - before; n == 0 {
			t.Errorf("%s %q: nothing created", tc.cat, tc.path)
		}
		if got := containerByPath(t, containers(tc.cat), tc.path...); got.ID != id {
			t.Errorf("%s %q: id %s, Containers says %s", tc.cat, tc.path, id, got.ID)
		}
		before = creates()
		if again := ensure(tc.cat, tc.path...); again != id {
			t.Errorf("%s %q: second call %s, first %s", tc.cat, tc.path, again, id)
		}
		if n := creates() - before; n != 0 {
			t.Errorf("%s %q: second call created %d folders", tc.cat, tc.path, n)
		}
	}
	// A folder named like one made meanwhile: the conflict finds it.
	if got := ensure(Email, "restore 2025"); got != ensure(Email, "Restore 2025") {
		t.Errorf("case-insensitive match not found")
	}

	for _, tc := range []struct {
		cat  Category
		path []string
	}{{Events, []string{"A", "B"}}, {Email, nil}, {Email, []string{"Inbox", " "}}, {"files", []string{"x"}}} {
		if _, err := c.EnsureContainer(ctx, u, tc.cat, tc.path); err == nil {
			t.Errorf("%s %q: no error", tc.cat, tc.path)
		}
	}
}

// A folder that appears between looking for it and creating it is found
// after the creation's conflict.
func TestEnsureContainerConflict(t *testing.T) {
	var hidden atomic.Bool
	hideOnce := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && strings.Contains(r.URL.Query().Get("$filter"), "Taken") && hidden.CompareAndSwap(false, true) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, `{"value":[]}`)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	e := newEnv(t, hideOnce)
	c := e.client(nil)
	u := e.user(targetUser).ID
	id := e.mutate(graphsim.MutateOp{Op: "add", Kind: "calendar", User: u, Name: "Taken"})[0].ID
	got, err := c.EnsureContainer(context.Background(), u, Events, []string{"Taken"})
	if err != nil || got != id {
		t.Fatalf("got %q, %v; want %s", got, err, id)
	}
	if !hidden.Load() || c.Stats().Requests["calendars.create"] != 1 {
		t.Errorf("no conflict happened (%d creations)", c.Stats().Requests["calendars.create"])
	}
}

// source lists the items of one of user 0's containers with their stored
// bytes.
type sourceItem struct {
	id     string
	stored []byte
	state  m365.MessageState
}

func sourceItems(t *testing.T, c *Client, u string, cat Category, ct Container) []sourceItem {
	t.Helper()
	changes, _, _ := enumerate(t, c, u, cat, ct.ID, "")
	out := make([]sourceItem, 0, len(changes))
	for _, ch := range changes {
		out = append(out, sourceItem{ch.ID, fetchBytes(t, c, u, cat, ch.ID), ch.Meta.MessageState})
	}
	return out
}

// biggest returns the container with most items.
func biggest(t *testing.T, e *env, c *Client, u string, cat Category) Container {
	t.Helper()
	cs, err := c.Containers(context.Background(), u, cat)
	if err != nil {
		t.Fatal(err)
	}
	st := e.state(u, stateCategory[cat])
	best, n := Container{}, -1
	for _, ct := range cs {
		if k := len(items(st, ct.ID)); k > n {
			best, n = ct, k
		}
	}
	return best
}

// checkExisting compares ExistingItems of a container with the restored
// items: the same ids, with the keys of their backed-up originals.
func checkExisting(t *testing.T, c *Client, u string, cat Category, containerID string, restored map[string][]byte) {
	t.Helper()
	existing, err := c.ExistingItems(context.Background(), u, cat, containerID)
	if err != nil {
		t.Fatal(err)
	}
	if len(existing) != len(restored) {
		t.Errorf("%d existing items, %d restored", len(existing), len(restored))
	}
	for _, it := range existing {
		stored, ok := restored[it.ID]
		if !ok {
			t.Errorf("existing item %s was not restored", it.ID)
			continue
		}
		want, err := m365.StoredItemKey(cat, stored)
		if err != nil {
			t.Fatal(err)
		}
		if it.Key != want {
			t.Errorf("item %s: key %s, stored item's %s", it.ID, it.Key, want)
		}
		if it.Created.IsZero() {
			t.Errorf("item %s: no creation time", it.ID)
		}
	}
}

// comparable drops from an item's JSON what a restore cannot keep: ids,
// timestamps and version stamps Exchange assigns, at any depth, and the old
// series id inside cancelled occurrences.
func comparable(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	// transactionId keys the request that created an item; a restored
	// copy is created by another request.
	drop := map[string]bool{"id": true, "createdDateTime": true, "lastModifiedDateTime": true, "changeKey": true,
		"webLink": true, "iCalUId": true, "seriesMasterId": true, "parentFolderId": true, "transactionId": true}
	var walk func(any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			out := map[string]any{}
			for k, y := range x {
				if drop[k] || strings.HasPrefix(k, "@odata.") && k != "@odata.type" && k != "@odata.mediaContentType" {
					continue
				}
				// An item attachment's size is that of the item Exchange
				// stores, which a copy need not share.
				if k == "size" && x["@odata.type"] == "#microsoft.graph.itemAttachment" {
					continue
				}
				if list, _ := y.([]any); k == "attendees" && len(list) == 0 {
					continue // none, however rendered
				}
				if k == "cancelledOccurrences" {
					var days []any
					for _, s := range y.([]any) {
						str := s.(string)
						days = append(days, str[strings.LastIndexByte(str, '.')+1:])
					}
					out[k] = days
					continue
				}
				out[k] = walk(y)
			}
			return out
		case []any:
			out := make([]any, len(x))
			for i, y := range x {
				out[i] = walk(y)
			}
			return out
		}
		return v
	}
	return walk(v)
}

func diffJSON(a, b any) string {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if !aok || !bok {
		x, _ := json.Marshal(a)
		y, _ := json.Marshal(b)
		return string(x) + " != " + string(y)
	}
	var out []string
	for k := range am {
		if !reflect.DeepEqual(am[k], bm[k]) {
			if x, ok := am[k].([]any); ok {
				if y, ok := bm[k].([]any); ok && len(x) == len(y) {
					for i := range x {
						if !reflect.DeepEqual(x[i], y[i]) {
							out = append(out, fmt.Sprintf("%s[%d].{%s}", k, i, diffJSON(x[i], y[i])))
						}
					}
					continue
				}
			}
			if _, ok := am[k].(map[string]any); ok {
				if _, ok := bm[k].(map[string]any); ok {
					out = append(out, k+".{"+diffJSON(am[k], bm[k])+"}")
					continue
				}
			}
			x, _ := json.Marshal(am[k])
			y, _ := json.Marshal(bm[k])
			out = append(out, k+": "+trunc(string(x))+" != "+trunc(string(y)))
		}
	}
	for k := range bm {
		if _, ok := am[k]; !ok {
			out = append(out, k+": only in the restored item")
		}
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}

func trunc(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

func TestRestoreContacts(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(func(cfg *Config) { cfg.PageSize = 5 })
	ctx := context.Background()
	src, dst := e.user(0).ID, e.user(targetUser).ID
	folder, err := c.EnsureContainer(ctx, dst, Contacts, []string{"Contacts", "Restored"})
	if err != nil {
		t.Fatal(err)
	}
	restored := map[string][]byte{}
	cs, err := c.Containers(ctx, src, Contacts)
	if err != nil {
		t.Fatal(err)
	}
	for _, ct := range cs {
		for _, it := range sourceItems(t, c, src, Contacts, ct) {
			id, err := c.RestoreItem(ctx, dst, Contacts, folder, it.stored, m365.MessageState{})
			if err != nil {
				t.Fatalf("restore %s: %v", it.id, err)
			}
			restored[id] = it.stored
			got := fetchBytes(t, c, dst, Contacts, id)
			if a, b := comparable(t, it.stored), comparable(t, got); !reflect.DeepEqual(a, b) {
				t.Errorf("contact %s restored as %s differs: %s", it.id, id, diffJSON(a, b))
			}
		}
	}
	if len(restored) < 6 {
		t.Fatalf("only %d contacts", len(restored))
	}
	checkExisting(t, c, dst, Contacts, folder, restored)
}

func TestRestoreEvents(t *testing.T) {
	e := newEnv(t, nil)
	// Attachments from 20 KiB on go through upload sessions, in chunks of
	// 7 KiB, so that both ways of adding them are exercised.
	c := e.client(func(cfg *Config) { cfg.PageSize = 9 })
	c.inlineAttachmentMax, c.uploadChunk = 20<<10, 7<<10
	ctx := context.Background()
	dst := e.user(targetUser).ID
	cal, err := c.EnsureContainer(ctx, dst, Events, []string{"Restored events"})
	if err != nil {
		t.Fatal(err)
	}
	restored := map[string][]byte{}
	var exceptions, cancellations, attachments int
	// Sources across mailboxes, for enough series and attachments, and a
	// series given one more cancelled occurrence.
	var sources []sourceItem
	for _, ui := range []int{0, 3, 5} {
		src := e.user(ui).ID
		cs, err := c.Containers(ctx, src, Events)
		if err != nil {
			t.Fatal(err)
		}
		for _, ct := range cs {
			for _, it := range sourceItems(t, c, src, Events, ct) {
				sources = append(sources, it)
				if bytes.Contains(it.stored, []byte(`"exceptionOccurrences":[{`)) {
					sources = append(sources, sourceItem{it.id + " (one more cancellation)", cancelOneMore(t, it.stored), m365.MessageState{}})
				}
			}
		}
	}
	for _, it := range sources {
		if !bytes.Contains(it.stored, []byte(`"exceptionOccurrences":[{`)) && !bytes.Contains(it.stored, []byte(`"cancelledOccurrences":["`)) &&
			!bytes.Contains(it.stored, []byte(`"attachments":[{`)) && len(restored) >= 10 {
			continue // plain events: a few suffice
		}
		id, err := c.RestoreItem(ctx, dst, Events, cal, it.stored, m365.MessageState{})
		if err != nil {
			t.Fatalf("restore %s: %v", it.id, err)
		}
		restored[id] = it.stored
		got := fetchBytes(t, c, dst, Events, id)
		if a, b := comparable(t, withoutAttendeesForTest(t, it.stored)), comparable(t, got); !reflect.DeepEqual(a, b) {
			t.Errorf("event %s restored as %s differs: %s", it.id, id, diffJSON(a, b))
		}
		if bytes.Contains(got, []byte(`"attendees":[{`)) {
			t.Errorf("event %s restored with attendees, who would be sent invitations", it.id)
		}
		exceptions += bytes.Count(it.stored, []byte(`"type":"exception"`))
		cancellations += bytes.Count(it.stored, []byte(`"OID.`))
		attachments += bytes.Count(it.stored, []byte(`"#microsoft.graph.fileAttachment"`))
	}
	st := c.Stats().Requests
	t.Logf("%d events: %d exceptions, %d cancellations, %d attachments (%d posted, %d upload sessions)",
		len(restored), exceptions, cancellations, attachments, st["attachment.create"], st["attachment.uploadSession"])
	if exceptions == 0 || cancellations == 0 || attachments == 0 || st["attachment.create"] == 0 || st["attachment.upload"] <= st["attachment.uploadSession"] ||
		st["event.update"] == 0 || st["event.delete"] == 0 {
		t.Error("not every kind of event content was restored")
	}
	checkExisting(t, c, dst, Events, cal, restored)
}

// cancelOneMore adds the cancellation of a weekly series' fifth
// occurrence to its stored JSON, named by its date in the series' zone.
func cancelOneMore(t *testing.T, stored []byte) []byte {
	t.Helper()
	o, err := parseObject(stored)
	if err != nil {
		t.Fatal(err)
	}
	var cancelled []string
	if err := json.Unmarshal(o.get("cancelledOccurrences"), &cancelled); err != nil {
		t.Fatal(err)
	}
	loc, err := zoneLocation(seriesZone(t, stored))
	if err != nil {
		t.Fatal(err)
	}
	day := zonedOf(o.get("start")).In(loc).AddDate(0, 0, 4*7).Format("2006-01-02")
	cancelled = append(cancelled, "OID."+o.str("id")+"."+day)
	sort.Strings(cancelled)
	b, _ := json.Marshal(cancelled)
	return o.with("cancelledOccurrences", b).bytes()
}

// bigAttachmentEvent is a stored event carrying a file attachment of size
// bytes.
func bigAttachmentEvent(t *testing.T, e *env, c *Client, size int) ([]byte, []byte) {
	t.Helper()
	u := e.user(0).ID
	cal := biggest(t, e, c, u, Events)
	stored := sourceItems(t, c, u, Events, cal)[0].stored
	o, err := parseObject(stored)
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("0123456789abcdefghijklmnopqrstuvwxyz\n"), size/37+1)[:size]
	att, _ := json.Marshal([]map[string]any{{
		"@odata.type": "#microsoft.graph.fileAttachment", "@odata.mediaContentType": "text/plain",
		"id": "AAMkOld=", "lastModifiedDateTime": "2025-01-01T00:00:00Z", "name": "big.txt", "contentType": "text/plain",
		"size": size, "isInline": false, "contentId": nil, "contentLocation": nil,
		"contentBytes": base64.StdEncoding.EncodeToString(data),
	}})
	return o.with("attachments", att).with("hasAttachments", json.RawMessage("true")).bytes(), data
}

// An event restored into its own mailbox is a new event in the target
// calendar, even when it carries the transactionId its creator gave it:
// Graph answers a create with a known transactionId with the event that
// has it.
func TestRestoredEventIsACopyInItsOwnMailbox(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(nil)
	ctx := context.Background()
	u := e.user(0).ID
	cal, err := c.EnsureContainer(ctx, u, Events, []string{"Restored here"})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := c.Containers(ctx, u, Events)
	if err != nil {
		t.Fatal(err)
	}
	restored := 0
	for _, ct := range cs {
		if ct.ID == cal {
			continue
		}
		for _, it := range sourceItems(t, c, u, Events, ct) {
			if !bytes.Contains(it.stored, []byte(`"transactionId":"`)) || restored == 3 {
				continue
			}
			id, err := c.RestoreItem(ctx, u, Events, cal, it.stored, m365.MessageState{})
			if err != nil {
				t.Fatalf("restore %s: %v", it.id, err)
			}
			if id == it.id {
				t.Fatalf("event %s restored as itself: Graph took the create for a retry of the original's", it.id)
			}
			if _, ok := items(e.state(u, "events"), cal)[id]; !ok {
				t.Fatalf("event %s restored as %s, which is not in the target calendar", it.id, id)
			}
			restored++
		}
	}
	if restored == 0 {
		t.Fatal("no event with a transactionId to restore")
	}
}

func TestRestoreEventLargeAttachment(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(nil)
	ctx := context.Background()
	dst := e.user(targetUser).ID
	stored, data := bigAttachmentEvent(t, e, c, 4<<20+12345)
	id, err := c.RestoreItem(ctx, dst, Events, "calendar", stored, m365.MessageState{})
	if err != nil {
		t.Fatal(err)
	}
	if n := c.Stats().Requests["attachment.upload"]; n != 2 {
		t.Errorf("%d chunks uploaded, want 2", n)
	}
	var got struct {
		Attachments []struct {
			ContentBytes string `json:"contentBytes"`
		} `json:"attachments"`
	}
	if err := json.Unmarshal(fetchBytes(t, c, dst, Events, id), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Attachments) != 1 || got.Attachments[0].ContentBytes != base64.StdEncoding.EncodeToString(data) {
		t.Errorf("attachment not restored intact (%d attachments)", len(got.Attachments))
	}
}

// A restore that fails after creating the event leaves no event behind.
func TestRestoreEventFailureLeavesNothing(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(nil)
	ctx := context.Background()
	dst := e.user(targetUser).ID
	stored, _ := bigAttachmentEvent(t, e, c, 100<<10)
	cal, err := c.EnsureContainer(ctx, dst, Events, []string{"Failures"})
	if err != nil {
		t.Fatal(err)
	}
	empty := func() {
		t.Helper()
		existing, err := c.ExistingItems(ctx, dst, Events, cal)
		if err != nil {
			t.Fatal(err)
		}
		if len(existing) != 0 {
			t.Errorf("%d events left behind", len(existing))
		}
	}

	// Graph fails adding the attachment.
	e.control(http.MethodPut, "faults", graphsim.FaultOptions{ErrorRate: 1, ErrorStatuses: []int{500},
		Classes: []string{"events.attachment"}}, nil)
	_, err = c.RestoreItem(ctx, dst, Events, cal, stored, m365.MessageState{})
	if err == nil || errors.Is(err, ErrUnrestorable) {
		t.Errorf("failed attachment: %v", err)
	}
	e.control(http.MethodPut, "faults", graphsim.FaultOptions{}, nil)
	empty()

	// An attachment too large to post in one request (sent so on purpose)
	// cannot be restored.
	c.inlineAttachmentMax = 1 << 30
	big, _ := bigAttachmentEvent(t, e, c, 3<<20+1)
	_, err = c.RestoreItem(ctx, dst, Events, cal, big, m365.MessageState{})
	if !errors.Is(err, ErrUnrestorable) {
		t.Errorf("oversized attachment: %v", err)
	}
	empty()
	if n := c.Stats().Requests["event.create"]; n != 2 {
		t.Errorf("%d events created, want 2", n)
	}
}

func TestRestoreErrors(t *testing.T) {
	throttle := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && strings.Contains(r.URL.Path, "/contactFolders/") {
				w.Header().Set("Retry-After", "120")
				w.WriteHeader(http.StatusTooManyRequests)
				_, _ = io.WriteString(w, `{"error":{"code":"ApplicationThrottled","message":"slow down"}}`)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	e := newEnv(t, throttle)
	c := e.client(nil)
	ctx := context.Background()
	dst := e.user(targetUser).ID
	inbox, err := c.EnsureContainer(ctx, dst, Email, []string{"Inbox"})
	if err != nil {
		t.Fatal(err)
	}
	otherInbox, err := c.EnsureContainer(ctx, e.user(0).ID, Email, []string{"Inbox"})
	if err != nil {
		t.Fatal(err)
	}
	mime := []byte("Subject: hi\r\nDate: Mon, 02 Jun 2025 10:00:00 +0000\r\nFrom: a@example.com\r\n\r\nbody\r\n")

	_, err = c.RestoreItem(ctx, dst, Email, otherInbox, mime, m365.MessageState{})
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("missing folder: %v", err)
	}
	_, err = c.RestoreItem(ctx, dst, Email, inbox, []byte("not a message at all"), m365.MessageState{})
	if !errors.Is(err, ErrUnrestorable) {
		t.Errorf("invalid MIME: %v", err)
	}
	_, err = c.RestoreItem(ctx, dst, Contacts, "contacts", []byte(`{"givenName":`), m365.MessageState{})
	if !errors.Is(err, ErrUnrestorable) {
		t.Errorf("invalid JSON: %v", err)
	}
	var te *ThrottledError
	_, err = c.RestoreItem(ctx, dst, Contacts, "contacts", []byte(`{"givenName":"A"}`), m365.MessageState{})
	if !errors.As(err, &te) || errors.Is(err, ErrUnrestorable) {
		t.Errorf("throttled: %v", err)
	}
	if _, err := c.RestoreItem(ctx, dst, Email, inbox, mime, m365.MessageState{}); err != nil {
		t.Errorf("valid message: %v", err)
	}
}

func TestDeleteItem(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(nil)
	ctx := context.Background()
	u := e.user(0).ID
	for _, cat := range []Category{Email, Contacts, Events} {
		t.Run(string(cat), func(t *testing.T) {
			ct := biggest(t, e, c, u, cat)
			changes, _, _ := enumerate(t, c, u, cat, ct.ID, "")
			id := changes[0].ID
			for range 2 { // the second time it is gone already
				if err := c.DeleteItem(ctx, u, cat, id); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := c.FetchItem(ctx, u, cat, id); !errors.Is(err, ErrNotFound) {
				t.Errorf("fetch after delete: %v", err)
			}
			if _, ok := items(e.state(u, stateCategory[cat]), ct.ID)[id]; ok {
				t.Error("item still in state")
			}
		})
	}
}

func TestJSONObjectKeepsValues(t *testing.T) {
	in := `{"@odata.etag":"W/\"x\"","id":"1","subject":"a <b> & \u00e9","n":1.50,"nested":{"id":"2", "k" : [1, 2]},"x@odata.context":"c","body":null}`
	o, err := parseObject([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	got := string(o.without(serverAssigned("id")).bytes())
	want := `{"subject":"a <b> & \u00e9","n":1.50,"nested":{"id":"2", "k" : [1, 2]},"body":null}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	for _, bad := range []string{`[1]`, `{"a":1} {}`, `{"a":}`} {
		if _, err := parseObject([]byte(bad)); err == nil {
			t.Errorf("%s parsed", bad)
		}
	}
}

// withoutAttendeesForTest is the stored event as a restore writes it.
func withoutAttendeesForTest(t *testing.T, stored []byte) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(stored, &ev); err != nil {
		t.Fatal(err)
	}
	m365test.AsRestored(ev)
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
