package graphsim

import (
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"
	"time"
)

// Drive write paths a restore needs: folders, simple uploads, upload
// sessions, renames, moves, deletes and permissions. Written bytes are kept
// in memory (restores in tests are small); generated files stay generated
// until overwritten.

const maxSimpleUpload = 250 << 20

func conflictBehavior(rq *request, doc map[string]any, def string) string {
	if v := rq.q.get("@microsoft.graph.conflictBehavior"); v != "" {
		return strings.ToLower(v)
	}
	if doc != nil {
		if v, ok := doc["@microsoft.graph.conflictBehavior"].(string); ok {
			return strings.ToLower(v)
		}
		if item, ok := doc["item"].(map[string]any); ok {
			if v, ok := item["@microsoft.graph.conflictBehavior"].(string); ok {
				return strings.ToLower(v)
			}
		}
	}
	return def
}

// uniqueName appends " 1", " 2"... before the extension until name is free.
func (s *Server) uniqueName(parent view, name string) string {
	ext := path.Ext(name)
	stem := strings.TrimSuffix(name, ext)
	for i := 1; ; i++ {
		candidate := fmt.Sprintf("%s %d%s", stem, i, ext)
		if _, taken := s.childNamed(parent, candidate); !taken {
			return candidate
		}
	}
}

// upsertFile creates name under parent or replaces the existing file,
// per conflict behaviour. It returns the item and whether it was created.
func (s *Server) upsertFile(owner uint32, parent view, name string, data []byte, conflict string) (view, bool, *apiError) {
	if existing, ok := s.childNamed(parent, name); ok {
		switch conflict {
		case "fail":
			return view{}, false, newError(http.StatusConflict, "nameAlreadyExists", "The specified item name already exists.")
		case "rename":
			name = s.uniqueName(parent, name)
		default:
			if existing.ref.Sub == 0 {
				return view{}, false, newError(http.StatusConflict, "nameAlreadyExists", "A folder with this name already exists.")
			}
			return s.replaceContent(existing, data), false, nil
		}
	}
	m := s.model
	m.mu.Lock()
	st := m.createLocked(kDriveItem, owner, s.t.driveRef(owner), parent.ref, 1)
	st.name = name
	st.content = data
	st.doc = map[string]any{"mimeType": mimeByName(name)}
	m.mu.Unlock()
	v, _ := m.view(st.ref)
	return v, true, nil
}

func mimeByName(name string) string {
	ext := strings.TrimPrefix(strings.ToLower(path.Ext(name)), ".")
	for _, fk := range fileKinds {
		if fk.ext == ext {
			return fk.mime
		}
	}
	return "application/octet-stream"
}

// replaceContent stores new bytes for an existing file; a generated file
// becomes a stored one with the same name and creation time.
func (s *Server) replaceContent(v view, data []byte) view {
	d := s.driveItem(v)
	m := s.model
	m.mu.Lock()
	cur, _ := m.viewLocked(v.ref)
	st := m.modifyLocked(cur)
	if !st.src.isZero() {
		st.src = ref{}
		st.name = d.name
		st.createdAt = d.created
		st.doc = map[string]any{"mimeType": d.mime}
	}
	st.content = data
	st.fsModified = time.Time{} // new content is modified now
	m.mu.Unlock()
	nv, _ := m.view(v.ref)
	return nv
}

// fileSystemModified reads fileSystemInfo.lastModifiedDateTime from a
// driveItem document; ok is false if it names none.
func fileSystemModified(doc map[string]any) (t time.Time, ok bool, err *apiError) {
	fs, _ := doc["fileSystemInfo"].(map[string]any)
	raw, _ := fs["lastModifiedDateTime"].(string)
	if raw == "" {
		return time.Time{}, false, nil
	}
	t, perr := time.Parse(time.RFC3339Nano, raw)
	if perr != nil {
		return time.Time{}, false, errInvalidRequest("Invalid fileSystemInfo.lastModifiedDateTime %q.", raw)
	}
	return t, true, nil
}

// setFileSystemModified records the modification time a client set on a
// drive item.
func (s *Server) setFileSystemModified(v view, t time.Time) {
	m := s.model
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, _ := m.viewLocked(v.ref)
	m.touchLocked(cur).fsModified = t
}

// splitRel resolves all but the last segment of a path address and returns
// the parent folder and the final name.
func (rq *request) splitRel() (uint32, view, string, *apiError) {
	rel := strings.Trim(rq.relPath, "/")
	dir, name := path.Split(rel)
	rq.relPath = strings.Trim(dir, "/")
	owner, parent, err := rq.resolveDriveItem()
	rq.relPath = rel
	if err != nil {
		return 0, view{}, "", err
	}
	if parent.ref.Sub != 0 {
		return 0, view{}, "", errInvalidRequest("The parent is not a folder.")
	}
	return owner, parent, name, nil
}

// putContent handles simple uploads: PUT .../items/{parent}:/{name}:/content
// creates or replaces a file; PUT .../items/{id}/content replaces one.
func (rq *request) putContent() error {
	s := rq.s
	body, rerr := io.ReadAll(io.LimitReader(rq.r.Body, maxSimpleUpload+1))
	if rerr != nil {
		return errBadRequest("Cannot read the request body.")
	}
	if len(body) > maxSimpleUpload {
		return newError(http.StatusRequestEntityTooLarge, "requestTooLarge", "Simple uploads are limited to 250 MB; use an upload session.")
	}
	if rq.hasRel {
		owner, parent, name, err := rq.splitRel()
		if err != nil {
			return err
		}
		v, created, err := s.upsertFile(owner, parent, name, body, conflictBehavior(rq, nil, "replace"))
		if err != nil {
			return err
		}
		status := http.StatusOK
		if created {
			status = http.StatusCreated
		}
		rq.sendJSON(status, rq.renderDriveItem(v, false))
		return nil
	}
	_, v, err := rq.resolveDriveItem()
	if err != nil {
		return err
	}
	if v.ref.Sub == 0 {
		return errInvalidRequest("Cannot upload content to a folder.")
	}
	rq.sendJSON(http.StatusOK, rq.renderDriveItem(s.replaceContent(v, body), false))
	return nil
}

// createDriveChild handles POST .../children (folders, or empty files).
func (rq *request) createDriveChild() error {
	s := rq.s
	owner, parent, err := rq.resolveDriveItem()
	if err != nil {
		return err
	}
	if parent.ref.Sub != 0 {
		return errInvalidRequest("The parent is not a folder.")
	}
	doc, err := rq.readJSONBody()
	if err != nil {
		return err
	}
	name, _ := doc["name"].(string)
	if strings.TrimSpace(name) == "" || strings.ContainsAny(name, `"*:<>?/\|`) {
		return errInvalidRequest("The name is missing or contains invalid characters.")
	}
	_, isFolder := doc["folder"]
	if !isFolder {
		v, created, err := s.upsertFile(owner, parent, name, []byte{}, conflictBehavior(rq, doc, "fail"))
		if err != nil {
			return err
		}
		status := http.StatusOK
		if created {
			status = http.StatusCreated
		}
		rq.sendJSON(status, rq.renderDriveItem(v, false))
		return nil
	}
	if existing, ok := s.childNamed(parent, name); ok {
		switch conflictBehavior(rq, doc, "fail") {
		case "rename":
			name = s.uniqueName(parent, name)
		case "replace":
			// An existing folder is kept and returned: its contents stay.
			rq.sendJSON(http.StatusOK, rq.renderDriveItem(existing, false))
			return nil
		default:
			return newError(http.StatusConflict, "nameAlreadyExists", "The specified item name already exists.")
		}
	}
	m := s.model
	m.mu.Lock()
	st := m.createLocked(kDriveItem, owner, s.t.driveRef(owner), parent.ref, 0)
	st.name = name
	st.doc = map[string]any{}
	m.mu.Unlock()
	v, _ := m.view(st.ref)
	rq.sendJSON(http.StatusCreated, rq.renderDriveItem(v, false))
	return nil
}

// patchDriveItem renames and/or moves an item.
func (rq *request) patchDriveItem() error {
	s := rq.s
	owner, v, err := rq.resolveDriveItem()
	if err != nil {
		return err
	}
	doc, err := rq.readJSONBody()
	if err != nil {
		return err
	}
	if v.parent.isZero() {
		return newError(http.StatusForbidden, "accessDenied", "The root folder cannot be changed.")
	}
	m := s.model
	if pr, ok := doc["parentReference"].(map[string]any); ok {
		if pid, _ := pr["id"].(string); pid != "" {
			to, ok := s.ids().decodeKind(pid, kDriveItem)
			tv, alive := m.alive(to)
			if !ok || !alive || to.Owner != owner || to.Sub != 0 {
				return errDriveItemNotFound()
			}
			m.mu.Lock()
			if m.isUnderLocked(tv, v.ref) || tv.ref == v.ref {
				m.mu.Unlock()
				return errInvalidRequest("Cannot move a folder into itself.")
			}
			cur, _ := m.viewLocked(v.ref)
			if cur.parent != to {
				m.moveLocked(cur, to)
			}
			m.mu.Unlock()
		}
	}
	if mod, ok, ferr := fileSystemModified(doc); ferr != nil {
		return ferr
	} else if ok {
		m.mu.Lock()
		cur, _ := m.viewLocked(v.ref)
		m.modifyLocked(cur).fsModified = mod
		m.mu.Unlock()
	}
	if name, ok := doc["name"].(string); ok && name != "" && name != s.driveItemName(v) {
		m.mu.Lock()
		cur, _ := m.viewLocked(v.ref)
		m.renameLocked(cur, name)
		m.mu.Unlock()
	}
	nv, _ := m.view(v.ref)
	rq.sendJSON(http.StatusOK, rq.renderDriveItem(nv, false))
	return nil
}

func (rq *request) deleteDriveItem() error {
	_, v, err := rq.resolveDriveItem()
	if err != nil {
		return err
	}
	if v.parent.isZero() {
		return newError(http.StatusForbidden, "accessDenied", "The root folder cannot be deleted.")
	}
	m := rq.s.model
	m.mu.Lock()
	if cur, ok := m.viewLocked(v.ref); ok && m.aliveLocked(cur) {
		m.deleteLocked(cur)
	}
	m.mu.Unlock()
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}

// setPermissions replaces an item's permissions; the item shows up in the
// next delta (a sharing change).
func (s *Server) setPermissions(v view, perms []permission) {
	m := s.model
	m.mu.Lock()
	cur, _ := m.viewLocked(v.ref)
	st := m.touchLocked(cur)
	st.perms, st.permsSet = perms, true
	st.modified = m.clock.Now()
	m.logLocked(collKeyOf(cur), cur.ref)
	m.mu.Unlock()
}

func (s *Server) newPermissionID(item ref) string {
	m := s.model
	m.mu.Lock()
	n := m.nextSerial()
	m.mu.Unlock()
	return s.ids().encode(ref{Kind: kPermission, Owner: item.Owner, Coll: 0xffff, Index: n})
}

func (s *Server) currentPermissions(v view, d *driveItemSpec) []permission {
	if len(d.perms) > 0 {
		return append([]permission(nil), d.perms...)
	}
	u, _, _ := s.t.driveOwner(v.ref.Owner)
	ow := 0
	if u != nil {
		ow = u.idx
	}
	return []permission{{id: s.newPermissionID(v.ref), roles: []string{"owner"}, grantee: ow, owner: true}}
}

// invite grants users access: POST .../invite.
func (rq *request) invite() error {
	s := rq.s
	_, v, err := rq.resolveDriveItem()
	if err != nil {
		return err
	}
	doc, err := rq.readJSONBody()
	if err != nil {
		return err
	}
	roles := []string{"read"}
	if rs, ok := doc["roles"].([]any); ok && len(rs) > 0 {
		roles = toStrings(rs)
	}
	perms := s.currentPermissions(v, s.driveItem(v))
	var added []any
	recips, _ := doc["recipients"].([]any)
	for _, x := range recips {
		rm, _ := x.(map[string]any)
		email, _ := rm["email"].(string)
		if email == "" {
			email, _ = rm["objectId"].(string)
		}
		u, ok := s.t.userByKey(email)
		if !ok {
			for _, cand := range s.t.users {
				if strings.EqualFold(cand.mail, email) {
					u, ok = cand, true
				}
			}
		}
		if !ok {
			return errInvalidRequest("The recipient %s is not a user of the tenant.", email)
		}
		p := permission{id: s.newPermissionID(v.ref), roles: roles, grantee: u.idx}
		perms = append(perms, p)
		added = append(added, s.permissionObject(v, p))
	}
	s.setPermissions(v, perms)
	rq.sendJSON(http.StatusOK, collectionPage{Context: rq.graphLink("$metadata#Collection(permission)"), Value: added})
	return nil
}

// createLink adds a sharing link: POST .../createLink.
func (rq *request) createLink() error {
	s := rq.s
	_, v, err := rq.resolveDriveItem()
	if err != nil {
		return err
	}
	doc, err := rq.readJSONBody()
	if err != nil {
		return err
	}
	typ, _ := doc["type"].(string)
	scope, _ := doc["scope"].(string)
	if typ == "" {
		typ = "view"
	}
	if scope == "" {
		scope = "organization"
	}
	perms := s.currentPermissions(v, s.driveItem(v))
	for _, p := range perms {
		if p.linkType == typ && p.linkScope == scope {
			rq.sendJSON(http.StatusOK, s.permissionObject(v, p))
			return nil
		}
	}
	role := "read"
	if typ == "edit" {
		role = "write"
	}
	p := permission{id: s.newPermissionID(v.ref), roles: []string{role}, linkType: typ, linkScope: scope, grantee: -1}
	s.setPermissions(v, append(perms, p))
	rq.sendJSON(http.StatusCreated, s.permissionObject(v, p))
	return nil
}

func (rq *request) deletePermission() error {
	s := rq.s
	_, v, err := rq.resolveDriveItem()
	if err != nil {
		return err
	}
	perms := s.currentPermissions(v, s.driveItem(v))
	id := rq.params["permission"]
	for i, p := range perms {
		if p.id == id {
			if p.owner {
				return newError(http.StatusForbidden, "accessDenied", "The owner permission cannot be removed.")
			}
			s.setPermissions(v, append(perms[:i:i], perms[i+1:]...))
			rq.w.WriteHeader(http.StatusNoContent)
			return nil
		}
	}
	return newError(http.StatusNotFound, "itemNotFound", "The permission could not be found.")
}
