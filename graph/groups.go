package graph

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/m365"
)

// groupFields are what a group's resolution reads. resourceProvisioningOptions
// holds "Team" when the group has a team (Graph's group resource, v1.0:
// https://learn.microsoft.com/graph/api/resources/group).
var groupFields = []string{"id", "displayName", "mail", "mailNickname", "resourceProvisioningOptions"}

// directoryGroup is a listed Microsoft 365 group.
type directoryGroup struct {
	ID          string   `json:"id"`
	DisplayName string   `json:"displayName"`
	Mail        string   `json:"mail"`
	Nickname    string   `json:"mailNickname"`
	Provisioned []string `json:"resourceProvisioningOptions"`
}

func (g directoryGroup) isTeam() bool {
	for _, o := range g.Provisioned {
		if strings.EqualFold(o, "Team") {
			return true
		}
	}
	return false
}

// resource is the group as a backup's resource: its id, its address (or
// its name when it has none) and its name. With teamsOnly, a group
// without a team is marked, having nothing to back up.
func (g directoryGroup) resource(teamsOnly bool) Mailbox {
	m := Mailbox{ID: g.ID, UPN: g.Mail, DisplayName: g.DisplayName}
	if m.UPN == "" {
		m.UPN = g.DisplayName
	}
	if teamsOnly && !g.isTeam() {
		m.Unavailable = m365.CauseNoTeam
	}
	return m
}

// ResolveGroups turns selectors (group ids, display names, addresses or
// mail nicknames, or "*" for every group) into groups, in the order given,
// without duplicates. Every Microsoft 365 group has a mailbox, but only a
// team has channels: with teamsOnly (a backup of channel messages alone),
// "*" returns the groups without a team marked Unavailable, so the run
// can report them, and a selector naming one fails. A selector naming no
// group fails the resolution with an error wrapping ErrUnknownResource
// that names all of them. The directory is listed once and matched here:
// Graph filters resourceProvisioningOptions only as an advanced query.
func (c *Client) ResolveGroups(ctx context.Context, selectors []string, teamsOnly bool) ([]Mailbox, error) {
	dir, err := c.listGroups(ctx)
	if err != nil {
		return nil, err
	}
	var out []Mailbox
	seen := map[string]bool{}
	add := func(g directoryGroup) {
		if !seen[g.ID] {
			seen[g.ID] = true
			out = append(out, g.resource(teamsOnly))
		}
	}
	var unknown []string
	for _, sel := range selectors {
		sel = strings.TrimSpace(sel)
		switch {
		case sel == "":
			continue
		case sel == "*":
			for _, g := range dir {
				add(g)
			}
			continue
		}
		g, problem := groupNamed(dir, sel)
		switch {
		case problem != "":
			unknown = append(unknown, fmt.Sprintf("%q (%s)", sel, problem))
		case teamsOnly && !g.isTeam():
			unknown = append(unknown, fmt.Sprintf("%q (%s)", sel, m365.CauseNoTeam.Describe()))
		default:
			add(g)
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("resolve groups: %s: %w", strings.Join(unknown, ", "), ErrUnknownResource)
	}
	return out, nil
}

// groupNamed finds the one group a selector names by id, display name,
// address or mail nickname, or says why there is none.
func groupNamed(dir []directoryGroup, sel string) (directoryGroup, string) {
	var match []directoryGroup
	for _, g := range dir {
		if strings.EqualFold(g.ID, sel) || strings.EqualFold(g.DisplayName, sel) ||
			(g.Mail != "" && strings.EqualFold(g.Mail, sel)) || strings.EqualFold(g.Nickname, sel) {
			match = append(match, g)
		}
	}
	switch len(match) {
	case 0:
		return directoryGroup{}, "no such group"
	case 1:
		return match[0], ""
	}
	return directoryGroup{}, fmt.Sprintf("%d groups have this name; give the group's id", len(match))
}

// groupLibraries resolves "group:KEY" to the libraries of the site of
// the group KEY names, or of every group's site for "*".
func (c *Client) groupLibraries(ctx context.Context, key string) ([]owned, error) {
	gs, err := c.groupSites(ctx, key)
	if err != nil {
		return nil, err
	}
	var out []owned
	for _, g := range gs {
		if g.none.Cause != "" {
			out = append(out, owned{none: g.none})
			continue
		}
		o, err := c.siteDrives(ctx, g.st)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// groupSite is a group's root site, or (none.Cause set) why the group
// has none to back up.
type groupSite struct {
	st   site
	none backup.LeftOut
}

// groupSites resolves "group:KEY" to the root site of the group KEY
// names, or of every group for "*" (GET /groups/{id}/sites/root:
// https://learn.microsoft.com/graph/api/site-get, "Access the root site
// of a group").
func (c *Client) groupSites(ctx context.Context, key string) ([]groupSite, error) {
	dir, err := c.listGroups(ctx)
	if err != nil {
		return nil, err
	}
	groups := dir
	if key != "*" {
		g, problem := groupNamed(dir, key)
		if problem != "" {
			return []groupSite{{none: backup.LeftOut{Resource: m365.GroupSelector + key, ResourceID: key, Cause: "noSuchResource", Reason: problem}}}, nil
		}
		groups = []directoryGroup{g}
	}
	var out []groupSite
	for _, g := range groups {
		st, err := c.siteAt(ctx, c.v1("groups", g.ID, "sites", "root"), g.DisplayName)
		if cause := unavailableCause(err); err != nil && cause != "" {
			out = append(out, groupSite{none: unavailable(g.DisplayName, g.ID, g.DisplayName, cause, err).none})
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, groupSite{st: st})
	}
	return out, nil
}

// listGroups lists the directory's Microsoft 365 groups, in Graph's order.
func (c *Client) listGroups(ctx context.Context) ([]directoryGroup, error) {
	ctx = ofKind(ctx, "groups.list")
	link := c.v1("groups") + "?" + query(url.Values{
		"$select": {strings.Join(groupFields, ",")},
		"$filter": {"groupTypes/any(t:t eq 'Unified')"},
		"$top":    {"999"},
	})
	return listAll[directoryGroup](ctx, c, "list groups", link)
}
