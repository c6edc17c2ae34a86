package graph

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/m365"
)

// instanceHeavy is the quirky user's series whose exceptions Exchange
// cannot list, as the simulator's ground truth states it.
func (e *env) instanceHeavy() (graphsim.InfoUser, graphsim.Expectation, graphsim.StateItem) {
	e.t.Helper()
	u := e.quirkyUser()
	st := e.state(u.ID, "events")
	for _, x := range st.Expected {
		if x.Cause != string(m365.CauseInstancesUnavailable) {
			continue
		}
		for _, it := range st.Items {
			if it.ID == x.ItemID {
				return u, x, it
			}
		}
		e.t.Fatalf("%s is expected but not in the state's items", x.ItemID)
	}
	e.t.Fatal("the quirky user has no instance-heavy series")
	return u, graphsim.Expectation{}, graphsim.StateItem{}
}

// fetchEvent reads an event through FetchItem: its bytes, what it says of
// itself and whether it is degraded.
func fetchEventAll(t *testing.T, c *Client, mailbox, id string) ([]byte, m365.ItemMeta, m365.Cause, bool) {
	t.Helper()
	body, err := c.FetchItem(context.Background(), mailbox, Events, id)
	if err != nil {
		t.Fatalf("fetch event %s: %v", id, err)
	}
	defer body.Close()
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	m := body.(m365.MetaReader).ItemMeta()
	d, ok := body.(m365.DegradedReader)
	if !ok {
		t.Fatal("an event's reader is no DegradedReader")
	}
	cause, degraded := d.Degraded()
	return b, m, cause, degraded
}

// A series Exchange cannot list the exceptions of (503, empty body, for
// ever) is read without them, at once, and says so; what is read is what
// the ground truth hashes.
func TestInstanceHeavySeriesIsFetchedWithoutItsExceptions(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(nil)
	u, x, it := e.instanceHeavy()

	start := time.Now()
	b, meta, cause, degraded := fetchEventAll(t, c, u.ID, x.ItemID)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v: the persistent 503 was retried", d)
	}
	if !degraded || cause != m365.CauseInstancesUnavailable {
		t.Fatalf("degraded %v cause %q", degraded, cause)
	}
	if sha256Hex(b) != it.Hash || int64(len(b)) != it.Size {
		t.Fatalf("fetched %d bytes %s, state %d bytes %s", len(b), sha256Hex(b), it.Size, it.Hash)
	}
	if bytes.Contains(b, []byte(`"exceptionOccurrences"`)) || !bytes.Contains(b, []byte(`"type":"seriesMaster"`)) ||
		!bytes.Contains(b, []byte(`"attachments":[`)) {
		t.Fatalf("fetched %s", b)
	}
	if meta.Subject != x.Name || meta.Subject == "" {
		t.Errorf("details read from it %+v, want subject %q", meta, x.Name)
	}
	st := c.Stats()
	if st.Requests[kindEventGet] != instancesAttempts || st.Requests[kindEventGetPlain] != 1 || st.Retries != 0 {
		t.Errorf("requests %v, %d retries: want %d whole, one without exceptions, no other retry", st.Requests, st.Retries, instancesAttempts)
	}

	// The quirky user's other events, and a regular user's series, are
	// read whole and are not degraded (one of the quirky user's events
	// answers a transient 404 first).
	others, full := 0, 0
	for _, mbx := range []string{u.ID, e.user(0).ID} {
		for _, o := range e.state(mbx, "events").Items {
			if o.Kind != "event" || o.ID == x.ItemID || mbx != u.ID && full > 0 {
				continue
			}
			b, _, _, degraded := fetchEventAll(t, c, mbx, o.ID)
			if degraded || sha256Hex(b) != o.Hash {
				t.Fatalf("event %s: degraded %v, hash matches %v", o.ID, degraded, sha256Hex(b) == o.Hash)
			}
			others++
			if bytes.Contains(b, []byte(`"exceptionOccurrences":[{`)) {
				full++
			}
		}
	}
	if others < 10 || full == 0 {
		t.Fatalf("%d other events read, %d series with exceptions", others, full)
	}
}

// Throttling's 503 (an error body, a Retry-After) is still waited out and
// the event read whole, or, when the wait is long, handed to the caller as
// throttling; only the empty 503 is the series' own.
func TestThrottledEventGetIsRetriedNotDegraded(t *testing.T) {
	var throttled atomic.Int32
	var longWait atomic.Value // an event id throttled with a long Retry-After
	longWait.Store("")
	throttle := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "/events/") && strings.Contains(r.URL.RawQuery, "exceptionOccurrences") {
				wait := ""
				if id := longWait.Load().(string); id != "" && strings.Contains(r.URL.Path, url.PathEscape(id)) {
					wait = "30"
				} else if throttled.Add(1) <= 2 {
					wait = "0"
				}
				if wait != "" {
					w.Header().Set("Content-Type", "application/json")
					w.Header().Set("Retry-After", wait)
					w.WriteHeader(http.StatusServiceUnavailable)
					_, _ = w.Write([]byte(`{"error":{"code":"serviceNotAvailable","message":"The service is temporarily unavailable."}}`))
					return
				}
			}
			h.ServeHTTP(w, r)
		})
	}
	e := newEnv(t, throttle)
	c := e.client(nil)
	u, x, it := e.instanceHeavy()
	var ordinary graphsim.StateItem
	for _, o := range e.state(u.ID, "events").Items {
		if o.Kind == "event" && o.ID != x.ItemID && o.Name != "" {
			ordinary = o
		}
	}
	b, _, _, degraded := fetchEventAll(t, c, u.ID, ordinary.ID)
	if degraded || sha256Hex(b) != ordinary.Hash {
		t.Fatalf("a throttled event: degraded %v, hash matches %v", degraded, sha256Hex(b) == ordinary.Hash)
	}
	if n := throttled.Load(); n < 3 || c.Stats().Retries < 2 {
		t.Fatalf("%d answers, %d retries: the throttling 503s were not retried", n, c.Stats().Retries)
	}
	// Throttled for longer than the client waits: the caller is told to
	// come back, the event is not read without its exceptions.
	longWait.Store(ordinary.ID)
	_, err := c.FetchItem(context.Background(), u.ID, Events, ordinary.ID)
	var te *ThrottledError
	if !errors.As(err, &te) || te.RetryAfter != 30*time.Second {
		t.Fatalf("throttled for 30s: %v", err)
	}
	if n := c.Stats().Requests[kindEventGetPlain]; n != 0 {
		t.Fatalf("%d GETs without exceptions for throttled events", n)
	}
	longWait.Store("")
	// The instance-heavy series still reads without its exceptions.
	if b, _, cause, degraded := fetchEventAll(t, c, u.ID, x.ItemID); !degraded || cause != m365.CauseInstancesUnavailable || sha256Hex(b) != it.Hash {
		t.Fatalf("instance-heavy series: degraded %v cause %q", degraded, cause)
	}
}

// An empty 503 that passes is not the series': the event is read whole.
func TestPassingEmptyRefusalDoesNotDegradeAnEvent(t *testing.T) {
	var refused atomic.Int32
	once := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "/events/") && strings.Contains(r.URL.RawQuery, "exceptionOccurrences") && refused.Add(1) == 1 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	e := newEnv(t, once)
	c := e.client(nil)
	u := e.user(0)
	var ev graphsim.StateItem
	for _, o := range e.state(u.ID, "events").Items {
		if o.Kind == "event" {
			ev = o
			break
		}
	}
	b, _, _, degraded := fetchEventAll(t, c, u.ID, ev.ID)
	if degraded || sha256Hex(b) != ev.Hash || refused.Load() != 2 {
		t.Fatalf("after one empty 503: degraded %v, hash matches %v, %d requests", degraded, sha256Hex(b) == ev.Hash, refused.Load())
	}
}
