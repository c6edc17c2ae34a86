package graphsim

import (
	"maps"
	"sort"
	"sync"
	"time"
)

// model is the live tenant: the generated tenant plus an overlay of every
// object that was changed, created, moved or deleted since generation, and a
// change log per delta collection. Untouched objects have no entry anywhere.
type model struct {
	t     *tenant
	clock Clock

	mu      sync.RWMutex
	orderMu sync.Mutex // guards collState.orders under a read lock of mu
	seq     uint64     // last change sequence number, tenant-wide
	serial  uint32     // last serial handed to a created object
	items   map[ref]*itemState
	colls   map[ref]*collState
	// Member-count corrections against the generated layout, so folder
	// counts stay exact without scanning: counts[container] for items
	// (drive: keyed by parent folder, files and folders alike), subCounts
	// for mail and contact subfolders.
	counts    map[ref]int
	subCounts map[ref]int
	// globalGen expires every token at once (control API, reset).
	globalGen  uint64
	globalCode string
	// txEvents lists the events created with a transactionId, by mailbox
	// and transactionId; movedTo follows an event that a move gave a new
	// id. Together they find the event a transactionId names (eventtx.go).
	txEvents map[txKey][]ref
	movedTo  map[ref]ref
}

// itemState is the overlay record of one touched object.
type itemState struct {
	ref       ref
	src       ref // generated origin of the content and metadata; zero when stored
	container ref // folder/calendar for Exchange items, parent folder for folders, drive for drive items
	parent    ref // drive items: parent folder item
	version   uint32
	deleted   bool
	name      string // rename of a folder or drive item
	modified  time.Time
	// fsModified is a drive item's fileSystemInfo.lastModifiedDateTime
	// as a client set it; zero: the item's own modification time.
	fsModified time.Time
	// size fixes a generated drive file's size; zero: drawn.
	size       int64
	created    uint64              // change sequence at creation; 0 for generated objects
	createdAt  time.Time           // creation time of created objects
	content    []byte              // stored bytes for written messages (MIME) and files
	doc        map[string]any      // stored JSON properties of written objects
	storedAtts []*storedAttachment // attachments written to a message or event
	perms      []permission        // permission changes on a drive item (nil: generated set)
	replies    []ref               // replies created under a channel message
	permsSet   bool
	// Occurrences of an event series that clients changed (PATCH of an
	// occurrence) or cancelled (DELETE of one), by occurrence number.
	exceptions map[int]occurrence
	cancelled  map[int]bool
	// Attachments clients added to one occurrence of a series, by
	// occurrence number (eventatts.go).
	occAtts map[int][]*storedAttachment
}

// collState is what the model keeps per delta collection.
type collState struct {
	log   []logEntry
	added []ref // members created in or moved into the collection, in order
	gen   uint64
	code  string // error code for tokens expired by the control API
	// structSeq is the sequence of the last move in a drive; after one, a
	// drive's enumeration order must be recomputed so parents still come
	// before their children.
	structSeq uint64
	orders    map[uint64][]ref // drive enumeration order per round snapshot
}

type logEntry struct {
	seq  uint64
	item ref
}

// view is the effective state of an object, generated or overlaid.
type view struct {
	ref       ref
	src       ref
	container ref
	parent    ref
	version   uint32
	deleted   bool
	st        *itemState // nil for pristine generated objects
}

func newModel(t *tenant, c Clock) *model {
	return &model{
		t: t, clock: c,
		items:     map[ref]*itemState{},
		colls:     map[ref]*collState{},
		counts:    map[ref]int{},
		subCounts: map[ref]int{},
		txEvents:  map[txKey][]ref{},
		movedTo:   map[ref]ref{},
	}
}

func (m *model) coll(key ref) *collState {
	c := m.colls[key]
	if c == nil {
		c = &collState{}
		m.colls[key] = c
	}
	return c
}

// baseView describes a generated object, or reports that r names nothing
// that was generated.
func (m *model) baseView(r ref) (view, bool) {
	if r.Serial != 0 {
		return view{}, false
	}
	t := m.t
	t.directory()
	v := view{ref: r, src: r}
	mailbox := func() (*user, bool) {
		if int(r.Owner) >= len(t.users) {
			return nil, false
		}
		u := t.users[r.Owner]
		return u, u.hasMailbox
	}
	switch r.Kind {
	case kMailFolder, kContactFolder, kCalendar:
		u, ok := mailbox()
		if !ok || r.Coll != 0 || r.Sub != 0 {
			return view{}, false
		}
		l := m.layoutFor(r.Kind, u)
		if int(r.Index) >= len(l.folders) {
			return view{}, false
		}
		if p := l.folders[r.Index].parent; p >= 0 {
			v.container = ref{Kind: r.Kind, Owner: r.Owner, Index: uint32(p)}
		}
		return v, true
	case kMessage, kContact, kEvent:
		u, ok := mailbox()
		if !ok || r.Sub != 0 {
			return view{}, false
		}
		fk := folderKindOf(r.Kind)
		l := m.layoutFor(fk, u)
		if int(r.Coll) >= len(l.folders) || int(r.Index) >= l.folders[r.Coll].count {
			return view{}, false
		}
		v.container = ref{Kind: fk, Owner: r.Owner, Index: r.Coll}
		return v, true
	case kChannel, kChatMessage:
		return m.t.chatBaseView(r)
	case kList, kListItem:
		return m.t.listBaseView(r)
	case kDrive:
		if _, _, ok := t.driveOwner(r.Owner); !ok || r != (ref{Kind: kDrive, Owner: r.Owner}) {
			return view{}, false
		}
		return v, true
	case kDriveItem:
		if _, _, ok := t.driveOwner(r.Owner); !ok || r.Coll != 0 {
			return view{}, false
		}
		l := t.driveLayout(r.Owner)
		v.container = t.driveRef(r.Owner)
		switch r.Sub {
		case 0:
			if int(r.Index) >= len(l.folders) {
				return view{}, false
			}
			if p := l.folders[r.Index].parent; p >= 0 {
				v.parent = driveFolderRef(r.Owner, p)
			}
		case 1:
			if int(r.Index) >= l.files {
				return view{}, false
			}
			v.parent = driveFolderRef(r.Owner, l.folderOfFile(int(r.Index)))
		default:
			return view{}, false
		}
		return v, true
	}
	return view{}, false
}

func driveFolderRef(owner uint32, j int) ref {
	return ref{Kind: kDriveItem, Owner: owner, Index: uint32(j)}
}

func driveFileRef(owner uint32, k int) ref {
	return ref{Kind: kDriveItem, Owner: owner, Sub: 1, Index: uint32(k)}
}

func folderKindOf(k kind) kind {
	switch k {
	case kMessage:
		return kMailFolder
	case kContact:
		return kContactFolder
	case kEvent:
		return kCalendar
	}
	return 0
}

func itemKindOf(folder kind) kind {
	switch folder {
	case kMailFolder:
		return kMessage
	case kContactFolder:
		return kContact
	case kCalendar:
		return kEvent
	}
	return 0
}

func (m *model) layoutFor(k kind, u *user) *folderLayout {
	switch k {
	case kMailFolder:
		return m.t.mailLayout(u)
	case kContactFolder:
		return m.t.contactLayout(u)
	default:
		return m.t.calendarLayout(u)
	}
}

// viewLocked returns the effective state of r; m.mu must be held.
func (m *model) viewLocked(r ref) (view, bool) {
	if st, ok := m.items[r]; ok {
		return view{ref: r, src: st.src, container: st.container, parent: st.parent,
			version: st.version, deleted: st.deleted, st: st}, true
	}
	return m.baseView(r)
}

func (m *model) view(r ref) (view, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.viewLocked(r)
}

// aliveLocked reports whether v exists now: not deleted and every ancestor
// folder alive.
func (m *model) aliveLocked(v view) bool {
	for depth := 0; depth < 128; depth++ {
		if v.deleted {
			return false
		}
		var up ref
		switch v.ref.Kind {
		case kMessage, kContact, kEvent, kMailFolder, kContactFolder, kChatMessage, kListItem:
			up = v.container
		case kDriveItem:
			up = v.parent
		}
		if up.isZero() {
			return true
		}
		var ok bool
		if v, ok = m.viewLocked(up); !ok {
			return false
		}
	}
	return false
}

func (m *model) alive(r ref) (view, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	v, ok := m.viewLocked(r)
	return v, ok && m.aliveLocked(v)
}

// collKeyOf names the delta collection whose log records changes of v.
func collKeyOf(v view) ref {
	switch v.ref.Kind {
	case kMessage, kContact, kEvent, kDriveItem, kListItem:
		return v.container
	case kList:
		return ref{Kind: kSiteLists, Owner: v.ref.Owner}
	case kChatMessage:
		return v.container.chatChannel()
	case kMailFolder:
		return ref{Kind: kMailTree, Owner: v.ref.Owner}
	case kContactFolder:
		return ref{Kind: kContactTree, Owner: v.ref.Owner}
	}
	return ref{}
}

// adjustCounts moves v's contribution to its container's counts by d.
func (m *model) adjustCounts(v view, d int) {
	switch v.ref.Kind {
	case kMessage, kContact, kEvent, kChatMessage:
		m.counts[v.container] += d
	case kMailFolder, kContactFolder:
		if !v.container.isZero() {
			m.subCounts[v.container] += d
		}
	case kDriveItem:
		if !v.parent.isZero() {
			m.counts[v.parent] += d
		}
	}
}

// logView records a change of v. A channel reply is recorded as a change
// of its parent message: channel deltas list top-level messages only.
func (m *model) logView(v view) {
	if v.ref.Kind == kChatMessage && v.ref.Sub != 0 {
		m.logLocked(v.container.chatChannel(), v.container)
		return
	}
	m.logLocked(collKeyOf(v), v.ref)
}

func (m *model) logLocked(coll, item ref) {
	if coll.isZero() {
		return
	}
	m.seq++
	c := m.coll(coll)
	c.log = append(c.log, logEntry{seq: m.seq, item: item})
}

// touchLocked returns the overlay record of v, creating it from the
// generated state on first touch.
func (m *model) touchLocked(v view) *itemState {
	if v.st != nil {
		return v.st
	}
	st := &itemState{ref: v.ref, src: v.src, container: v.container, parent: v.parent, version: v.version}
	m.items[v.ref] = st
	return st
}

func (m *model) nextSerial() uint32 {
	m.serial++
	return m.serial
}

// createLocked adds a new object of kind k owned by owner in container
// (and, for drive items, under parent). It returns its record.
func (m *model) createLocked(k kind, owner uint32, container, parent ref, sub uint16) *itemState {
	return m.createRefLocked(ref{Kind: k, Owner: owner, Sub: sub}, container, parent)
}

// createRefLocked creates an object from a partial ref (kind, owner, and
// for channel messages the channel in Coll); it assigns the serial.
func (m *model) createRefLocked(r ref, container, parent ref) *itemState {
	k, sub := r.Kind, r.Sub
	r.Serial = m.nextSerial()
	now := m.clock.Now()
	st := &itemState{ref: r, container: container, parent: parent, modified: now, createdAt: now}
	m.items[r] = st
	v := view{ref: r, container: container, parent: parent, st: st}
	coll := collKeyOf(v)
	if !coll.isZero() && !(k == kChatMessage && sub != 0) {
		c := m.coll(coll)
		c.added = append(c.added, r)
	}
	m.adjustCounts(v, +1)
	m.logView(v)
	st.created = m.seq
	return st
}

// modifyLocked bumps v's version; its content and lastModified change.
func (m *model) modifyLocked(v view) *itemState {
	st := m.touchLocked(v)
	st.version++
	st.modified = m.clock.Now()
	m.logView(v)
	return st
}

// deleteLocked removes v. Folder deletions also log their descendants so
// that deltas of the hierarchy (and of drives) report them removed.
func (m *model) deleteLocked(v view) {
	for _, d := range m.descendantsLocked(v) {
		dv, _ := m.viewLocked(d)
		m.logView(dv)
	}
	st := m.touchLocked(v)
	st.deleted = true
	st.modified = m.clock.Now()
	m.adjustCounts(v, -1)
	m.logView(v)
}

// renameLocked renames a folder or drive item.
func (m *model) renameLocked(v view, name string) {
	st := m.touchLocked(v)
	st.name = name
	st.modified = m.clock.Now()
	m.logView(v)
}

// moveLocked moves v to a new container (Exchange) or parent (drive).
// Exchange items get a new id, as Graph gives moved messages without
// immutable ids: the old id is removed from the old folder and a new one is
// added to the new folder. Folders and drive items keep their ids. It
// returns the ref the object has after the move.
func (m *model) moveLocked(v view, to ref) ref {
	switch v.ref.Kind {
	case kMessage, kContact, kEvent:
		old := m.touchLocked(v)
		nst := m.createLocked(v.ref.Kind, v.ref.Owner, to, ref{}, 0)
		nst.src, nst.version, nst.content, nst.doc, nst.storedAtts = old.src, old.version, old.content, old.doc, old.storedAtts
		nst.exceptions, nst.cancelled = maps.Clone(old.exceptions), maps.Clone(old.cancelled)
		if old.src.isZero() {
			nst.createdAt = old.createdAt // a written item keeps its creation time
		}
		nst.modified = m.clock.Now()
		old.deleted = true
		if v.ref.Kind == kEvent {
			m.movedTo[v.ref] = nst.ref
		}
		m.adjustCounts(v, -1)
		m.logView(v)
		return nst.ref
	case kMailFolder, kContactFolder:
		st := m.touchLocked(v)
		m.adjustCounts(v, -1)
		st.container = to
		st.modified = m.clock.Now()
		m.adjustCounts(view{ref: v.ref, container: to}, +1)
		m.logView(v)
		return v.ref
	case kDriveItem:
		st := m.touchLocked(v)
		m.adjustCounts(v, -1)
		st.parent = to
		st.modified = m.clock.Now()
		m.adjustCounts(view{ref: v.ref, parent: to}, +1)
		m.logView(v)
		m.coll(v.container).structSeq = m.seq
		return v.ref
	}
	return v.ref
}

// descendantsLocked lists the live objects below folder v (all depths).
func (m *model) descendantsLocked(v view) []ref {
	var out []ref
	var walk func(r ref)
	walk = func(r ref) {
		for _, c := range m.childrenLocked(r) {
			out = append(out, c)
			walk(c)
		}
	}
	switch v.ref.Kind {
	case kMailFolder, kContactFolder:
		walk(v.ref)
	case kDriveItem:
		if v.ref.Sub == 0 {
			walk(v.ref)
		}
	}
	return out
}

// childrenLocked lists the direct, undeleted children of a folder: mail and
// contact subfolders, or drive folder children. Generated children come
// first in generated order, then overlay objects in creation order.
func (m *model) childrenLocked(folder ref) []ref {
	var out []ref
	isChild := func(v view) bool {
		if v.deleted {
			return false
		}
		if v.ref.Kind == kDriveItem {
			return v.parent == folder
		}
		return v.container == folder
	}
	consider := func(r ref) {
		if v, ok := m.viewLocked(r); ok && isChild(v) {
			out = append(out, r)
		}
	}
	switch folder.Kind {
	case kMailFolder, kContactFolder:
		if folder.Serial == 0 {
			if u := m.t.users[folder.Owner]; u.hasMailbox {
				l := m.layoutFor(folder.Kind, u)
				for _, c := range l.folders[folder.Index].children {
					consider(ref{Kind: folder.Kind, Owner: folder.Owner, Index: uint32(c)})
				}
			}
		}
		treeKind := kMailTree
		if folder.Kind == kContactFolder {
			treeKind = kContactTree
		}
		m.overlayMembers(ref{Kind: treeKind, Owner: folder.Owner}, folder.Kind, consider)
	case kDriveItem:
		if folder.Sub != 0 {
			return nil // files have no children
		}
		if folder.Serial == 0 {
			l := m.t.driveLayout(folder.Owner)
			f := l.folders[folder.Index]
			for _, c := range f.subfolders {
				consider(driveFolderRef(folder.Owner, c))
			}
			for k := f.fileStart; k < f.fileStart+f.fileCount; k++ {
				consider(driveFileRef(folder.Owner, k))
			}
		}
		m.overlayMembers(m.t.driveRef(folder.Owner), kDriveItem, consider)
	}
	return dedupeRefs(out)
}

// overlayMembers calls fn for every overlay object of kind k that belongs
// (or belonged) to collection coll and is not a generated object already
// covered by the caller's generated walk... the caller filters by parent.
func (m *model) overlayMembers(coll ref, k kind, fn func(ref)) {
	c := m.colls[coll]
	if c == nil {
		return
	}
	// Objects created in the collection, and generated objects that were
	// moved (their log entries name them).
	seen := map[ref]bool{}
	for _, r := range c.added {
		if r.Kind == k && !seen[r] {
			seen[r] = true
			fn(r)
		}
	}
	for _, e := range c.log {
		r := e.item
		if r.Kind == k && r.Serial == 0 && !seen[r] {
			seen[r] = true
			fn(r)
		}
	}
}

func dedupeRefs(rs []ref) []ref {
	seen := make(map[ref]bool, len(rs))
	out := rs[:0]
	for _, r := range rs {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}

// changesLocked returns the objects changed in coll with from < seq <= to,
// each once, ordered by their last change.
func (m *model) changesLocked(coll ref, from, to uint64) []ref {
	c := m.colls[coll]
	if c == nil {
		return nil
	}
	lo := sort.Search(len(c.log), func(i int) bool { return c.log[i].seq > from })
	last := map[ref]int{}
	var order []ref
	for i := lo; i < len(c.log) && c.log[i].seq <= to; i++ {
		r := c.log[i].item
		if _, ok := last[r]; !ok {
			order = append(order, r)
		}
		last[r] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return last[order[a]] < last[order[b]] })
	return order
}

// changesSinceLocked counts log entries in coll after seq.
func (m *model) changesSinceLocked(coll ref, seq uint64) int {
	c := m.colls[coll]
	if c == nil {
		return 0
	}
	lo := sort.Search(len(c.log), func(i int) bool { return c.log[i].seq > seq })
	return len(c.log) - lo
}

// isUnderLocked reports whether v lies below folder (any depth).
func (m *model) isUnderLocked(v view, folder ref) bool {
	for depth := 0; depth < 128; depth++ {
		up := v.container
		if v.ref.Kind == kDriveItem {
			up = v.parent
		}
		if up.isZero() {
			return false
		}
		if up == folder {
			return true
		}
		var ok bool
		if v, ok = m.viewLocked(up); !ok {
			return false
		}
	}
	return false
}
