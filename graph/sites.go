package graph

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/corso-temporal/corso/m365"
)

// ResolveSites turns selectors into the SharePoint sites whose lists a
// backup reads, in the order given and without duplicates, each as a
// resource: its id, its web URL and its name. Selectors are those of
// ResolveDrives' SharePoint: site URLs or ids, "*" for every site but
// personal sites and the search centre, or m365.GroupSelector+KEY for the
// site of the group KEY names ("*" for every group's). A "group:*"
// resolution also returns the groups whose site is unavailable, marked
// Unavailable; a named selector that names no site fails the resolution
// with an error wrapping ErrUnknownResource that names all of them.
func (c *Client) ResolveSites(ctx context.Context, selectors []string) ([]Mailbox, error) {
	var out []Mailbox
	seen := map[string]bool{}
	add := func(st site) {
		if !seen[st.id] {
			seen[st.id] = true
			out = append(out, Mailbox{ID: st.id, UPN: st.webURL, DisplayName: st.name})
		}
	}
	var unknown []string
	for _, sel := range selectors {
		sel = strings.TrimSpace(sel)
		if sel == "" {
			continue
		}
		if key, ok := strings.CutPrefix(sel, m365.GroupSelector); ok {
			key = strings.TrimSpace(key)
			gs, err := c.groupSites(ctx, key)
			if err != nil {
				return nil, err
			}
			for _, g := range gs {
				switch {
				case g.none.Cause == "":
					add(g.st)
				case key != "*":
					unknown = append(unknown, fmt.Sprintf("%q (%s)", sel, g.none.Reason))
				case !seen[g.none.ResourceID]:
					seen[g.none.ResourceID] = true
					out = append(out, Mailbox{ID: g.none.ResourceID, UPN: g.none.Resource, DisplayName: g.none.ResourceName,
						Unavailable: m365.Cause(g.none.Cause)})
				}
			}
			continue
		}
		if sel == "*" {
			all, err := c.listSites(ctx)
			if err != nil {
				return nil, err
			}
			for _, st := range all {
				add(st)
			}
			continue
		}
		st, err := c.site(ctx, sel)
		switch {
		case errors.Is(err, ErrUnknownResource) || errors.Is(err, ErrNotFound):
			unknown = append(unknown, fmt.Sprintf("%q (no such site)", sel))
		case err != nil && unavailableCause(err) != "":
			unknown = append(unknown, fmt.Sprintf("%q (%s)", sel, unavailable(sel, sel, "", unavailableCause(err), err).none.Reason))
		case err != nil:
			return nil, err
		default:
			add(st)
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("resolve sites: %s: %w", strings.Join(unknown, ", "), ErrUnknownResource)
	}
	return out, nil
}
