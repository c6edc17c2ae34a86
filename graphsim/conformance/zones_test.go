package conformance

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/microsoft/kiota-abstractions-go/serialization"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
)

// postWeeklySeries creates a weekly series of n occurrences with the SDK,
// its start given as a wall-clock time in zone, which the series recurs in.
func (e *env) postWeeklySeries(userID, subject, startLocal, endLocal, zone string, n int32) string {
	e.t.Helper()
	ev := models.NewEvent()
	ev.SetSubject(ptr(subject))
	start, end := models.NewDateTimeTimeZone(), models.NewDateTimeTimeZone()
	start.SetDateTime(ptr(startLocal))
	start.SetTimeZone(ptr(zone))
	end.SetDateTime(ptr(endLocal))
	end.SetTimeZone(ptr(zone))
	ev.SetStart(start)
	ev.SetEnd(end)
	pattern, rng := models.NewRecurrencePattern(), models.NewRecurrenceRange()
	weekly, numbered := models.WEEKLY_RECURRENCEPATTERNTYPE, models.NUMBERED_RECURRENCERANGETYPE
	pattern.SetTypeEscaped(&weekly)
	pattern.SetInterval(ptr(int32(1)))
	rng.SetTypeEscaped(&numbered)
	rng.SetNumberOfOccurrences(ptr(n))
	day, err := time.Parse(time.DateOnly, startLocal[:10])
	if err != nil {
		e.t.Fatal(err)
	}
	rng.SetStartDate(serialization.NewDateOnly(day))
	rng.SetRecurrenceTimeZone(ptr(zone))
	rec := models.NewPatternedRecurrence()
	rec.SetPattern(pattern)
	rec.SetRangeEscaped(rng)
	ev.SetRecurrence(rec)
	created, err := e.client.Users().ByUserId(userID).Events().Post(e.ctx, ev, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return deref(created.GetId())
}

func (e *env) instances(userID, eventID, from, to string) ([]models.Eventable, error) {
	e.t.Helper()
	resp, err := e.client.Users().ByUserId(userID).Events().ByEventId(eventID).Instances().Get(e.ctx,
		&users.ItemEventsItemInstancesRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.ItemEventsItemInstancesRequestBuilderGetQueryParameters{StartDateTime: ptr(from), EndDateTime: ptr(to)},
		})
	if err != nil {
		return nil, err
	}
	return resp.GetValue(), nil
}

// TestSDKListsInstancesInADateWindow lists a series' instances with
// date-only startDateTime and endDateTime, which Graph reads as those
// days' midnights; without a window the listing is refused.
func TestSDKListsInstancesInADateWindow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	u := e.user0()
	id := e.postWeeklySeries(u.ID, "Weekly sync", "2025-11-17T09:00:00", "2025-11-17T09:30:00", "UTC", 4)

	inst, err := e.instances(u.ID, id, "2025-11-24", "2025-11-25")
	if err != nil {
		t.Fatalf("instances in a date window: %v", err)
	}
	if len(inst) != 1 || deref(inst[0].GetStart().GetDateTime()) != "2025-11-24T09:00:00.0000000" {
		t.Fatalf("%d instances in 2025-11-24..25, want the one of the 24th at 09:00", len(inst))
	}
	if inst, err := e.instances(u.ID, id, "2025-11-17", "2025-12-09"); err != nil || len(inst) != 4 {
		t.Fatalf("instances over the whole series: %d, %v", len(inst), err)
	}

	_, err = e.client.Users().ByUserId(u.ID).Events().ByEventId(id).Instances().Get(e.ctx, nil)
	odataError(t, err, http.StatusBadRequest, "BadRequest")
}

// TestSDKSeriesInAWindowsZone creates a weekly evening meeting in "Pacific
// Standard Time" across the end of daylight saving time (2 November 2025):
// it keeps its local time, so its UTC start moves an hour later, and every
// occurrence starts on the next UTC day. The series reports its zone.
func TestSDKSeriesInAWindowsZone(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	u := e.user0()
	id := e.postWeeklySeries(u.ID, "Evening review", "2025-10-20T18:00:00", "2025-10-20T19:00:00", "Pacific Standard Time", 4)

	inst, err := e.instances(u.ID, id, "2025-10-01T00:00:00Z", "2025-12-01T00:00:00Z")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"2025-10-21T01:00:00.0000000", "2025-10-28T01:00:00.0000000", "2025-11-04T02:00:00.0000000", "2025-11-11T02:00:00.0000000"}
	var got []string
	for _, in := range inst {
		got = append(got, deref(in.GetStart().GetDateTime()))
		if z := deref(in.GetStart().GetTimeZone()); z != "UTC" {
			t.Errorf("instance start in %q, want UTC", z)
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("instances start at %v, want %v", got, want)
	}
	master, err := e.client.Users().ByUserId(u.ID).Events().ByEventId(id).Get(e.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	rng := master.GetRecurrence().GetRangeEscaped()
	if deref(rng.GetRecurrenceTimeZone()) != "Pacific Standard Time" || deref(master.GetOriginalStartTimeZone()) != "Pacific Standard Time" {
		t.Errorf("series zones: recurrence %q, original start %q", deref(rng.GetRecurrenceTimeZone()), deref(master.GetOriginalStartTimeZone()))
	}
	// The occurrence of local 3 November is at 02:00 UTC on the 4th.
	at := deref(inst[2].GetOriginalStart())
	if !at.Equal(time.Date(2025, 11, 4, 2, 0, 0, 0, time.UTC)) {
		t.Errorf("third occurrence's originalStart %v", at)
	}
}

// TestSDKBusinessDriveDeltaCarriesParentPath checks that in a business
// drive's delta every item but the root names its parent's path,
// consistent with the folder tree the parent ids describe.
func TestSDKBusinessDriveDeltaCarriesParentPath(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	u := e.user0()
	items := e.rootDelta(u.DriveID, 50).items()
	var pathOf func(id string, depth int) string
	pathOf = func(id string, depth int) string {
		it, ok := items[id]
		if !ok || depth > 64 {
			t.Fatalf("item %s not in the round", id)
		}
		if it.GetRoot() != nil {
			return "/drive/root:"
		}
		return pathOf(deref(it.GetParentReference().GetId()), depth+1) + "/" + deref(it.GetName())
	}
	nested := 0
	for id, it := range items {
		pr := it.GetParentReference()
		if it.GetRoot() != nil {
			if pr != nil && pr.GetPath() != nil {
				t.Errorf("root carries path %q", deref(pr.GetPath()))
			}
			continue
		}
		if pr == nil || pr.GetPath() == nil {
			t.Errorf("%q (%s) has no parentReference.path", deref(it.GetName()), id)
			continue
		}
		if want := pathOf(deref(pr.GetId()), 0); deref(pr.GetPath()) != want {
			t.Errorf("%q: parentReference.path %q, the tree says %q", deref(it.GetName()), deref(pr.GetPath()), want)
		}
		if it.GetFolder() != nil && strings.Count(deref(pr.GetPath()), "/") >= 3 {
			nested++
		}
	}
	if nested == 0 {
		t.Fatal("no folder below a folder: the path of a nested folder is untested")
	}
}
