package graph

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/m365"
)

// readThreads enumerates every channel of a team by delta, from link (one
// per channel; empty: a new round), or with listed by listing it, reads
// each thread reported, and returns channel id/message id → SHA-256 of
// each stored message and reply (and channel id/message id/hosted content
// id → SHA-256 of each stored inline image), the deleted messages the rounds
// reported, and each channel's new delta link.
func readThreads(t *testing.T, c *Client, teamID string, links map[string]string, listed bool) (map[string]string, []string, map[string]string) {
	t.Helper()
	ctx := context.Background()
	chans, err := c.Containers(ctx, teamID, m365.ChannelMessages)
	if err != nil {
		t.Fatal(err)
	}
	got, next := map[string]string{}, map[string]string{}
	var removed []string
	for _, ch := range chans {
		if len(ch.Path) != 1 || ch.Path[0] != ch.DisplayName || ch.Category != m365.ChannelMessages {
			t.Fatalf("channel %+v", ch)
		}
		link := links[ch.ID]
		for {
			page := c.DeltaPage
			if listed {
				page = c.ListPage
			}
			p, err := page(ctx, teamID, m365.ChannelMessages, ch.ID, link)
			if err != nil {
				t.Fatal(err)
			}
			for _, chg := range p.Changes {
				if chg.Removed {
					removed = append(removed, chg.ID)
					continue
				}
				body, err := c.FetchItemIn(ctx, teamID, m365.ChannelMessages, ch.ID, chg.ID)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(body)
				body.Close()
				meta := body.(m365.MetaReader).ItemMeta()
				if meta.Subject == "" || meta.Received.IsZero() || meta.Size != int64(len(b)) {
					t.Fatalf("thread %s: details %+v", chg.ID, meta)
				}
				var th m365.ChannelThread
				if err := json.Unmarshal(b, &th); err != nil {
					t.Fatal(err)
				}
				for _, m := range append([]json.RawMessage{th.Message}, th.Replies...) {
					var id struct {
						ID string `json:"id"`
					}
					_ = json.Unmarshal(m, &id)
					sum := sha256.Sum256(m)
					got[ch.ID+"/"+id.ID] = hex.EncodeToString(sum[:])
				}
				for _, hc := range th.HostedContents {
					if hc.ContentType == "" || len(hc.ContentBytes) == 0 {
						t.Fatalf("thread %s: hosted content %s of %s has %d bytes of type %q", chg.ID, hc.ID, hc.MessageID, len(hc.ContentBytes), hc.ContentType)
					}
					sum := sha256.Sum256(hc.ContentBytes)
					got[ch.ID+"/"+hc.MessageID+"/"+hc.ID] = hex.EncodeToString(sum[:])
				}
			}
			if p.DeltaLink != "" || listed && p.NextLink == "" {
				next[ch.ID] = p.DeltaLink
				break
			}
			link = p.NextLink
		}
	}
	return got, removed, next
}

func channelState(e *env, teamID string) map[string]string {
	out := map[string]string{}
	for _, it := range e.state("", "channels").Items {
		if it.ResourceID == teamID {
			out[it.CollectionID+"/"+it.ID] = it.Hash
		}
	}
	return out
}

// TestTeamThreadsThroughTheSDK: a team's channels, listed and read thread
// by thread, hold exactly the tenant's messages and replies, byte for
// byte; a first delta round reaches back eight months only; the next
// round lists a deleted message as removed and an edited one again,
// however old.
func TestTeamThreadsThroughTheSDK(t *testing.T) {
	e := newEnv(t, nil)
	// The simulator's clock stands still: Teams' rates would never refill.
	e.sim.SetThrottle(graphsim.ThrottleOptions{Teams: graphsim.TeamsLimits{Disabled: true}})
	c := e.client(nil)
	groups, err := c.ResolveGroups(context.Background(), []string{"*"}, true)
	if err != nil {
		t.Fatal(err)
	}
	var team m365.Mailbox
	for _, g := range groups {
		if g.Unavailable == "" && team.ID == "" {
			team = g
		}
	}
	if team.ID == "" || len(groups) != len(e.info.Groups) {
		t.Fatalf("groups %+v, tenant has %d", groups, len(e.info.Groups))
	}
	want := channelState(e, team.ID)
	got, removed, _ := readThreads(t, c, team.ID, nil, true)
	if len(want) < 5 || len(removed) != 0 {
		t.Fatalf("%d messages in the tenant, %d removed in a listing", len(want), len(removed))
	}
	// Each thread's message came with its page: a thread costs the one
	// request for its replies. Read again, it is fetched whole.
	st := c.Stats().Requests
	threads := st["teams.replies"]
	if st["teams.message"] != 0 || threads == 0 {
		t.Fatalf("requests %v", st)
	}
	// Inline images are stored with their thread, byte for byte (compared
	// with the rest below); only a message or reply that shows one asks
	// for them, reading each image from the address its body shows: one
	// request an image, none listing them.
	images, withImages := 0, map[string]bool{}
	for _, it := range e.state("", "channels").Items {
		if it.ResourceID == team.ID && it.Kind == "hostedContent" {
			images++
			withImages[it.CollectionID+"/"+it.ID[:strings.IndexByte(it.ID, '/')]] = true
		}
	}
	if images == 0 || st["teams.hostedContents"] != int64(images) {
		t.Fatalf("%d hosted content requests for %d images in %d messages, want one read an image", st["teams.hostedContents"], images, len(withImages))
	}
	chans, _ := c.Containers(context.Background(), team.ID, m365.ChannelMessages)
	p, err := c.ListPage(context.Background(), team.ID, m365.ChannelMessages, chans[0].ID, "")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		body, err := c.FetchItemIn(context.Background(), team.ID, m365.ChannelMessages, chans[0].ID, p.Changes[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		body.Close()
	}
	if n := c.Stats().Requests["teams.message"]; n != 1 {
		t.Fatalf("a thread read twice from one page GET its message %d times, want once (the second read)", n)
	}
	recent, _, links := readThreads(t, c, team.ID, nil, false)
	for k := range recent {
		if _, ok := want[k]; !ok {
			t.Fatalf("delta reported %s, which the tenant does not have", k)
		}
	}
	if len(recent) >= len(want) {
		t.Fatalf("a first delta round reported all %d messages and replies; its horizon is eight months", len(want))
	}
	if len(got) != len(want) {
		t.Fatalf("read %d messages, replies and inline images, the tenant has %d", len(got), len(want))
	}
	for k, h := range want {
		if got[k] != h {
			t.Fatalf("%s: read %q, tenant %q", k, got[k], h)
		}
	}

	var channel, edited, deleted string
	for ch := range links {
		channel = ch
		break
	}
	for _, it := range e.state("", "channels").Items {
		if it.ResourceID != team.ID || it.CollectionID != channel || it.Kind != "channelMessage" {
			continue // replies are read with their thread, never listed
		}
		switch {
		case edited == "":
			edited = it.ID
		case deleted == "":
			deleted = it.ID
		}
	}
	e.mutate(graphsim.MutateOp{Op: "modify", ID: edited, Team: team.ID, Channel: channel},
		graphsim.MutateOp{Op: "delete", ID: deleted, Team: team.ID, Channel: channel})
	got, removed, _ = readThreads(t, c, team.ID, links, false)
	if len(removed) != 1 || removed[0] != deleted {
		t.Fatalf("second round removed %v, want [%s]", removed, deleted)
	}
	if _, ok := got[channel+"/"+edited]; !ok {
		t.Fatalf("second round did not list the edited message %s: %v", edited, got)
	}
}

// TestResolveGroupsNamesTeamsAndRefusesOthers: a team resolves by name,
// address or id; a group without a team or an unknown name fails, naming
// why.
func TestResolveGroupsNamesTeamsAndRefusesOthers(t *testing.T) {
	// Groups 0 and 1 have a team, group 2 none.
	e := newDriveEnv(t, graphsim.TenantOptions{Seed: 10, Users: 2, Groups: 3, Sites: -1, ItemsPerUser: 5}, nil, nil)
	c := e.client(nil)
	all, err := c.ResolveGroups(context.Background(), []string{"*"}, true)
	if err != nil {
		t.Fatal(err)
	}
	var team, plain m365.Mailbox
	for _, g := range all {
		if g.Unavailable == "" {
			team = g
		} else {
			plain = g
		}
	}
	if team.ID == "" {
		t.Fatal("no team in the tenant")
	}
	for _, sel := range []string{team.DisplayName, team.UPN, team.ID} {
		got, err := c.ResolveGroups(context.Background(), []string{sel}, true)
		if err != nil || len(got) != 1 || got[0].ID != team.ID {
			t.Fatalf("%q: %+v %v", sel, got, err)
		}
	}
	_, err = c.ResolveGroups(context.Background(), []string{"No Such Group"}, true)
	if !errors.Is(err, ErrUnknownResource) {
		t.Fatalf("unknown group: %v", err)
	}
	if plain.ID == "" {
		t.Fatal("the tenant has no group without a team")
	}
	{
		if plain.Unavailable != m365.CauseNoTeam {
			t.Fatalf("group without a team: %+v", plain)
		}
		if _, err := c.ResolveGroups(context.Background(), []string{plain.ID}, true); !errors.Is(err, ErrUnknownResource) {
			t.Fatalf("group without a team resolved: %v", err)
		}
		// Its mailbox's conversations can be backed up: it resolves
		// when teams are not required, and has no channels.
		got, err := c.ResolveGroups(context.Background(), []string{plain.ID}, false)
		if err != nil || len(got) != 1 || got[0].Unavailable != "" {
			t.Fatalf("group without a team, teams not required: %+v %v", got, err)
		}
		if _, err := c.Containers(context.Background(), plain.ID, m365.ChannelMessages); !errors.Is(err, ErrNotFound) {
			t.Fatalf("channels of a group without a team: %v", err)
		}
	}
}

// TestChannelsAreTheTeamsOwnWhateverTheirType: a team's channels are
// every channel it hosts, standard, private or shared, and none that
// another team shares with it, which is backed up under its host.
func TestChannelsAreTheTeamsOwnWhateverTheirType(t *testing.T) {
	e := newEnv(t, nil)
	e.sim.SetThrottle(graphsim.ThrottleOptions{Teams: graphsim.TeamsLimits{Disabled: true}})
	c := e.client(nil)
	ctx := context.Background()
	teams, err := c.ResolveGroups(ctx, []string{"*"}, true)
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]int{} // membershipType of the channels listed
	incoming := 0
	for _, team := range teams {
		if team.Unavailable != "" {
			continue
		}
		chans, err := c.Containers(ctx, team.ID, m365.ChannelMessages)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, ch := range chans {
			got[ch.ID] = true
		}
		// allChannels names each channel's host team in its @odata.id.
		all, _ := e.graphGet("teams/" + team.ID + "/allChannels")["value"].([]any)
		for _, raw := range all {
			ch := raw.(map[string]any)
			id, _ := ch["id"].(string)
			link, _ := ch["@odata.id"].(string)
			hosted := strings.Contains(link, "/teams/"+team.ID+"/channels/")
			if !hosted {
				incoming++
			}
			if got[id] != hosted {
				t.Errorf("team %s: channel %s (%v, hosted: %v) listed: %v", team.ID, ch["displayName"], ch["membershipType"], hosted, got[id])
			}
			if hosted {
				types[ch["membershipType"].(string)]++
			}
			delete(got, id)
		}
		for id := range got {
			t.Errorf("team %s: channel %s listed, not among its channels", team.ID, id)
		}
	}
	// A shared channel shows as unknownFutureValue without Prefer:
	// include-unknown-enum-members.
	if types["standard"] == 0 || types["private"] == 0 || types["unknownFutureValue"] == 0 || incoming == 0 {
		t.Fatalf("the tenant's teams host channels %v and %d are shared with another: want each type and some shared", types, incoming)
	}
}

// TestHostedContentIDsAreTheImagesABodyShows: each id once, in order,
// unescaped; nothing for a body without an image.
func TestHostedContentIDsAreTheImagesABodyShows(t *testing.T) {
	const base = "https://graph.microsoft.com/v1.0/teams/t/channels/19:c@thread.tacv2/messages/1/hostedContents/"
	body := `<p>see <img src="` + base + `aWQ9eF8wLXd1cy1kMSUzRA%3D%3D/$value" width="10"></p>` +
		`<p><img src='` + base + `second/$value'> and again <img src="` + base + `aWQ9eF8wLXd1cy1kMSUzRA==/$value"></p>`
	if got, want := hostedContentIDs(body), []string{"aWQ9eF8wLXd1cy1kMSUzRA==", "second"}; !slices.Equal(got, want) {
		t.Fatalf("ids %q, want %q", got, want)
	}
	if got := hostedContentIDs("<p>no image here: /hostedContents/ without an address</p>"); len(got) != 0 {
		t.Fatalf("ids %q of a body without an image", got)
	}
}
