package graph

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/m365"
)

// mailboxRun backs up one mailbox's biggest mail folders at once, each on
// a client of its own (as on several workers) holding an equal share of
// the mailbox's request budget, against a simulator that keeps a budget
// of o.perWindow requests per mailbox per o.window of the wall clock. It
// returns the requests the mailbox received, those throttled, and how
// long the backup took.
func mailboxRun(t *testing.T, o mailboxRunOptions) (requests, throttled int64, took time.Duration) {
	t.Helper()
	sim := graphsim.New(graphsim.Options{
		Tenant:       graphsim.TenantOptions{Seed: 12, Users: 2, ItemsPerUser: o.items, Groups: -1, Mix: graphsim.ItemMix{Mail: 1}, MailFolders: 1, Clean: true},
		ClientID:     simClient,
		ClientSecret: simSecret,
		Throttle:     graphsim.ThrottleOptions{MailboxConcurrency: 4, MailboxRequests: o.perWindow, MailboxWindow: o.window},
	})
	h := sim.Handler()
	if o.wrap != nil {
		h = o.wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		_ = sim.Close()
	})
	cfg := Config{TenantID: sim.TenantID(), ClientID: simClient, ClientSecret: simSecret, Endpoint: srv.URL}
	if o.paced {
		cfg.MailboxRequestsPerMinute = float64(o.perWindow) * float64(time.Minute) / float64(o.window)
	}
	client := func() *Client {
		c, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	ctx := context.Background()
	mailbox := ""
	for _, u := range sim.Info().Users {
		if u.HasMailbox {
			mailbox = u.ID
			break
		}
	}
	folders, err := client().Containers(ctx, mailbox, m365.Email)
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(folders, func(i, j int) bool { return folders[i].ItemCount > folders[j].ItemCount })
	if len(folders) < o.collections || folders[o.collections-1].ItemCount < o.leastItems {
		t.Fatalf("folders %+v: too few items to tell", folders)
	}
	time.Sleep(o.window) // the planning's requests out of the mailbox's window
	before := sim.Stats()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, o.collections)
	for _, f := range folders[:o.collections] {
		wg.Go(func() {
			share := m365.WithRequestShare(ctx, mailboxBudget/o.collections, mailboxBudget)
			if err := backUpFolder(share, client(), mailbox, f.ID); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	took = time.Since(start)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	after := sim.Stats()
	return after.TotalRequests - before.TotalRequests, after.Throttled429 - before.Throttled429, took
}

// mailboxRunOptions shape a mailboxRun.
type mailboxRunOptions struct {
	perWindow int           // the mailbox's budget of requests
	window    time.Duration // per this much time
	paced     bool          // the clients are told the budget
	// collections are backed up at once, the mailbox's biggest folders,
	// each of at least leastItems items, in a tenant of `items` items a
	// user.
	collections, items int
	leastItems         int64
	// wrap, when set, stands between the clients and the simulator.
	wrap func(http.Handler) http.Handler
}

// mailboxBudget is workflows.MailboxRequestBudget, which
// this package cannot import.
const mailboxBudget = 4

// twoCollections is two folders backed up at once under a budget of 40
// requests a second.
func twoCollections(paced bool) mailboxRunOptions {
	return mailboxRunOptions{perWindow: 40, window: time.Second, paced: paced, collections: 2, leastItems: 10, items: 80}
}

// backUpFolder enumerates a mail folder and reads each of its items, two
// at a time, as a collection with a share of two does.
func backUpFolder(ctx context.Context, c *Client, mailbox, folder string) error {
	var ids []string
	link := ""
	for {
		p, err := c.DeltaPage(ctx, mailbox, m365.Email, folder, link)
		if err != nil {
			return err
		}
		for _, ch := range p.Changes {
			ids = append(ids, ch.ID)
		}
		if p.NextLink == "" {
			break
		}
		link = p.NextLink
	}
	next := make(chan string)
	errs := make(chan error, 2)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for id := range next {
				r, err := c.FetchItem(ctx, mailbox, m365.Email, id)
				if err == nil {
					_, err = io.Copy(io.Discard, r)
					_ = r.Close()
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for _, id := range ids {
		next <- id
	}
	close(next)
	wg.Wait()
	close(errs)
	return <-errs
}

// A mailbox's collections running at once, each on a client of its own,
// are paced by their shares to the mailbox's rate: Exchange's budget per
// mailbox never throttles them, and they use most of it.
func TestMailboxSharesKeepConcurrentCollectionsWithinTheMailboxBudget(t *testing.T) {
	const perSecond = 40
	requests, throttled, took := mailboxRun(t, twoCollections(true))
	rate := float64(requests) / took.Seconds()
	t.Logf("%d requests in %v (%.1f/s of %d allowed), %d throttled", requests, took.Round(time.Millisecond), rate, perSecond, throttled)
	if throttled != 0 {
		t.Fatalf("Exchange throttled %d of %d requests of a paced backup", throttled, requests)
	}
	if rate < 0.7*perSecond {
		t.Fatalf("%.1f requests a second, under 70%% of the mailbox's %d", rate, perSecond)
	}
}

// Without a rate, the same backup is left to Retry-After: it runs into the
// mailbox's budget, which is what the pacing is for.
func TestUnpacedMailboxBackupIsThrottled(t *testing.T) {
	_, throttled, _ := mailboxRun(t, twoCollections(false))
	if throttled == 0 {
		t.Fatal("an unpaced backup was never throttled: the test's mailbox is too small to tell pacing from none")
	}
}

// A mailbox's requests paced to its budget arrive late at the turn of
// every other window of Exchange's, as when a worker or the network is
// held up for a moment: the window after such a turn counts the late
// requests beside its own. Paced with room for such a delay (5% of the
// window), none is throttled.
func TestMailboxPacingLeavesRoomForLateRequests(t *testing.T) {
	const window, late = 2 * time.Second, 70 * time.Millisecond // 3.5% of the window
	o := mailboxRunOptions{perWindow: 40, window: window, paced: true, collections: 1, leastItems: 100, items: 200,
		wrap: func(h http.Handler) http.Handler { return lateAtTheTurn(h, window, late) }}
	requests, throttled, took := mailboxRun(t, o)
	t.Logf("%d requests in %v, %d throttled", requests, took.Round(time.Millisecond), throttled)
	if took < 2*window {
		t.Fatalf("the backup took %v, too short to cover a window after a late turn", took)
	}
	if throttled != 0 {
		t.Fatalf("Exchange throttled %d of %d requests paced to the mailbox's budget, some late by %v at the turn of its window", throttled, requests, late)
	}
}

// lateAtTheTurn holds each request that reaches it in the last `late` of
// every other window of the wall clock (as graphsim counts them) until
// the next has begun.
func lateAtTheTurn(h http.Handler, window, late time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now().UnixNano()
		into := time.Duration(now % int64(window))
		if (now/int64(window))%2 == 0 && into >= window-late {
			time.Sleep(window - into + time.Millisecond)
		}
		h.ServeHTTP(w, r)
	})
}

// Requests on a mailbox outside any activity's share (planning) are spaced
// at the mailbox's whole rate, each mailbox on its own, and mailboxes
// whose next request could go at once are forgotten.
func TestUnsharedMailboxRequestsAreSpacedAtTheMailboxRate(t *testing.T) {
	p := &mailboxPace{next: map[string]time.Time{}, sweepAt: 64}
	ctx := context.Background()
	const perSecond = 20 // one every 50 ms
	start := time.Now()
	for range 3 {
		if err := p.wait(ctx, "Ann@x", perSecond); err != nil {
			t.Fatal(err)
		}
	}
	if took := time.Since(start); took < 95*time.Millisecond {
		t.Fatalf("3 requests on one mailbox in %v, want 2 intervals of 50 ms", took)
	}
	other := time.Now()
	if err := p.wait(ctx, "bob@x", perSecond); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(other); took > 20*time.Millisecond {
		t.Fatalf("another mailbox's first request waited %v", took)
	}
	if err := p.wait(ctx, "ANN@X", 1); err != nil { // the same mailbox, whatever its case
		t.Fatal(err)
	}
	if took := time.Since(start); took < 145*time.Millisecond {
		t.Fatalf("the 4th request on Ann's mailbox went after %v, want 3 intervals", took)
	}
	time.Sleep(1100 * time.Millisecond)
	for i := range 64 {
		if err := p.wait(ctx, fmt.Sprint("u", i), perSecond); err != nil {
			t.Fatal(err)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.next["ann@x"]; ok {
		t.Fatal("a mailbox not paced for a second is still held")
	}
}

// A request that waits long for its turn keeps its activity alive from
// then until it goes; one that goes soon does not.
func TestLongPacingWaitsKeepTheActivityAlive(t *testing.T) {
	var started, stopped atomic.Int32
	ctx := m365.WithKeepAlive(context.Background(), func() func() {
		started.Add(1)
		return func() { stopped.Add(1) }
	})
	if err := keptAlive(ctx, 50*time.Millisecond, func() error { time.Sleep(5 * time.Millisecond); return nil }); err != nil {
		t.Fatal(err)
	}
	if started.Load() != 0 {
		t.Fatal("a short wait kept the activity alive")
	}
	if err := keptAlive(ctx, 20*time.Millisecond, func() error { time.Sleep(100 * time.Millisecond); return nil }); err != nil {
		t.Fatal(err)
	}
	if started.Load() != 1 || stopped.Load() != 1 {
		t.Fatalf("a long wait started the keep-alive %d times and stopped it %d, want once each", started.Load(), stopped.Load())
	}
}
