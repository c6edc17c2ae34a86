package graphsim

import (
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"strings"
)

// Folder logic shared by mail folders, contact folders and calendars: they
// are all generated per mailbox by a folderLayout and overlaid by the model.

// resolveFolder finds a live folder of kind k in u's mailbox by id or by
// well-known name ("inbox", "contacts", "calendar", ...).
func (s *Server) resolveFolder(k kind, u *user, key string) (view, *apiError) {
	if r, ok := s.ids().decode(key); ok {
		if r.Kind != k || int(r.Owner) != u.idx {
			return view{}, errItemNotFound()
		}
		v, alive := s.model.alive(r)
		if !alive {
			return view{}, errItemNotFound()
		}
		return v, nil
	}
	l := s.model.layoutFor(k, u)
	if i, ok := l.wellKnown(key); ok {
		v, alive := s.model.alive(ref{Kind: k, Owner: uint32(u.idx), Index: uint32(i)})
		if alive {
			return v, nil
		}
		return view{}, errItemNotFound()
	}
	if looksLikeExchangeID(key) {
		return view{}, errItemNotFound()
	}
	return view{}, newError(http.StatusBadRequest, "ErrorInvalidIdMalformed", "Id is malformed.")
}

func looksLikeExchangeID(s string) bool { return strings.HasPrefix(s, "AA") && len(s) > 40 }

// folderName is the current display name of a folder view.
func (s *Server) folderName(v view) string {
	if v.st != nil && v.st.name != "" {
		return v.st.name
	}
	if v.ref.Serial != 0 {
		return ""
	}
	u := s.t.users[v.ref.Owner]
	return s.model.layoutFor(v.ref.Kind, u).folders[v.ref.Index].name
}

func (s *Server) folderWellKnown(r ref) string {
	if r.Serial != 0 || r.isZero() {
		return ""
	}
	u := s.t.users[r.Owner]
	return s.model.layoutFor(r.Kind, u).folders[r.Index].wellKnown
}

// folderCounts returns the item count and subfolder count of a folder.
func (s *Server) folderCounts(v view) (items, subfolders int) {
	m := s.model
	m.mu.RLock()
	items, subfolders = m.counts[v.ref], m.subCounts[v.ref]
	m.mu.RUnlock()
	if v.ref.Serial == 0 {
		f := m.layoutFor(v.ref.Kind, s.t.users[v.ref.Owner]).folders[v.ref.Index]
		items += f.count
		subfolders += len(f.children)
	}
	return max(items, 0), max(subfolders, 0)
}

// folderPath is the slash-joined path of names below the hierarchy's top
// (msgfolderroot is not part of mail paths). Names containing '/' are kept
// verbatim; state consumers treat the path as a display string.
func (s *Server) folderPath(v view) string { return strings.Join(s.folderSegments(v), "/") }

// folderSegments is a folder's path as the names of its folders, from the
// mailbox root: Exchange folder names may hold "/" themselves.
func (s *Server) folderSegments(v view) []string {
	var names []string
	for depth := 0; depth < 64 && !v.ref.isZero(); depth++ {
		if s.folderWellKnown(v.ref) == "msgfolderroot" {
			break
		}
		names = append(names, s.folderName(v))
		up := v.container
		if up.isZero() {
			break
		}
		var ok bool
		if v, ok = s.model.view(up); !ok {
			break
		}
	}
	for i, j := 0, len(names)-1; i < j; i, j = i+1, j-1 {
		names[i], names[j] = names[j], names[i]
	}
	return names
}

// itemsCollection is the delta collection of the items in a folder.
func (s *Server) itemsCollection(folder view) collection {
	m := s.model
	n := 0
	if folder.ref.Serial == 0 {
		n = m.layoutFor(folder.ref.Kind, s.t.users[folder.ref.Owner]).folders[folder.ref.Index].count
	}
	ik := itemKindOf(folder.ref.Kind)
	fr := folder.ref
	return collection{
		key:     fr,
		service: "exchange",
		baseLen: n,
		base: func(i int) ref {
			return ref{Kind: ik, Owner: fr.Owner, Coll: fr.Index, Index: uint32(i)}
		},
		member: func(v view) bool { return v.container == fr && m.aliveLocked(v) },
	}
}

// treeCollection is the delta collection of a mailbox's folder hierarchy
// (mailFolders/delta, contactFolders/delta). The hierarchy's top folder
// (msgfolderroot) is not a member; the default contacts folder is.
func (s *Server) treeCollection(k kind, u *user) collection {
	m := s.model
	l := m.layoutFor(k, u)
	treeKind := kMailTree
	first := 1 // skip msgfolderroot
	if k == kContactFolder {
		treeKind, first = kContactTree, 0
	}
	owner := uint32(u.idx)
	return collection{
		key:     ref{Kind: treeKind, Owner: owner},
		service: "exchange",
		baseLen: len(l.folders) - first,
		base: func(i int) ref {
			return ref{Kind: k, Owner: owner, Index: uint32(i + first)}
		},
		member: func(v view) bool {
			return v.ref.Kind == k && !(k == kMailFolder && v.ref.Serial == 0 && v.ref.Index == 0) && m.aliveLocked(v)
		},
	}
}

// folderMembers lists the live items of a folder in collection order.
func (s *Server) folderMembers(c collection) []view {
	m := s.model
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []view
	visit := func(r ref) {
		if v, ok := m.viewLocked(r); ok && c.member(v) {
			out = append(out, v)
		}
	}
	for i := 0; i < c.baseLen; i++ {
		visit(c.base(i))
	}
	if cs := m.colls[c.key]; cs != nil {
		for _, r := range cs.added {
			visit(r)
		}
	}
	return out
}

// subfolders lists the live direct subfolders of a folder.
func (s *Server) subfolders(folder view) []view {
	m := s.model
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []view
	for _, r := range m.childrenLocked(folder.ref) {
		if v, ok := m.viewLocked(r); ok && m.aliveLocked(v) {
			out = append(out, v)
		}
	}
	return out
}

// changeKey identifies an object version, as Exchange's changeKey does.
func (s *Server) changeKey(r ref, version uint32) string {
	h := hashOf(s.t.seed, uint64(r.Kind), uint64(r.Sub), uint64(r.Owner), uint64(r.Coll), uint64(r.Index), uint64(r.Serial), uint64(version))
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:], h)
	binary.LittleEndian.PutUint64(b[8:], mix64(h))
	return "CQAAABYAAAA" + base64.StdEncoding.EncodeToString(b[:])
}
