package graphsim

import (
	"net/http"
	"strings"
)

// The group mailbox's routes (conversations.go):
//
//	GET  /groups/{id}/conversations[/{id}[/threads[/{id}[/posts[/{id}]]]]]
//	GET  /groups/{id}/threads[/{id}[/posts[/{id}]]]
//	POST /groups/{id}/conversations                 (201, the conversation)
//	POST /groups/{id}/threads                       (201, the thread)
//	POST /groups/{id}[/conversations/{id}]/threads/{id}/reply (202, no body)
//
// https://learn.microsoft.com/graph/api/group-list-conversations,
// https://learn.microsoft.com/graph/api/group-list-threads,
// https://learn.microsoft.com/graph/api/conversationthread-list-posts,
// https://learn.microsoft.com/graph/api/post-get,
// https://learn.microsoft.com/graph/api/group-post-conversations,
// https://learn.microsoft.com/graph/api/group-post-threads,
// https://learn.microsoft.com/graph/api/conversationthread-reply.

func errConversationItemNotFound() *apiError {
	return newError(http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store.")
}

// mailGroup resolves {group}.
func (rq *request) mailGroup() (*group, *apiError) {
	g, ok := rq.s.t.groupByID(rq.params["group"])
	if !ok {
		return nil, errResourceNotFound(rq.params["group"])
	}
	return g, nil
}

// mailThread resolves {group}, then {thread}, within {conversation} when
// the path names one.
func (rq *request) mailThread() (*group, ref, *apiError) {
	g, err := rq.mailGroup()
	if err != nil {
		return nil, ref{}, err
	}
	var conv *ref
	if id := rq.params["conversation"]; id != "" {
		c, ok := rq.s.lookupConversation(g, id)
		if !ok {
			return nil, ref{}, errConversationItemNotFound()
		}
		conv = &c
	}
	th, ok := rq.s.lookupThread(g, rq.params["thread"], conv)
	if !ok {
		return nil, ref{}, errConversationItemNotFound()
	}
	return g, th, nil
}

func (rq *request) listConversations() error {
	g, err := rq.mailGroup()
	if err != nil {
		return err
	}
	t, err := rq.listOptions()
	if err != nil {
		return err
	}
	sel, err := selectList(t.Sel, "conversation", conversationKnownProps)
	if err != nil {
		return err
	}
	var items []any
	for _, c := range rq.s.conversations(g) {
		items = append(items, rq.s.conversationObject(c).project(sel))
	}
	return rq.writeList("groups/"+g.id+"/conversations", "groups('"+g.id+"')/conversations", t, items, rq.listPageSize(t, 10, 100))
}

func (rq *request) getConversation() error {
	g, err := rq.mailGroup()
	if err != nil {
		return err
	}
	c, ok := rq.s.lookupConversation(g, rq.params["conversation"])
	if !ok {
		return errConversationItemNotFound()
	}
	sel, err := selectList(rq.q.sel, "conversation", conversationKnownProps)
	if err != nil {
		return err
	}
	rq.sendJSON(http.StatusOK, rq.s.conversationObject(c).project(sel))
	return nil
}

// listThreads lists a group's threads, or a conversation's.
func (rq *request) listThreads() error {
	g, err := rq.mailGroup()
	if err != nil {
		return err
	}
	threads := rq.s.allThreads(g)
	path := "groups/" + g.id + "/threads"
	if id := rq.params["conversation"]; id != "" {
		c, ok := rq.s.lookupConversation(g, id)
		if !ok {
			return errConversationItemNotFound()
		}
		threads = rq.s.threadsOf(c)
		path = "groups/" + g.id + "/conversations/" + id + "/threads"
	}
	t, err := rq.listOptions()
	if err != nil {
		return err
	}
	sel, err := selectList(t.Sel, "conversationThread", threadKnownProps)
	if err != nil {
		return err
	}
	var items []any
	for _, th := range threads {
		items = append(items, rq.s.threadObject(th).project(sel))
	}
	return rq.writeList(path, "groups('"+g.id+"')/threads", t, items, rq.listPageSize(t, 10, 100))
}

func (rq *request) getThread() error {
	_, th, err := rq.mailThread()
	if err != nil {
		return err
	}
	sel, err := selectList(rq.q.sel, "conversationThread", threadKnownProps)
	if err != nil {
		return err
	}
	rq.sendJSON(http.StatusOK, rq.s.threadObject(th).project(sel))
	return nil
}

func (rq *request) listPosts() error {
	g, th, err := rq.mailThread()
	if err != nil {
		return err
	}
	t, err := rq.listOptions()
	if err != nil {
		return err
	}
	sel, err := selectList(t.Sel, "post", postKnownProps)
	if err != nil {
		return err
	}
	x := parsePostExpansion(t.Expand)
	var items []any
	for _, p := range rq.s.posts(th) {
		items = append(items, rq.s.postObject(p, x).project(sel))
	}
	tid := rq.s.threadID(th)
	return rq.writeList("groups/"+g.id+"/threads/"+tid+"/posts", "groups('"+g.id+"')/threads('"+tid+"')/posts", t, items, rq.listPageSize(t, 10, 100))
}

func (rq *request) getPost() error {
	_, th, err := rq.mailThread()
	if err != nil {
		return err
	}
	sel, err := selectList(rq.q.sel, "post", postKnownProps)
	if err != nil {
		return err
	}
	for _, p := range rq.s.posts(th) {
		if rq.s.postID(p.v.ref) == rq.params["post"] {
			rq.fetchedItem("post", rq.params["post"])
			rq.sendJSON(http.StatusOK, rq.s.postObject(p, parsePostExpansion(rq.q.expand)).project(sel))
			return nil
		}
	}
	return errConversationItemNotFound()
}

// postDoc is the part of a post a client writes: its body, and from.
func postDoc(v any) (map[string]any, *apiError) {
	p, ok := v.(map[string]any)
	if !ok {
		return nil, errBadRequest("A post is required.")
	}
	body, ok := p["body"].(map[string]any)
	if !ok {
		return nil, errBadRequest("The post's body is required.")
	}
	content, _ := body["content"].(string)
	if ct, _ := body["contentType"].(string); !strings.EqualFold(ct, "html") {
		content = "<html><body><div>" + htmlEscape(content) + "</div></body></html>"
	}
	doc := map[string]any{"body": map[string]any{"contentType": "html", "content": content}}
	if f, ok := p["from"].(map[string]any); ok {
		doc["from"] = f
	}
	return doc, nil
}

// replyThread adds a post to a thread: 202 and no body, as Graph answers.
func (rq *request) replyThread() error {
	_, th, err := rq.mailThread()
	if err != nil {
		return err
	}
	in, err := rq.readJSONBody()
	if err != nil {
		return err
	}
	doc, err := postDoc(in["post"])
	if err != nil {
		return err
	}
	rq.s.addPost(th, doc)
	rq.w.WriteHeader(http.StatusAccepted)
	return nil
}

// firstPost reads the post a new conversation or thread starts with.
func firstPost(in map[string]any) (string, map[string]any, *apiError) {
	topic, _ := in["topic"].(string)
	if strings.TrimSpace(topic) == "" {
		return "", nil, errBadRequest("The conversation's topic is required.")
	}
	posts, _ := in["posts"].([]any)
	if threads, ok := in["threads"].([]any); ok && len(threads) > 0 {
		if t, ok := threads[0].(map[string]any); ok {
			posts, _ = t["posts"].([]any)
		}
	}
	if len(posts) == 0 {
		return "", nil, errBadRequest("A new conversation needs a post.")
	}
	doc, err := postDoc(posts[0])
	return topic, doc, err
}

// createConversation starts a conversation ({"topic", "threads": [{"posts": [...]}]}).
func (rq *request) createConversation() error {
	return rq.startConversation(func(conv, _ ref) object { return rq.s.conversationObject(conv) })
}

// createThread starts a conversation by its thread ({"topic", "posts": [...]}).
func (rq *request) createThread() error {
	return rq.startConversation(func(_, thread ref) object { return rq.s.threadObject(thread) })
}

// startConversation adds the conversation a POST body describes to the
// group and answers with what created renders of it.
func (rq *request) startConversation(created func(conv, thread ref) object) error {
	g, err := rq.mailGroup()
	if err != nil {
		return err
	}
	in, err := rq.readJSONBody()
	if err != nil {
		return err
	}
	topic, doc, err := firstPost(in)
	if err != nil {
		return err
	}
	c, th := rq.s.addConversation(g, topic, doc)
	rq.sendJSON(http.StatusCreated, created(c, th))
	return nil
}
