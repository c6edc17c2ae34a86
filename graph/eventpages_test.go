package graph

import (
	"context"
	"testing"

	"github.com/corso-temporal/corso/graphsim"
)

// quirkyUser is the simulated user whose mailbox holds what Exchange
// serves badly: unreadable messages, calendars whose large delta pages
// fail.
func (e *env) quirkyUser() graphsim.InfoUser {
	e.t.Helper()
	for _, u := range e.info.Users {
		if u.Special == "quirky" {
			return u
		}
	}
	e.t.Fatal("the tenant has no quirky user")
	return graphsim.InfoUser{}
}

// A calendar whose large delta pages Exchange cannot serve (503, empty
// body, for ever) is read in small pages, and the client remembers it.
func TestEventDeltaFallsBackToSmallPages(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(nil) // pages of 500
	u := e.quirkyUser()
	cals, err := c.Containers(context.Background(), u.ID, Events)
	if err != nil {
		t.Fatal(err)
	}
	st := e.state(u.ID, "events")
	big := 0
	for _, cal := range cals {
		want := items(st, cal.ID)
		if len(want) > smallEventPage {
			big++
		}
		changes, dl, pages := enumerate(t, c, u.ID, Events, cal.ID, "")
		if dl == "" || len(changes) != len(want) {
			t.Fatalf("%q: %d events in %d pages (delta link %q), state has %d", cal.Path, len(changes), pages, dl, len(want))
		}
		for _, ch := range changes {
			if _, ok := want[ch.ID]; !ok {
				t.Errorf("%q: event %s not in state", cal.Path, ch.ID)
			}
		}
		if len(want) > smallEventPage && pages < 2 {
			t.Errorf("%q: %d events in %d page", cal.Path, len(want), pages)
		}
	}
	if big == 0 {
		t.Fatal("no calendar holds more events than a small page")
	}
	refused := e.simStats().Faults
	before := c.Stats().Requests["events.delta"]
	for _, cal := range cals {
		enumerate(t, c, u.ID, Events, cal.ID, "")
	}
	if again := e.simStats().Faults; len(again) != len(refused) {
		t.Errorf("the second enumeration asked for large pages again: faults %v, then %v", refused, again)
	}
	if c.Stats().Requests["events.delta"] == before {
		t.Error("no delta requests counted")
	}
}

// Listing a calendar, the fallback when even small delta pages fail,
// reports each event once.
func TestListedEventsMatchState(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(nil)
	u := e.quirkyUser()
	cals, err := c.Containers(context.Background(), u.ID, Events)
	if err != nil {
		t.Fatal(err)
	}
	st := e.state(u.ID, "events")
	for _, cal := range cals {
		want := items(st, cal.ID)
		got := map[string]bool{}
		link, pages := "", 0
		for {
			p, err := c.ListPage(context.Background(), u.ID, Events, cal.ID, link)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, ch := range p.Changes {
				it, ok := want[ch.ID]
				if !ok || got[ch.ID] || ch.Meta.Subject != it.Name || ch.ModTime.IsZero() {
					t.Errorf("%q: listed %+v, state %+v", cal.Path, ch, it)
				}
				got[ch.ID] = true
			}
			if link = p.NextLink; link == "" {
				break
			}
		}
		if len(got) != len(want) || len(want) > smallEventPage && pages < 2 {
			t.Errorf("%q: %d events in %d pages, state has %d", cal.Path, len(got), pages, len(want))
		}
	}
}
