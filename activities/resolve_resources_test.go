package activities

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/workflows"
)

// groupsTenant has one team and one group without a team, whose mailbox
// still holds conversations, and two sites; it records how it was asked.
type groupsTenant struct {
	unfaked
	teamsOnly []bool
	sites     [][]string
}

func (g *groupsTenant) ResolveGroups(_ context.Context, _ []string, teamsOnly bool) ([]m365.Mailbox, error) {
	g.teamsOnly = append(g.teamsOnly, teamsOnly)
	plain := m365.Mailbox{ID: "g-plain", UPN: "plain@contoso.onmicrosoft.com", DisplayName: "Plain"}
	if teamsOnly {
		plain.Unavailable = m365.CauseNoTeam
	}
	return []m365.Mailbox{{ID: "g-team", UPN: "team@contoso.onmicrosoft.com", DisplayName: "Team"}, plain}, nil
}

func (g *groupsTenant) ResolveSites(_ context.Context, sels []string) ([]m365.Mailbox, error) {
	g.sites = append(g.sites, sels)
	return []m365.Mailbox{{ID: "s1", UPN: "https://contoso.sharepoint.com/sites/a", DisplayName: "A"},
		{ID: "s2", UPN: "https://contoso.sharepoint.com/sites/b", DisplayName: "B"}}, nil
}

// TestResolveContainerResourcesByServiceAndData: a Groups request for
// channel messages alone resolves teams, leaving groups without one out;
// with conversations asked for (or no data named) every group is backed
// up; a lists request resolves sites. What is resolved is stored, and
// nothing to back up fails for good.
func TestResolveContainerResourcesByServiceAndData(t *testing.T) {
	f := newExchangeFixture(t, 0)
	tenant := &groupsTenant{}
	f.a.NewClient = func(string, string, string) (Client, error) { return tenant, nil }
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(f.a)
	env.RegisterActivity(f.a.Repos)

	resolve := func(service string, categories ...string) (workflows.ResourceList, []string, error) {
		val, err := env.ExecuteActivity(f.a.ResolveContainerResources, workflows.ResolveResourcesInput{
			Repo: &f.repo, Graph: f.gr, Service: service, Selectors: []string{"*"}, Categories: categories,
		})
		if err != nil {
			return workflows.ResourceList{}, nil, err
		}
		var list workflows.ResourceList
		require.NoError(t, val.Get(&list))
		val, err = env.ExecuteActivity(f.a.Repos.ReadResourcePage, workflows.ResourcePageInput{Repo: f.repo, ListID: list.ID, Limit: 10})
		require.NoError(t, err)
		var page []workflows.ResolvedResource
		require.NoError(t, val.Get(&page))
		var ids []string
		for _, r := range page {
			ids = append(ids, r.Mailbox.ID)
		}
		return list, ids, nil
	}

	list, ids, err := resolve(m365.Groups, string(m365.ChannelMessages))
	require.NoError(t, err)
	require.Equal(t, []bool{true}, tenant.teamsOnly, "channel messages alone need teams")
	require.Equal(t, []string{"g-team"}, ids)
	require.Equal(t, 1, list.LeftOutCount)
	require.Equal(t, string(m365.CauseNoTeam), list.LeftOut[0].Cause)

	for _, cats := range [][]string{{string(m365.ChannelMessages), string(m365.Conversations)}, {string(m365.Conversations)}, nil} {
		tenant.teamsOnly = nil
		list, ids, err = resolve(m365.Groups, cats...)
		require.NoError(t, err)
		require.Equal(t, []bool{false}, tenant.teamsOnly, "data %v", cats)
		require.Equal(t, []string{"g-team", "g-plain"}, ids, "data %v", cats)
		require.Zero(t, list.LeftOutCount)
	}

	_, ids, err = resolve(m365.SharePointLists)
	require.NoError(t, err)
	require.Equal(t, [][]string{{"*"}}, tenant.sites)
	require.Equal(t, []string{"s1", "s2"}, ids)

	_, _, err = resolve(m365.OneDrive)
	require.True(t, isType(err, workflows.ErrTypeInvalidInput), "a service without containers: %v", err)
}

// noTeams has groups but not one team.
type noTeams struct{ groupsTenant }

func (n *noTeams) ResolveGroups(ctx context.Context, sels []string, teamsOnly bool) ([]m365.Mailbox, error) {
	gs, err := n.groupsTenant.ResolveGroups(ctx, sels, teamsOnly)
	for i := range gs {
		gs[i].Unavailable = m365.CauseNoTeam
	}
	return gs, err
}

func TestResolveContainerResourcesWithNothingToBackUpFailsForGood(t *testing.T) {
	f := newExchangeFixture(t, 0)
	f.a.NewClient = func(string, string, string) (Client, error) { return &noTeams{}, nil }
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(f.a)
	_, err := env.ExecuteActivity(f.a.ResolveContainerResources, workflows.ResolveResourcesInput{
		Repo: &f.repo, Graph: f.gr, Service: m365.Groups, Selectors: []string{"*"}, Categories: []string{string(m365.ChannelMessages)},
	})
	require.True(t, isType(err, workflows.ErrTypeUnknownMailbox), "no team: %v", err)
	require.Contains(t, err.Error(), "no team matches *")
}
