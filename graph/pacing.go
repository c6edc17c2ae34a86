package graph

import (
	"context"
	"net/http"
	"time"

	"github.com/corso-temporal/corso/m365"
)

// Teams limits requests by rate rather than concurrency ("Microsoft Teams
// service limits", https://learn.microsoft.com/graph/throttling-limits#microsoft-teams-service-limits):
// an app may make four requests a second on a team or channel, and twenty
// GET channel message requests a second in a tenant, over all its teams.
//
// A team's requests are paced at the share of the team's rate that the
// activity making them holds (m365.RequestShare: its share of
// workflows.MailboxRequestBudget, the shares of a team's activities in
// flight never adding up to more than the budget), so the fleet's
// requests on a team stay within its rate. Requests outside such an
// activity (planning lists a team's channels once) are not paced. Reads of
// channel messages also spend the tenant's Teams budget, which the fleet
// shares like SharePoint's resource units (TeamsBudget).

// DefaultTeamRequestsPerSecond is Teams' limit of requests per second per
// app on one team or channel.
const DefaultTeamRequestsPerSecond = 4

// TeamsBudget meters the channel message reads Teams allows an app per
// tenant. Every read spends one unit first; a fleet of workers shares one
// tenant's budget through it.
type TeamsBudget interface {
	// Spend blocks until units may be spent, or ctx ends.
	Spend(ctx context.Context, units int) error
	// Throttled reports that Teams throttled a read for d.
	Throttled(d time.Duration)
}

type teamKey struct{}

// forTeam marks ctx as work on a team: the team's pacing applies, and its
// requests share the per-resource slots mailboxes use, which bounds them
// within the process too.
func forTeam(ctx context.Context, teamID, kind string) context.Context {
	return context.WithValue(forMailbox(ctx, teamID, kind), teamKey{}, teamID)
}

func teamOf(ctx context.Context) string {
	s, _ := ctx.Value(teamKey{}).(string)
	return s
}

// channelMessageRead tells the request kinds Teams counts as "GET channel
// message": a message, its replies, a channel's message list or delta,
// and the hosted contents (inline images) of a message, which are read
// at a message's address and with its permission (ChannelMessage.Read),
// so they are counted too rather than risk the tenant's rate.
func channelMessageRead(req *http.Request) bool {
	if req.Method != http.MethodGet {
		return false
	}
	switch kindOf(req.Context()) {
	case "teams.message", "teams.replies", "teams.messages.list", "teams.messages.delta", "teams.hostedContents":
		return true
	}
	return false
}

// teamPacing paces requests on teams.
type teamPacing struct {
	// perSecond is the rate the whole of a team's budget stands for.
	perSecond float64
	budget    TeamsBudget
}

// wait blocks until req may be sent as far as Teams' limits go: the
// activity's share of the team's rate, then the tenant's budget of
// channel message reads.
func (p teamPacing) wait(req *http.Request) error {
	ctx := req.Context()
	if teamOf(ctx) == "" {
		return nil
	}
	if s := m365.RequestShareOf(ctx); s != nil {
		if err := s.Wait(ctx, p.perSecond); err != nil {
			return err
		}
	}
	if p.budget != nil && channelMessageRead(req) {
		return p.budget.Spend(ctx, 1)
	}
	return nil
}

// throttled tells the tenant's budget that Teams throttled a channel
// message read for d: the fleet reads more than Teams allows (other
// clients of the app, a budget set too high) and pauses.
func (p teamPacing) throttled(req *http.Request, d time.Duration) {
	if p.budget != nil && req != nil && teamOf(req.Context()) != "" && channelMessageRead(req) {
		p.budget.Throttled(d)
	}
}
