package activities

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/corso-temporal/corso/m365"
)

// fakeMailbox is one folder with a change log, enough to exercise delta
// semantics: full enumeration in pages, changes since a token, expiry.
type fakeMailbox struct {
	unfaked
	mu       sync.Mutex
	items    map[string]fakeItem
	log      []m365.Change // every change in order; its index is the token
	expired  map[string]bool
	fetches  map[string]int
	failIDs  map[string]bool
	breakAt  int // after this many fetches, fail the activity (a crash)
	pageSize int
	// skipIDs are items Graph can never serve, with the cause it gives.
	skipIDs map[string]m365.Cause
	// refuse answers these items with an error that names no cause.
	refuse map[string]error
	// degradedIDs are items Graph serves only part of (an event series
	// without its exceptions): the reader says so with the cause.
	degradedIDs map[string]m365.Cause
	// overQuota refuses delta queries, as a mailbox at its quota does;
	// listing still works.
	overQuota bool
	lists     int // ListPage calls
	// afterPage, when set, runs (under the lock) after each DeltaPage of
	// a full enumeration, e.g. to change the mailbox between pages.
	afterPage func(link string)
	// horizon, when set, is how far back a first delta round reaches:
	// older items are left out of it (channel messages), not of later
	// rounds nor of listings.
	horizon time.Time
}

type fakeItem struct {
	mod  time.Time
	body string
}

func newFakeMailbox(n int) *fakeMailbox {
	f := &fakeMailbox{items: map[string]fakeItem{}, expired: map[string]bool{}, fetches: map[string]int{}, failIDs: map[string]bool{},
		skipIDs: map[string]m365.Cause{}, degradedIDs: map[string]m365.Cause{}, pageSize: 3}
	for i := range n {
		f.put(fmt.Sprintf("item-%02d", i), fmt.Sprintf("body %d", i))
	}
	return f
}

var fakeClock = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func (f *fakeMailbox) put(id, body string) {
	fakeClock = fakeClock.Add(time.Minute)
	f.items[id] = fakeItem{mod: fakeClock, body: body}
	f.log = append(f.log, m365.Change{ID: id, ModTime: fakeClock, Meta: m365.ItemMeta{Subject: "subject " + body}})
}

func (f *fakeMailbox) remove(id string) {
	delete(f.items, id)
	f.log = append(f.log, m365.Change{ID: id, Removed: true})
}

func (f *fakeMailbox) ResolveMailboxes(context.Context, []string) ([]m365.Mailbox, error) {
	return []m365.Mailbox{{ID: "mbx", UPN: "ann@contoso.com"}}, nil
}

func (f *fakeMailbox) Containers(context.Context, string, m365.Category) ([]m365.Container, error) {
	return []m365.Container{{ID: "inbox", DisplayName: "Inbox", Path: []string{"Inbox"}, Category: m365.Email}}, nil
}

// Links: "full:<offset>:<seq>" pages a full enumeration taken at log
// position seq; "delta:<seq>" lists changes since seq.
func (f *fakeMailbox) DeltaPage(_ context.Context, _ string, _ m365.Category, _ string, link string) (m365.Page, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.overQuota {
		return m365.Page{}, &m365.Fault{Class: m365.DeltaUnavailable, Cause: m365.CauseQuotaExceeded,
			Err: errors.New("delta: Graph answered 403 ErrorQuotaExceeded")}
	}
	if f.expired[link] {
		return m365.Page{}, m365.ErrDeltaExpired
	}
	seq := len(f.log)
	var all []m365.Change
	offset := 0
	switch {
	case link == "" || strings.HasPrefix(link, "full:"):
		if link != "" {
			parts := strings.Split(link, ":")
			offset, _ = strconv.Atoi(parts[1])
			seq, _ = strconv.Atoi(parts[2])
		}
		ids := make([]string, 0, len(f.items))
		for id := range f.items {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			if f.items[id].mod.Before(f.horizon) {
				continue
			}
			all = append(all, m365.Change{ID: id, ModTime: f.items[id].mod, Meta: m365.ItemMeta{Subject: "subject " + f.items[id].body}})
		}
	case strings.HasPrefix(link, "delta:"):
		from, _ := strconv.Atoi(strings.TrimPrefix(link, "delta:"))
		last := map[string]int{}
		for i := from; i < len(f.log); i++ {
			last[f.log[i].ID] = i
		}
		for i := from; i < len(f.log); i++ {
			if last[f.log[i].ID] == i {
				all = append(all, f.log[i])
			}
		}
		return m365.Page{Changes: all, DeltaLink: fmt.Sprintf("delta:%d", seq)}, nil
	default:
		return m365.Page{}, fmt.Errorf("delta: %q is no delta link", link)
	}
	end := min(offset+f.pageSize, len(all))
	p := m365.Page{Changes: all[offset:end]}
	if end < len(all) {
		p.NextLink = fmt.Sprintf("full:%d:%d", end, seq)
	} else {
		p.DeltaLink = fmt.Sprintf("delta:%d", seq)
	}
	if f.afterPage != nil {
		f.afterPage(link)
	}
	return p, nil
}

// ListPage lists the items present, pageSize at a time; links are
// "list:<offset>".
func (f *fakeMailbox) ListPage(_ context.Context, _ string, _ m365.Category, _ string, link string) (m365.Page, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists++
	offset, _ := strconv.Atoi(strings.TrimPrefix(link, "list:"))
	ids := make([]string, 0, len(f.items))
	for id := range f.items {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	end := min(offset+f.pageSize, len(ids))
	var p m365.Page
	for _, id := range ids[offset:end] {
		p.Changes = append(p.Changes, m365.Change{ID: id, ModTime: f.items[id].mod, Meta: m365.ItemMeta{Subject: "subject " + f.items[id].body}})
	}
	if end < len(ids) {
		p.NextLink = fmt.Sprintf("list:%d", end)
	}
	return p, nil
}

var errCrash = fmt.Errorf("worker crashed")

func (f *fakeMailbox) FetchItemIn(_ context.Context, _ string, _ m365.Category, _, id string) (io.ReadCloser, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.breakAt > 0 && f.totalFetches() >= f.breakAt {
		return nil, &m365.ThrottledError{Err: errCrash}
	}
	f.fetches[id]++
	if f.failIDs[id] {
		return nil, fmt.Errorf("%w: item %s", m365.ErrNotFound, id)
	}
	if err := f.refuse[id]; err != nil {
		return nil, err
	}
	if cause, ok := f.skipIDs[id]; ok {
		return nil, &m365.Fault{Class: m365.ItemSkipped, Cause: cause, Err: fmt.Errorf("get item %s: Graph answered 500", id)}
	}
	it, ok := f.items[id]
	if !ok {
		return nil, fmt.Errorf("%w: item %s", m365.ErrNotFound, id)
	}
	if cause, ok := f.degradedIDs[id]; ok {
		return &degradedBody{ReadCloser: io.NopCloser(strings.NewReader(it.body)), cause: cause}, nil
	}
	return io.NopCloser(strings.NewReader(it.body)), nil
}

// degradedBody is the part of an item Graph served (m365.DegradedReader).
type degradedBody struct {
	io.ReadCloser
	cause m365.Cause
}

func (d *degradedBody) Degraded() (m365.Cause, bool) { return d.cause, true }

func (f *fakeMailbox) totalFetches() int {
	n := 0
	for _, c := range f.fetches {
		n += c
	}
	return n
}

func (f *fakeMailbox) resetCounts() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fetches = map[string]int{}
}
