package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"
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
// shows it only as "This message has been deleted".
//
// Teams allows an app about four requests per second on one team or
// channel (Teams service limits in Graph's throttling documentation); the
// team's requests share the per-resource slots mailboxes use
// (forMailbox), which bounds them across the process.

// channelPageSize is $top of channel message pages: Graph serves at most
// 50 channel messages a page.
const channelPageSize = 50

// channels lists a team's channels: standard, private and shared, each a
// container whose path is its name.
func (c *Client) channels(ctx context.Context, teamID string) ([]Container, error) {
	ctx = forMailbox(ctx, teamID, "teams.channels")
	op := "list channels of team " + teamID
	link := c.v1("teams", teamID, "channels") + "?" + query(url.Values{"$select": {"id,displayName,membershipType"}})
	var out []Container
	for link != "" {
		a, err := c.send(ctx, op, rawCall{method: abs.GET, url: link})
		if err != nil {
			return nil, err
		}
		var page struct {
			Value []struct {
				ID   string `json:"id"`
				Name string `json:"displayName"`
			} `json:"value"`
			Next string `json:"@odata.nextLink"`
		}
		if err := json.Unmarshal(a.body, &page); err != nil {
			return nil, fmt.Errorf("%s: unreadable answer: %w", op, err)
		}
		for _, ch := range page.Value {
			out = append(out, Container{ID: ch.ID, DisplayName: ch.Name, Path: []string{ch.Name}, Category: m365.ChannelMessages})
		}
		link = page.Next
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
	return c.channelMessagePage(forMailbox(ctx, teamID, "teams.messages.delta"), "delta of channel "+channelID+" of team "+teamID, link, true)
}

// listedChannelMessages lists a channel's top-level messages without delta.
func (c *Client) listedChannelMessages(ctx context.Context, teamID, channelID, link string) (Page, error) {
	if link == "" {
		link = c.v1("teams", teamID, "channels", channelID, "messages") + "?" + query(url.Values{"$top": {strconv.Itoa(channelPageSize)}})
	}
	p, err := c.channelMessagePage(forMailbox(ctx, teamID, "teams.messages.list"), "list messages of channel "+channelID+" of team "+teamID, link, false)
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

func (c *Client) channelMessagePage(ctx context.Context, op, link string, delta bool) (Page, error) {
	a, err := c.send(ctx, op, rawCall{method: abs.GET, url: link})
	if err != nil {
		return Page{}, err
	}
	var page struct {
		Value []channelMessage `json:"value"`
		Next  string           `json:"@odata.nextLink"`
		Delta string           `json:"@odata.deltaLink"`
	}
	if err := json.Unmarshal(a.body, &page); err != nil {
		return Page{}, fmt.Errorf("%s: unreadable answer: %w", op, err)
	}
	p := Page{NextLink: page.Next}
	if delta {
		p.DeltaLink = page.Delta
	}
	for _, m := range page.Value {
		p.Changes = append(p.Changes, m.change())
	}
	return p, nil
}

// fetchThread reads a top-level message and all its replies into one
// thread document. The message and each reply are kept as Graph sent
// them.
func (c *Client) fetchThread(ctx context.Context, teamID, channelID, messageID string) (io.ReadCloser, error) {
	op := fmt.Sprintf("fetch message %s of channel %s of team %s", messageID, channelID, teamID)
	a, err := c.send(forMailbox(ctx, teamID, "teams.message"), op, rawCall{method: abs.GET, url: c.v1("teams", teamID, "channels", channelID, "messages", messageID)})
	if err != nil {
		return nil, err
	}
	var msg channelMessage
	if err := json.Unmarshal(a.body, &msg); err != nil {
		return nil, fmt.Errorf("%s: unreadable answer: %w", op, err)
	}
	thread := m365.ChannelThread{Message: a.body}
	link := c.v1("teams", teamID, "channels", channelID, "messages", messageID, "replies") + "?" + query(url.Values{"$top": {strconv.Itoa(channelPageSize)}})
	for link != "" {
		r, err := c.send(forMailbox(ctx, teamID, "teams.replies"), op+": replies", rawCall{method: abs.GET, url: link})
		if err != nil {
			return nil, err
		}
		var page struct {
			Value []json.RawMessage `json:"value"`
			Next  string            `json:"@odata.nextLink"`
		}
		if err := json.Unmarshal(r.body, &page); err != nil {
			return nil, fmt.Errorf("%s: unreadable replies: %w", op, err)
		}
		thread.Replies = append(thread.Replies, page.Value...)
		link = page.Next
	}
	// Encoded without escaping '<', '>' and '&', which json.Marshal
	// would do inside the messages too, changing their bytes.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(thread); err != nil {
		return nil, err
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	meta := msg.meta()
	meta.Size = int64(len(b))
	return &threadReader{Reader: bytes.NewReader(b), meta: meta}, nil
}

// threadReader is a stored thread that also tells its details.
type threadReader struct {
	*bytes.Reader
	meta ItemMeta
}

func (t *threadReader) Close() error       { return nil }
func (t *threadReader) ItemMeta() ItemMeta { return t.meta }
