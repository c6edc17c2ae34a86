package graphsim

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/corso-temporal/corso/m365"
)

// Conversations of a Microsoft 365 group's mailbox, as Graph v1.0 serves
// them. Every group has a mailbox, with a team or without one.
//
//   - A conversation (id, topic, hasAttachments, lastDeliveredDateTime,
//     uniqueSenders, preview: https://learn.microsoft.com/graph/api/resources/conversation)
//     holds one or more threads.
//   - A conversationThread (id, toRecipients, topic, hasAttachments,
//     lastDeliveredDateTime, uniqueSenders, ccRecipients, preview,
//     isLocked: https://learn.microsoft.com/graph/api/resources/conversationthread)
//     holds posts, read with "List posts"
//     (https://learn.microsoft.com/graph/api/conversationthread-list-posts).
//   - A post (https://learn.microsoft.com/graph/api/resources/post) carries
//     body, categories, changeKey, conversationId, conversationThreadId,
//     createdDateTime, from, hasAttachments, lastModifiedDateTime,
//     newParticipants, receivedDateTime and sender; attachments and
//     inReplyTo are relationships that appear only when $expand names
//     them ("Supports $expand").
//
// None of these resources has a delta function: the conversation,
// conversationThread and post pages list no "delta" method, unlike
// message, chatMessage or driveItem. A client lists them every time.
//
// Ids are Exchange-style: conversations and threads start "AAQkA", posts
// and attachments "AAMkA" (as in the examples of
// https://learn.microsoft.com/graph/api/post-get).
//
// Refs: a generated conversation is {kConversation, Owner: group, Index:
// i}; its thread j {kConvThread, Owner, Coll: i, Index: j}; that thread's
// post k {kPost, Owner, Coll: i, Sub: j, Index: k}. Created objects have a
// Serial and their container in their record: a created thread's
// conversation, a created post's thread. The objects created under a
// group, conversation or thread are listed in order in the model's
// collection state of its key (convListKey, the conversation, the
// thread), so a reset drops them with every other change.
const (
	kConversation kind = 0x40 + iota // kinds of the group mailbox
	kConvThread
	kPost
	kPostAttachment
)

// tagConversation keeps the group mailbox's draws independent of others.
const tagConversation uint64 = 0xc0417e

const (
	conversationPrefix = "AAQkA"
	postPrefix         = exchangePrefix
)

// convSpec is a generated conversation: its topic and how many posts each
// of its threads has.
type convSpec struct {
	topic   string
	threads []int
	start   time.Time
}

// conversationSpecs are a group's generated conversations.
func (t *tenant) conversationSpecs(g *group) []convSpec {
	r := newRNG(t.seed, tagConversation, uint64(g.idx))
	n := 2 + r.intn(4)
	out := make([]convSpec, n)
	at := g.created.Add(6 * time.Hour)
	for i := range out {
		c := &out[i]
		c.topic = capitalize(pickWords(r, r.between(2, 6)))
		if r.chance(0.1) {
			c.topic += " & <follow-up>"
		}
		nt := 1
		if r.chance(0.25) {
			nt = 2
		}
		for range nt {
			c.threads = append(c.threads, r.between(1, 5))
		}
		at = at.Add(time.Duration(r.between(20, 90)) * time.Hour)
		c.start = at
	}
	return out
}

// convListKey keys the conversations created in a group.
func convListKey(g int) ref { return ref{Kind: kConversation, Owner: uint32(g), Sub: 1} }

func (c idCodec) encodePrefixed(r ref, prefix string) string {
	p := r.bytes()
	p = append(p, c.mac(p, macLen)...)
	p = append(p, c.filler(p, 26)...)
	return prefix + b64url.EncodeToString(p)
}

func (c idCodec) decodePrefixed(id, prefix string, k kind) (ref, bool) {
	rest, ok := strings.CutPrefix(id, prefix)
	if !ok {
		return ref{}, false
	}
	b, err := b64url.DecodeString(rest)
	if err != nil || len(b) != refLen+macLen+26 {
		return ref{}, false
	}
	r, ok := c.check(b[:refLen], b[refLen:refLen+macLen])
	if !ok || r.Kind != k {
		return ref{}, false
	}
	return r, true
}

func (s *Server) convID(r ref) string   { return s.ids().encodePrefixed(r, conversationPrefix) }
func (s *Server) threadID(r ref) string { return s.ids().encodePrefixed(r, conversationPrefix) }
func (s *Server) postID(r ref) string   { return s.ids().encodePrefixed(r, postPrefix) }

// convPost is a live post with what renders it.
type convPost struct {
	v      view
	thread ref
	conv   ref
	// prev is the post delivered before it in its thread, which it
	// replies to; zero for the first.
	prev   ref
	when   time.Time
	sender *user
	atts   []postAttachment
}

type postAttachment struct {
	ref         ref
	name, ctype string
	data        []byte
}

// groupPoster draws who posts in a group: one of its members, or of the
// regular users when it has none.
func (t *tenant) groupPoster(g *group, r *rng) *user {
	if len(g.members) > 0 {
		return t.users[g.members[r.intn(len(g.members))]]
	}
	return t.users[r.intn(t.nRegular)]
}

// conversations lists a group's live conversations: generated, then
// created, in order.
func (s *Server) conversations(g *group) []ref {
	var out []ref
	for i := range s.t.conversationSpecs(g) {
		out = append(out, ref{Kind: kConversation, Owner: uint32(g.idx), Index: uint32(i)})
	}
	m := s.model
	m.mu.RLock()
	defer m.mu.RUnlock()
	if c := m.colls[convListKey(g.idx)]; c != nil {
		out = append(out, c.added...)
	}
	return out
}

// convTopic is a conversation's topic.
func (s *Server) convTopic(conv ref) string {
	if conv.Serial == 0 {
		return s.t.conversationSpecs(s.t.groups[conv.Owner])[conv.Index].topic
	}
	v, _ := s.model.view(conv)
	if v.st != nil {
		return v.st.name
	}
	return ""
}

// threadsOf lists a conversation's threads.
func (s *Server) threadsOf(conv ref) []ref {
	var out []ref
	if conv.Serial == 0 {
		spec := s.t.conversationSpecs(s.t.groups[conv.Owner])[conv.Index]
		for j := range spec.threads {
			out = append(out, ref{Kind: kConvThread, Owner: conv.Owner, Coll: conv.Index, Index: uint32(j)})
		}
	}
	m := s.model
	m.mu.RLock()
	defer m.mu.RUnlock()
	if c := m.colls[conv]; c != nil {
		out = append(out, c.added...)
	}
	return out
}

// convOf is a thread's conversation.
func (s *Server) convOf(thread ref) ref {
	if thread.Serial == 0 {
		return ref{Kind: kConversation, Owner: thread.Owner, Index: thread.Coll}
	}
	v, _ := s.model.view(thread)
	return v.container
}

// posts lists a thread's posts in the order they were delivered.
func (s *Server) posts(thread ref) []convPost {
	g := s.t.groups[thread.Owner]
	conv := s.convOf(thread)
	var out []convPost
	if thread.Serial == 0 {
		spec := s.t.conversationSpecs(g)[thread.Coll]
		for k := 0; k < spec.threads[thread.Index]; k++ {
			r := ref{Kind: kPost, Owner: thread.Owner, Coll: thread.Coll, Sub: uint16(thread.Index), Index: uint32(k)}
			rr := newRNG(s.t.seed, tagConversation, uint64(r.Owner), uint64(r.Coll), uint64(r.Sub), uint64(r.Index))
			at := spec.start.Add(time.Duration(thread.Index)*5*time.Hour + time.Duration(k)*47*time.Minute + time.Duration(rr.intn(1800))*time.Second)
			out = append(out, convPost{v: view{ref: r, src: r}, when: at, sender: s.t.groupPoster(g, rr)})
		}
	}
	m := s.model
	m.mu.RLock()
	if c := m.colls[thread]; c != nil {
		for _, r := range c.added {
			v, _ := m.viewLocked(r)
			rr := newRNG(s.t.seed, tagConversation, uint64(r.Owner), uint64(r.Serial))
			out = append(out, convPost{v: v, when: v.st.createdAt, sender: s.t.groupPoster(g, rr)})
		}
	}
	m.mu.RUnlock()
	for i := range out {
		p := &out[i]
		p.thread, p.conv = thread, conv
		if i > 0 {
			p.prev = out[i-1].v.ref
		}
		if p.v.st == nil || p.v.st.doc == nil {
			// A post a client wrote has what it sent: no attachment.
			p.atts = s.postAttachments(p.v.ref)
		}
	}
	return out
}

// postAttachments are a generated post's file attachments: a quarter of
// them carry one.
func (s *Server) postAttachments(r ref) []postAttachment {
	rr := newRNG(s.t.seed, tagConversation, uint64(r.Owner), uint64(r.Coll), uint64(r.Sub), uint64(r.Index), uint64(r.Serial), 7)
	if !rr.chance(0.25) {
		return nil
	}
	a := ref{Kind: kPostAttachment, Owner: r.Owner, Coll: r.Coll, Sub: r.Sub, Index: r.Index, Serial: r.Serial}
	text := capitalize(pickWords(rr, rr.between(30, 300))) + ".\n"
	return []postAttachment{{ref: a, name: capitalize(pick(rr, fileStems)) + ".txt", ctype: "text/plain", data: []byte(text)}}
}

// postBody is a post's HTML and its text for previews.
func (s *Server) postBody(p convPost) (html, text string) {
	if p.v.st != nil && p.v.st.doc != nil {
		if b, ok := p.v.st.doc["body"].(map[string]any); ok {
			html, _ = b["content"].(string)
			return html, previewText(html)
		}
	}
	r := p.v.ref
	rr := newRNG(s.t.seed, tagConversation, uint64(r.Owner), uint64(r.Coll), uint64(r.Sub), uint64(r.Index), uint64(r.Serial), 3)
	text = capitalize(pickWords(rr, rr.between(5, 60))) + "."
	html = "<html><body><div>" + htmlEscape(text) + "</div></body></html>"
	return html, text
}

// previewText is what a conversation's preview shows of HTML.
func previewText(html string) string {
	var b strings.Builder
	in := false
	for _, c := range html {
		switch {
		case c == '<':
			in = true
		case c == '>':
			in = false
			b.WriteByte(' ')
		case !in:
			b.WriteRune(c)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// previewLen is how much of its latest post a thread's or conversation's
// preview shows.
const previewLen = 255

func (s *Server) sender(p convPost) map[string]any {
	if p.v.st != nil && p.v.st.doc != nil {
		if f, ok := p.v.st.doc["from"].(map[string]any); ok {
			return f
		}
	}
	return map[string]any{"emailAddress": map[string]any{"name": p.sender.displayName, "address": p.sender.mail}}
}

func changeKey(c idCodec, r ref, version uint32) string {
	b := append(r.bytes(), byte(version))
	return "CQAAABYAAA" + base64.StdEncoding.EncodeToString(c.mac(b, 12))
}

// postExpansion is what a post GET's $expand names.
type postExpansion struct {
	attachments bool
	inReplyTo   bool
	// inReplyToSel is the $select nested in inReplyTo's expansion.
	inReplyToSel []string
}

// parsePostExpansion reads $expand: attachments, inReplyTo and
// inReplyTo($select=...).
func parsePostExpansion(expand string) postExpansion {
	var x postExpansion
	depth, start := 0, 0
	var parts []string
	for i, c := range expand + "," {
		switch {
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == ',' && depth == 0:
			parts = append(parts, strings.TrimSpace(expand[start:min(i, len(expand))]))
			start = i + 1
		}
	}
	for _, p := range parts {
		name, opts, _ := strings.Cut(p, "(")
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "attachments":
			x.attachments = true
		case "inreplyto":
			x.inReplyTo = true
			opts = strings.TrimSuffix(opts, ")")
			for _, o := range strings.Split(opts, ";") {
				if k, v, ok := strings.Cut(o, "="); ok && strings.EqualFold(strings.TrimSpace(k), "$select") {
					for _, f := range strings.Split(v, ",") {
						x.inReplyToSel = append(x.inReplyToSel, strings.TrimSpace(f))
					}
				}
			}
		}
	}
	return x
}

// postObject renders a post with what x expands.
func (s *Server) postObject(p convPost, x postExpansion) object {
	version := p.v.version
	modified := p.when
	if p.v.st != nil && !p.v.st.modified.IsZero() && p.v.st.modified.After(modified) {
		modified = p.v.st.modified
	}
	key := changeKey(s.ids(), p.v.ref, version)
	html, _ := s.postBody(p)
	from := s.sender(p)
	o := object{
		{"@odata.etag", `W/"` + key + `"`},
		{"id", s.postID(p.v.ref)},
		{"createdDateTime", ts(p.when)},
		{"lastModifiedDateTime", ts(modified)},
		{"changeKey", key},
		{"categories", []any{}},
		{"receivedDateTime", ts(p.when)},
		{"hasAttachments", len(p.atts) > 0},
		{"body", map[string]any{"contentType": "html", "content": html}},
		{"from", from},
		{"sender", from},
		{"conversationThreadId", s.threadID(p.thread)},
		{"conversationId", s.convID(p.conv)},
		{"newParticipants", []any{}},
	}
	if x.inReplyTo && !p.prev.isZero() {
		prev := s.postOf(p.thread, p.prev)
		o = append(o, kv{"inReplyTo", s.postObject(prev, postExpansion{}).project(x.inReplyToSel)})
	}
	if x.attachments {
		atts := make([]any, 0, len(p.atts))
		for _, a := range p.atts {
			atts = append(atts, object{
				{"@odata.type", "#microsoft.graph.fileAttachment"},
				{"id", s.ids().encodePrefixed(a.ref, postPrefix)},
				{"lastModifiedDateTime", ts(p.when)},
				{"name", a.name},
				{"contentType", a.ctype},
				{"size", len(a.data)},
				{"isInline", false},
				{"contentId", nil},
				{"contentLocation", nil},
				{"contentBytes", base64.StdEncoding.EncodeToString(a.data)},
			})
		}
		o = append(o, kv{"attachments", atts})
	}
	return o
}

var postKnownProps = object{{"id", nil}, {"createdDateTime", nil}, {"lastModifiedDateTime", nil}, {"changeKey", nil},
	{"categories", nil}, {"receivedDateTime", nil}, {"hasAttachments", nil}, {"body", nil}, {"from", nil},
	{"sender", nil}, {"conversationThreadId", nil}, {"conversationId", nil}, {"newParticipants", nil}}

// postOf finds a post of a thread.
func (s *Server) postOf(thread, r ref) convPost {
	for _, p := range s.posts(thread) {
		if p.v.ref == r {
			return p
		}
	}
	return convPost{}
}

// threadSummary is what a thread and a conversation say of their posts.
func (s *Server) threadSummary(posts []convPost) (last time.Time, senders []any, preview string, atts bool) {
	seen := map[string]bool{}
	senders = []any{}
	latest := -1
	for i, p := range posts {
		if latest < 0 || p.when.After(last) {
			last, latest = p.when, i
		}
		name := p.sender.displayName
		if f, ok := s.sender(p)["emailAddress"].(map[string]any); ok {
			name, _ = f["name"].(string)
		}
		if !seen[name] {
			seen[name] = true
			senders = append(senders, name)
		}
		atts = atts || len(p.atts) > 0
	}
	if latest >= 0 {
		_, text := s.postBody(posts[latest])
		if r := []rune(text); len(r) > previewLen {
			text = string(r[:previewLen])
		}
		preview = text
	}
	return last, senders, preview, atts
}

func (s *Server) threadObject(thread ref) object {
	last, senders, preview, atts := s.threadSummary(s.posts(thread))
	return object{
		{"id", s.threadID(thread)},
		{"toRecipients", []any{}},
		{"topic", s.convTopic(s.convOf(thread))},
		{"hasAttachments", atts},
		{"lastDeliveredDateTime", ts(last)},
		{"uniqueSenders", senders},
		{"ccRecipients", []any{}},
		{"preview", preview},
		{"isLocked", false},
	}
}

func (s *Server) conversationObject(conv ref) object {
	var all []convPost
	for _, th := range s.threadsOf(conv) {
		all = append(all, s.posts(th)...)
	}
	last, senders, preview, atts := s.threadSummary(all)
	return object{
		{"id", s.convID(conv)},
		{"topic", s.convTopic(conv)},
		{"hasAttachments", atts},
		{"lastDeliveredDateTime", ts(last)},
		{"uniqueSenders", senders},
		{"preview", preview},
	}
}

var (
	conversationKnownProps = object{{"id", nil}, {"topic", nil}, {"hasAttachments", nil}, {"lastDeliveredDateTime", nil},
		{"uniqueSenders", nil}, {"preview", nil}}
	threadKnownProps = object{{"id", nil}, {"toRecipients", nil}, {"topic", nil}, {"hasAttachments", nil},
		{"lastDeliveredDateTime", nil}, {"uniqueSenders", nil}, {"ccRecipients", nil}, {"preview", nil}, {"isLocked", nil}}
)

// lookupConversation resolves a conversation id of a group.
func (s *Server) lookupConversation(g *group, id string) (ref, bool) {
	r, ok := s.ids().decodePrefixed(id, conversationPrefix, kConversation)
	if !ok || int(r.Owner) != g.idx {
		return ref{}, false
	}
	for _, c := range s.conversations(g) {
		if c == r {
			return r, true
		}
	}
	return ref{}, false
}

// lookupThread resolves a thread id of a group (and of a conversation,
// when conv is set).
func (s *Server) lookupThread(g *group, id string, conv *ref) (ref, bool) {
	r, ok := s.ids().decodePrefixed(id, conversationPrefix, kConvThread)
	if !ok || int(r.Owner) != g.idx {
		return ref{}, false
	}
	c := s.convOf(r)
	if conv != nil && c != *conv {
		return ref{}, false
	}
	if c.Serial == 0 && int(c.Index) >= len(s.t.conversationSpecs(g)) {
		return ref{}, false
	}
	for _, t := range s.threadsOf(c) {
		if t == r {
			return r, true
		}
	}
	return ref{}, false
}

// allThreads lists a group's threads, conversation by conversation.
func (s *Server) allThreads(g *group) []ref {
	var out []ref
	for _, c := range s.conversations(g) {
		out = append(out, s.threadsOf(c)...)
	}
	return out
}

// threadPath is a thread's path in the ground truth, as a backup names
// it (m365.ConversationPath).
func threadPath(topic, threadID string) string {
	return strings.Join(m365.ConversationPath(topic, threadID), "/")
}

// stateConversations adds a group's posts to the truth: the body of
// GET /v1.0/groups/{g}/threads/{t}/posts/{p}?$expand=attachments,inReplyTo($select=id)
// for each.
func (s *Server) stateConversations(st *State, g *group, noHash bool) {
	x := parsePostExpansion(PostExpand)
	for _, th := range s.allThreads(g) {
		tid := s.threadID(th)
		topic := s.convTopic(s.convOf(th))
		for _, p := range s.posts(th) {
			it := StateItem{Resource: g.displayName, ResourceID: g.id, Category: "conversations", Kind: "post",
				CollectionID: tid, Path: threadPath(topic, tid), ID: s.postID(p.v.ref), Name: topic, Version: p.v.version}
			if !noHash {
				b, _ := s.postObject(p, x).MarshalJSON()
				it.Hash, it.Size = sha256Hex(b), int64(len(b))
			}
			st.Items = append(st.Items, it)
		}
	}
}

// PostExpand is the $expand of the post GET whose body the truth hashes:
// the post with its attachments' contents and the id of the post it
// replies to.
const PostExpand = "attachments,inReplyTo($select=id)"

// addPost adds a post to a thread; doc, when set, is the post as a client
// gave it (body, from). m.mu must not be held.
func (s *Server) addPost(thread ref, doc map[string]any) ref {
	m := s.model
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.createRefLocked(ref{Kind: kPost, Owner: thread.Owner}, thread, ref{})
	st.src, st.doc = st.ref, doc
	c := m.coll(thread)
	c.added = append(c.added, st.ref)
	return st.ref
}

// addConversation starts a conversation with one thread and its first
// post. It returns the conversation and the thread.
func (s *Server) addConversation(g *group, topic string, doc map[string]any) (ref, ref) {
	m := s.model
	m.mu.Lock()
	cst := m.createRefLocked(ref{Kind: kConversation, Owner: uint32(g.idx)}, ref{}, ref{})
	cst.src, cst.name = cst.ref, topic
	m.coll(convListKey(g.idx)).added = append(m.coll(convListKey(g.idx)).added, cst.ref)
	tst := m.createRefLocked(ref{Kind: kConvThread, Owner: uint32(g.idx)}, cst.ref, ref{})
	tst.src = tst.ref
	m.coll(cst.ref).added = append(m.coll(cst.ref).added, tst.ref)
	m.mu.Unlock()
	s.addPost(tst.ref, doc)
	return cst.ref, tst.ref
}

// mutateConversation adds a post to a thread (kind "post": Group and
// Parent, the thread's id) or a conversation (kind "conversation": Group
// and Name, its topic), with generated content.
func (s *Server) mutateConversation(op MutateOp) ([]MutateResult, error) {
	g, ok := s.t.groupByID(op.Group)
	if !ok {
		return nil, fmt.Errorf("no group %q", op.Group)
	}
	var out []MutateResult
	for range max(op.Count, 1) {
		if strings.EqualFold(op.Kind, "post") {
			th, ok := s.lookupThread(g, op.Parent, nil)
			if !ok {
				return out, fmt.Errorf("no thread %q in group %q", op.Parent, op.Group)
			}
			out = append(out, MutateResult{Op: "add", Kind: "post", ID: s.postID(s.addPost(th, nil))})
			continue
		}
		topic := op.Name
		if topic == "" {
			topic = "New conversation"
		}
		_, th := s.addConversation(g, topic, nil)
		out = append(out, MutateResult{Op: "add", Kind: "conversation", ID: s.threadID(th)})
	}
	return out, nil
}
