package graph

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/corso-temporal/corso/m365"
)

func driveIDs(ds []m365.Drive) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.ID)
	}
	slices.Sort(out)
	return out
}

// TestGroupSelectorResolvesTheGroupsSiteLibraries: "group:NAME" resolves
// to the libraries of that group's site, the same drives its site's URL
// resolves to; "group:*" to every group's site; an unknown group fails,
// named.
func TestGroupSelectorResolvesTheGroupsSiteLibraries(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(nil)
	ctx := context.Background()
	if len(e.info.Groups) < 2 {
		t.Fatalf("tenant has %d groups", len(e.info.Groups))
	}
	owners := map[string]bool{}
	for _, g := range e.info.Groups {
		ds, none, err := c.ResolveDrives(ctx, m365.SharePoint, []string{m365.GroupSelector + g.Name})
		if err != nil || len(none) != 0 || len(ds) == 0 {
			t.Fatalf("group %s: %v, %v, %v", g.Name, ds, none, err)
		}
		site := ds[0].OwnerName
		bySite, _, err := c.ResolveDrives(ctx, m365.SharePoint, []string{site})
		if err != nil || !slices.Equal(driveIDs(ds), driveIDs(bySite)) {
			t.Fatalf("group %s: drives %v, its site %s has %v (%v)", g.Name, driveIDs(ds), site, driveIDs(bySite), err)
		}
		if owners[ds[0].Owner] {
			t.Fatalf("two groups resolve to site %s", site)
		}
		owners[ds[0].Owner] = true
	}
	all, _, err := c.ResolveDrives(ctx, m365.SharePoint, []string{m365.GroupSelector + "*"})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, d := range all {
		seen[d.Owner] = true
	}
	if len(seen) != len(owners) {
		t.Fatalf("group:* resolved %d sites, the groups have %d", len(seen), len(owners))
	}
	if _, _, err := c.ResolveDrives(ctx, m365.SharePoint, []string{m365.GroupSelector + "No Such Group"}); !errors.Is(err, ErrUnknownResource) {
		t.Fatalf("unknown group: %v", err)
	}
}
