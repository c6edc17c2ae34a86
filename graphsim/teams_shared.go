package graphsim

import (
	"net/http"
	"strings"
	"time"
)

// Private and shared channels, and where a team's channel listings show
// them.
//
// Sources:
//   - https://learn.microsoft.com/graph/api/resources/channel (R):
//     membershipType is standard, private, unknownFutureValue or shared,
//     set at creation and never changed; "you must use the Prefer:
//     include-unknown-enum-members request header to get the following
//     value in this evolvable enum: shared" (without it a shared channel
//     is reported as unknownFutureValue); tenantId is the channel's
//     Microsoft Entra tenant.
//   - https://learn.microsoft.com/graph/api/channel-list (L): "Retrieve
//     the list of channels in this team" (the channels the team hosts,
//     whatever their type); "Teams members can't see private or shared
//     channels that they aren't members of", a rule of delegated calls:
//     an application (ChannelSettings.Read.All, Channel.ReadBasic.All) is
//     no member and is shown them all. $filter and $select are supported.
//   - https://learn.microsoft.com/graph/api/team-list-allchannels (A):
//     "channels either in this team or shared with this team (incoming
//     channels)", each with an @odata.id that addresses the channel under
//     its host team (.../tenants/{tenant}/teams/{host}/channels/{id}), and
//     $filter=membershipType eq 'shared' in its examples.
//   - https://learn.microsoft.com/graph/api/team-list-incomingchannels (I):
//     "channels shared with a team", with the same @odata.id.
//   - https://learn.microsoft.com/graph/api/resources/sharedwithchannelteaminfo:
//     a shared channel is shared with teams, one of which is its host
//     (isHostTeam).
//
// So a shared channel shared with another team is listed under that team
// by allChannels and incomingChannels, never by its channels list: a
// backup that lists each team's channels reads it once, under its host.
//
// What is chosen here: a channel is addressed (its messages, migration)
// only under its host team, as the @odata.id of A and I addresses it; an
// incoming channel under the team it is shared with answers 404. Channel
// messages are served alike whatever the type: ChannelMessage.Read.All is
// an application permission over every channel
// (https://learn.microsoft.com/graph/api/channel-list-messages).

const (
	membershipStandard = "standard"
	membershipPrivate  = "private"
	membershipShared   = "shared"
)

// preferAllEnums is the Prefer token that shows evolvable enum members (R).
const preferAllEnums = "include-unknown-enum-members"

// membershipReported is membershipType as Graph reports it (R).
func membershipReported(m string, allEnums bool) string {
	if m == membershipShared && !allEnums {
		return "unknownFutureValue"
	}
	return m
}

// restrictedChannels are the private and the shared channel a team has
// beside its n standard ones: each team has one of each, the shared one
// shared with the next team of the tenant. Their own random stream keeps
// the standard channels as they were.
func (t *tenant) restrictedChannels(g *group, n int) []*chatChannel {
	r := newRNG(t.seed, tagChannel, uint64(g.idx), 2)
	var out []*chatChannel
	for i, m := range []string{membershipPrivate, membershipShared} {
		created := g.created.Add(time.Duration(n+i) * time.Hour)
		ch := &chatChannel{name: restrictedNames[m], count: r.between(2, 5), base: created, created: created, membership: m}
		if m == membershipShared {
			if other, ok := t.nextTeam(g.idx); ok {
				ch.sharedWith = []int{other}
			}
		}
		out = append(out, ch)
	}
	return out
}

var restrictedNames = map[string]string{membershipPrivate: "Leads (private)", membershipShared: "Partners (shared)"}

// nextTeam is the team after group g, round the tenant's groups.
func (t *tenant) nextTeam(g int) (int, bool) {
	for i := 1; i < len(t.groups); i++ {
		o := (g + i) % len(t.groups)
		if t.groups[o].isTeam {
			return o, true
		}
	}
	return 0, false
}

// incomingChannels are the channels other teams host and share with team g.
func (t *tenant) incomingChannels(g *group) []ref {
	var out []ref
	for _, host := range t.groups {
		if !host.isTeam || host.idx == g.idx {
			continue
		}
		for i, ch := range t.chatLayout(host).list() {
			for _, o := range ch.sharedWith {
				if o == g.idx {
					out = append(out, ref{Kind: kChannel, Owner: uint32(host.idx), Index: uint32(i)})
				}
			}
		}
	}
	return out
}

// listAllChannels: GET /teams/{id}/allChannels (A), each channel with
// the @odata.id that addresses it under its host team.
func (rq *request) listAllChannels() error {
	g, aerr := rq.team()
	if aerr != nil {
		return aerr
	}
	return rq.writeChannels("teams/"+g.id+"/allChannels", "teams('"+g.id+"')/allChannels", append(hostedChannels(rq.s.t, g), rq.s.t.incomingChannels(g)...), true)
}

// listIncomingChannels: GET /teams/{id}/incomingChannels (I).
func (rq *request) listIncomingChannels() error {
	g, aerr := rq.team()
	if aerr != nil {
		return aerr
	}
	return rq.writeChannels("teams/"+g.id+"/incomingChannels", "teams('"+g.id+"')/incomingChannels", rq.s.t.incomingChannels(g), true)
}

// hostedChannels are the channels team g hosts.
func hostedChannels(t *tenant, g *group) []ref {
	var out []ref
	for i := range t.chatLayout(g).list() {
		out = append(out, ref{Kind: kChannel, Owner: uint32(g.idx), Index: uint32(i)})
	}
	return out
}

// team is the team of a request.
func (rq *request) team() (*group, *apiError) {
	g, ok := rq.s.t.groupByID(rq.params["group"])
	if !ok || !g.isTeam {
		return nil, newError(http.StatusNotFound, "NotFound", "No team found with Group Id %s", rq.params["group"])
	}
	return g, nil
}

// writeChannels sends a channel listing filtered by its $filter, which
// compares a channel's true membershipType whatever the Prefer header
// (A's example filters on 'shared' without one). withLink: each channel
// carries the @odata.id that addresses it under its host team (A, I).
func (rq *request) writeChannels(path, context string, chans []ref, withLink bool) error {
	t, aerr := rq.listOptions()
	if aerr != nil {
		return aerr
	}
	s := rq.s
	var objs []object
	for _, c := range chans {
		host := s.t.groups[c.Owner]
		truth := s.channelObject(host, c, false, true)
		if kept, _, aerr := applyFilter(t.Filter, []object{truth}); aerr != nil {
			return aerr
		} else if len(kept) == 0 {
			continue
		}
		o := rq.channelObject(host, c)
		if withLink {
			link := "https://graph.microsoft.com/v1.0/tenants/" + s.opts.TenantID + "/teams/" + host.id + "/channels/" + s.t.channelID(c)
			o = append(object{{"@odata.id", link}}, o...)
		}
		objs = append(objs, o)
	}
	return rq.writeList(path, context, t, toAny(objs), 1000)
}

// newChannelMembership reads the membershipType and members of a channel
// to create, as an application creates it:
//   - a private channel needs a member who owns it: "CreateChannel_Private:
//     Cannot create private channel, no members specified when calling from
//     an Application." (the answer quoted in
//     github.com/microsoftgraph/msgraph-sdk-dotnet/issues/1968; the
//     examples of https://learn.microsoft.com/graph/api/channel-post bind
//     an aadUserConversationMember with roles ["owner"]);
//   - a shared channel is created "with only one owner initially. Adding
//     multiple owners results in a 400 Bad Request", and is answered 202
//     Accepted (channel-post); one without an owner is refused as a
//     private one is (chosen: the documentation names no answer).
//
// Each member's user@odata.bind must name a user of the tenant.
func (t *tenant) newChannelMembership(doc map[string]any) (string, *apiError) {
	m := membershipStandard
	if raw, ok := doc["membershipType"]; ok && raw != nil {
		m, _ = raw.(string)
	}
	switch m {
	case membershipStandard:
		return m, nil
	case membershipPrivate, membershipShared:
	default:
		return "", errBadRequest("Invalid value '%v' for membershipType.", doc["membershipType"])
	}
	members, _ := doc["members"].([]any)
	owners := 0
	for _, raw := range members {
		mem, _ := raw.(map[string]any)
		if mem == nil || mem["@odata.type"] == nil {
			return "", errBadRequest("'odata.type' must be specified in the request body for each member.")
		}
		bind, _ := mem["user@odata.bind"].(string)
		key, ok := boundUser(bind)
		if !ok {
			return "", errBadRequest("Invalid user@odata.bind value '%s'.", bind)
		}
		if _, ok := t.userByKey(key); !ok {
			return "", newError(http.StatusNotFound, "NotFound", "User %s not found.", key)
		}
		roles, _ := mem["roles"].([]any)
		for _, r := range roles {
			if s, _ := r.(string); strings.EqualFold(s, "owner") {
				owners++
			}
		}
	}
	switch {
	case owners == 0 && m == membershipPrivate:
		return "", errBadRequest("CreateChannel_Private: Cannot create private channel, no members specified when calling from an Application.")
	case owners == 0:
		return "", errBadRequest("CreateChannel_Shared: Cannot create shared channel, no owner specified when calling from an Application.")
	case owners > 1 && m == membershipShared:
		return "", errBadRequest("A shared channel can be created with only one owner.")
	}
	return m, nil
}

// boundUser is the user id or principal name of a user@odata.bind,
// https://graph.microsoft.com/v1.0/users('{key}').
func boundUser(bind string) (string, bool) {
	i := strings.LastIndex(bind, "users('")
	if i < 0 || !strings.HasSuffix(bind, "')") {
		return "", false
	}
	key := bind[i+len("users('") : len(bind)-2]
	return key, key != ""
}
