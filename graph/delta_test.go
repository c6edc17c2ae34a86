package graph

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/corso-temporal/corso/graphsim"
)

var stateCategory = map[Category]string{Email: "mail", Contacts: "contacts", Events: "events"}

// A full enumeration of every container returns exactly the state's items,
// and FetchItem returns exactly the bytes the state hashes.
func TestDeltaEnumerationMatchesState(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(func(cfg *Config) { cfg.PageSize = 7 })
	u := e.user(0)
	for _, cat := range []Category{Email, Contacts, Events} {
		t.Run(string(cat), func(t *testing.T) {
			st := e.state(u.ID, stateCategory[cat])
			containers, err := c.Containers(context.Background(), u.ID, cat)
			if err != nil {
				t.Fatal(err)
			}
			total, exceptions := 0, 0
			for _, ct := range containers {
				want := items(st, ct.ID)
				changes, dl, pages := enumerate(t, c, u.ID, cat, ct.ID, "")
				if dl == "" || (len(want) > 7 && pages < 2) {
					t.Errorf("%q: %d pages, deltaLink %q", ct.Path, pages, dl)
				}
				got := map[string]bool{}
				for _, ch := range changes {
					if ch.Removed || got[ch.ID] {
						t.Errorf("%q: unexpected change %+v", ct.Path, ch)
					}
					got[ch.ID] = true
					it, ok := want[ch.ID]
					if !ok {
						t.Errorf("%q: item %s not in state", ct.Path, ch.ID)
						continue
					}
					checkMeta(t, cat, ch)
					body, meta := fetchWithMeta(t, c, u.ID, cat, ch.ID)
					if cat == Events && (meta.Subject != it.Name || !strings.Contains(meta.Organizer, "@") ||
						!meta.Start.Equal(ch.Meta.Start) || !meta.End.Equal(ch.Meta.End)) {
						t.Errorf("%q: event %s: details read from it %+v, want subject %q and its delta's times", ct.Path, ch.ID, meta, it.Name)
					}
					if bytes.Contains(body, []byte(`"exceptionOccurrences":[{`)) {
						exceptions++
					}
					hash, n := sha256Hex(body), int64(len(body))
					if hash != it.Hash || n != it.Size {
						t.Errorf("%q: item %s: %d bytes hash %s, state %d bytes %s", ct.Path, ch.ID, n, hash, it.Size, it.Hash)
					}
				}
				if len(got) != len(want) {
					t.Errorf("%q: %d items, state has %d", ct.Path, len(got), len(want))
				}
				total += len(got)
			}
			if total == 0 {
				t.Fatal("no items at all")
			}
			if cat == Events && exceptions == 0 {
				t.Error("no recurring event with exceptions was checked")
			}
			// One content request per item, no more.
			if kind := map[Category]string{Email: "message.mime", Contacts: "contact.get", Events: "event.get"}[cat]; c.Stats().Requests[kind] != int64(total) {
				t.Errorf("%d %s requests for %d items", c.Stats().Requests[kind], kind, total)
			}
			t.Logf("%s: %d containers, %d items", cat, len(containers), total)
		})
	}
}

func checkMeta(t *testing.T, cat Category, ch Change) {
	t.Helper()
	m := ch.Meta
	ok := !ch.ModTime.IsZero()
	switch cat {
	case Email:
		// Subjects may be empty, as in real mailboxes.
		ok = ok && strings.Contains(m.Sender, "@") && len(m.Recipients) > 0 && !m.Received.IsZero()
	case Contacts:
		ok = ok && m.DisplayName != "" && len(m.Emails) > 0
	case Events:
		// Beta's event delta gives only id, type, start and end.
		ok = m.End.After(m.Start)
	}
	if !ok {
		t.Errorf("%s %s: incomplete details %+v (modified %v)", cat, ch.ID, m, ch.ModTime)
	}
}

// After adds, changes, deletions and moves, following the deltaLink
// reports exactly those changes.
func TestDeltaReportsChanges(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(nil)
	u := e.user(0)
	ctx := context.Background()
	for _, tc := range []struct {
		cat  Category
		kind string
	}{{Email, "message"}, {Contacts, "contact"}, {Events, "event"}} {
		t.Run(string(tc.cat), func(t *testing.T) {
			containers, err := c.Containers(ctx, u.ID, tc.cat)
			if err != nil {
				t.Fatal(err)
			}
			// The biggest container is the one changed; another one, if
			// any, receives a moved item.
			var from, to Container
			var fromItems []Change
			var fromLink, toLink string
			for _, ct := range containers {
				ch, dl, _ := enumerate(t, c, u.ID, tc.cat, ct.ID, "")
				if len(ch) > len(fromItems) {
					if from.ID != "" {
						to, toLink = from, fromLink
					}
					from, fromItems, fromLink = ct, ch, dl
				} else if to.ID == "" {
					to, toLink = ct, dl
				}
			}
			if len(fromItems) < 3 {
				t.Fatalf("largest %s container has %d items", tc.cat, len(fromItems))
			}
			// Within the access token's lifetime: the simulator checks it
			// against this clock, the client against the wall clock.
			e.clock.Advance(time.Minute)
			added := e.mutate(graphsim.MutateOp{Op: "add", Kind: tc.kind, User: u.ID, Parent: from.ID, Count: 2})
			modified, deleted := fromItems[0].ID, fromItems[1].ID
			e.mutate(graphsim.MutateOp{Op: "modify", ID: modified}, graphsim.MutateOp{Op: "delete", ID: deleted})
			wantUpserts := []string{added[0].ID, added[1].ID, modified}
			wantRemoved := []string{deleted}
			movedTo := ""
			if to.ID != "" {
				moved := fromItems[2].ID
				res := e.mutate(graphsim.MutateOp{Op: "move", ID: moved, To: to.ID})
				wantRemoved = append(wantRemoved, moved)
				movedTo = res[0].NewID
				if movedTo == "" {
					movedTo = moved
				}
			}

			changes, dl, _ := enumerate(t, c, u.ID, tc.cat, from.ID, fromLink)
			var upserts, removed []string
			for _, ch := range changes {
				if ch.Removed {
					removed = append(removed, ch.ID)
					continue
				}
				upserts = append(upserts, ch.ID)
				if ch.ID == modified && tc.cat != Events && !ch.ModTime.Equal(e.clock.Now()) {
					t.Errorf("modified item's time %v, want %v", ch.ModTime, e.clock.Now())
				}
			}
			sameSet(t, "upserts", upserts, wantUpserts)
			sameSet(t, "removals", removed, wantRemoved)

			st := e.state(u.ID, stateCategory[tc.cat])
			want := items(st, from.ID)
			for _, id := range wantUpserts {
				if hash, _ := fetchHash(t, c, u.ID, tc.cat, id); hash != want[id].Hash {
					t.Errorf("%s: content differs from state", id)
				}
			}
			if _, err := c.FetchItem(ctx, u.ID, tc.cat, deleted); !errors.Is(err, ErrNotFound) {
				t.Errorf("fetch of a deleted item: %v, want ErrNotFound", err)
			}
			if movedTo != "" {
				changes, _, _ := enumerate(t, c, u.ID, tc.cat, to.ID, toLink)
				if len(changes) != 1 || changes[0].ID != movedTo || changes[0].Removed {
					t.Errorf("destination reports %+v, want the moved item %s", changes, movedTo)
				}
			}

			// Nothing changed since: an empty round.
			changes, dl2, _ := enumerate(t, c, u.ID, tc.cat, from.ID, dl)
			if len(changes) != 0 || dl2 == "" {
				t.Errorf("quiet round: %d changes, deltaLink %q", len(changes), dl2)
			}
		})
	}
}

func sameSet(t *testing.T, what string, got, want []string) {
	t.Helper()
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

func TestDeltaExpired(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(nil)
	u := e.user(0)
	ctx := context.Background()
	mail, err := c.Containers(ctx, u.ID, Email)
	if err != nil {
		t.Fatal(err)
	}
	inbox := containerByPath(t, mail, "Inbox")

	for _, code := range []string{"syncStateNotFound", "resyncRequired", "SyncStateInvalid", "SYNCSTATENOTFOUND"} {
		t.Run(code, func(t *testing.T) {
			_, dl, _ := enumerate(t, c, u.ID, Email, inbox.ID, "")
			e.control(http.MethodPost, "expire", graphsim.ExpireRequest{Collection: inbox.ID, Code: code}, nil)
			if _, err := c.DeltaPage(ctx, u.ID, Email, inbox.ID, dl); !errors.Is(err, ErrDeltaExpired) {
				t.Fatalf("err = %v, want ErrDeltaExpired", err)
			}
			// Starting over works.
			enumerate(t, c, u.ID, Email, inbox.ID, "")
		})
	}

	t.Run("mangled token", func(t *testing.T) {
		_, dl, _ := enumerate(t, c, u.ID, Email, inbox.ID, "")
		l, _ := url.Parse(dl)
		q := l.Query()
		q.Set("$deltatoken", "AAAA"+q.Get("$deltatoken")[4:])
		l.RawQuery = q.Encode()
		if _, err := c.DeltaPage(ctx, u.ID, Email, inbox.ID, l.String()); !errors.Is(err, ErrDeltaExpired) {
			t.Fatalf("err = %v, want ErrDeltaExpired", err)
		}
	})

	t.Run("deleted folder", func(t *testing.T) {
		id := e.mutate(graphsim.MutateOp{Op: "add", Kind: "mailFolder", User: u.ID, Name: "Doomed"})[0].ID
		_, dl, _ := enumerate(t, c, u.ID, Email, id, "")
		e.mutate(graphsim.MutateOp{Op: "delete", ID: id})
		for _, link := range []string{"", dl} {
			if _, err := c.DeltaPage(ctx, u.ID, Email, id, link); !errors.Is(err, ErrNotFound) || errors.Is(err, ErrDeltaExpired) {
				t.Fatalf("link %q: err = %v, want ErrNotFound", link, err)
			}
		}
	})
}
