package graphsim

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Teams channels with messages and replies. Channel ids look like Graph's
// ("19:...@thread.tacv2"); message ids are millisecond timestamps unique
// within their channel, as in Graph. Channel message deltas list top-level
// messages; deleted messages come back with deletedDateTime set rather than
// as @removed, and a changed reply re-sends its parent message.

type chatLayout struct {
	channels []chatChannel
}

type chatChannel struct {
	name    string
	count   int
	created time.Time
}

// Message ids: base + index·97 s + reply·1 s, so a reply number and an index
// can be read back from the id given its channel.
const (
	chatStep        = 97000 // ms between generated messages
	chatReplyStep   = 1000  // ms between replies of one message
	chatSerialFirst = 1 << 24
)

func (t *tenant) chatLayout(g *group) *chatLayout {
	t.layoutMu.Lock()
	defer t.layoutMu.Unlock()
	if t.chats == nil {
		t.chats = map[int]*chatLayout{}
	}
	if l, ok := t.chats[g.idx]; ok {
		return l
	}
	r := newRNG(t.seed, tagChannel, uint64(g.idx))
	names := []string{"General", "Announcements 📢", "Design / UX", "Random"}
	n := 1 + r.intn(3)
	weights := make([]float64, n)
	for i := range weights {
		weights[i] = r.logNormal(1, 0.5)
	}
	counts := split(max(t.opts.ItemsPerSite/4, 5), weights)
	l := &chatLayout{}
	for i := 0; i < n; i++ {
		l.channels = append(l.channels, chatChannel{name: names[i], count: counts[i], created: g.created.Add(time.Duration(i) * time.Hour)})
	}
	t.chats[g.idx] = l
	return l
}

func (r ref) chatChannel() ref {
	switch r.Kind {
	case kChannel:
		return r
	case kChatMessage:
		return ref{Kind: kChannel, Owner: r.Owner, Index: r.Coll}
	}
	return ref{}
}

func replyCount(seed uint64, r ref) int {
	rr := newRNG(seed, tagChannel, uint64(r.Owner), uint64(r.Coll), uint64(r.Index), 1)
	if rr.chance(0.4) {
		return 0
	}
	return rr.between(1, 4)
}

// chatBaseView describes generated channels and channel messages.
func (t *tenant) chatBaseView(r ref) (view, bool) {
	if r.Serial != 0 {
		return view{}, false
	}
	t.directory()
	if int(r.Owner) >= len(t.groups) || !t.groups[r.Owner].isTeam {
		return view{}, false
	}
	l := t.chatLayout(t.groups[r.Owner])
	v := view{ref: r, src: r}
	switch r.Kind {
	case kChannel:
		if r.Coll != 0 || r.Sub != 0 || int(r.Index) >= len(l.channels) {
			return view{}, false
		}
		return v, true
	case kChatMessage:
		if int(r.Coll) >= len(l.channels) || int(r.Index) >= l.channels[r.Coll].count {
			return view{}, false
		}
		if r.Sub == 0 {
			v.container = r.chatChannel()
			return v, true
		}
		parent := r
		parent.Sub = 0
		if int(r.Sub) > replyCount(t.seed, parent) {
			return view{}, false
		}
		v.container = parent
		return v, true
	}
	return view{}, false
}

func (t *tenant) channelID(c ref) string {
	return "19:" + fmt.Sprintf("%x", t.ids.mac(c.bytes(), 16)) + "@thread.tacv2"
}

// findChannel resolves a team id and a channel id.
func (s *Server) findChannel(team, channel string) (*group, ref, *apiError) {
	g, ok := s.t.groupByID(team)
	if !ok || !g.isTeam {
		return nil, ref{}, newError(http.StatusNotFound, "NotFound", "No team found with Group Id %s", team)
	}
	l := s.t.chatLayout(g)
	for i := range l.channels {
		c := ref{Kind: kChannel, Owner: uint32(g.idx), Index: uint32(i)}
		if s.t.channelID(c) == channel {
			return g, c, nil
		}
	}
	return nil, ref{}, newError(http.StatusNotFound, "NotFound", "Channel not found.")
}

// resolveChannel finds the channel of a request.
func (rq *request) resolveChannel() (*group, view, *apiError) {
	g, c, err := rq.s.findChannel(rq.params["group"], rq.params["channel"])
	return g, view{ref: c}, err
}

func (s *Server) chatBase(c ref) int64 {
	l := s.t.chatLayout(s.t.groups[c.Owner])
	return l.channels[c.Index].created.UnixMilli()
}

func (s *Server) chatMessageID(r ref) string {
	q := int64(r.Index)
	if r.Serial != 0 {
		q = chatSerialFirst + int64(r.Serial)
	}
	return strconv.FormatInt(s.chatBase(r.chatChannel())+q*chatStep+int64(r.Sub)*chatReplyStep, 10)
}

func (s *Server) parseChatMessageID(channel ref, id string) (ref, bool) {
	ms, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return ref{}, false
	}
	off := ms - s.chatBase(channel)
	if off < 0 || off%chatReplyStep != 0 {
		return ref{}, false
	}
	q, sub := off/chatStep, (off%chatStep)/chatReplyStep
	r := ref{Kind: kChatMessage, Owner: channel.Owner, Coll: channel.Index, Sub: uint16(sub)}
	if q >= chatSerialFirst {
		r.Serial = uint32(q - chatSerialFirst)
	} else {
		r.Index = uint32(q)
	}
	return r, true
}

func (s *Server) channelObject(g *group, c ref) object {
	l := s.t.chatLayout(g)
	ch := l.channels[c.Index]
	id := s.t.channelID(c)
	return object{
		{"id", id},
		{"createdDateTime", ts(ch.created)},
		{"displayName", ch.name},
		{"description", ch.name + " channel"},
		{"email", ""},
		{"isFavoriteByDefault", c.Index == 0},
		{"membershipType", "standard"},
		{"webUrl", "https://teams.microsoft.com/l/channel/" + escapeQuery(id) + "/" + escapeQuery(ch.name) + "?groupId=" + g.id + "&tenantId=" + s.opts.TenantID},
	}
}

// chatMessageObject renders a channel message or reply.
func (s *Server) chatMessageObject(v view) object {
	g := s.t.groups[v.ref.Owner]
	created, modified := time.UnixMilli(mustInt(s.chatMessageID(v.ref))), time.Time{}
	modified = created
	author, msgType, body, subject := s.chatMessageText(v.ref)
	for _, hc := range s.hostedContents(v) {
		body += hc.markup
	}
	if v.st != nil {
		if c, ok := v.st.doc["body"].(map[string]any); ok {
			body, _ = c["content"].(string)
		}
		if sub, ok := v.st.doc["subject"].(string); ok {
			subject = sub
		}
	}
	var lastEdited, deleted any
	if v.version > 0 && v.st != nil {
		body = fmt.Sprintf("%s<p>(edited v%d)</p>", body, v.version)
		modified = v.st.modified
		lastEdited = ts(v.st.modified)
	}
	if v.deleted {
		deleted = ts(v.st.modified)
		modified = v.st.modified
		body = ""
	}
	var replyTo any
	if v.ref.Sub != 0 {
		replyTo = s.chatMessageID(v.container)
	}
	channelID := s.t.channelID(v.ref.chatChannel())
	var from any
	if msgType == "message" {
		from = map[string]any{"application": nil, "device": nil, "user": map[string]any{
			"@odata.type": "#microsoft.graph.teamworkUserIdentity", "id": author.id, "displayName": author.displayName,
			"userIdentityType": "aadUser", "tenantId": s.opts.TenantID}}
	}
	id := s.chatMessageID(v.ref)
	return object{
		{"id", id},
		{"replyToId", replyTo},
		{"etag", strconv.FormatInt(modified.UnixMilli(), 10)},
		{"messageType", msgType},
		{"createdDateTime", ts(created)},
		{"lastModifiedDateTime", ts(modified)},
		{"lastEditedDateTime", lastEdited},
		{"deletedDateTime", deleted},
		{"subject", subject},
		{"summary", nil},
		{"chatId", nil},
		{"importance", "normal"},
		{"locale", "en-us"},
		{"webUrl", "https://teams.microsoft.com/l/message/" + escapeQuery(channelID) + "/" + id + "?groupId=" + g.id},
		{"policyViolation", nil},
		{"eventDetail", nil},
		{"from", from},
		{"body", map[string]any{"contentType": "html", "content": body}},
		{"channelIdentity", map[string]any{"teamId": g.id, "channelId": channelID}},
		{"attachments", []any{}},
		{"mentions", []any{}},
		{"reactions", []any{}},
	}
}

// chatMessageText is a generated message's author, type, body and
// subject.
func (s *Server) chatMessageText(m ref) (author *user, msgType, body string, subject any) {
	r := newRNG(s.t.seed, tagChannel, uint64(m.Owner), uint64(m.Coll), uint64(m.Index), uint64(m.Sub), uint64(m.Serial))
	author = s.t.users[r.intn(s.t.nRegular)]
	msgType = "message"
	body = "<p>" + htmlEscape(capitalize(pickWords(r, r.between(3, 40)))) + "</p>"
	if m.Sub == 0 && r.chance(0.03) {
		msgType, body = "systemEventMessage", "<systemEventMessage/>"
	}
	if m.Sub == 0 && r.chance(0.3) {
		subject = capitalize(pickWords(r, 3))
	}
	return author, msgType, body, subject
}

func mustInt(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

var chatMessageKnownProps = object{{"id", nil}, {"replyToId", nil}, {"etag", nil}, {"messageType", nil},
	{"createdDateTime", nil}, {"lastModifiedDateTime", nil}, {"lastEditedDateTime", nil},
	{"deletedDateTime", nil}, {"subject", nil}, {"summary", nil}, {"chatId", nil}, {"importance", nil},
	{"locale", nil}, {"webUrl", nil}, {"policyViolation", nil}, {"eventDetail", nil}, {"from", nil},
	{"body", nil}, {"channelIdentity", nil}, {"attachments", nil}, {"mentions", nil}, {"reactions", nil}}

func (rq *request) listChannels() error {
	g, ok := rq.s.t.groupByID(rq.params["group"])
	if !ok || !g.isTeam {
		return newError(http.StatusNotFound, "NotFound", "No team found with Group Id %s", rq.params["group"])
	}
	l := rq.s.t.chatLayout(g)
	items := make([]any, len(l.channels))
	for i := range l.channels {
		items[i] = rq.s.channelObject(g, ref{Kind: kChannel, Owner: uint32(g.idx), Index: uint32(i)})
	}
	return rq.writeList("teams/"+g.id+"/channels", "teams('"+g.id+"')/channels", &listToken{}, items, 1000)
}

func (rq *request) getChannel() error {
	g, c, err := rq.resolveChannel()
	if err != nil {
		return err
	}
	rq.sendJSON(http.StatusOK, rq.s.channelObject(g, c.ref))
	return nil
}

// channelCollection is the delta collection of a channel's top-level messages.
func (s *Server) channelCollection(c ref) collection {
	m := s.model
	l := s.t.chatLayout(s.t.groups[c.Owner])
	return collection{
		key:     c,
		service: "teams",
		baseLen: l.channels[c.Index].count,
		base: func(i int) ref {
			return ref{Kind: kChatMessage, Owner: c.Owner, Coll: c.Index, Index: uint32(i)}
		},
		member: func(v view) bool { return v.container == c && m.aliveLocked(v) },
	}
}

func (rq *request) listChannelMessages() error {
	g, c, err := rq.resolveChannel()
	if err != nil {
		return err
	}
	t, err := rq.listOptions()
	if err != nil {
		return err
	}
	sel, err := selectList(t.Sel, "chatMessage", chatMessageKnownProps)
	if err != nil {
		return err
	}
	members := rq.s.folderMembers(rq.s.channelCollection(c.ref))
	size := rq.listPageSize(t, 20, 50)
	items := make([]any, len(members))
	for i := t.Off; i < min(t.Off+size, len(members)); i++ {
		items[i] = rq.s.chatMessageObject(members[i]).project(sel)
	}
	return rq.writeList("teams/"+g.id+"/channels/"+escapeSeg(rq.s.t.channelID(c.ref))+"/messages", "messages", t, items, size)
}

// channelDeltaMonths is how far back an initial round of channel message
// delta reaches: "Delta will only return messages within the last eight
// months. You can use GET /teams/{team-id}/channels/{channel-id}/messages
// to retrieve older messages." (Graph's chatMessage: delta note, quoted in
// https://learn.microsoft.com/answers/questions/1162305; the same note on
// https://learn.microsoft.com/graph/api/chatmessage-delta). Later rounds
// report every change, whatever the message's age.
const channelDeltaMonths = 8

func (rq *request) channelMessagesDelta() error {
	g, c, err := rq.resolveChannel()
	if err != nil {
		return err
	}
	s := rq.s
	col := s.channelCollection(c.ref)
	path := "teams/" + g.id + "/channels/" + escapeSeg(s.t.channelID(c.ref)) + "/messages/delta"
	horizon := s.now().AddDate(0, -channelDeltaMonths, 0)
	return rq.serveDeltaWith(col, path, "chatMessage", chatMessageKnownProps, nil, func(e deltaEntry, tok *deltaToken, _ filterExpr) []any {
		if !tok.Inc && !tok.Link && time.UnixMilli(mustInt(s.chatMessageID(e.v.ref))).Before(horizon) {
			return nil // before the initial round's horizon
		}
		// Deleted messages are reported with deletedDateTime, not @removed.
		return []any{s.chatMessageObject(e.v).project(tok.Sel)}
	})
}

// lookupChatMessage resolves {message} (and {reply}) in a channel.
func (rq *request) lookupChatMessage(channel ref, key string, reply bool) (view, *apiError) {
	r, ok := rq.s.parseChatMessageID(channel, key)
	if !ok || (r.Sub != 0) != reply {
		return view{}, newError(http.StatusNotFound, "NotFound", "Message not found.")
	}
	m := rq.s.model
	m.mu.RLock()
	defer m.mu.RUnlock()
	v, ok := m.viewLocked(r)
	if !ok || !m.aliveLocked(v) {
		return view{}, newError(http.StatusNotFound, "NotFound", "Message not found.")
	}
	return v, nil
}

func (rq *request) getChannelMessage() error {
	_, c, err := rq.resolveChannel()
	if err != nil {
		return err
	}
	v, err := rq.lookupChatMessage(c.ref, rq.params["message"], false)
	if err != nil {
		return err
	}
	rq.fetchedItem("chatMessage", rq.params["message"])
	rq.sendJSON(http.StatusOK, rq.s.chatMessageObject(v))
	return nil
}

// replies lists the live replies of a message view.
func (s *Server) replies(v view) []view {
	m := s.model
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []view
	if v.ref.Serial == 0 {
		for n := 1; n <= replyCount(s.t.seed, v.ref); n++ {
			r := v.ref
			r.Sub = uint16(n)
			if rv, ok := m.viewLocked(r); ok && m.aliveLocked(rv) {
				out = append(out, rv)
			}
		}
	}
	if st := m.items[v.ref]; st != nil {
		for _, r := range st.replies {
			if rv, ok := m.viewLocked(r); ok && m.aliveLocked(rv) {
				out = append(out, rv)
			}
		}
	}
	return out
}

func (rq *request) listReplies() error {
	g, c, err := rq.resolveChannel()
	if err != nil {
		return err
	}
	v, err := rq.lookupChatMessage(c.ref, rq.params["message"], false)
	if err != nil {
		return err
	}
	t, err := rq.listOptions()
	if err != nil {
		return err
	}
	var items []any
	for _, r := range rq.s.replies(v) {
		items = append(items, rq.s.chatMessageObject(r))
	}
	path := "teams/" + g.id + "/channels/" + escapeSeg(rq.s.t.channelID(c.ref)) + "/messages/" + rq.params["message"] + "/replies"
	return rq.writeList(path, "replies", t, items, rq.listPageSize(t, 20, 50))
}

func (rq *request) getReply() error {
	_, c, err := rq.resolveChannel()
	if err != nil {
		return err
	}
	v, err := rq.lookupChatMessage(c.ref, rq.params["reply"], true)
	if err != nil {
		return err
	}
	rq.sendJSON(http.StatusOK, rq.s.chatMessageObject(v))
	return nil
}

// postChannelMessage creates a message (or a reply when {message} is set).
func (rq *request) postChannelMessage() error {
	s := rq.s
	_, c, err := rq.resolveChannel()
	if err != nil {
		return err
	}
	doc, err := rq.readJSONBody()
	if err != nil {
		return err
	}
	m := s.model
	var parent view
	isReply := rq.params["message"] != ""
	if isReply {
		if parent, err = rq.lookupChatMessage(c.ref, rq.params["message"], false); err != nil {
			return err
		}
	}
	m.mu.Lock()
	var st *itemState
	base := ref{Kind: kChatMessage, Owner: c.ref.Owner, Coll: c.ref.Index}
	if isReply {
		base.Sub = 1
		st = m.createRefLocked(base, parent.ref, ref{})
		pst := m.touchLocked(parent)
		pst.replies = append(pst.replies, st.ref)
	} else {
		st = m.createRefLocked(base, c.ref, ref{})
	}
	st.doc = doc
	st.src = st.ref
	m.mu.Unlock()
	v, _ := m.view(st.ref)
	rq.sendJSON(http.StatusCreated, s.chatMessageObject(v))
	return nil
}

// stateChannels adds a team's channel messages and replies, and the
// hosted contents of each, to the truth.
func (s *Server) stateChannels(st *State, g *group, noHash bool) {
	l := s.t.chatLayout(g)
	for i := range l.channels {
		c := ref{Kind: kChannel, Owner: uint32(g.idx), Index: uint32(i)}
		cid := s.t.channelID(c)
		for _, v := range s.folderMembers(s.channelCollection(c)) {
			for _, mv := range append([]view{v}, s.replies(v)...) {
				it := StateItem{Resource: g.displayName, ResourceID: g.id, Category: "channels", Kind: "channelMessage",
					CollectionID: cid, Path: l.channels[i].name, ID: s.chatMessageID(mv.ref), Version: mv.version}
				if mv.ref.Sub != 0 {
					it.Kind = "channelReply"
				}
				if !noHash {
					b, _ := s.chatMessageObject(mv).MarshalJSON()
					it.Hash, it.Size = sha256Hex(b), int64(len(b))
				}
				st.Items = append(st.Items, it)
				s.stateHostedContents(st, it, mv, noHash)
			}
		}
	}
}
