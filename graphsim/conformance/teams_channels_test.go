package conformance

import (
	"net/http"
	"strings"
	"testing"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/teams"
)

// Private and shared channels as the real SDK meets them: a team's
// channels are those it hosts, of every type; allChannels adds, and
// incomingChannels lists, the channels other teams share with it, each
// addressed under its host; a shared channel's type shows only to a
// request that prefers every enum member; an application creates a
// private or shared channel only with its owner.

// channelsOf names a listing's channels: id → membershipType.
func channelsOf(list []models.Channelable) map[string]string {
	out := map[string]string{}
	for _, ch := range list {
		out[deref(ch.GetId())] = ch.GetMembershipType().String()
	}
	return out
}

func allEnums() *abs.RequestHeaders {
	h := abs.NewRequestHeaders()
	h.Add("Prefer", "include-unknown-enum-members")
	return h
}

func TestTeamChannelsListingsByMembershipType(t *testing.T) {
	e, _ := migrationEnv(t)
	var ids []string
	for _, g := range e.info.Groups {
		if _, err := e.client.Teams().ByTeamId(g.ID).Channels().Get(e.ctx, nil); err == nil {
			ids = append(ids, g.ID)
		}
	}
	if len(ids) < 2 {
		t.Fatalf("%d teams, want two", len(ids))
	}
	hosted := map[string]map[string]string{} // team → its channels, with Prefer
	for _, id := range ids {
		plain, err := e.client.Teams().ByTeamId(id).Channels().Get(e.ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		full, err := e.client.Teams().ByTeamId(id).Channels().Get(e.ctx, &teams.ItemChannelsRequestBuilderGetRequestConfiguration{Headers: allEnums()})
		if err != nil {
			t.Fatal(err)
		}
		p, f := channelsOf(plain.GetValue()), channelsOf(full.GetValue())
		hosted[id] = f
		counts := map[string]int{}
		for ch, typ := range f {
			counts[typ]++
			// Without the Prefer header a shared channel is unknownFutureValue.
			want := typ
			if typ == "shared" {
				want = "unknownFutureValue"
			}
			if p[ch] != want {
				t.Errorf("team %s channel %s: %q without Prefer, %q with it", id, ch, p[ch], typ)
			}
		}
		if counts["standard"] == 0 || counts["private"] != 1 || counts["shared"] != 1 {
			t.Fatalf("team %s hosts %v: want standard ones, a private and a shared one", id, counts)
		}
	}
	for _, id := range ids {
		in, err := e.client.Teams().ByTeamId(id).IncomingChannels().Get(e.ctx, &teams.ItemIncomingChannelsRequestBuilderGetRequestConfiguration{Headers: allEnums()})
		if err != nil {
			t.Fatal(err)
		}
		all, err := e.client.Teams().ByTeamId(id).AllChannels().Get(e.ctx, &teams.ItemAllChannelsRequestBuilderGetRequestConfiguration{Headers: allEnums()})
		if err != nil {
			t.Fatal(err)
		}
		incoming := channelsOf(in.GetValue())
		if len(incoming) == 0 {
			t.Fatalf("team %s: nothing shared with it", id)
		}
		for _, ch := range in.GetValue() {
			cid := deref(ch.GetId())
			if incoming[cid] != "shared" {
				t.Errorf("team %s: incoming channel %s is %s", id, cid, incoming[cid])
			}
			if _, ok := hosted[id][cid]; ok {
				t.Errorf("team %s lists channel %s, shared with it, among its own", id, cid)
			}
			// Its @odata.id addresses it under its host, which lists it.
			link, _ := ch.GetAdditionalData()["@odata.id"].(*string)
			host := ""
			for _, o := range ids {
				if link != nil && strings.Contains(*link, "/teams/"+o+"/channels/"+cid) {
					host = o
				}
			}
			if host == "" || host == id || hosted[host][cid] != "shared" {
				t.Errorf("team %s: incoming channel %s addressed as %v", id, cid, deref(link))
			}
		}
		// allChannels is the team's own and those shared with it.
		want := map[string]string{}
		for ch, typ := range hosted[id] {
			want[ch] = typ
		}
		for ch, typ := range incoming {
			want[ch] = typ
		}
		got := channelsOf(all.GetValue())
		if len(got) != len(want) {
			t.Errorf("team %s: allChannels %v, want %v", id, got, want)
		}
		for ch, typ := range want {
			if got[ch] != typ {
				t.Errorf("team %s: allChannels has %s as %q, want %q", id, ch, got[ch], typ)
			}
		}
		// Filtered by type, as the documentation's example does.
		filter := "membershipType eq 'shared'"
		shared, err := e.client.Teams().ByTeamId(id).AllChannels().Get(e.ctx, &teams.ItemAllChannelsRequestBuilderGetRequestConfiguration{
			QueryParameters: &teams.ItemAllChannelsRequestBuilderGetQueryParameters{Filter: &filter}})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(shared.GetValue()); n != len(incoming)+1 {
			t.Errorf("team %s: %d shared channels in allChannels, want %d", id, n, len(incoming)+1)
		}
	}
}

// ownerMember is a member who owns the channel being created.
func ownerMember(userID string) models.ConversationMemberable {
	m := models.NewAadUserConversationMember()
	typ := "#microsoft.graph.aadUserConversationMember"
	m.SetOdataType(&typ)
	m.SetRoles([]string{"owner"})
	m.SetAdditionalData(map[string]any{"user@odata.bind": "https://graph.microsoft.com/v1.0/users('" + userID + "')"})
	return m
}

func newChannel(name string, typ models.ChannelMembershipType, members ...models.ConversationMemberable) models.Channelable {
	ch := models.NewChannel()
	ch.SetDisplayName(&name)
	ch.SetMembershipType(&typ)
	if len(members) > 0 {
		ch.SetMembers(members)
	}
	return ch
}

func TestAppCreatesPrivateAndSharedChannelsOnlyWithTheirOwner(t *testing.T) {
	e, team := migrationEnv(t)
	owner, other := e.info.Users[0].ID, e.info.Users[1].ID
	channels := e.client.Teams().ByTeamId(team).Channels()

	_, err := channels.Post(e.ctx, newChannel("No owner", models.PRIVATE_CHANNELMEMBERSHIPTYPE), nil)
	if oe := odataError(t, err, http.StatusBadRequest, "BadRequest"); !strings.Contains(deref(oe.GetErrorEscaped().GetMessage()), "no members specified when calling from an Application") {
		t.Errorf("private channel without members: %s", deref(oe.GetErrorEscaped().GetMessage()))
	}
	_, err = channels.Post(e.ctx, newChannel("Two owners", models.SHARED_CHANNELMEMBERSHIPTYPE, ownerMember(owner), ownerMember(other)), nil)
	odataError(t, err, http.StatusBadRequest, "BadRequest")

	for _, typ := range []models.ChannelMembershipType{models.PRIVATE_CHANNELMEMBERSHIPTYPE, models.SHARED_CHANNELMEMBERSHIPTYPE} {
		name := "Owned " + typ.String()
		e.resetLog()
		if _, err := channels.Post(e.ctx, newChannel(name, typ, ownerMember(owner)), nil); err != nil {
			t.Fatalf("%s channel with its owner: %v", typ, err)
		}
		want := http.StatusCreated
		if typ == models.SHARED_CHANNELMEMBERSHIPTYPE {
			want = http.StatusAccepted
		}
		if got := e.requests("/channels"); len(got) != 1 || got[0].Status != want {
			t.Errorf("%s channel created: %+v, want %d", typ, got, want)
		}
		list, err := channels.Get(e.ctx, &teams.ItemChannelsRequestBuilderGetRequestConfiguration{Headers: allEnums()})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, ch := range list.GetValue() {
			if deref(ch.GetDisplayName()) == name {
				found = ch.GetMembershipType().String() == typ.String()
			}
		}
		if !found {
			t.Errorf("team lists no %s channel %q", typ, name)
		}
	}
}
