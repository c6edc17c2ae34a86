package graph

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// inFlight counts concurrent Graph requests per mailbox. It buffers each
// answer and counts the request finished before sending any of it, so a
// client can never see a request as done while it still counts here.
type inFlight struct {
	mu      sync.Mutex
	now     map[string]int
	highest map[string]int
}

func (f *inFlight) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mb := mailboxInPath(r.URL.Path)
		if mb == "" {
			h.ServeHTTP(w, r)
			return
		}
		f.mu.Lock()
		f.now[mb]++
		f.highest[mb] = max(f.highest[mb], f.now[mb])
		f.mu.Unlock()
		time.Sleep(10 * time.Millisecond) // let requests overlap
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		f.mu.Lock()
		f.now[mb]--
		f.mu.Unlock()
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
}

// mailboxInPath extracts {id} of /v1.0/users/{id}/... and /beta/users/{id}/...
func mailboxInPath(p string) string {
	segs := strings.Split(strings.Trim(p, "/"), "/")
	if len(segs) >= 4 && strings.EqualFold(segs[1], "users") {
		return strings.ToLower(segs[2])
	}
	return ""
}

func TestConcurrencyPerMailbox(t *testing.T) {
	f := &inFlight{now: map[string]int{}, highest: map[string]int{}}
	e := newEnv(t, f.wrap)
	// Two clients of the same app share the mailbox's slots, as two
	// activities in one worker would.
	c1, c2 := e.client(nil), e.client(nil)
	msgs := inboxMessages(t, e, c1)
	u0, u2 := e.user(0).ID, e.user(2).ID
	contacts, err := c1.Containers(context.Background(), u2, Contacts)
	if err != nil {
		t.Fatal(err)
	}
	other, _, _ := enumerate(t, c1, u2, Contacts, containerByPath(t, contacts, "Contacts").ID, "")

	var wg sync.WaitGroup
	fetch := func(c *Client, mb string, cat Category, id string) {
		defer wg.Done()
		fetchHash(t, c, mb, cat, id)
	}
	for i, m := range msgs[:min(len(msgs), 24)] {
		wg.Add(1)
		go fetch([]*Client{c1, c2}[i%2], u0, Email, m.ID)
	}
	for _, ch := range other {
		wg.Add(1)
		go fetch(c2, u2, Contacts, ch.ID)
	}
	wg.Wait()

	for _, mb := range []string{u0, u2} {
		if got := f.highest[strings.ToLower(mb)]; got != defaultConcurrency {
			t.Errorf("mailbox %s: at most %d requests in flight, want exactly %d", mb, got, defaultConcurrency)
		}
	}
	if sim := e.simStats(); sim.Throttled429 != 0 {
		t.Errorf("the simulator throttled %d requests", sim.Throttled429)
	}
}

func TestLimiterForgetsIdleMailboxes(t *testing.T) {
	l := &limiter{n: 2, slots: map[string]*mailboxSlots{}}
	ctx := context.Background()
	r1, _ := l.acquire(ctx, "A")
	r2, _ := l.acquire(ctx, "a")
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := l.acquire(cctx, "A"); err == nil {
		t.Fatal("a third slot was granted")
	}
	r1()
	r1() // releasing twice is harmless
	r3, err := l.acquire(ctx, "A")
	if err != nil {
		t.Fatal(err)
	}
	r2()
	r3()
	if len(l.slots) != 0 {
		t.Fatalf("%d idle mailboxes kept", len(l.slots))
	}
}
