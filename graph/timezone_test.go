package graph

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/corso-temporal/corso/m365"
)

func TestZoneLocation(t *testing.T) {
	for name, want := range map[string]string{
		"Pacific Standard Time": "America/Los_Angeles",
		"Tokyo Standard Time":   "Asia/Tokyo",
		"Europe/Paris":          "Europe/Paris",
		"UTC":                   "UTC",
		"":                      "UTC",
	} {
		l, err := zoneLocation(name)
		if err != nil || l.String() != want {
			t.Errorf("zoneLocation(%q) = %v, %v; want %s", name, l, err, want)
		}
	}
	if l, err := zoneLocation("Customized Time Zone"); err == nil {
		t.Errorf("an unknown zone resolved to %v", l)
	}
}

// seriesZone is the recurrence zone of a stored series.
func seriesZone(t *testing.T, stored []byte) string {
	t.Helper()
	var ev struct {
		Recurrence struct {
			Range struct {
				RecurrenceTimeZone string `json:"recurrenceTimeZone"`
			} `json:"range"`
		} `json:"recurrence"`
	}
	if err := json.Unmarshal(stored, &ev); err != nil {
		t.Fatal(err)
	}
	return ev.Recurrence.Range.RecurrenceTimeZone
}

// zonedSeries are the stored series of the first mailboxes that recur in a
// Windows zone at a time of day whose local date is not its UTC date.
func zonedSeries(t *testing.T, e *env, c *Client) []sourceItem {
	t.Helper()
	var out []sourceItem
	for _, ui := range []int{0, 3, 5} {
		src := e.user(ui).ID
		cs, err := c.Containers(context.Background(), src, Events)
		if err != nil {
			t.Fatal(err)
		}
		for _, ct := range cs {
			for _, it := range sourceItems(t, c, src, Events, ct) {
				zone := seriesZone(t, it.stored)
				if _, err := time.LoadLocation(zone); err == nil || zone == "" {
					continue // not a Windows name
				}
				loc, err := zoneLocation(zone)
				if err != nil {
					t.Fatal(err)
				}
				o, _ := parseObject(it.stored)
				start := zonedOf(o.get("start"))
				if start.In(loc).Format(time.DateOnly) != start.UTC().Format(time.DateOnly) {
					out = append(out, it)
				}
			}
		}
	}
	return out
}

// occurrenceTimes are a series' zones, and its exceptions' subjects,
// original starts, starts and ends.
func occurrenceTimes(t *testing.T, b []byte) []string {
	t.Helper()
	o, err := parseObject(b)
	if err != nil {
		t.Fatal(err)
	}
	out := []string{seriesZone(t, b), o.str("originalStartTimeZone")}
	exceptions, err := objects(o.get("exceptionOccurrences"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range exceptions {
		out = append(out, ex.str("subject")+" "+ex.str("originalStart")+" "+zonedOf(ex.get("start")).String()+" "+zonedOf(ex.get("end")).String())
	}
	return out
}

func cancelledDays(t *testing.T, b []byte) []string {
	t.Helper()
	var ev struct {
		Cancelled []string `json:"cancelledOccurrences"`
	}
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, oid := range ev.Cancelled {
		out = append(out, oid[strings.LastIndexByte(oid, '.')+1:])
	}
	return out
}

// A series in a Windows zone (an evening in Pacific time, a morning in
// Tokyo) names its cancelled occurrences by their local dates, which are
// not their UTC dates; the restored series cancels the same occurrences
// and keeps its exceptions.
func TestRestoreSeriesInWindowsZone(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(nil)
	ctx := context.Background()
	dst := e.user(targetUser).ID
	cal, err := c.EnsureContainer(ctx, dst, Events, []string{"Zoned series"})
	if err != nil {
		t.Fatal(err)
	}
	var cancelled, excepted int
	for _, it := range zonedSeries(t, e, c) {
		days := cancelledDays(t, it.stored)
		hasException := strings.Contains(string(it.stored), `"exceptionOccurrences":[{`)
		if len(days) == 0 && !hasException {
			continue
		}
		id, err := c.RestoreItem(ctx, dst, Events, cal, it.stored, m365.MessageState{})
		if err != nil {
			t.Fatalf("restore %s (%s): %v", it.id, seriesZone(t, it.stored), err)
		}
		got := fetchBytes(t, c, dst, Events, id)
		if a, b := occurrenceTimes(t, it.stored), occurrenceTimes(t, got); !reflect.DeepEqual(a, b) {
			t.Errorf("series %s in %s restored as %s: exceptions %v, restored %v", it.id, seriesZone(t, it.stored), id, a, b)
		}
		if g := cancelledDays(t, got); !reflect.DeepEqual(g, days) {
			t.Errorf("series %s in %s: cancelled %v, restored cancels %v", it.id, seriesZone(t, it.stored), days, g)
		}
		if len(days) > 0 {
			cancelled++
		}
		if hasException {
			excepted++
		}
	}
	if cancelled == 0 || excepted == 0 {
		t.Fatalf("%d zoned series with cancellations, %d with exceptions: the tenant has too few", cancelled, excepted)
	}
}

// A cancelled date the new series has no occurrence on fails the item,
// which leaves no half-restored series behind.
func TestRestoreRefusesAnUnmatchedCancellation(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(nil)
	ctx := context.Background()
	dst := e.user(targetUser).ID
	cal, err := c.EnsureContainer(ctx, dst, Events, []string{"Unmatched"})
	if err != nil {
		t.Fatal(err)
	}
	series := zonedSeries(t, e, c)
	if len(series) == 0 {
		t.Fatal("no zoned series")
	}
	o, _ := parseObject(series[0].stored)
	b, _ := json.Marshal([]string{"OID." + o.str("id") + ".2001-01-01"})
	_, err = c.RestoreItem(ctx, dst, Events, cal, o.with("cancelledOccurrences", b).bytes(), m365.MessageState{})
	if !errors.Is(err, ErrUnrestorable) || !strings.Contains(err.Error(), "2001-01-01") {
		t.Fatalf("restore with an unmatched cancellation: %v", err)
	}
	left, err := c.ExistingItems(ctx, dst, Events, cal)
	if err != nil || len(left) != 0 {
		t.Fatalf("after the failed restore the calendar holds %d events (%v)", len(left), err)
	}
}
