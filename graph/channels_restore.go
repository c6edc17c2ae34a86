package graph

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"

	"github.com/corso-temporal/corso/m365"
)

// A channel restore imports each thread: Graph lets an application post a
// channel message only as an import, into a channel in migration mode,
// where a message keeps its author ("from", a user of the tenant) and its
// createdDateTime (https://learn.microsoft.com/graph/teams-import-messages).
// So a restore finds or creates the target channel (EnsureContainer),
// puts it in migration mode with a creation time older than every thread
// it restores (OpenContainer: channel: startMigration), imports each
// thread's message and then its replies, inline images included, and
// completes the migration (CloseContainer: channel: completeMigration),
// which only the app that started it may do.
//
// Graph takes one message per createdDateTime in a channel and answers
// 409 Conflict to a second, so a thread posted again (a retried restore,
// or one into the original channel) is never duplicated: its message is
// found by its time and its missing replies are added.
//
// Bodies are sent raw: the SDK's JSON writer drops the milliseconds of a
// time, and the milliseconds are what make a message unique.

// importedProps are what an import keeps of a message besides its author,
// time, body and inline images; at-mentions, reactions, cards and the
// like are out of its scope ("Import content scope",
// https://learn.microsoft.com/microsoftteams/platform/graph-api/import-messages/import-external-messages-to-teams).
var importedProps = []string{"subject", "importance"}

// ensureChannel returns the team's channel named path's only name,
// creating a standard channel of that name when there is none. Teams
// names a team's channels uniquely, without regard to case; the private
// and shared channels the team hosts are found too, so a restore in place
// imports into them (startMigration takes channels of every type:
// https://learn.microsoft.com/graph/api/channel-startmigration).
//
// A new channel is standard whatever the type of the channel backed up:
// an application creates a private channel only with an owner among its
// members ("Cannot create private channel, no members specified when
// calling from an Application") and a shared one with exactly one owner
// (https://learn.microsoft.com/graph/api/channel-post), and a backup
// holds a channel's messages, not its roster, so it has no owner to name.
func (c *Client) ensureChannel(ctx context.Context, op, teamID string, path []string) (string, error) {
	if len(path) != 1 {
		return "", errors.New(op + ": channels do not nest; the path must be one name")
	}
	name := path[0]
	find := func() (string, error) {
		chans, err := c.channels(ctx, teamID)
		if err != nil {
			return "", err
		}
		for _, ch := range chans {
			if strings.EqualFold(ch.DisplayName, name) {
				return ch.ID, nil
			}
		}
		return "", nil
	}
	if id, err := find(); err != nil || id != "" {
		return id, err
	}
	body, _ := json.Marshal(map[string]string{"displayName": name, "membershipType": "standard"})
	a, err := c.send(forTeam(ctx, teamID, "teams.channel.create"), op, rawCall{method: abs.POST,
		url: c.v1("teams", teamID, "channels"), body: body, contentType: "application/json"})
	if err == nil {
		return createdID(op, a)
	}
	// Made meanwhile by a retry of this plan.
	if id, ferr := find(); ferr == nil && id != "" {
		return id, nil
	}
	return "", err
}

// targetChannel is what a restore reads of a target channel: when Graph
// says it was created, and its migration mode (a beta property:
// https://learn.microsoft.com/graph/api/resources/channel?view=graph-rest-beta).
type targetChannel struct {
	Created       time.Time `json:"createdDateTime"`
	MigrationMode string    `json:"migrationMode"`
}

func (c *Client) targetChannel(ctx context.Context, op, teamID, channelID string) (targetChannel, error) {
	var st targetChannel
	a, err := c.send(forTeam(ctx, teamID, "teams.channel"), op, rawCall{method: abs.GET,
		url: c.beta("teams", teamID, "channels", channelID) + "?" + query(url.Values{"$select": {"id,createdDateTime,migrationMode"}})})
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(a.body, &st); err != nil {
		return st, fmt.Errorf("%s: unreadable channel: %w", op, err)
	}
	return st, nil
}

// OpenContainer prepares a container for a restore to write into. A
// channel is put in migration mode, created before oldest (the first
// thread's time): Graph imports only messages later than the channel's
// createdDateTime, and startMigration may move it back
// (https://learn.microsoft.com/graph/api/channel-startmigration). A
// channel this app already migrates is left as it is. Other categories
// need nothing.
func (c *Client) OpenContainer(ctx context.Context, resourceID string, cat Category, containerID string, oldest time.Time) error {
	if cat != m365.ChannelMessages {
		return nil
	}
	op := fmt.Sprintf("start migration of channel %s of team %s", containerID, resourceID)
	st, err := c.targetChannel(ctx, op, resourceID, containerID)
	if err != nil {
		return err
	}
	if st.MigrationMode == "inProgress" {
		return nil
	}
	// Older than every thread restored into it, and strictly older than
	// the channel's own time when Graph tells it (it may not for a
	// channel never migrated).
	var since time.Time
	switch {
	case !oldest.IsZero() && (st.Created.IsZero() || oldest.Add(-time.Second).Before(st.Created)):
		since = oldest.Add(-time.Second)
	case !st.Created.IsZero():
		since = st.Created.Add(-time.Millisecond)
	}
	call := rawCall{method: abs.POST, url: c.v1("teams", resourceID, "channels", containerID, "startMigration")}
	if !since.IsZero() {
		call.body, _ = json.Marshal(map[string]string{"conversationCreationDateTime": since.UTC().Format(time.RFC3339Nano)})
		call.contentType = "application/json"
	}
	_, err = c.send(forTeam(ctx, resourceID, "teams.channel.startMigration"), op, call)
	return err
}

// CloseContainer ends what OpenContainer began: a channel's migration is
// completed, which shows its imported messages to everyone and lets them
// post again (https://learn.microsoft.com/graph/api/channel-completemigration).
// A channel no longer migrating (a retry after it was completed) is left
// as it is.
func (c *Client) CloseContainer(ctx context.Context, resourceID string, cat Category, containerID string) error {
	if cat != m365.ChannelMessages {
		return nil
	}
	op := fmt.Sprintf("complete migration of channel %s of team %s", containerID, resourceID)
	st, err := c.targetChannel(ctx, op, resourceID, containerID)
	if err != nil || st.MigrationMode != "inProgress" {
		return err
	}
	_, err = c.send(forTeam(ctx, resourceID, "teams.channel.completeMigration"), op, rawCall{method: abs.POST,
		url: c.v1("teams", resourceID, "channels", containerID, "completeMigration")})
	return err
}

// listedThread is a top-level message as the target lists it, with its
// replies ($expand=replies shows up to 1000 of them; more are listed on:
// https://learn.microsoft.com/graph/api/channel-list-messages).
type listedThread struct {
	m365.ThreadMessage
	Replies     []m365.ThreadMessage `json:"replies"`
	RepliesMore string               `json:"replies@odata.nextLink"`
}

// existingThreads lists a channel's threads with their collision keys
// (m365.ThreadKey).
func (c *Client) existingThreads(ctx context.Context, op, teamID, channelID string) ([]ExistingItem, error) {
	ctx = forTeam(ctx, teamID, "teams.messages.list")
	link := c.v1("teams", teamID, "channels", channelID, "messages") + "?" +
		query(url.Values{"$top": {strconv.Itoa(channelPageSize)}, "$expand": {"replies"}})
	threads, err := listAll[listedThread](ctx, c, op, link)
	if err != nil {
		return nil, err
	}
	var out []ExistingItem
	for _, th := range threads {
		if th.Deleted != nil {
			continue
		}
		replies := th.Replies
		if th.RepliesMore != "" {
			more, err := listAll[m365.ThreadMessage](forTeam(ctx, teamID, "teams.replies"), c, op, th.RepliesMore)
			if err != nil {
				return nil, err
			}
			replies = append(replies, more...)
		}
		n := 0
		for _, r := range replies {
			if r.Deleted == nil {
				n++
			}
		}
		out = append(out, ExistingItem{ID: th.ID, Created: th.Created,
			Key: m365.ThreadKey(th.Author(), th.Created, th.Body.Content, n)})
	}
	return out, nil
}

// restoreThread imports a stored m365.ChannelThread into a channel in
// migration mode: its message, then each reply a user wrote, in order.
func (c *Client) restoreThread(ctx context.Context, op, teamID, channelID string, stored []byte) (string, error) {
	var th m365.ChannelThread
	if err := json.Unmarshal(stored, &th); err != nil || len(th.Message) == 0 {
		return "", fmt.Errorf("%s: not a stored thread: %w", op, ErrUnrestorable)
	}
	var top m365.ThreadMessage
	if err := json.Unmarshal(th.Message, &top); err != nil {
		return "", fmt.Errorf("%s: stored message: %w: %v", op, ErrUnrestorable, err)
	}
	if !top.Importable() {
		return "", fmt.Errorf("%s: the thread starts with a %s, which has no author to import it as (Graph imports only messages users wrote): %w",
			op, top.MessageType, ErrUnrestorable)
	}
	messages := c.v1("teams", teamID, "channels", channelID, "messages")
	id, err := c.importMessage(ctx, op, teamID, messages, th.Message, th.HostedContents)
	var ae *apiError
	if errors.As(err, &ae) && ae.status == http.StatusConflict {
		// Imported before: the thread is the message of that time.
		id, err = c.messageAt(ctx, op, teamID, messages, top.Created)
	}
	if err != nil {
		return "", err
	}
	replies := messages + "/" + url.PathEscape(id) + "/replies"
	for _, raw := range th.Replies {
		var r m365.ThreadMessage
		if err := json.Unmarshal(raw, &r); err != nil {
			return "", fmt.Errorf("%s: stored reply: %w: %v", op, ErrUnrestorable, err)
		}
		if !r.Importable() {
			continue
		}
		_, err := c.importMessage(ctx, op, teamID, replies, raw, th.HostedContents)
		if errors.As(err, &ae) && ae.status == http.StatusConflict {
			continue // imported before
		}
		if err != nil {
			return "", err
		}
	}
	return id, nil
}

// importMessage posts one stored message or reply to a message list (a
// channel's messages or a message's replies) as an import.
func (c *Client) importMessage(ctx context.Context, op, teamID, listURL string, raw json.RawMessage, hosted []m365.HostedContent) (string, error) {
	body, err := importBody(raw, hosted)
	if err != nil {
		return "", fmt.Errorf("%s: %w: %v", op, ErrUnrestorable, err)
	}
	a, err := c.send(forTeam(ctx, teamID, "teams.message.import"), op, rawCall{method: abs.POST, url: listURL,
		body: body, contentType: "application/json"})
	if err != nil {
		return "", unrestorable(err)
	}
	return createdID(op, a)
}

// importBody is what an import posts of a stored message: its author, its
// createdDateTime exactly as stored, its body, the importedProps, its
// attachments that reference files, and its inline images, which the
// body then shows as "../hostedContents/{n}/$value".
func importBody(raw json.RawMessage, hosted []m365.HostedContent) ([]byte, error) {
	var props map[string]json.RawMessage
	if err := json.Unmarshal(raw, &props); err != nil {
		return nil, err
	}
	var m m365.ThreadMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	out := map[string]any{
		"createdDateTime": props["createdDateTime"],
		"from": map[string]any{"user": map[string]any{
			"id": m.Author(), "displayName": m.From.User.DisplayName, "userIdentityType": "aadUser"}},
	}
	for _, k := range importedProps {
		if v, ok := props[k]; ok && string(v) != "null" {
			out[k] = v
		}
	}
	var atts []map[string]any
	_ = json.Unmarshal(props["attachments"], &atts)
	refs := []map[string]any{}
	for _, a := range atts {
		if a["contentType"] == "reference" {
			refs = append(refs, a)
		}
	}
	out["attachments"] = refs
	content := m.Body.Content
	var inline []map[string]any
	for _, hc := range hosted {
		if hc.MessageID != m.ID {
			continue
		}
		addr := hostedContentAddress(hc.ID)
		if !strings.Contains(content, addr) {
			continue
		}
		tmp := strconv.Itoa(len(inline) + 1)
		content = replaceAddress(content, addr, "../hostedContents/"+tmp+"/$value")
		inline = append(inline, map[string]any{"@microsoft.graph.temporaryId": tmp,
			"contentBytes": base64.StdEncoding.EncodeToString(hc.ContentBytes), "contentType": hc.ContentType})
	}
	if len(inline) > 0 {
		out["hostedContents"] = inline
	}
	out["body"] = map[string]string{"contentType": m.Body.ContentType, "content": content}
	return json.Marshal(out)
}

// hostedContentAddress is how a body shows an inline image: the tail of
// its $value address (the body may escape the id's characters).
func hostedContentAddress(id string) string { return hostedContentsMarker + id + "/$value" }

// replaceAddress replaces each whole address in body that ends with tail
// (the src attribute's value) with to.
func replaceAddress(body, tail, to string) string {
	var b strings.Builder
	for {
		i := strings.Index(body, tail)
		if i < 0 {
			b.WriteString(body)
			return b.String()
		}
		start := strings.LastIndexAny(body[:i], "\"' ") + 1
		b.WriteString(body[:start])
		b.WriteString(to)
		body = body[i+len(tail):]
	}
}

// messageAt finds the channel's message created at t: the thread a
// conflicting import met.
func (c *Client) messageAt(ctx context.Context, op, teamID, messagesURL string, t time.Time) (string, error) {
	link := messagesURL + "?" + query(url.Values{"$top": {strconv.Itoa(channelPageSize)}})
	msgs, err := listAll[m365.ThreadMessage](forTeam(ctx, teamID, "teams.messages.list"), c, op, link)
	if err != nil {
		return "", err
	}
	for _, m := range msgs {
		if m.Created.Truncate(time.Millisecond).Equal(t.Truncate(time.Millisecond)) {
			return m.ID, nil
		}
	}
	return "", fmt.Errorf("%s: Graph has a message created at %s in the channel but does not list it", op, t.Format(time.RFC3339Nano))
}

// deleteThread refuses: Graph lets no application delete a channel
// message (chatMessage: softDelete takes delegated permissions only,
// https://learn.microsoft.com/graph/api/chatmessage-softdelete).
func deleteThread(op string) error {
	return &m365.Fault{Class: m365.ItemSkipped, Cause: "channelMessageDelete",
		Err: fmt.Errorf("%s: %w: an application cannot delete a channel message", op, ErrUnrestorable)}
}
