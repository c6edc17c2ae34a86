package graphsim

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Message import ("migration mode"): the only way Graph lets an
// application post a channel message, and post it as its original author
// at its original time.
//
// Sources:
//   - https://learn.microsoft.com/graph/teams-import-messages (M): app-only
//     context with Teamwork.Migrate.All; the target must be in migration
//     mode; "from" must be a user of the app's tenant; a createdDateTime
//     must be later than the channel's, not in the future, and unique to
//     the millisecond in the channel (409 Conflict otherwise); only the app
//     that called startMigration may import into the channel or complete it.
//   - https://learn.microsoft.com/microsoftteams/platform/graph-api/import-messages/import-external-messages-to-teams
//     (I): a channel created with "@microsoft.graph.channelCreationMode":
//     "migration" and a back-in-time createdDateTime (202 Accepted; 400 for
//     a createdDateTime in the future, or one without the creation mode);
//     an import answers 200 OK; inline images are imported as hostedContents
//     with "@microsoft.graph.temporaryId", which the body refers to as
//     "../hostedContents/{temporaryId}/$value"; at-mentions, reactions,
//     quotes and the like are out of the import's scope; completeMigration
//     on a channel not in migration mode is 400 Bad Request.
//   - https://learn.microsoft.com/graph/api/channel-startmigration (S):
//     migration mode on an existing channel, standard, private or shared;
//     conversationCreationDateTime, when given, must be older than the
//     channel's createdDateTime and replaces it; 204 No Content.
//   - https://learn.microsoft.com/graph/api/channel-completemigration (C):
//     migrationMode becomes "completed"; the app that started the migration
//     must complete it; 204 No Content; afterwards startMigration may open
//     the channel to imports again.
//   - Outside migration mode an application's POST of a message is refused:
//     401 "Message POST is allowed in application-only context only for
//     import purposes" (stackoverflow.com/questions/65234475;
//     MicrosoftDocs/msteams-docs#12992 quotes the message).
//
// What the documentation does not say, and is chosen here: the codes of the
// refusals it gives only a status for (BadRequest), the 403 to another app
// touching a channel one app migrates, startMigration by the owning app on
// a channel already in migration mode (accepted: the table in S says
// "Channels must be created or already be in migration mode"), whether
// createdDateTime must be unique among replies too (it is: "unique ... within
// the target chat or channel"), and users' own sends while a channel is in
// migration mode (refused: "Migration mode is a special state that prevents
// certain operations, like sending messages", C).

// migration is a channel's migration state.
type migration struct {
	mode string // "", migrationInProgress or migrationCompleted
	app  string // the app that started the migration
	// taken are the createdDateTimes (Unix ms) of the messages and replies
	// imported into the channel.
	taken map[int64]bool
}

const (
	migrationInProgress = "inProgress"
	migrationCompleted  = "completed"
)

// importedKey holds an imported message's *importedMessage in its
// itemState.doc.
const importedKey = "\x00imported"

// importedMessage is what an import stores of a message: what import
// accepts.
type importedMessage struct {
	author      *user
	created     time.Time
	body        string
	contentType string
	subject     any
	importance  any
	attachments any
	hosted      []hostedContent
}

// tsMillis renders a time as Graph renders a chatMessage's
// createdDateTime, to the millisecond.
func tsMillis(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.999Z07:00") }

// appID is the application a request's token was issued to.
func (rq *request) appID() string {
	_, tok, _ := strings.Cut(rq.r.Header.Get("Authorization"), " ")
	if c, _ := rq.s.verifyToken(strings.TrimSpace(tok)); c != nil {
		return c.AppID
	}
	return ""
}

// parseGraphTime reads an Edm.DateTimeOffset.
func parseGraphTime(v any) (time.Time, bool) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

// createChannel creates a channel: POST /teams/{id}/channels, in
// migration mode with "@microsoft.graph.channelCreationMode" (I); a
// private or shared one only with its owner (newChannelMembership,
// teams_shared.go).
func (rq *request) createChannel() error {
	s := rq.s
	g, ok := s.t.groupByID(rq.params["group"])
	if !ok || !g.isTeam {
		return newError(http.StatusNotFound, "NotFound", "No team found with Group Id %s", rq.params["group"])
	}
	doc, aerr := rq.readJSONBody()
	if aerr != nil {
		return aerr
	}
	name, _ := doc["displayName"].(string)
	if strings.TrimSpace(name) == "" {
		return errBadRequest("displayName is required.")
	}
	membership, aerr := s.t.newChannelMembership(doc)
	if aerr != nil {
		return aerr
	}
	now := s.now()
	ch := &chatChannel{name: name, base: now, created: now, membership: membership}
	mode, migrating := doc["@microsoft.graph.channelCreationMode"]
	if migrating && mode != "migration" {
		return errBadRequest("Invalid value of channelCreationMode.")
	}
	if raw, ok := doc["createdDateTime"]; ok && raw != nil {
		t, ok := parseGraphTime(raw)
		switch {
		case !ok:
			return errBadRequest("Invalid createdDateTime.")
		case !migrating:
			return errBadRequest("createdDateTime can only be set on a channel created for migration (channelCreationMode).")
		case t.After(now):
			return errBadRequest("createdDateTime cannot be in the future.")
		}
		ch.created = t
	}
	if migrating {
		ch.migration = migration{mode: migrationInProgress, app: rq.appID()}
	}
	l := s.t.chatLayout(g)
	l.mu.Lock()
	for _, other := range l.channels {
		if strings.EqualFold(other.name, name) {
			l.mu.Unlock()
			// The text users report; the code is not documented.
			return errBadRequest("Channel name already existed, please use other name.")
		}
	}
	// A new array: list() callers keep a consistent snapshot.
	l.channels = append(l.channels[:len(l.channels):len(l.channels)], ch)
	c := ref{Kind: kChannel, Owner: uint32(g.idx), Index: uint32(len(l.channels) - 1)}
	l.mu.Unlock()
	status := http.StatusCreated
	if migrating || membership == membershipShared {
		status = http.StatusAccepted
		rq.w.Header().Set("Content-Location", "/teams/"+g.id+"/channels/"+s.t.channelID(c))
	}
	rq.sendJSON(status, rq.channelObject(g, c))
	return nil
}

// migratingChannel is a request's channel with its layout.
func (rq *request) migratingChannel() (*chatLayout, *chatChannel, view, *apiError) {
	g, c, err := rq.resolveChannel()
	if err != nil {
		return nil, nil, view{}, err
	}
	l := rq.s.t.chatLayout(g)
	return l, l.channel(c.ref.Index), c, nil
}

func errMigrationOwned() *apiError {
	return newError(http.StatusForbidden, "Forbidden", "Another application is migrating this channel; only it can import messages into it or complete the migration.")
}

// startChannelMigration: POST .../channels/{id}/startMigration (S).
func (rq *request) startChannelMigration() error {
	l, ch, _, aerr := rq.migratingChannel()
	if aerr != nil {
		return aerr
	}
	body, aerr := rq.readBody(maxRequestBody)
	if aerr != nil {
		return aerr
	}
	var doc map[string]any
	if len(strings.TrimSpace(string(body))) > 0 && json.Unmarshal(body, &doc) != nil {
		return errBadRequest("Unable to read JSON request payload.")
	}
	app := rq.appID()
	l.mu.Lock()
	defer l.mu.Unlock()
	if ch.mode == migrationInProgress && ch.app != app {
		return errMigrationOwned()
	}
	if raw, ok := doc["conversationCreationDateTime"]; ok && raw != nil {
		t, ok := parseGraphTime(raw)
		if !ok {
			return errBadRequest("Invalid conversationCreationDateTime.")
		}
		if !t.Before(ch.created) {
			return errBadRequest("conversationCreationDateTime must be older than the channel's createdDateTime.")
		}
		ch.created = t
	}
	ch.mode, ch.app = migrationInProgress, app
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}

// completeChannelMigration: POST .../channels/{id}/completeMigration (C, I).
func (rq *request) completeChannelMigration() error {
	l, ch, _, aerr := rq.migratingChannel()
	if aerr != nil {
		return aerr
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if ch.mode != migrationInProgress {
		return errBadRequest("The channel is not in migration mode.")
	}
	if ch.app != rq.appID() {
		return errMigrationOwned()
	}
	ch.mode = migrationCompleted
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}

// channelAcceptsSends reports whether users can post in a channel: not
// while it is in migration mode (C).
func (s *Server) channelAcceptsSends(c ref) bool {
	l := s.t.chatLayout(s.t.groups[c.Owner])
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.channels[c.Index].mode != migrationInProgress
}

// postChannelMessage imports a message, or a reply when {message} is set:
// the only POST of a message an application may make.
func (rq *request) postChannelMessage() error {
	s := rq.s
	l, ch, c, aerr := rq.migratingChannel()
	if aerr != nil {
		return aerr
	}
	l.mu.RLock()
	mode, owner, since := ch.mode, ch.app, ch.created
	l.mu.RUnlock()
	if mode != migrationInProgress {
		return newError(http.StatusUnauthorized, "Unauthorized",
			"Message POST is allowed in application-only context only for import purposes. Refer to https://docs.microsoft.com/microsoftteams/platform/graph-api/import-messages/import-external-messages-to-teams for more details.")
	}
	if owner != rq.appID() {
		return errMigrationOwned()
	}
	doc, aerr := rq.readJSONBody()
	if aerr != nil {
		return aerr
	}
	var parent view
	isReply := rq.params["message"] != ""
	if isReply {
		if parent, aerr = rq.lookupChatMessage(c.ref, rq.params["message"], false); aerr != nil {
			return aerr
		}
	}
	im, aerr := s.readImport(doc, since)
	if aerr != nil {
		return aerr
	}
	if aerr := s.takeCreated(l, ch, c.ref, im.created); aerr != nil {
		return aerr
	}
	m := s.model
	m.mu.Lock()
	base := ref{Kind: kChatMessage, Owner: c.ref.Owner, Coll: c.ref.Index}
	var st *itemState
	if isReply {
		base.Sub = 1
		st = m.createRefLocked(base, parent.ref, ref{})
		pst := m.touchLocked(parent)
		pst.replies = append(pst.replies, st.ref)
	} else {
		st = m.createRefLocked(base, c.ref, ref{})
	}
	st.src = st.ref
	s.placeHostedContents(im, st.ref, parent)
	st.doc = map[string]any{importedKey: im}
	m.mu.Unlock()
	v, _ := m.view(st.ref)
	rq.sendJSON(http.StatusOK, s.chatMessageObject(v))
	return nil
}

// readImport checks what an import posts (M, I) and keeps what import
// accepts: the author, the time, the body with its inline images, the
// subject, the importance and references to files. Mentions, reactions
// and the rest are out of the import's scope (I) and are not kept.
func (s *Server) readImport(doc map[string]any, since time.Time) (*importedMessage, *apiError) {
	im := &importedMessage{contentType: "html", importance: "normal", attachments: []any{}}
	from, _ := doc["from"].(map[string]any)
	u, _ := from["user"].(map[string]any)
	uid, _ := u["id"].(string)
	if uid == "" {
		return nil, errBadRequest("An imported message must name its author: from.user.id.")
	}
	author, ok := s.t.userByKey(uid)
	if !ok || !strings.EqualFold(author.id, uid) {
		return nil, errBadRequest("from.user.id %s is not a user of the tenant.", uid)
	}
	im.author = author
	now := s.now()
	im.created = now
	if raw, ok := doc["createdDateTime"]; ok && raw != nil {
		t, ok := parseGraphTime(raw)
		switch {
		case !ok:
			return nil, errBadRequest("Invalid createdDateTime.")
		case t.After(now):
			return nil, errBadRequest("createdDateTime cannot be in the future.")
		case !t.After(since):
			return nil, errBadRequest("createdDateTime must be later than the createdDateTime of the channel.")
		}
		im.created = t
	}
	im.created = im.created.Truncate(time.Millisecond)
	if b, ok := doc["body"].(map[string]any); ok {
		im.body, _ = b["content"].(string)
		if ct, _ := b["contentType"].(string); ct != "" {
			im.contentType = ct
		}
	}
	if sub, ok := doc["subject"].(string); ok && sub != "" {
		im.subject = sub
	}
	if imp, ok := doc["importance"].(string); ok && imp != "" {
		im.importance = imp
	}
	if atts, ok := doc["attachments"].([]any); ok {
		im.attachments = atts
	}
	hcs, _ := doc["hostedContents"].([]any)
	byTemp := map[string]hostedContent{}
	for _, raw := range hcs {
		h, _ := raw.(map[string]any)
		tmp, _ := h["@microsoft.graph.temporaryId"].(string)
		b64, _ := h["contentBytes"].(string)
		ct, _ := h["contentType"].(string)
		bytes, err := base64.StdEncoding.DecodeString(b64)
		if tmp == "" || err != nil || ct == "" {
			return nil, errBadRequest("A hosted content needs @microsoft.graph.temporaryId, contentBytes (base64) and contentType.")
		}
		byTemp[tmp] = hostedContent{id: tmp, contentType: ct, bytes: bytes}
	}
	placed := map[string]bool{}
	for _, sm := range temporaryHostedRef.FindAllStringSubmatch(im.body, -1) {
		hc, ok := byTemp[sm[1]]
		if !ok {
			return nil, errBadRequest("The body refers to hosted content %s, which the message does not carry.", sm[1])
		}
		if !placed[sm[1]] {
			placed[sm[1]] = true
			im.hosted = append(im.hosted, hc)
		}
	}
	return im, nil
}

// temporaryHostedRef is how an imported body shows an inline image it
// carries (I).
var temporaryHostedRef = regexp.MustCompile(`\.\./hostedContents/([^/"]+)/\$value`)

// takeCreated reserves a createdDateTime in a channel: unique to the
// millisecond among its messages and replies (M).
func (s *Server) takeCreated(l *chatLayout, ch *chatChannel, c ref, at time.Time) *apiError {
	ms := at.UnixMilli()
	conflict := newError(http.StatusConflict, "Conflict", "A message created at %s already exists in the channel.", tsMillis(at))
	// A generated message's createdDateTime is its id.
	if r, ok := s.parseChatMessageID(c, strconv.FormatInt(ms, 10)); ok && r.Serial == 0 {
		if _, alive := s.model.alive(r); alive {
			return conflict
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if ch.taken[ms] {
		return conflict
	}
	if ch.taken == nil {
		ch.taken = map[int64]bool{}
	}
	ch.taken[ms] = true
	return nil
}

// placeHostedContents gives an imported message's inline images their ids
// and addresses, and points its body at them (I: the answer's body shows
// the full $value address).
func (s *Server) placeHostedContents(im *importedMessage, msg ref, parent view) {
	if len(im.hosted) == 0 {
		return
	}
	id := s.chatMessageID(msg)
	g := s.t.groups[msg.Owner]
	addr := "https://graph.microsoft.com/v1.0/teams/" + g.id + "/channels/" + s.t.channelID(msg.chatChannel()) + "/messages/"
	if msg.Sub != 0 {
		addr += s.chatMessageID(parent.ref) + "/replies/"
	}
	addr += id + "/hostedContents/"
	byTemp := map[string]string{}
	for i := range im.hosted {
		hid := base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "id=x_0-%s-%d,type=1", id, i+1))
		byTemp[im.hosted[i].id] = hid
		im.hosted[i].id = hid
	}
	im.body = temporaryHostedRef.ReplaceAllStringFunc(im.body, func(ref string) string {
		tmp := temporaryHostedRef.FindStringSubmatch(ref)[1]
		return addr + byTemp[tmp] + "/$value"
	})
}

// addChannelReply adds a generated reply to a live top-level message, as
// a user posting in the channel would.
func (s *Server) addChannelReply(c ref, parentID string) (ref, error) {
	r, ok := s.parseChatMessageID(c, parentID)
	if !ok || r.Sub != 0 {
		return ref{}, fmt.Errorf("no message %q in the channel", parentID)
	}
	m := s.model
	m.mu.Lock()
	defer m.mu.Unlock()
	parent, ok := m.viewLocked(r)
	if !ok || !m.aliveLocked(parent) {
		return ref{}, fmt.Errorf("no live message %q in the channel", parentID)
	}
	st := m.createRefLocked(ref{Kind: kChatMessage, Owner: c.Owner, Coll: c.Index, Sub: 1}, parent.ref, ref{})
	st.src = st.ref
	pst := m.touchLocked(parent)
	pst.replies = append(pst.replies, st.ref)
	return st.ref, nil
}
