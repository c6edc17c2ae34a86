package graph

import (
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

// A group's mailbox conversations: each conversation thread is a
// container (m365.ConversationPath names it by its topic) and each post an
// item, stored as Graph serves
// GET /groups/{id}/threads/{id}/posts/{id}?$expand=attachments,inReplyTo($select=id):
// the post with its attachments' contents and the id of the post it
// replies to, both relationships that only $expand returns
// (https://learn.microsoft.com/graph/api/resources/post).
//
// Graph has no delta function for conversations, threads or posts
// (https://learn.microsoft.com/graph/api/resources/conversationthread
// lists none), so their category has none either (m365.Category
// HasDelta): every backup lists each thread's posts, and reuses a stored
// post whose lastModifiedDateTime did not change.

// postPageSize is $top of thread and post pages.
const postPageSize = 50

// postExpand is what a stored post expands.
const postExpand = "attachments,inReplyTo($select=id)"

// conversationThreads lists a group's conversation threads.
func (c *Client) conversationThreads(ctx context.Context, groupID string) ([]Container, error) {
	ctx = forMailbox(ctx, groupID, "groups.threads")
	op := "list conversation threads of group " + groupID
	link := c.v1("groups", groupID, "threads") + "?" + query(url.Values{"$select": {"id,topic"}, "$top": {strconv.Itoa(postPageSize)}})
	type thread struct {
		ID    string `json:"id"`
		Topic string `json:"topic"`
	}
	threads, err := listAll[thread](ctx, c, op, link)
	if err != nil {
		return nil, err
	}
	out := make([]Container, 0, len(threads))
	for _, th := range threads {
		out = append(out, Container{ID: th.ID, DisplayName: th.Topic, Path: m365.ConversationPath(th.Topic, th.ID), Category: m365.Conversations})
	}
	return out, nil
}

// conversationPost is what a page of posts, or a post, tells of it.
type conversationPost struct {
	ID       string     `json:"id"`
	Modified *time.Time `json:"lastModifiedDateTime"`
	Received *time.Time `json:"receivedDateTime"`
	From     *recipient `json:"from"`
	Sender   *recipient `json:"sender"`
}

type recipient struct {
	EmailAddress struct {
		Name    string `json:"name"`
		Address string `json:"address"`
	} `json:"emailAddress"`
}

// meta is what details record of a post: who sent it (by name, as a
// channel message's sender), and when it arrived. A post has no subject:
// its conversation's topic stands for one.
func (p conversationPost) meta(topic string) ItemMeta {
	meta := ItemMeta{Subject: topic, Received: timeOf(p.Received)}
	for _, r := range []*recipient{p.Sender, p.From} {
		if r == nil {
			continue
		}
		if meta.Sender = r.EmailAddress.Name; meta.Sender == "" {
			meta.Sender = r.EmailAddress.Address
		}
		if meta.Sender != "" {
			break
		}
	}
	return meta
}

// listedPosts reads one page of a thread's posts, each with its thread's
// topic for a subject.
func (c *Client) listedPosts(ctx context.Context, groupID, threadID, link string) (Page, error) {
	ctx = forMailbox(ctx, groupID, "groups.posts")
	op := fmt.Sprintf("list posts of thread %s of group %s", threadID, groupID)
	a, err := c.send(ctx, op, rawCall{method: abs.GET, url: c.v1("groups", groupID, "threads", threadID) + "?" + query(url.Values{"$select": {"topic"}})})
	if err != nil {
		return Page{}, err
	}
	var thread struct {
		Topic string `json:"topic"`
	}
	if err := json.Unmarshal(a.body, &thread); err != nil {
		return Page{}, fmt.Errorf("%s: unreadable thread: %w", op, err)
	}
	if link == "" {
		link = c.v1("groups", groupID, "threads", threadID, "posts") + "?" + query(url.Values{
			"$select": {"id,lastModifiedDateTime,receivedDateTime,from,sender"},
			"$top":    {strconv.Itoa(postPageSize)},
		})
	}
	if a, err = c.send(ctx, op, rawCall{method: abs.GET, url: link}); err != nil {
		return Page{}, err
	}
	var page struct {
		Value []conversationPost `json:"value"`
		Next  string             `json:"@odata.nextLink"`
	}
	if err := json.Unmarshal(a.body, &page); err != nil {
		return Page{}, fmt.Errorf("%s: unreadable answer: %w", op, err)
	}
	p := Page{NextLink: page.Next}
	for _, post := range page.Value {
		p.Changes = append(p.Changes, Change{ID: post.ID, ModTime: timeOf(post.Modified), Meta: post.meta(thread.Topic)})
	}
	return p, nil
}

// fetchPost reads a post with its attachments and the id of the post it
// replies to, kept byte for byte as Graph sent it.
func (c *Client) fetchPost(ctx context.Context, groupID, threadID, postID string) (io.ReadCloser, error) {
	op := fmt.Sprintf("fetch post %s of thread %s of group %s", postID, threadID, groupID)
	a, err := c.send(forMailbox(ctx, groupID, "groups.post"), op, rawCall{method: abs.GET,
		url: c.v1("groups", groupID, "threads", threadID, "posts", postID) + "?" + query(url.Values{"$expand": {postExpand}})})
	if err != nil {
		return nil, err
	}
	var post conversationPost
	if err := json.Unmarshal(a.body, &post); err != nil {
		return nil, fmt.Errorf("%s: unreadable answer: %w", op, err)
	}
	meta := post.meta("")
	meta.Size = int64(len(a.body))
	return newStoredReader(a.body, meta), nil
}
