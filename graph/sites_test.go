package graph

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/m365"
)

func resourceIDs(rs []m365.Mailbox) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

// TestResolveSitesByURLIDOrGroup: "*" is every site of the tenant; a site
// resolves by its id and by its web URL, once however often it is named,
// in the order named; "group:NAME" is the group's site and "group:*"
// every group's; unknown selectors fail the resolution, all named.
func TestResolveSitesByURLIDOrGroup(t *testing.T) {
	e := newDriveEnv(t, graphsim.TenantOptions{Seed: 10, Users: 3, Groups: 2, Sites: 2, ItemsPerUser: 5}, nil, nil)
	c := e.client(nil)
	ctx := context.Background()

	all, err := c.ResolveSites(ctx, []string{"*"})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, s := range e.info.Sites {
		want = append(want, s.ID)
	}
	got := resourceIDs(all)
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("'*' resolved %v, the tenant's sites are %v", got, want)
	}
	for _, s := range all {
		if !strings.HasPrefix(s.UPN, "https://") || s.DisplayName == "" || s.Unavailable != "" {
			t.Fatalf("site %+v lacks its web URL or name", s)
		}
		for _, sel := range []string{s.ID, s.UPN} {
			one, err := c.ResolveSites(ctx, []string{sel})
			if err != nil || len(one) != 1 || one[0] != s {
				t.Fatalf("%q resolved to %+v (%v), want %+v", sel, one, err, s)
			}
		}
	}

	first, second := all[0], all[1]
	twice, err := c.ResolveSites(ctx, []string{second.UPN, first.ID, " " + second.ID + " ", first.UPN})
	if err != nil {
		t.Fatal(err)
	}
	if ids := resourceIDs(twice); !slices.Equal(ids, []string{second.ID, first.ID}) {
		t.Fatalf("each site named twice resolved to %v, want [%s %s]", ids, second.ID, first.ID)
	}

	byName := map[string]string{} // site name → id
	for _, s := range all {
		byName[s.DisplayName] = s.ID
	}
	var groupSites []string
	for _, g := range e.info.Groups {
		one, err := c.ResolveSites(ctx, []string{m365.GroupSelector + g.Name})
		if err != nil || len(one) != 1 || one[0].ID != byName[g.Name] {
			t.Fatalf("group %s resolved to %+v (%v), its site is %s", g.Name, one, err, byName[g.Name])
		}
		groupSites = append(groupSites, one[0].ID)
	}
	everyGroup, err := c.ResolveSites(ctx, []string{m365.GroupSelector + "*"})
	if err != nil {
		t.Fatal(err)
	}
	if ids := resourceIDs(everyGroup); !slices.Equal(ids, groupSites) {
		t.Fatalf("group:* resolved %v, the groups' sites are %v", ids, groupSites)
	}

	_, err = c.ResolveSites(ctx, []string{"https://contoso.sharepoint.com/sites/nosuchsite", first.ID, m365.GroupSelector + "No Such Group"})
	if !errors.Is(err, ErrUnknownResource) {
		t.Fatalf("unknown selectors: %v", err)
	}
	for _, named := range []string{"nosuchsite", "No Such Group"} {
		if !strings.Contains(err.Error(), named) {
			t.Fatalf("the error does not name %q: %v", named, err)
		}
	}
}
