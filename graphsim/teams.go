package graphsim

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Teams channels with messages and replies. Channel ids look like Graph's
// ("19:...@thread.tacv2"); message ids are millisecond timestamps unique
// within their channel, as in Graph. Channel message deltas list top-level
// messages; deleted messages come back with deletedDateTime set rather than
// as @removed, and a changed reply re-sends its parent message.

type chatLayout struct {
	// mu guards the list (a restore adds channels) and each channel's
	// migration state.
	mu       sync.RWMutex
	channels []*chatChannel
}

type chatChannel struct {
	name  string
	count int // generated messages
	// membership is the channel's membershipType: standard, private or
	// shared (teams_shared.go).
	membership string
	// sharedWith are the teams (group indexes) other than its host that a
	// shared channel is shared with.
	sharedWith []int
	// base is what message ids count from: the channel's creation, fixed
	// even when a migration moves createdDateTime back.
	base    time.Time
	created time.Time // createdDateTime
	migration
}

// list is the team's channels now.
func (l *chatLayout) list() []*chatChannel {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.channels
}

// channel is channel i of the team.
func (l *chatLayout) channel(i uint32) *chatChannel { return l.list()[i] }

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
		created := g.created.Add(time.Duration(i) * time.Hour)
		l.channels = append(l.channels, &chatChannel{name: names[i], count: counts[i], base: created, created: created, membership: membershipStandard})
	}
	l.channels = append(l.channels, t.restrictedChannels(g, n)...)
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
		if r.Coll != 0 || r.Sub != 0 || int(r.Index) >= len(l.list()) {
			return view{}, false
		}
		return v, true
	case kChatMessage:
		chans := l.list()
		if int(r.Coll) >= len(chans) || int(r.Index) >= chans[r.Coll].count {
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
	for i := range s.t.chatLayout(g).list() {
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
	return s.t.chatLayout(s.t.groups[c.Owner]).channel(c.Index).base.UnixMilli()
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

// channelObject renders a channel as a request asks for it; migrationMode
// is a beta property
// (https://learn.microsoft.com/graph/api/resources/channel?view=graph-rest-beta).
func (rq *request) channelObject(g *group, c ref) object {
	return rq.s.channelObject(g, c, rq.version == "beta", rq.pref.has(preferAllEnums))
}

// channelObject renders a channel. allEnums: the request's Prefer asks
// for evolvable enum members (membershipType, teams_shared.go).
func (s *Server) channelObject(g *group, c ref, beta, allEnums bool) object {
	l := s.t.chatLayout(g)
	ch := l.channel(c.Index)
	l.mu.RLock()
	created, mode := ch.created, ch.mode
	l.mu.RUnlock()
	var migrationMode any
	if mode != "" {
		migrationMode = mode
	}
	var betaOnly object
	if beta {
		betaOnly = object{{"migrationMode", migrationMode}}
	}
	id := s.t.channelID(c)
	return append(object{
		{"id", id},
		{"createdDateTime", tsMillis(created)},
		{"displayName", ch.name},
		{"description", ch.name + " channel"},
		{"email", ""},
		{"isFavoriteByDefault", c.Index == 0},
		{"membershipType", membershipReported(ch.membership, allEnums)},
		{"tenantId", s.opts.TenantID},
		{"webUrl", "https://teams.microsoft.com/l/channel/" + escapeQuery(id) + "/" + escapeQuery(ch.name) + "?groupId=" + g.id + "&tenantId=" + s.opts.TenantID},
	}, betaOnly...)
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
	var imported *importedMessage
	if v.st != nil {
		imported, _ = v.st.doc[importedKey].(*importedMessage)
	}
	if imported != nil {
		msgType, body, subject, created, modified = "message", imported.body, imported.subject, imported.created, v.st.createdAt
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
	if imported != nil {
		author = imported.author
	}
	if msgType == "message" {
		from = map[string]any{"application": nil, "device": nil, "user": map[string]any{
			"@odata.type": "#microsoft.graph.teamworkUserIdentity", "id": author.id, "displayName": author.displayName,
			"userIdentityType": "aadUser", "tenantId": s.opts.TenantID}}
	}
	importance, attachments, bodyType, createdAt := any("normal"), any([]any{}), "html", ts(created)
	if imported != nil {
		// An import keeps the creation time to the millisecond: it is
		// what makes a message unique in its channel.
		importance, attachments, bodyType, createdAt = imported.importance, imported.attachments, imported.contentType, tsMillis(created)
	}
	id := s.chatMessageID(v.ref)
	return object{
		{"id", id},
		{"replyToId", replyTo},
		{"etag", strconv.FormatInt(modified.UnixMilli(), 10)},
		{"messageType", msgType},
		{"createdDateTime", createdAt},
		{"lastModifiedDateTime", ts(modified)},
		{"lastEditedDateTime", lastEdited},
		{"deletedDateTime", deleted},
		{"subject", subject},
		{"summary", nil},
		{"chatId", nil},
		{"importance", importance},
		{"locale", "en-us"},
		{"webUrl", "https://teams.microsoft.com/l/message/" + escapeQuery(channelID) + "/" + id + "?groupId=" + g.id},
		{"policyViolation", nil},
		{"eventDetail", nil},
		{"from", from},
		{"body", map[string]any{"contentType": bodyType, "content": body}},
		{"channelIdentity", map[string]any{"teamId": g.id, "channelId": channelID}},
		{"attachments", attachments},
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

// listChannels lists the channels a team hosts, whatever their
// membershipType (teams_shared.go).
func (rq *request) listChannels() error {
	g, aerr := rq.team()
	if aerr != nil {
		return aerr
	}
	return rq.writeChannels("teams/"+g.id+"/channels", "teams('"+g.id+"')/channels", hostedChannels(rq.s.t, g), false)
}

func (rq *request) getChannel() error {
	g, c, err := rq.resolveChannel()
	if err != nil {
		return err
	}
	rq.sendJSON(http.StatusOK, rq.channelObject(g, c.ref))
	return nil
}

// channelCollection is the delta collection of a channel's top-level messages.
func (s *Server) channelCollection(c ref) collection {
	m := s.model
	return collection{
		key:     c,
		service: "teams",
		baseLen: s.t.chatLayout(s.t.groups[c.Owner]).channel(c.Index).count,
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
	// $expand=replies is the one expansion: "By default, the response can
	// contain up to 1000 replies" (https://learn.microsoft.com/graph/api/channel-list-messages).
	if t.Expand != "" && !strings.EqualFold(t.Expand, "replies") {
		return errBadRequest("Parsing OData Select and Expand failed: Could not find a property named '%s' on type 'microsoft.graph.chatMessage'.", t.Expand)
	}
	members := rq.s.folderMembers(rq.s.channelCollection(c.ref))
	size := rq.listPageSize(t, 20, 50)
	items := make([]any, len(members))
	for i := t.Off; i < min(t.Off+size, len(members)); i++ {
		o := rq.s.chatMessageObject(members[i]).project(sel)
		if t.Expand != "" {
			replies := []any{}
			for _, r := range rq.s.replies(members[i]) {
				if len(replies) == maxExpandedReplies {
					break
				}
				replies = append(replies, rq.s.chatMessageObject(r))
			}
			o = append(o, kv{"replies", replies})
		}
		items[i] = o
	}
	return rq.writeList("teams/"+g.id+"/channels/"+escapeSeg(rq.s.t.channelID(c.ref))+"/messages", "messages", t, items, size)
}

// maxExpandedReplies is how many replies $expand=replies shows of a
// message.
const maxExpandedReplies = 1000

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

// stateChannels adds a team's channel messages and replies, and the
// hosted contents of each, to the truth.
func (s *Server) stateChannels(st *State, g *group, noHash bool) {
	for i, ch := range s.t.chatLayout(g).list() {
		c := ref{Kind: kChannel, Owner: uint32(g.idx), Index: uint32(i)}
		cid := s.t.channelID(c)
		for _, v := range s.folderMembers(s.channelCollection(c)) {
			for _, mv := range append([]view{v}, s.replies(v)...) {
				it := StateItem{Resource: g.displayName, ResourceID: g.id, Category: "channels", Kind: "channelMessage",
					CollectionID: cid, Path: ch.name, ID: s.chatMessageID(mv.ref), Version: mv.version}
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
