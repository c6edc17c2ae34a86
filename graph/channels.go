package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"sync"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"

	"github.com/corso-temporal/corso/m365"
)

// A team's channels are the containers of its messages, and each top-level
// message is stored with its replies as one thread (m365.ChannelThread).
//
// Graph's channel message delta lists a channel's top-level messages
// "without the replies"; replies are read with "list replies"
// (https://learn.microsoft.com/graph/api/chatmessage-delta,
// https://learn.microsoft.com/graph/api/chatmessage-list-replies). A
// deleted message stays in the channel with deletedDateTime set, and delta
// reports it so rather than as @removed; the backup drops it, as Teams
// shows it only as "This message has been deleted". Inline images pasted
// into a message (hosted contents) are stored in its thread.
//
// Teams allows an app four requests per second on one team or channel
// and twenty channel message reads per second in a tenant: a team's
// requests are marked forTeam and paced (pacing.go).

// channelPageSize is $top of channel message pages: Graph serves at most
// 50 channel messages a page.
const channelPageSize = 50

// channels lists the channels a team hosts: standard, private and shared,
// each a container whose path is its name. "List channels" gives an
// application every channel "in this team", private and shared ones
// included (members only see theirs), and not the channels other teams
// share with it, which allChannels and incomingChannels add
// (https://learn.microsoft.com/graph/api/channel-list,
// https://learn.microsoft.com/graph/api/team-list-allchannels): so a
// shared channel is backed up once, under its host team, however many
// teams it is shared with.
func (c *Client) channels(ctx context.Context, teamID string) ([]Container, error) {
	ctx = forTeam(ctx, teamID, "teams.channels")
	op := "list channels of team " + teamID
	link := c.v1("teams", teamID, "channels") + "?" + query(url.Values{"$select": {"id,displayName,membershipType"}})
	type channel struct {
		ID   string `json:"id"`
		Name string `json:"displayName"`
	}
	chans, err := listAll[channel](ctx, c, op, link)
	if err != nil {
		return nil, err
	}
	out := make([]Container, 0, len(chans))
	for _, ch := range chans {
		out = append(out, Container{ID: ch.ID, DisplayName: ch.Name, Path: []string{ch.Name}, Category: m365.ChannelMessages})
	}
	return out, nil
}

// channelMessage is what a page of channel messages tells of each.
type channelMessage struct {
	ID           string          `json:"id"`
	Modified     *time.Time      `json:"lastModifiedDateTime"`
	Created      *time.Time      `json:"createdDateTime"`
	Deleted      *time.Time      `json:"deletedDateTime"`
	Subject      *string         `json:"subject"`
	MessageType  string          `json:"messageType"`
	From         json.RawMessage `json:"from"`
	Body         messageBody     `json:"body"`
	Removed      json.RawMessage `json:"@removed"`
	ReplyToID    *string         `json:"replyToId"`
	Attachments  json.RawMessage `json:"attachments"`
	ChannelIdent json.RawMessage `json:"channelIdentity"`
}

type messageBody struct {
	ContentType string `json:"contentType"`
	Content     string `json:"content"`
}

// change is the message as a delta or list entry.
func (m channelMessage) change() Change {
	ch := Change{ID: m.ID, Removed: m.Deleted != nil || len(m.Removed) > 0}
	if !ch.Removed {
		ch.ModTime = timeOf(m.Modified)
		ch.Meta = m.meta()
	}
	return ch
}

// meta is what details record of a thread's top-level message.
func (m channelMessage) meta() ItemMeta {
	meta := ItemMeta{Sender: m365.ChatSender(m.From), Received: timeOf(m.Created)}
	if m.Subject != nil && *m.Subject != "" {
		meta.Subject = *m.Subject
	} else {
		meta.Subject = m365.ChatPreview(m.Body.ContentType, m.Body.Content)
	}
	if meta.Subject == "" {
		// A system event (a member added, a channel renamed) has no
		// text: its type names it.
		meta.Subject = m.MessageType
	}
	return meta
}

// channelMessagesDelta reads one page of a channel's message delta.
func (c *Client) channelMessagesDelta(ctx context.Context, teamID, channelID, link string) (Page, error) {
	if link == "" {
		link = c.v1("teams", teamID, "channels", channelID, "messages", "delta") + "?" + query(url.Values{"$top": {strconv.Itoa(channelPageSize)}})
	}
	return c.channelMessagePage(forTeam(ctx, teamID, "teams.messages.delta"), "delta of channel "+channelID+" of team "+teamID, teamID, channelID, link, true)
}

// listedChannelMessages lists a channel's top-level messages without delta.
func (c *Client) listedChannelMessages(ctx context.Context, teamID, channelID, link string) (Page, error) {
	if link == "" {
		link = c.v1("teams", teamID, "channels", channelID, "messages") + "?" + query(url.Values{"$top": {strconv.Itoa(channelPageSize)}})
	}
	p, err := c.channelMessagePage(forTeam(ctx, teamID, "teams.messages.list"), "list messages of channel "+channelID+" of team "+teamID, teamID, channelID, link, false)
	if err != nil {
		return Page{}, err
	}
	// A listing reports no deletion: a deleted message is simply left out.
	live := p.Changes[:0]
	for _, ch := range p.Changes {
		if !ch.Removed {
			live = append(live, ch)
		}
	}
	p.Changes = live
	return p, nil
}

func (c *Client) channelMessagePage(ctx context.Context, op, teamID, channelID, link string, delta bool) (Page, error) {
	a, err := c.send(ctx, op, rawCall{method: abs.GET, url: link})
	if err != nil {
		return Page{}, err
	}
	var page struct {
		Value []json.RawMessage `json:"value"`
		Next  string            `json:"@odata.nextLink"`
		Delta string            `json:"@odata.deltaLink"`
	}
	if err := json.Unmarshal(a.body, &page); err != nil {
		return Page{}, fmt.Errorf("%s: unreadable answer: %w", op, err)
	}
	p := Page{NextLink: page.Next}
	if delta {
		p.DeltaLink = page.Delta
	}
	served := make(map[string]json.RawMessage, len(page.Value))
	for _, raw := range page.Value {
		var m channelMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return Page{}, fmt.Errorf("%s: unreadable message: %w", op, err)
		}
		p.Changes = append(p.Changes, m.change())
		if m.Deleted == nil {
			served[m.ID] = raw
		}
	}
	c.servedMessages.Store(teamID+"/"+channelID, &servedPage{msgs: served})
	return p, nil
}

// servedPage is the messages a channel's last page served, each kept
// until its thread is read. A page's threads are read before the next
// page is (the collection applies a page whole), so a thread is read from
// the message its page served, which a channel page carries whole, and
// costs only the requests for its replies; a thread read later (a retry,
// the previous backup's failures) GETs its message.
type servedPage struct {
	mu   sync.Mutex
	msgs map[string]json.RawMessage
}

// takeServed returns the message a channel's last page served, once.
func (c *Client) takeServed(teamID, channelID, messageID string) json.RawMessage {
	v, ok := c.servedMessages.Load(teamID + "/" + channelID)
	if !ok {
		return nil
	}
	p := v.(*servedPage)
	p.mu.Lock()
	defer p.mu.Unlock()
	raw := p.msgs[messageID]
	delete(p.msgs, messageID)
	return raw
}

// fetchThread reads a top-level message and all its replies into one
// thread document. The message and each reply are kept as Graph sent
// them, with the inline images their bodies show.
func (c *Client) fetchThread(ctx context.Context, teamID, channelID, messageID string) (io.ReadCloser, error) {
	op := fmt.Sprintf("fetch message %s of channel %s of team %s", messageID, channelID, teamID)
	body := c.takeServed(teamID, channelID, messageID)
	if body == nil {
		a, err := c.send(forTeam(ctx, teamID, "teams.message"), op, rawCall{method: abs.GET, url: c.v1("teams", teamID, "channels", channelID, "messages", messageID)})
		if err != nil {
			return nil, err
		}
		body = a.body
	}
	var msg channelMessage
	if err := json.Unmarshal(body, &msg); err != nil {
		return nil, fmt.Errorf("%s: unreadable answer: %w", op, err)
	}
	thread := m365.ChannelThread{Message: body}
	link := c.v1("teams", teamID, "channels", channelID, "messages", messageID, "replies") + "?" + query(url.Values{"$top": {strconv.Itoa(channelPageSize)}})
	replies, err := listAll[json.RawMessage](forTeam(ctx, teamID, "teams.replies"), c, op+": replies", link)
	if err != nil {
		return nil, err
	}
	thread.Replies = append(thread.Replies, replies...)
	messages := c.v1("teams", teamID, "channels", channelID, "messages", messageID)
	if thread.HostedContents, err = c.hostedContents(ctx, teamID, op, msg, messages); err != nil {
		return nil, err
	}
	for _, raw := range replies {
		var reply channelMessage
		if err := json.Unmarshal(raw, &reply); err != nil {
			return nil, fmt.Errorf("%s: unreadable reply: %w", op, err)
		}
		hcs, err := c.hostedContents(ctx, teamID, op, reply, messages+"/replies/"+url.PathEscape(reply.ID))
		if err != nil {
			return nil, err
		}
		thread.HostedContents = append(thread.HostedContents, hcs...)
	}
	return storedDocument(thread, msg.meta())
}

// hostedContentsMarker is what a body holds where it shows an inline
// image: the address of the image's bytes, .../hostedContents/{id}/$value.
const hostedContentsMarker = "/hostedContents/"

// hostedContentRef finds where a body shows an inline image: the address
// of the image's bytes, .../hostedContents/{id}/$value, in an <img>'s src
// (https://learn.microsoft.com/graph/api/chatmessagehostedcontent-get:
// "the hosted content ... is referenced in the body of the message").
var hostedContentRef = regexp.MustCompile(`/hostedContents/([^/"'\s]+)/\$value`)

// hostedContents reads the inline images of a message or reply at its
// address msgURL: each one its body shows, read from its address, in the
// order shown and once however often shown. Reading them from the body
// spares the listing of hosted contents
// (https://learn.microsoft.com/graph/api/chatmessage-list-hostedcontents),
// a request per message under Teams' rate limits.
func (c *Client) hostedContents(ctx context.Context, teamID, op string, m channelMessage, msgURL string) ([]m365.HostedContent, error) {
	ids := hostedContentIDs(m.Body.Content)
	if len(ids) == 0 {
		return nil, nil
	}
	ctx = forTeam(ctx, teamID, "teams.hostedContents")
	op += ": hosted contents of " + m.ID
	out := make([]m365.HostedContent, 0, len(ids))
	for _, id := range ids {
		a, err := c.send(ctx, op, rawCall{method: abs.GET, url: msgURL + "/hostedContents/" + url.PathEscape(id) + "/$value"})
		if err != nil {
			return nil, err
		}
		hc := m365.HostedContent{MessageID: m.ID, ID: id, ContentBytes: a.body, ContentType: a.contentType}
		if mt, _, err := mime.ParseMediaType(hc.ContentType); err == nil {
			hc.ContentType = mt
		}
		if hc.ContentType == "" || hc.ContentType == "application/octet-stream" {
			// Graph may serve a hosted content without its type.
			hc.ContentType = http.DetectContentType(a.body)
		}
		out = append(out, hc)
	}
	return out, nil
}

// hostedContentIDs are the ids of the hosted contents a body shows, in
// the order shown, each once; the body's HTML and the address may escape
// an id's characters.
func hostedContentIDs(body string) []string {
	var ids []string
	seen := map[string]bool{}
	for _, ref := range hostedContentRef.FindAllStringSubmatch(body, -1) {
		id, err := url.PathUnescape(html.UnescapeString(ref[1]))
		if err != nil || id == "" || seen[id] {
			continue
		}
		seen[id] = true
		ids = append(ids, id)
	}
	return ids
}
