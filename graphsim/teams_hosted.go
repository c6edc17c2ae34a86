package graphsim

import (
	"encoding/base64"
	"fmt"
	"net/http"
)

// Hosted contents: the inline images pasted into a Teams message. The
// body refers to each by its $value address; Graph lists a message's
// hosted contents and serves each one's bytes
// (https://learn.microsoft.com/graph/api/chatmessage-list-hostedcontents,
// https://learn.microsoft.com/graph/api/chatmessagehostedcontent-get):
//
//	GET /teams/{team}/channels/{channel}/messages/{message}/hostedContents
//	GET /teams/{team}/channels/{channel}/messages/{message}/hostedContents/{id}/$value
//
// and the same under /replies/{reply} for a reply. One generated message
// or reply in ten carries one or two.

// hostedContentShare is the share of generated messages and replies that
// carry inline images.
const hostedContentShare = 0.1

type hostedContent struct {
	id          string
	contentType string
	bytes       []byte
	markup      string // the <img> the message's body holds
}

// hostedContentKinds are the image types generated, with the bytes a
// file of the type starts with.
var hostedContentKinds = []struct {
	contentType string
	magic       []byte
}{
	{"image/png", []byte("\x89PNG\r\n\x1a\n")},
	{"image/jpeg", []byte("\xff\xd8\xff\xe0")},
}

// hostedContents is what a message or reply carries inline: a generated
// one's drawn images, an imported one's own (teams_migration.go); nil for
// a system event and a deleted message.
func (s *Server) hostedContents(v view) []hostedContent {
	m := v.ref
	if m.Kind != kChatMessage || v.deleted {
		return nil
	}
	if v.st != nil {
		if im, ok := v.st.doc[importedKey].(*importedMessage); ok {
			return im.hosted
		}
	}
	if m.Serial != 0 {
		return nil
	}
	r := newRNG(s.t.seed, tagChannel, uint64(m.Owner), uint64(m.Coll), uint64(m.Index), uint64(m.Sub), uint64(m.Serial), 2)
	if !r.chance(hostedContentShare) {
		return nil
	}
	if _, msgType, _, _ := s.chatMessageText(m); msgType != "message" {
		return nil
	}
	g := s.t.groups[m.Owner]
	id := s.chatMessageID(m)
	path := "https://graph.microsoft.com/v1.0/teams/" + g.id + "/channels/" + s.t.channelID(m.chatChannel()) + "/messages/"
	if m.Sub != 0 {
		parent := m
		parent.Sub = 0
		path += s.chatMessageID(parent) + "/replies/"
	}
	n := r.between(1, 2)
	out := make([]hostedContent, n)
	for i := range out {
		kind := hostedContentKinds[r.intn(len(hostedContentKinds))]
		b := append([]byte(nil), kind.magic...)
		for range r.between(64, 2048) {
			b = append(b, byte(r.next()))
		}
		hid := base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "id=x_0-%s-%d,type=1", id, i+1))
		w, h := r.between(40, 400), r.between(40, 300)
		out[i] = hostedContent{id: hid, contentType: kind.contentType, bytes: b,
			markup: fmt.Sprintf(`<p><img alt="image" src="%s%s/hostedContents/%s/$value" width="%d" height="%d" style="vertical-align:bottom; width:%dpx; height:%dpx"></p>`,
				path, id, hid, w, h, w, h)}
	}
	return out
}

// hostedContentObject renders a chatMessageHostedContent as a listing
// shows it: the bytes are read from $value.
func (hc hostedContent) object() object {
	return object{{"id", hc.id}, {"contentBytes", nil}, {"contentType", hc.contentType}}
}

// lookupHostedMessage resolves the message or reply of a hosted content
// request.
func (rq *request) lookupHostedMessage() (view, *apiError) {
	_, c, err := rq.resolveChannel()
	if err != nil {
		return view{}, err
	}
	msg, err := rq.lookupChatMessage(c.ref, rq.params["message"], false)
	if err != nil {
		return view{}, err
	}
	if rq.params["reply"] == "" {
		return msg, nil
	}
	reply, err := rq.lookupChatMessage(c.ref, rq.params["reply"], true)
	if err != nil || reply.container != msg.ref {
		return view{}, newError(http.StatusNotFound, "NotFound", "Message not found.")
	}
	return reply, nil
}

func (rq *request) listHostedContents() error {
	v, err := rq.lookupHostedMessage()
	if err != nil {
		return err
	}
	items := []any{}
	for _, hc := range rq.s.hostedContents(v) {
		items = append(items, hc.object())
	}
	rq.sendJSON(http.StatusOK, map[string]any{"@odata.context": rq.graphLink("$metadata#hostedContents"), "value": items})
	return nil
}

// findHostedContent resolves {hosted} of a request's message or reply.
func (rq *request) findHostedContent() (hostedContent, error) {
	v, err := rq.lookupHostedMessage()
	if err != nil {
		return hostedContent{}, err
	}
	for _, hc := range rq.s.hostedContents(v) {
		if hc.id == rq.params["hosted"] {
			return hc, nil
		}
	}
	return hostedContent{}, newError(http.StatusNotFound, "NotFound", "Hosted content not found.")
}

func (rq *request) getHostedContent() error {
	hc, err := rq.findHostedContent()
	if err != nil {
		return err
	}
	rq.sendJSON(http.StatusOK, hc.object())
	return nil
}

func (rq *request) getHostedContentValue() error {
	hc, err := rq.findHostedContent()
	if err != nil {
		return err
	}
	rq.sendBytes(hc.contentType, hc.bytes)
	return nil
}

// stateHostedContents adds the hosted contents of a message or reply to
// the truth, each named "<message id>/<hosted content id>" and hashed over
// its bytes.
func (s *Server) stateHostedContents(st *State, it StateItem, v view, noHash bool) {
	for _, hc := range s.hostedContents(v) {
		h := it
		h.Kind, h.ID, h.Hash, h.Size = "hostedContent", it.ID+"/"+hc.id, "", 0
		if !noHash {
			h.Hash, h.Size = sha256Hex(hc.bytes), int64(len(hc.bytes))
		}
		st.Items = append(st.Items, h)
	}
}
