package graphsim

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Drives (OneDrive for Business and document libraries) and drive items.
// Drive item JSON follows ODB: quickXorHash only, parentReference with the
// parent's path in delta too, eTag/cTag with the item's GUID and version, deleted facets
// in delta, @microsoft.graph.downloadUrl on files.

type driveItemSpec struct {
	name       string
	folder     bool
	content    content
	mime       string
	created    time.Time
	modified   time.Time
	fsModified time.Time // as a client set it, when it did
	createdBy  int       // user index
	modifiedBy int
	shared     bool
	perms      []permission
	pkg        string
	malware    string   // malware facet description (quirks.go)
	listed     *content // what size and quickXorHash report when the download differs
}

type permission struct {
	id        string
	roles     []string
	linkType  string // view or edit; empty for grants
	linkScope string // organization, anonymous, users
	grantee   int    // user index of a direct grant; -1 for links
	owner     bool
}

// listedContent is what the item's size and quickXorHash describe: the
// served content, except for a file SharePoint rewrites on download.
func (d *driveItemSpec) listedContent() content {
	if d.listed != nil {
		return *d.listed
	}
	return d.content
}

// shownModified is the modification time users see (fileSystemInfo):
// the one a client set, or the item's own.
func (d *driveItemSpec) shownModified() time.Time {
	if !d.fsModified.IsZero() {
		return d.fsModified
	}
	return d.modified
}

func (s *Server) driveObject(owner uint32) object {
	t := s.t
	u, st, _ := t.driveOwner(owner)
	id := s.ids().encode(t.driveRef(owner))
	o := object{{"id", id}}
	created := epoch.AddDate(-3, 0, 0)
	used := int64(0)
	if u != nil {
		created = u.created
		o = append(o,
			kv{"driveType", "business"},
			kv{"name", "OneDrive"},
			kv{"description", ""},
			kv{"webUrl", s.personalURL(u) + "/Documents"},
			kv{"createdBy", map[string]any{"user": map[string]any{"displayName": "System Account"}}},
			kv{"owner", map[string]any{"user": map[string]any{"email": u.mail, "id": u.id, "displayName": u.displayName}}},
		)
	} else {
		created = st.created
		name, folder := t.libraryName(owner)
		o = append(o,
			kv{"driveType", "documentLibrary"},
			kv{"name", name},
			kv{"description", ""},
			kv{"webUrl", st.webURL + "/" + folder},
			kv{"createdBy", map[string]any{"user": map[string]any{"displayName": "System Account"}}},
			kv{"owner", map[string]any{"group": map[string]any{"id": st.collectionID, "displayName": st.displayName + " Owners"}}},
		)
	}
	o = append(o,
		kv{"createdDateTime", ts(created)},
		kv{"lastModifiedDateTime", ts(epoch)},
		kv{"quota", map[string]any{"deleted": 0, "remaining": int64(1<<40) - used, "state": "normal", "total": int64(1 << 40), "used": used}},
	)
	return o
}

func (s *Server) personalURL(u *user) string {
	return "https://" + s.t.myHost() + "/personal/" + s.t.personalPath(u)
}

// driveOwner resolves a drive key to its owner index.
func (rq *request) driveOwner(key string) (uint32, *apiError) {
	r, ok := rq.s.ids().decodeKind(key, kDrive)
	if !ok {
		return 0, newError(http.StatusBadRequest, "invalidRequest", "Invalid drive id")
	}
	if _, ok := rq.s.model.baseView(r); !ok {
		return 0, newError(http.StatusNotFound, "itemNotFound", "The resource could not be found.")
	}
	return r.Owner, nil
}

func (rq *request) getDrive() error {
	owner, err := rq.driveOwner(rq.params["drive"])
	if err != nil {
		return err
	}
	o := rq.s.driveObject(owner)
	sel, err := selectList(rq.q.sel, "drive", o)
	if err != nil {
		return err
	}
	rq.sendJSON(http.StatusOK, o.project(sel))
	return nil
}

// driveItem derives the spec of a drive item view.
func (s *Server) driveItem(v view) *driveItemSpec {
	t := s.t
	owner := v.ref.Owner
	u, _, _ := t.driveOwner(owner)
	ownerUser := 0
	if u != nil {
		ownerUser = u.idx
	}
	d := &driveItemSpec{createdBy: ownerUser, modifiedBy: ownerUser}
	switch {
	case v.src.isZero() && v.st != nil:
		d.folder = v.ref.Sub == 0
		d.content = storedContent(v.st.content)
		d.mime = "application/octet-stream"
		if mt, ok := v.st.doc["mimeType"].(string); ok {
			d.mime = mt
		}
		d.created, d.modified = v.st.createdAt, v.st.modified
	case v.src.Sub == 0:
		d.folder = true
		r := newRNG(t.seed, tagDriveLayout, uint64(owner), uint64(v.src.Index), uint64(v.src.Serial))
		d.created = epoch.Add(-time.Duration(r.intn(700*24)) * time.Hour)
		d.modified = d.created
		if v.src.Serial == 0 {
			d.name = t.driveLayout(owner).folders[v.src.Index].name
		} else {
			d.name = fmt.Sprintf("New folder %d", v.src.Serial)
		}
		d.shared = r.chance(0.05)
		if t.quirkOf(v.src) == quirkOneNotePackage {
			d.pkg = "oneNote"
		}
	default:
		s.genDriveFile(d, owner, v.src, v.version)
		if v.st != nil && v.st.size > 0 {
			d.content.size = v.st.size
		}
	}
	if v.ref.Serial == 0 && v.ref.Sub == 0 && v.ref.Index == 0 {
		d.name = "root"
	}
	if v.st != nil {
		if v.st.name != "" {
			d.name = v.st.name
		}
		if !v.st.createdAt.IsZero() || v.version > 0 || v.st.name != "" {
			d.modified = v.st.modified
		}
		d.fsModified = v.st.fsModified
		if v.st.permsSet {
			d.perms = v.st.perms
			d.shared = len(d.perms) > 1
		}
	}
	if d.shared && !(v.st != nil && v.st.permsSet) {
		d.perms = s.genPermissions(v.ref, ownerUser)
	}
	return d
}

func (s *Server) genDriveFile(d *driveItemSpec, owner uint32, src ref, version uint32) {
	t := s.t
	var local int
	var coords [3]uint64
	if src.Serial == 0 {
		l := t.driveLayout(owner)
		f := l.folders[l.folderOfFile(int(src.Index))]
		local = int(src.Index) - f.fileStart
		coords = [3]uint64{uint64(owner), 0, uint64(src.Index)}
	} else {
		local = int(src.Serial)
		coords = [3]uint64{uint64(owner), 0xffffffff, uint64(src.Serial)}
	}
	// Names depend on the position within the folder only, so every folder
	// has the same names: duplicates across folders, unique within one.
	nr := newRNG(t.seed, tagDriveFile, 0xa11, uint64(local))
	fk := fileKinds[nr.intn(len(fileKinds))]
	d.name = fmt.Sprintf("%s %d.%s", pick(nr, fileStems), local, fk.ext)
	if src.Serial != 0 {
		d.name = fmt.Sprintf("New file %d.%s", src.Serial, fk.ext)
	}
	d.mime = fk.mime
	r := newRNG(t.seed, tagDriveFile, coords[0], coords[1], coords[2])
	size := s.fileSize(r)
	key := hashOf(t.seed, tagContent, coords[0], coords[1], coords[2])
	// A few files share their content with an earlier file of the drive.
	if src.Serial == 0 && src.Index > 0 && r.chance(0.03) {
		k := uint64(r.intn(int(src.Index)))
		r2 := newRNG(t.seed, tagDriveFile, coords[0], 0, k)
		size = s.fileSize(r2)
		key = hashOf(t.seed, tagContent, coords[0], 0, k)
	}
	if version > 0 {
		key = mix64(key + uint64(version))
		size += int64(version) * (size/10 + 7)
		size = min(size, t.opts.MaxFileSize)
	}
	d.content = contentOf(key, size, fk.text)
	d.created = epoch.Add(-time.Duration(r.intn(700*24*3600)) * time.Second)
	d.modified = d.created.Add(time.Duration(r.intn(30*24*3600)) * time.Second)
	if _, st, _ := t.driveOwner(owner); st != nil && t.nRegular > 0 {
		d.createdBy = r.intn(t.nRegular)
		d.modifiedBy = r.intn(t.nRegular)
	}
	d.shared = r.chance(0.02)
	if r.chance(0.002) {
		d.pkg = "oneNote"
	}
	if q := t.quirkOf(src); q != quirkNone {
		applyDriveQuirk(d, q, version)
	}
}

// fileSize draws a file size: mostly small, some empty or tiny, a few large.
func (s *Server) fileSize(r *rng) int64 {
	maxSize := s.t.opts.MaxFileSize
	switch p := r.float(); {
	case p < 0.02:
		return int64(r.intn(17))
	case p < 0.03:
		return maxSize/4 + int64(r.float()*float64(maxSize-maxSize/4))
	}
	return max(min(int64(r.logNormal(48<<10, 1.6)), maxSize), 1)
}

func (s *Server) genPermissions(item ref, owner int) []permission {
	r := newRNG(s.t.seed, tagDriveFile, 0x9e7, uint64(item.Owner), uint64(item.Index), uint64(item.Serial), uint64(item.Sub))
	perms := []permission{{roles: []string{"owner"}, grantee: owner, owner: true}}
	if r.chance(0.6) {
		perms = append(perms, permission{roles: []string{"read"}, linkType: "view", linkScope: pick(r, []string{"organization", "anonymous", "users"}), grantee: -1})
	}
	if r.chance(0.6) || len(perms) == 1 {
		perms = append(perms, permission{roles: []string{pick(r, []string{"read", "write"})}, grantee: r.intn(s.t.nRegular)})
	}
	for i := range perms {
		pr := ref{Kind: kPermission, Sub: uint16(i), Owner: item.Owner, Coll: uint32(item.Sub), Index: item.Index, Serial: item.Serial}
		perms[i].id = s.ids().encode(pr)
	}
	return perms
}

func (s *Server) userIdentity(i int) map[string]any {
	if i < 0 || i >= len(s.t.users) {
		return map[string]any{"user": map[string]any{"displayName": "System Account"}}
	}
	u := s.t.users[i]
	return map[string]any{"user": map[string]any{"email": u.mail, "id": u.id, "displayName": u.displayName}}
}

// itemGUID is the stable GUID in eTag, cTag and download URLs.
func (s *Server) itemGUID(r ref) string {
	return guid(s.t.seed, tagDriveFile, uint64(r.Owner), uint64(r.Sub), uint64(r.Index), uint64(r.Serial))
}

// drivePath returns the item's path below the root ("" for the root), and
// the path of its parent.
func (s *Server) drivePath(v view) string {
	var names []string
	m := s.model
	m.mu.RLock()
	defer m.mu.RUnlock()
	for depth := 0; depth < 64 && !v.parent.isZero(); depth++ {
		names = append(names, s.driveItemName(v))
		var ok bool
		if v, ok = m.viewLocked(v.parent); !ok {
			break
		}
	}
	for i, j := 0, len(names)-1; i < j; i, j = i+1, j-1 {
		names[i], names[j] = names[j], names[i]
	}
	return strings.Join(names, "/")
}

// driveItemName is a cheap name lookup (no content or permission work).
func (s *Server) driveItemName(v view) string {
	if v.st != nil && v.st.name != "" {
		return v.st.name
	}
	if v.src.Sub == 0 && v.src.Serial == 0 && !v.src.isZero() {
		if v.src.Index == 0 {
			return "root"
		}
		return s.t.driveLayout(v.ref.Owner).folders[v.src.Index].name
	}
	return s.driveItem(v).name
}

func (s *Server) driveWebURL(owner uint32, path string) string {
	u, st, _ := s.t.driveOwner(owner)
	base := ""
	if u != nil {
		base = s.personalURL(u) + "/Documents"
	} else {
		_, folder := s.t.libraryName(owner)
		base = st.webURL + "/" + folder
	}
	if path == "" {
		return base
	}
	return base + "/" + (&url.URL{Path: path}).EscapedPath()
}

// driveChildCount is the number of live children of a drive folder.
func (s *Server) driveChildCount(v view) int {
	m := s.model
	m.mu.RLock()
	n := m.counts[v.ref]
	m.mu.RUnlock()
	if v.ref.Serial == 0 && v.ref.Sub == 0 {
		f := s.t.driveLayout(v.ref.Owner).folders[v.ref.Index]
		n += len(f.subfolders) + f.fileCount
	}
	return max(n, 0)
}

// driveItemOptions tune rendering.
type driveItemOptions struct {
	inDelta     bool // rendered in a delta round
	downloadURL bool
	baseURL     string
}

// driveItemObject renders a drive item.
func (s *Server) driveItemObject(v view, d *driveItemSpec, opt driveItemOptions) object {
	id := s.ids().encode(v.ref)
	g := s.itemGUID(v.ref)
	driveID := s.ids().encode(s.t.driveRef(v.ref.Owner))
	driveType := "business"
	if _, st, _ := s.t.driveOwner(v.ref.Owner); st != nil {
		driveType = "documentLibrary"
	}
	isRoot := v.parent.isZero()
	path := s.drivePath(v)
	o := make(object, 0, 24)
	o = append(o, kv{"@odata.type", "#microsoft.graph.driveItem"})
	if !d.folder && opt.downloadURL {
		o = append(o, kv{"@microsoft.graph.downloadUrl", s.downloadURL(opt.baseURL, v)})
	}
	o = append(o,
		kv{"createdDateTime", ts(d.created)},
		kv{"eTag", fmt.Sprintf(`"{%s},%d"`, strings.ToUpper(g), v.version+1)},
		kv{"id", id},
		kv{"lastModifiedDateTime", ts(d.modified)},
		kv{"name", d.name},
		kv{"webUrl", s.driveWebURL(v.ref.Owner, path)},
		kv{"cTag", fmt.Sprintf(`"c:{%s},%d"`, strings.ToUpper(g), v.version+1)},
		kv{"size", lazy(func() any {
			if d.folder {
				return s.folderSize(v)
			}
			return d.listedContent().size
		})},
		kv{"createdBy", s.userIdentity(d.createdBy)},
		kv{"lastModifiedBy", s.userIdentity(d.modifiedBy)},
	)
	if !isRoot {
		pr := map[string]any{"driveType": driveType, "driveId": driveID, "id": s.ids().encode(v.parent)}
		if _, st, _ := s.t.driveOwner(v.ref.Owner); st != nil {
			pr["siteId"] = st.id
		}
		// Graph's delta remarks say parentReference carries no path, which
		// holds for consumer OneDrive (OneDrive/onedrive-api-docs#162);
		// business drives and document libraries do give every item but
		// the root its parent's path in delta, which independent clients
		// rely on (alcionai/corso, src/internal/connector/onedrive/collections.go,
		// UpdateCollections fails on a delta item without it). Clients
		// should still track items by id, as a folder's rename does not
		// bring its descendants back into delta.
		if !opt.inDelta || driveType != "personal" {
			parentPath := "/drive/root:"
			if i := strings.LastIndexByte(path, '/'); i >= 0 {
				parentPath += "/" + path[:i]
			}
			pr["path"] = parentPath
		}
		o = append(o, kv{"parentReference", pr})
	} else {
		o = append(o, kv{"parentReference", map[string]any{"driveType": driveType, "driveId": driveID}})
	}
	switch {
	case d.folder && d.pkg != "":
		// "driveItems with the package facet do not include a folder or
		// file facet" (learn.microsoft.com/graph/api/resources/package).
	case d.folder:
		o = append(o, kv{"folder", lazy(func() any { return map[string]any{"childCount": s.driveChildCount(v)} })})
	default:
		o = append(o, kv{"file", lazy(func() any {
			h := s.hashes.of(d.listedContent())
			return map[string]any{"mimeType": d.mime, "hashes": map[string]any{"quickXorHash": h.quickXor}}
		})})
	}
	if d.malware != "" {
		o = append(o, kv{"malware", map[string]any{"description": d.malware}})
	}
	o = append(o, kv{"fileSystemInfo", map[string]any{"createdDateTime": ts(d.created), "lastModifiedDateTime": ts(d.shownModified())}})
	if isRoot {
		o = append(o, kv{"root", map[string]any{}})
	}
	if d.shared {
		scope := "users"
		for _, p := range d.perms {
			if p.linkScope == "anonymous" || p.linkScope == "organization" && scope != "anonymous" {
				scope = p.linkScope
			}
		}
		o = append(o, kv{"shared", map[string]any{"scope": scope, "owner": s.userIdentity(d.createdBy)}})
	}
	if d.pkg != "" {
		o = append(o, kv{"package", map[string]any{"type": d.pkg}})
	}
	return o
}

// folderSize is reported as 0. ODB reports the recursive total, which here
// would touch every descendant's content; backup clients do not use it.
func (s *Server) folderSize(view) int64 { return 0 }

var driveItemKnownProps = object{{"id", nil}, {"createdDateTime", nil}, {"eTag", nil},
	{"lastModifiedDateTime", nil}, {"name", nil}, {"webUrl", nil}, {"cTag", nil}, {"size", nil},
	{"createdBy", nil}, {"lastModifiedBy", nil}, {"parentReference", nil}, {"file", nil},
	{"folder", nil}, {"fileSystemInfo", nil}, {"root", nil}, {"shared", nil}, {"package", nil},
	{"deleted", nil}, {"malware", nil}, {"content.downloadUrl", nil}, {"description", nil},
	{"sharepointIds", nil}, {"specialFolder", nil}, {"remoteItem", nil}, {"image", nil},
	{"photo", nil}, {"video", nil}, {"audio", nil}, {"location", nil}, {"publication", nil},
	{"bundle", nil}, {"searchResult", nil}, {"listItem", nil}, {"permissions", nil}, {"children", nil}}

// projectDriveItem applies $select, keeping the download URL only when
// content.downloadUrl is selected (or nothing is).
func projectDriveItem(o object, sel []string) object {
	if len(sel) == 0 {
		return o
	}
	keepURL := containsFold(sel, "content.downloadUrl") || containsFold(sel, "@microsoft.graph.downloadUrl")
	out := o.project(sel)
	if !keepURL {
		out = out.without("@microsoft.graph.downloadUrl")
	}
	return out
}

// deletedDriveItem is how drive delta reports a removed item.
func (s *Server) deletedDriveItem(v view) object {
	driveType := "business"
	if _, st, _ := s.t.driveOwner(v.ref.Owner); st != nil {
		driveType = "documentLibrary"
	}
	o := object{
		{"@odata.type", "#microsoft.graph.driveItem"},
		{"id", s.ids().encode(v.ref)},
		{"parentReference", map[string]any{"driveType": driveType, "driveId": s.ids().encode(s.t.driveRef(v.ref.Owner)), "id": s.ids().encode(v.parent)}},
		{"deleted", map[string]any{"state": "deleted"}},
	}
	if v.ref.Sub == 0 {
		o = append(o, kv{"folder", map[string]any{"childCount": 0}})
	} else {
		o = append(o, kv{"file", map[string]any{}})
	}
	return o
}

// driveCollection is the delta collection of a whole drive.
func (s *Server) driveCollection(owner uint32) collection {
	m := s.model
	l := s.t.driveLayout(owner)
	nf := len(l.folders)
	dr := s.t.driveRef(owner)
	root := driveFolderRef(owner, 0)
	return collection{
		key:     dr,
		service: "drive",
		baseLen: nf + l.files,
		base: func(i int) ref {
			if i < nf {
				return driveFolderRef(owner, i)
			}
			return driveFileRef(owner, i-nf)
		},
		member:    func(v view) bool { return v.container == dr && m.aliveLocked(v) },
		treeOrder: true,
		tree: func() []ref {
			// Breadth-first from the root: parents before children.
			out := []ref{root}
			for i := 0; i < len(out); i++ {
				if out[i].Sub == 0 {
					out = append(out, m.childrenLocked(out[i])...)
				}
			}
			return out
		},
	}
}

// resolveDriveItem finds the item addressed by {item} (an id or "root")
// plus an optional path address.
func (rq *request) resolveDriveItem() (uint32, view, *apiError) {
	s := rq.s
	owner, err := rq.driveOwner(rq.params["drive"])
	if err != nil {
		return 0, view{}, err
	}
	key := rq.params["item"]
	var v view
	if strings.EqualFold(key, "root") {
		v, _ = s.model.view(driveFolderRef(owner, 0))
	} else {
		r, ok := s.ids().decodeKind(key, kDriveItem)
		if !ok || r.Owner != owner {
			return 0, view{}, errDriveItemNotFound()
		}
		var alive bool
		if v, alive = s.model.alive(r); !alive {
			return 0, view{}, errDriveItemNotFound()
		}
	}
	if rq.hasRel && rq.relPath != "" {
		for _, name := range strings.Split(rq.relPath, "/") {
			if name == "" {
				continue
			}
			next, ok := s.childNamed(v, name)
			if !ok {
				return 0, view{}, errDriveItemNotFound()
			}
			v = next
		}
	}
	return owner, v, nil
}

// childNamed finds a live child by name (case-insensitive, as ODB).
func (s *Server) childNamed(folder view, name string) (view, bool) {
	if folder.ref.Sub != 0 {
		return view{}, false
	}
	m := s.model
	m.mu.RLock()
	kids := m.childrenLocked(folder.ref)
	m.mu.RUnlock()
	for _, r := range kids {
		v, ok := m.alive(r)
		if ok && strings.EqualFold(s.driveItemName(v), name) {
			return v, true
		}
	}
	return view{}, false
}

func (rq *request) renderDriveItem(v view, inDelta bool) object {
	return rq.s.driveItemObject(v, rq.s.driveItem(v), driveItemOptions{inDelta: inDelta, downloadURL: true, baseURL: rq.s.baseURL(rq.r)})
}

func (rq *request) getDriveItem() error {
	_, v, err := rq.resolveDriveItem()
	if err != nil {
		return err
	}
	sel, err := selectList(rq.q.sel, "driveItem", driveItemKnownProps)
	if err != nil {
		return err
	}
	o := projectDriveItem(rq.renderDriveItem(v, false), sel)
	if strings.Contains(strings.ToLower(rq.q.expand), "permissions") {
		o = append(o, kv{"permissions", rq.s.permissionObjects(v, rq.s.driveItem(v))})
	}
	rq.sendJSON(http.StatusOK, o)
	return nil
}

func (rq *request) listChildren() error {
	s := rq.s
	_, v, err := rq.resolveDriveItem()
	if err != nil {
		return err
	}
	if v.ref.Sub != 0 {
		return newError(http.StatusBadRequest, "invalidRequest", "The item is not a folder.")
	}
	t, err := rq.listOptions()
	if err != nil {
		return err
	}
	sel, err := selectList(t.Sel, "driveItem", driveItemKnownProps)
	if err != nil {
		return err
	}
	m := s.model
	m.mu.RLock()
	kids := m.childrenLocked(v.ref)
	m.mu.RUnlock()
	size := rq.listPageSize(t, 200, 1000)
	items := make([]any, len(kids))
	for i := t.Off; i < min(t.Off+size, len(kids)); i++ {
		kv, _ := m.view(kids[i])
		items[i] = projectDriveItem(rq.renderDriveItem(kv, false), sel)
	}
	path := "drives/" + escapeSeg(rq.params["drive"]) + "/items/" + escapeSeg(s.ids().encode(v.ref)) + "/children"
	return rq.writeList(path, "Collection(driveItem)", t, items, size)
}

func (rq *request) driveDelta() error {
	s := rq.s
	owner, v, err := rq.resolveDriveItem()
	if err != nil {
		return err
	}
	if !v.parent.isZero() {
		return errInvalidRequest("Delta is only supported on the root of a drive.")
	}
	c := s.driveCollection(owner)
	rq.transientDelta = s.isTransientDrive(owner)
	path := "drives/" + escapeSeg(s.ids().encode(c.key)) + "/root/delta"
	return rq.serveDelta(c, path, "driveItem", driveItemKnownProps, func(v view) object {
		return rq.renderDriveItem(v, true)
	})
}

// ---- permissions ----

func (s *Server) permissionObjects(v view, d *driveItemSpec) []any {
	out := []any{}
	for _, p := range d.perms {
		out = append(out, s.permissionObject(v, p))
	}
	return out
}

func (s *Server) permissionObject(v view, p permission) object {
	o := object{{"id", p.id}, {"roles", p.roles}}
	if p.linkType != "" {
		o = append(o, kv{"shareId", "s!" + p.id}, kv{"hasPassword", false},
			kv{"link", map[string]any{"type": p.linkType, "scope": p.linkScope,
				"webUrl": "https://" + s.t.myHost() + "/:x:/g/" + p.id, "preventsDownload": false}})
		return o
	}
	id := s.userIdentity(p.grantee)
	if p.owner {
		o = append(o, kv{"grantedToV2", map[string]any{"siteUser": id["user"], "user": id["user"]}})
	} else {
		o = append(o, kv{"grantedToV2", id}, kv{"grantedToIdentitiesV2", []any{id}})
	}
	return o
}

func (rq *request) listPermissions() error {
	_, v, err := rq.resolveDriveItem()
	if err != nil {
		return err
	}
	d := rq.s.driveItem(v)
	perms := d.perms
	if !d.shared && len(perms) == 0 {
		// Unshared items still report their owner, as inherited permission.
		u, _, _ := rq.s.t.driveOwner(v.ref.Owner)
		ow := 0
		if u != nil {
			ow = u.idx
		}
		pr := ref{Kind: kPermission, Owner: v.ref.Owner, Coll: uint32(v.ref.Sub), Index: v.ref.Index, Serial: v.ref.Serial}
		perms = []permission{{id: rq.s.ids().encode(pr), roles: []string{"owner"}, grantee: ow, owner: true}}
	}
	values := make([]any, len(perms))
	for i, p := range perms {
		values[i] = rq.s.permissionObject(v, p)
	}
	rq.sendJSON(http.StatusOK, collectionPage{Context: rq.graphLink("$metadata#Collection(permission)"), Value: values})
	return nil
}
