package graph

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/corso-temporal/corso/graphsim"
)

func TestResolveMailboxes(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(nil)
	ctx := context.Background()
	var withMailbox []string
	for _, u := range e.info.Users {
		if u.HasMailbox {
			withMailbox = append(withMailbox, u.ID)
		}
	}
	if e.user(1).HasMailbox || e.user(4).HasMailbox {
		t.Fatal("the tenant changed: users 1 and 4 should have no mailbox")
	}

	t.Run("ids and UPNs in any case", func(t *testing.T) {
		got, err := c.ResolveMailboxes(ctx, []string{e.user(0).ID, strings.ToUpper(e.user(2).UPN), e.user(0).UPN})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].ID != e.user(0).ID || got[1].ID != e.user(2).ID {
			t.Fatalf("got %+v", got)
		}
		if got[1].UPN != e.user(2).UPN || got[1].DisplayName == "" {
			t.Fatalf("incomplete mailbox %+v", got[1])
		}
	})

	t.Run("star is every user, those without a mailbox marked with the cause", func(t *testing.T) {
		got, err := c.ResolveMailboxes(ctx, []string{"*", e.user(0).ID})
		if err != nil {
			t.Fatal(err)
		}
		// The ground truth: which users a backup leaves out, and why.
		leftOut := map[string]string{}
		for _, x := range e.state("", "").Expected {
			if x.Service == "exchange" && x.Category == "" && x.Outcome == graphsim.OutcomeNotBackedUp {
				leftOut[x.ResourceID] = x.Cause
			}
		}
		if len(leftOut) < 4 {
			t.Fatalf("the tenant should have users without a mailbox of several kinds: %v", leftOut)
		}
		var ids []string
		for _, m := range got {
			if want := leftOut[m.ID]; string(m.Unavailable) != want {
				t.Errorf("%s: unavailable %q, want %q", m.UPN, m.Unavailable, want)
			}
			if m.Unavailable == "" {
				ids = append(ids, m.ID)
			}
		}
		if len(got) != len(e.info.Users) {
			t.Errorf("%d users resolved, the tenant has %d", len(got), len(e.info.Users))
		}
		if strings.Join(ids, ",") != strings.Join(withMailbox, ",") {
			t.Fatalf("got %v, want %v", ids, withMailbox)
		}
	})

	t.Run("a named user without a mailbox is an error naming the cause", func(t *testing.T) {
		var unlicensed string
		for _, u := range e.info.Users {
			if u.Special == "unlicensed" {
				unlicensed = u.UPN
			}
		}
		_, err := c.ResolveMailboxes(ctx, []string{unlicensed})
		if !errors.Is(err, ErrUnknownResource) || !strings.Contains(err.Error(), "licence") {
			t.Fatalf("err = %v, want ErrUnknownResource naming the missing licence", err)
		}
	})

	t.Run("unknown selectors are all named", func(t *testing.T) {
		_, err := c.ResolveMailboxes(ctx, []string{e.user(0).ID, "nobody@contoso.onmicrosoft.com", e.user(4).UPN})
		if !errors.Is(err, ErrUnknownResource) {
			t.Fatalf("err = %v, want ErrUnknownResource", err)
		}
		for _, want := range []string{"nobody@contoso.onmicrosoft.com", e.user(4).UPN} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name %s", err, want)
			}
		}
	})
}
