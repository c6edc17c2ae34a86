package e2e

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/m365"
)

// requireZonedCancellation fails unless user's mailbox holds a series that
// recurs in a Windows time zone and has a cancelled occurrence whose local
// date (the one its occurrence id names) is not its UTC date: the case a
// restore that read the zone as UTC would get wrong.
func requireZonedCancellation(t *testing.T, c *simClient, user string) {
	t.Helper()
	st, err := c.sim.State(graphsim.StateFilter{User: user, Category: "events", NoHashes: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range st.Items {
		if it.Kind == "folder" {
			continue
		}
		var ev struct {
			Start struct {
				DateTime string `json:"dateTime"`
			} `json:"start"`
			Recurrence *struct {
				Range struct {
					RecurrenceTimeZone string `json:"recurrenceTimeZone"`
				} `json:"range"`
			} `json:"recurrence"`
			Cancelled []string `json:"cancelledOccurrences"`
		}
		if err := json.Unmarshal(c.get(t, "/beta/users/"+it.ResourceID+"/events/"+it.ID), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Recurrence == nil || len(ev.Cancelled) == 0 {
			continue
		}
		loc, err := m365.ZoneLocation(ev.Recurrence.Range.RecurrenceTimeZone)
		if err != nil || loc == time.UTC {
			continue
		}
		start, err := time.Parse("2006-01-02T15:04:05.9999999", ev.Start.DateTime)
		if err == nil && start.In(loc).Format(time.DateOnly) != start.Format(time.DateOnly) {
			return
		}
	}
	t.Fatalf("mailbox %s has no series in a Windows zone with a cancelled occurrence off its UTC date", user)
}
