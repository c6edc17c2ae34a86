package graphsim

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Upload sessions for large drive files and large attachments. The upload
// URL is pre-authenticated (no Authorization header), accepts sequential
// chunks with Content-Range, and answers like OneDrive (202 with
// nextExpectedRanges, then 201/200 with the item) or like Outlook (200 with
// nextExpectedRanges, then 201 with a Location header).

const uploadPathPrefix = "/_upload/"

type uploadSession struct {
	mu      sync.Mutex // chunks of one session are applied one at a time
	id      string
	kind    string // "drive" or "attachment"
	expires time.Time
	total   int64
	buf     []byte
	// drive
	owner    uint32
	parent   ref
	name     string
	target   ref // existing item to replace
	conflict string
	modified time.Time // fileSystemInfo the session was created with
	// attachment
	item view
	att  storedAttachment
}

type uploadStore struct {
	mu   sync.Mutex
	next int
	m    map[string]*uploadSession
}

func newUploadStore() *uploadStore { return &uploadStore{m: map[string]*uploadSession{}} }

func (u *uploadStore) add(s *Server, sess *uploadSession) string {
	u.mu.Lock()
	u.next++
	sess.id = s.urlKeys.sign([]byte(fmt.Sprintf("upload:%d", u.next)))
	u.m[sess.id] = sess
	u.mu.Unlock()
	return sess.id
}

func (u *uploadStore) get(id string) (*uploadSession, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	s, ok := u.m[id]
	return s, ok
}

func (u *uploadStore) reset() {
	u.mu.Lock()
	clear(u.m)
	u.mu.Unlock()
}

func (u *uploadStore) remove(id string) {
	u.mu.Lock()
	delete(u.m, id)
	u.mu.Unlock()
}

func (rq *request) uploadURL(id string) string {
	return rq.s.baseURL(rq.r) + uploadPathPrefix + id
}

// createDriveUpload handles POST .../items/{parent}:/{name}:/createUploadSession
// and POST .../items/{id}/createUploadSession.
func (rq *request) createDriveUpload() error {
	s := rq.s
	doc, _ := rq.readJSONBody()
	sess := &uploadSession{kind: "drive", expires: s.now().Add(24 * time.Hour), conflict: conflictBehavior(rq, doc, "replace")}
	if rq.hasRel {
		owner, parent, name, err := rq.splitRel()
		if err != nil {
			return err
		}
		sess.owner, sess.parent, sess.name = owner, parent.ref, name
	} else {
		owner, v, err := rq.resolveDriveItem()
		if err != nil {
			return err
		}
		if v.ref.Sub == 0 {
			return errInvalidRequest("Cannot upload content to a folder.")
		}
		sess.owner, sess.target = owner, v.ref
	}
	if item, ok := doc["item"].(map[string]any); ok {
		if fs, ok := item["fileSize"].(float64); ok {
			sess.total = int64(fs)
		}
		mod, ok, err := fileSystemModified(item)
		if err != nil {
			return err
		}
		if ok {
			sess.modified = mod
		}
	}
	id := s.uploads.add(s, sess)
	rq.sendJSON(http.StatusOK, map[string]any{
		"uploadUrl":          rq.uploadURL(id),
		"expirationDateTime": ts(sess.expires),
		"nextExpectedRanges": []string{"0-"},
	})
	return nil
}

// createAttachmentUpload handles POST .../attachments/createUploadSession.
func (rq *request) createAttachmentUpload() error {
	s := rq.s
	v, _, err := rq.attachmentOwner()
	if err != nil {
		return err
	}
	doc, err := rq.readJSONBody()
	if err != nil {
		return err
	}
	ai, _ := doc["AttachmentItem"].(map[string]any)
	if ai == nil {
		ai, _ = doc["attachmentItem"].(map[string]any)
	}
	if ai == nil {
		return errBadRequest("The AttachmentItem property is required.")
	}
	size, _ := ai["size"].(float64)
	if size <= 0 {
		return errBadRequest("The attachment size is required.")
	}
	sess := &uploadSession{kind: "attachment", expires: s.now().Add(2 * time.Hour), total: int64(size), item: v}
	sess.att.name, _ = ai["name"].(string)
	sess.att.contentType, _ = ai["contentType"].(string)
	sess.att.contentID, _ = ai["contentId"].(string)
	sess.att.inline, _ = ai["isInline"].(bool)
	id := s.uploads.add(s, sess)
	rq.sendJSON(http.StatusCreated, map[string]any{
		"@odata.context":     rq.graphLink("$metadata#microsoft.graph.uploadSession"),
		"uploadUrl":          rq.uploadURL(id),
		"expirationDateTime": ts(sess.expires),
		"nextExpectedRanges": []string{"0-"},
	})
	return nil
}

// parseContentRange parses "bytes a-b/total" (total may be "*").
func parseContentRange(h string) (start, end, total int64, ok bool) {
	spec, found := strings.CutPrefix(strings.TrimSpace(h), "bytes ")
	if !found {
		return 0, 0, 0, false
	}
	rng, tot, found := strings.Cut(spec, "/")
	if !found {
		return 0, 0, 0, false
	}
	a, b, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, 0, false
	}
	var err error
	if start, err = strconv.ParseInt(a, 10, 64); err != nil {
		return 0, 0, 0, false
	}
	if end, err = strconv.ParseInt(b, 10, 64); err != nil || end < start {
		return 0, 0, 0, false
	}
	total = -1
	if tot != "*" {
		if total, err = strconv.ParseInt(tot, 10, 64); err != nil {
			return 0, 0, 0, false
		}
	}
	return start, end, total, true
}

// serveUpload receives a chunk for an upload session.
func (s *Server) serveUpload(c *httpCtx) {
	id := strings.TrimPrefix(c.r.URL.Path, uploadPathPrefix)
	sess, ok := s.uploads.get(id)
	if !ok || s.now().After(sess.expires) {
		s.fail(c, newError(http.StatusNotFound, "itemNotFound", "The upload session was not found or has expired."))
		return
	}
	sess.mu.Lock()
	defer sess.mu.Unlock()
	switch c.r.Method {
	case http.MethodDelete:
		s.uploads.remove(id)
		c.w.WriteHeader(http.StatusNoContent)
		return
	case http.MethodGet:
		writeJSON(c.w, http.StatusOK, map[string]any{"expirationDateTime": ts(sess.expires), "nextExpectedRanges": []string{itoa64(int64(len(sess.buf))) + "-"}})
		return
	case http.MethodPut:
	default:
		s.fail(c, errMethodNotAllowed())
		return
	}
	start, end, total, ok := parseContentRange(c.r.Header.Get("Content-Range"))
	if !ok {
		s.fail(c, errInvalidRequest("Missing or invalid Content-Range header."))
		return
	}
	if start != int64(len(sess.buf)) {
		s.fail(c, newError(http.StatusRequestedRangeNotSatisfiable, "invalidRange", "The uploaded fragment does not start at the next expected byte %d.", len(sess.buf)))
		return
	}
	if total >= 0 {
		if sess.total > 0 && total != sess.total {
			s.fail(c, errInvalidRequest("The declared file size changed during the upload."))
			return
		}
		sess.total = total
	}
	chunk, err := io.ReadAll(io.LimitReader(c.r.Body, end-start+2))
	if err != nil || int64(len(chunk)) != end-start+1 {
		s.fail(c, errInvalidRequest("The fragment length does not match Content-Range."))
		return
	}
	sess.buf = append(sess.buf, chunk...)
	if sess.total < 0 || int64(len(sess.buf)) < sess.total {
		status := http.StatusAccepted
		if sess.kind == "attachment" {
			status = http.StatusOK
		}
		writeJSON(c.w, status, map[string]any{"expirationDateTime": ts(sess.expires), "nextExpectedRanges": []string{itoa64(int64(len(sess.buf))) + "-"}})
		return
	}
	s.uploads.remove(id)
	rq := &request{s: s, httpCtx: c, mailbox: -1, version: "v1.0", q: &query{}, route: &route{class: "upload"}}
	switch sess.kind {
	case "attachment":
		sess.att.data = sess.buf
		sess.att.modified = s.now()
		a := s.appendAttachment(sess.item, &sess.att)
		seg := "Messages"
		if sess.item.ref.Kind == kEvent {
			seg = "Events"
		}
		u := s.t.users[sess.item.ref.Owner]
		c.w.Header().Set("Location", "https://outlook.office.com/api/v2.0/Users('"+u.id+"')/"+seg+"('"+s.ids().encode(sess.item.ref)+"')/Attachments('"+s.ids().encode(a.ref)+"')")
		c.w.Header().Set("Content-Length", "0")
		c.w.WriteHeader(http.StatusCreated)
	default:
		var v view
		created := false
		if !sess.target.isZero() {
			tv, alive := s.model.alive(sess.target)
			if !alive {
				s.fail(c, errDriveItemNotFound())
				return
			}
			v = s.replaceContent(tv, sess.buf)
		} else {
			parent, alive := s.model.alive(sess.parent)
			if !alive {
				s.fail(c, errDriveItemNotFound())
				return
			}
			var aerr *apiError
			v, created, aerr = s.upsertFile(sess.owner, parent, sess.name, sess.buf, sess.conflict)
			if aerr != nil {
				s.fail(c, aerr)
				return
			}
		}
		if !sess.modified.IsZero() {
			s.setFileSystemModified(v, sess.modified)
			v, _ = s.model.view(v.ref)
		}
		status := http.StatusOK
		if created {
			status = http.StatusCreated
		}
		rq.sendJSON(status, rq.renderDriveItem(v, false))
	}
}
