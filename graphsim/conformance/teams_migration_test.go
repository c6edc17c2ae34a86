package conformance

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/corso-temporal/corso/graphsim"
)

// Message import into a Teams channel as the real SDK meets it: an app
// posts a message only into a channel in migration mode, as a user of the
// tenant, at a time after the channel's creation, not in the future and
// not taken; only a channel in migration mode can complete it; while it
// is in migration mode nobody else can post in it.

// migrationEnv is a simulated tenant whose clock stands still, so Teams'
// rate limits are off.
func migrationEnv(t *testing.T) (*env, string) {
	e := newEnv(t, func(o *graphsim.Options) {
		o.Tenant.Groups = 3
		o.Throttle.Teams.Disabled = true
	})
	for _, g := range e.info.Groups {
		if _, err := e.client.Teams().ByTeamId(g.ID).Channels().Get(e.ctx, nil); err == nil {
			return e, g.ID
		}
	}
	t.Fatal("the tenant has no team")
	return nil, ""
}

// importedMessage is a message as an import posts it.
func importedMessage(from string, at time.Time, html string) models.ChatMessageable {
	m := models.NewChatMessage()
	u := models.NewTeamworkUserIdentity()
	u.SetId(&from)
	typ := models.AADUSER_TEAMWORKUSERIDENTITYTYPE
	u.SetUserIdentityType(&typ)
	set := models.NewChatMessageFromIdentitySet()
	set.SetUser(u)
	m.SetFrom(set)
	if !at.IsZero() {
		m.SetCreatedDateTime(&at)
	}
	body := models.NewItemBody()
	ct := models.HTML_BODYTYPE
	body.SetContentType(&ct)
	body.SetContent(&html)
	m.SetBody(body)
	return m
}

// postAction posts a JSON body (or none) to a channel action the SDK has
// no builder for.
func (e *env) postAction(team, channel, action, body string) error {
	ri := abs.NewRequestInformation()
	ri.Method = abs.POST
	ri.UrlTemplate = "{+baseurl}/teams/{team}/channels/{channel}/" + action
	ri.PathParameters = map[string]string{"baseurl": e.adapter.GetBaseUrl(), "team": team, "channel": channel}
	if body != "" {
		ri.SetStreamContentAndContentType([]byte(body), "application/json")
	}
	return e.adapter.SendNoContent(e.ctx, ri, abs.ErrorMappings{"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue})
}

func TestChannelMessageImportRules(t *testing.T) {
	t.Parallel()
	e, team := migrationEnv(t)
	now := e.clock.Now()
	author := e.info.Users[1].ID
	chans := e.client.Teams().ByTeamId(team).Channels()

	// Outside migration mode an app cannot post.
	list, err := chans.Get(e.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	general := *list.GetValue()[0].GetId()
	_, err = chans.ByChannelId(general).Messages().Post(e.ctx, importedMessage(author, now.Add(-time.Hour), "<p>hi</p>"), nil)
	if oe := odataError(t, err, http.StatusUnauthorized, "Unauthorized"); !strings.Contains(deref(oe.GetErrorEscaped().GetMessage()), "only for import purposes") {
		t.Fatalf("refusal %q", deref(oe.GetErrorEscaped().GetMessage()))
	}
	// Nor can a channel be completed that is not migrating.
	odataError(t, e.postAction(team, general, "completeMigration", ""), http.StatusBadRequest, "BadRequest")

	// A channel created for migration, back in time; not in the future,
	// and createdDateTime only with the creation mode.
	newChannel := func(name string, created time.Time, migration bool) (models.Channelable, error) {
		c := models.NewChannel()
		c.SetDisplayName(&name)
		mt := models.STANDARD_CHANNELMEMBERSHIPTYPE
		c.SetMembershipType(&mt)
		c.SetCreatedDateTime(&created)
		if migration {
			c.SetAdditionalData(map[string]any{"@microsoft.graph.channelCreationMode": "migration"})
		}
		return chans.Post(e.ctx, c, nil)
	}
	chanCreated := now.AddDate(0, -2, 0)
	_, err = newChannel("Future", now.Add(time.Hour), true)
	odataError(t, err, http.StatusBadRequest, "BadRequest")
	_, err = newChannel("No mode", chanCreated, false)
	odataError(t, err, http.StatusBadRequest, "BadRequest")
	ch, err := newChannel("Imported", chanCreated, true)
	if err != nil {
		t.Fatal(err)
	}
	id := *ch.GetId()
	msgs := chans.ByChannelId(id).Messages()

	// The author must be a user of the tenant; the time after the
	// channel's creation and not in the future.
	// Whole seconds: the SDK's JSON writer formats times as RFC 3339
	// without fractions (kiota-serialization-json-go WriteTimeValue), so a
	// client that keeps an original's milliseconds sends raw JSON.
	at := chanCreated.Add(24 * time.Hour)
	for _, bad := range []models.ChatMessageable{
		importedMessage("00000000-0000-0000-0000-000000000000", at, "x"),
		importedMessage(author, chanCreated.Add(-time.Minute), "x"),
		importedMessage(author, now.Add(time.Minute), "x"),
	} {
		_, err := msgs.Post(e.ctx, bad, nil)
		odataError(t, err, http.StatusBadRequest, "BadRequest")
	}
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 100)...)
	top := importedMessage(author, at, `<p>look</p><img src="../hostedContents/1/$value">`)
	hc := models.NewChatMessageHostedContent()
	hc.SetContentBytes(png)
	pngType := "image/png"
	hc.SetContentType(&pngType)
	hc.SetAdditionalData(map[string]any{"@microsoft.graph.temporaryId": "1"})
	top.SetHostedContents([]models.ChatMessageHostedContentable{hc})
	posted, err := msgs.Post(e.ctx, top, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !posted.GetCreatedDateTime().Equal(at) || *posted.GetFrom().GetUser().GetId() != author {
		t.Fatalf("imported as created %v by %v, want %v by %s", posted.GetCreatedDateTime(), *posted.GetFrom().GetUser().GetId(), at, author)
	}
	// The inline image is the message's own now.
	hcs, err := msgs.ByChatMessageId(*posted.GetId()).HostedContents().Get(e.ctx, nil)
	if err != nil || len(hcs.GetValue()) != 1 {
		t.Fatalf("hosted contents %v, %v", hcs, err)
	}
	if !strings.Contains(*posted.GetBody().GetContent(), "/messages/"+*posted.GetId()+"/hostedContents/"+*hcs.GetValue()[0].GetId()+"/$value") {
		t.Fatalf("body %q does not show its hosted content", *posted.GetBody().GetContent())
	}
	// The same createdDateTime again, as a message or a reply: 409.
	_, err = msgs.Post(e.ctx, importedMessage(author, at, "again"), nil)
	odataError(t, err, http.StatusConflict, "Conflict")
	replies := msgs.ByChatMessageId(*posted.GetId()).Replies()
	_, err = replies.Post(e.ctx, importedMessage(author, at, "again"), nil)
	odataError(t, err, http.StatusConflict, "Conflict")
	reply, err := replies.Post(e.ctx, importedMessage(author, at.Add(time.Minute), "<p>answer</p>"), nil)
	if err != nil || *reply.GetReplyToId() != *posted.GetId() {
		t.Fatalf("reply %v, %v", reply, err)
	}
	// Users cannot post while the channel migrates.
	if res := e.sim.Mutate([]graphsim.MutateOp{{Op: "add", Kind: "channelMessage", Team: team, Channel: id}}); len(res) != 1 || res[0].Error == "" {
		t.Fatalf("a user posted in a migrating channel: %+v", res)
	}

	// Completed, the channel takes no more imports, and cannot complete
	// again; startMigration opens it again, back to an older time only.
	if err := e.postAction(team, id, "completeMigration", ""); err != nil {
		t.Fatal(err)
	}
	odataError(t, e.postAction(team, id, "completeMigration", ""), http.StatusBadRequest, "BadRequest")
	_, err = msgs.Post(e.ctx, importedMessage(author, at.Add(2*time.Minute), "late"), nil)
	odataError(t, err, http.StatusUnauthorized, "Unauthorized")
	odataError(t, e.postAction(team, id, "startMigration", `{"conversationCreationDateTime":"`+chanCreated.Add(time.Hour).Format(time.RFC3339)+`"}`),
		http.StatusBadRequest, "BadRequest")
	older := chanCreated.AddDate(-1, 0, 0)
	if err := e.postAction(team, id, "startMigration", `{"conversationCreationDateTime":"`+older.Format(time.RFC3339)+`"}`); err != nil {
		t.Fatal(err)
	}
	if _, err := msgs.Post(e.ctx, importedMessage(author, older.Add(time.Hour), "older"), nil); err != nil {
		t.Fatal(err)
	}
	if err := e.postAction(team, id, "completeMigration", ""); err != nil {
		t.Fatal(err)
	}
	got, err := chans.ByChannelId(id).Messages().Get(e.ctx, nil)
	if err != nil || len(got.GetValue()) != 2 {
		t.Fatalf("the channel lists %v messages (%v), want 2", len(got.GetValue()), err)
	}
}
