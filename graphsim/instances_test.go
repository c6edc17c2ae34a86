package graphsim

import (
	"bytes"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The quirky user's instance-heavy series (quirks.go errInstancesUnavailable):
// a GET expanding exceptionOccurrences answers 503 with an empty body for
// ever; without that expansion it reads, and that is what a correct backup
// stores.

func instancesHarness(t *testing.T) *harness {
	return newHarness(t, noRevoke(Options{Tenant: TenantOptions{Users: 3, ItemsPerUser: 60, ItemsPerSite: 10, Groups: 1, Sites: 1}}))
}

// instanceHeavy returns the Expected entry of the instance-heavy series
// and its State item.
func (h *harness) instanceHeavy() (Expectation, StateItem) {
	h.t.Helper()
	u := h.special(specQuirky)
	st, err := h.sim.State(StateFilter{User: u.id, Category: "events"})
	if err != nil {
		h.t.Fatal(err)
	}
	var got []Expectation
	for _, e := range st.Expected {
		if e.Cause == causeInstances {
			got = append(got, e)
		}
	}
	if len(got) != 1 {
		h.t.Fatalf("instancesUnavailable expectations %+v, want one", got)
	}
	for _, it := range st.Items {
		if it.ID == got[0].ItemID {
			return got[0], it
		}
	}
	h.t.Fatalf("the instance-heavy series %s is not in State.Items", got[0].ItemID)
	return Expectation{}, StateItem{}
}

func TestInstanceHeavySeriesRefusesItsExceptionsForEver(t *testing.T) {
	h := instancesHarness(t)
	u := h.special(specQuirky)
	x, it := h.instanceHeavy()
	base := "/beta/users/" + u.id + "/events/" + url.PathEscape(x.ItemID)
	inCal := "/beta/users/" + u.id + "/calendars/" + url.PathEscape(it.CollectionID) + "/events/" + url.PathEscape(x.ItemID)
	for _, p := range []string{base + canonicalEventQuery, base + "?$expand=attachments,exceptionOccurrences",
		base + "?$expand=exceptionOccurrences", inCal + canonicalEventQuery, "/v1.0/users/" + u.id + "/events/" + url.PathEscape(x.ItemID) + "?$expand=exceptionOccurrences"} {
		for i := 0; i < tries; i++ {
			status, hdr, b := h.raw(p)
			if status != http.StatusServiceUnavailable || len(b) != 0 || hdr.Get("Content-Length") != "0" || hdr.Get("Retry-After") != "" {
				t.Fatalf("%s (try %d): %d Content-Length %q Retry-After %q body %q, want 503 with an empty body and no Retry-After",
					p, i+1, status, hdr.Get("Content-Length"), hdr.Get("Retry-After"), b)
			}
		}
	}

	// Without the expansion it reads: a series master, with attachments
	// expanded when asked, and no exceptionOccurrences.
	plain := h.getJSON(base, http.StatusOK)
	if plain["type"] != "seriesMaster" || plain["subject"] != x.Name {
		t.Fatalf("plain GET: type %v subject %v, want the seriesMaster %q", plain["type"], plain["subject"], x.Name)
	}
	body, _ := h.bytes(base+"?$expand=attachments", http.StatusOK)
	if bytes.Contains(body, []byte(`"exceptionOccurrences"`)) || !bytes.Contains(body, []byte(`"attachments":[`)) {
		t.Fatalf("?$expand=attachments: %s", body)
	}
	// What a correct backup stores is that body, completed.
	body = h.completeEvent(u.id, body)
	if sha256Sum(body) != it.Hash || int64(len(body)) != it.Size {
		t.Fatalf("served %d bytes %s, State has %d bytes %s", len(body), sha256Sum(body), it.Size, it.Hash)
	}

	// The series does have an exception, which a backup cannot read this way.
	inst := h.getJSON(base+"/instances?startDateTime=2020-01-01T00:00:00Z&endDateTime=2030-01-01T00:00:00Z&$top=100", http.StatusOK)
	exceptions := 0
	for _, o := range inst["value"].([]any) {
		if o.(map[string]any)["type"] == "exception" {
			exceptions++
		}
	}
	if exceptions == 0 {
		t.Fatal("the instance-heavy series has no exception to miss")
	}

	// Expected says so.
	if x.Service != "exchange" || x.Category != "events" || x.Outcome != OutcomeBackedUp || x.Resource != u.upn ||
		x.ResourceID != u.id || x.Path != it.Path || x.Source == "" || !strings.Contains(x.Source, "503") {
		t.Fatalf("expectation %+v (state item %+v)", x, it)
	}

	// Every other event of the quirky user reads with its exceptions and
	// hashes as the canonical body (the first GET of one of them is the
	// transient 404 of transient.go).
	st, _ := h.sim.State(StateFilter{User: u.id, Category: "events"})
	checked := 0
	for _, o := range st.Items {
		if o.Kind != "event" || o.ID == x.ItemID {
			continue
		}
		p := "/beta/users/" + u.id + "/events/" + url.PathEscape(o.ID) + canonicalEventQuery
		status, _, b := h.raw(p)
		if status == http.StatusNotFound && len(b) == 0 {
			status, _, b = h.raw(p)
		}
		if status == http.StatusOK {
			b = h.completeEvent(u.id, b)
		}
		if status != http.StatusOK || sha256Sum(b) != o.Hash {
			t.Fatalf("event %s: %d, hash %s, State %s", o.ID, status, sha256Sum(b), o.Hash)
		}
		checked++
	}
	if checked < quirkyEvents-1 {
		t.Fatalf("checked %d other events", checked)
	}

	// The same on a reset and on another server of the seed.
	h.sim.Reset()
	if status, _, _ := h.raw(base + canonicalEventQuery); status != http.StatusServiceUnavailable {
		t.Fatalf("after a reset: %d", status)
	}
	x2, it2 := instancesHarness(t).instanceHeavy()
	if !reflect.DeepEqual(x, x2) || !reflect.DeepEqual(it, it2) {
		t.Fatal("the instance-heavy series differs between servers of one seed")
	}
}

// Another seed, other users: the pick is always a series with an
// exception, never the transient 404 event, and regular users' content is
// the same as in a clean tenant.
func TestInstanceHeavySeriesAcrossSeeds(t *testing.T) {
	for _, seed := range []int64{1, 2, 3, 11} {
		o := noRevoke(Options{Tenant: TenantOptions{Seed: seed, Users: 2, ItemsPerUser: 40}})
		h := newHarness(t, o)
		x, it := h.instanceHeavy()
		u := h.special(specQuirky)
		if tr, ok := h.sim.transientEvent(u); ok && h.sim.ids().encode(tr) == x.ItemID {
			t.Fatalf("seed %d: the instance-heavy series is the transient-404 event", seed)
		}
		body, _ := h.bytes("/beta/users/"+u.id+"/events/"+url.PathEscape(x.ItemID)+"?$expand=attachments", http.StatusOK)
		if sha256Sum(h.completeEvent(u.id, body)) != it.Hash {
			t.Fatalf("seed %d: hash differs from the served body", seed)
		}
		v, _ := h.sim.model.alive(mustDecode(t, h, x.ItemID))
		if e := h.sim.event(v); e.typ != "seriesMaster" || len(e.exceptions) == 0 {
			t.Fatalf("seed %d: picked %s with %d exceptions", seed, e.typ, len(e.exceptions))
		}

		o.Tenant.Clean = true
		clean := newHarness(t, o)
		for i := 0; i < 2; i++ {
			a, _ := h.sim.State(StateFilter{User: h.user(i), Category: "events"})
			b, _ := clean.sim.State(StateFilter{User: clean.user(i), Category: "events"})
			if a.StateHash != b.StateHash {
				t.Fatalf("seed %d: user %d's events differ from a clean tenant's", seed, i)
			}
		}
	}
}

// A series made instance-heavy when the quirky calendars generated none
// is made the way generated series are, with a moved occurrence.
func TestInstanceHeavySeriesIsMadeWhenNoneIsGenerated(t *testing.T) {
	h := instancesHarness(t)
	e := &eventSpec{vals: map[string]any{}, typ: "singleInstance", exceptions: map[int]occurrence{}, cancelled: map[int]bool{},
		subject: "Standup"}
	e.start = testNow
	e.end = testNow.Add(30 * time.Minute)
	h.sim.t.instanceHeavySeries(e, [3]uint64{1, 2, 3})
	if e.typ != "seriesMaster" || e.count < 6 || e.count > 12 || len(e.exceptions) == 0 || e.exceptions[2].subject != "Standup (moved)" {
		t.Fatalf("made %+v", e)
	}
}

func TestCleanTenantHasNoInstanceHeavySeries(t *testing.T) {
	h := newHarness(t, noRevoke(Options{Tenant: TenantOptions{Users: 3, ItemsPerUser: 60, Clean: true}}))
	st, _ := h.sim.State(StateFilter{Category: "events"})
	for _, e := range st.Expected {
		if e.Cause == causeInstances {
			t.Fatalf("clean tenant expects %+v", e)
		}
	}
	if len(h.sim.t.quirks) != 0 {
		t.Fatalf("clean tenant quirks %v", h.sim.t.quirks)
	}
	// Every series of every user reads with its exceptions.
	series := 0
	for _, it := range st.Items {
		if it.Kind != "event" {
			continue
		}
		status, _, b := h.raw("/beta/users/" + it.ResourceID + "/events/" + url.PathEscape(it.ID) + canonicalEventQuery)
		if status == http.StatusOK {
			b = h.completeEvent(it.ResourceID, b)
		}
		if status != http.StatusOK || sha256Sum(b) != it.Hash {
			t.Fatalf("event %s: %d", it.ID, status)
		}
		if bytes.Contains(b, []byte(`"type":"seriesMaster"`)) {
			series++
		}
	}
	if series == 0 {
		t.Fatal("no series in the clean tenant")
	}
}
