package graphsim

import (
	"fmt"
	"strings"
)

// Mutations change the tenant between backups the way users do: items are
// added, modified, deleted, moved and renamed, by id or at random. Every
// mutation goes through the model's change log, so delta rounds report it.

// MutateOp is one requested change.
type MutateOp struct {
	// Op is add, modify, delete, move, rename or churn.
	Op string `json:"op"`
	// Kind (for add): message, contact, event, file, mailFolder,
	// contactFolder, calendar, driveFolder, channelMessage, listItem,
	// post, conversation.
	Kind string `json:"kind,omitempty"`
	// User owns added items (id or UPN); Drive (id) may replace it for
	// drive items of sites.
	User  string `json:"user,omitempty"`
	Drive string `json:"drive,omitempty"`
	// Parent is the container of added items (folder id or well-known
	// name; drive folder id), default inbox/contacts/calendar/root.
	Parent string `json:"parent,omitempty"`
	// ID names the item or folder to modify, delete, move or rename.
	ID string `json:"id,omitempty"`
	// To is the destination folder of a move.
	To string `json:"to,omitempty"`
	// Name is the new name (rename) or the name of an added folder.
	Name string `json:"name,omitempty"`
	// Count repeats an add (default 1).
	Count int `json:"count,omitempty"`
	// Team and Channel address channel messages (their ids are only unique
	// within a channel) for add (kind channelMessage; with Parent, a reply
	// to that message), modify and delete.
	Team    string `json:"team,omitempty"`
	Channel string `json:"channel,omitempty"`
	// Site (id) and List (id or title) address list items (kind
	// listItem; ID is the item's number) for add, modify and delete.
	Site string `json:"site,omitempty"`
	List string `json:"list,omitempty"`
	// Group (id) owns an added post (kind post; Parent is its thread's
	// id) or conversation (kind conversation; Name is its topic).
	Group string `json:"group,omitempty"`
	// Size fixes the size in bytes of an added file (generated content);
	// zero draws one as for the tenant's files.
	Size int64 `json:"size,omitempty"`
	// Churn: Seed and Rate (fraction of each collection's items touched);
	// User limits churn to one user.
	Seed int64   `json:"seed,omitempty"`
	Rate float64 `json:"rate,omitempty"`
}

// MutateResult reports what a change did. Exchange moves give the item a
// new id (NewID), as Graph does without immutable ids.
type MutateResult struct {
	Op    string `json:"op"`
	Kind  string `json:"kind"`
	ID    string `json:"id"`
	NewID string `json:"newId,omitempty"`
	Error string `json:"error,omitempty"`
}

// Mutate applies ops in order. A failing op reports its error and does not
// stop the others.
func (s *Server) Mutate(ops []MutateOp) []MutateResult {
	var out []MutateResult
	for _, op := range ops {
		res, err := s.mutateOne(op)
		if err != nil {
			out = append(out, MutateResult{Op: op.Op, Kind: op.Kind, ID: op.ID, Error: err.Error()})
			continue
		}
		out = append(out, res...)
	}
	return out
}

func kindName(k kind, r ref) string {
	switch k {
	case kMessage:
		return "message"
	case kContact:
		return "contact"
	case kEvent:
		return "event"
	case kMailFolder:
		return "mailFolder"
	case kContactFolder:
		return "contactFolder"
	case kCalendar:
		return "calendar"
	case kDriveItem:
		if r.Sub == 0 {
			return "driveFolder"
		}
		return "file"
	case kChatMessage:
		return "channelMessage"
	}
	return "unknown"
}

func (s *Server) mutateOne(op MutateOp) ([]MutateResult, error) {
	switch strings.ToLower(op.Op) {
	case "add":
		if strings.EqualFold(op.Kind, "listItem") {
			return s.mutateListItem(op)
		}
		if strings.EqualFold(op.Kind, "post") || strings.EqualFold(op.Kind, "conversation") {
			return s.mutateConversation(op)
		}
		return s.mutateAdd(op)
	case "churn":
		return s.churn(op), nil
	}
	if op.List != "" {
		return s.mutateListItem(op)
	}
	var r ref
	ok := false
	if op.Channel != "" {
		_, c, err := s.findChannel(op.Team, op.Channel)
		if err != nil {
			return nil, fmt.Errorf("%s", err.message)
		}
		r, ok = s.parseChatMessageID(c, op.ID)
	} else {
		r, ok = s.ids().decode(op.ID)
	}
	if !ok {
		return nil, fmt.Errorf("unknown id %q", op.ID)
	}
	m := s.model
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.viewLocked(r)
	if !ok || !m.aliveLocked(v) {
		return nil, fmt.Errorf("no live object %q", op.ID)
	}
	res := MutateResult{Op: op.Op, Kind: kindName(r.Kind, r), ID: op.ID}
	switch strings.ToLower(op.Op) {
	case "modify":
		m.modifyLocked(v)
	case "delete":
		if r.Serial == 0 && (r.Kind == kMailFolder || r.Kind == kContactFolder || r.Kind == kCalendar) && s.folderWellKnown(r) != "" {
			return nil, fmt.Errorf("well-known folders cannot be deleted")
		}
		if r.Kind == kDriveItem && v.parent.isZero() {
			return nil, fmt.Errorf("the root cannot be deleted")
		}
		m.deleteLocked(v)
	case "rename":
		if op.Name == "" {
			return nil, fmt.Errorf("rename needs a name")
		}
		switch r.Kind {
		case kMailFolder, kContactFolder, kCalendar, kDriveItem:
		default:
			return nil, fmt.Errorf("only folders and drive items can be renamed")
		}
		m.renameLocked(v, op.Name)
	case "move":
		to, ok := s.ids().decode(op.To)
		if !ok {
			return nil, fmt.Errorf("unknown destination %q", op.To)
		}
		tv, ok := m.viewLocked(to)
		if !ok || !m.aliveLocked(tv) || to.Owner != r.Owner {
			return nil, fmt.Errorf("no live destination %q", op.To)
		}
		nr, err := s.moveChecked(v, tv)
		if err != nil {
			return nil, err
		}
		if nr != r {
			res.NewID = s.ids().encode(nr)
		}
	default:
		return nil, fmt.Errorf("unknown op %q", op.Op)
	}
	return []MutateResult{res}, nil
}

// moveChecked validates and performs a move; m.mu is held.
func (s *Server) moveChecked(v, to view) (ref, error) {
	m := s.model
	switch v.ref.Kind {
	case kMessage, kContact, kEvent:
		if to.ref.Kind != folderKindOf(v.ref.Kind) {
			return ref{}, fmt.Errorf("destination is not a %s folder", kindName(folderKindOf(v.ref.Kind), to.ref))
		}
		if v.container == to.ref {
			return v.ref, nil
		}
	case kMailFolder, kContactFolder:
		if to.ref.Kind != v.ref.Kind || to.ref == v.ref || m.isUnderLocked(to, v.ref) {
			return ref{}, fmt.Errorf("invalid destination folder")
		}
		if s.folderWellKnown(v.ref) != "" {
			return ref{}, fmt.Errorf("well-known folders cannot be moved")
		}
		if v.container == to.ref {
			return v.ref, nil
		}
	case kDriveItem:
		if to.ref.Kind != kDriveItem || to.ref.Sub != 0 || to.ref == v.ref || m.isUnderLocked(to, v.ref) {
			return ref{}, fmt.Errorf("invalid destination folder")
		}
		if v.parent.isZero() {
			return ref{}, fmt.Errorf("the root cannot be moved")
		}
		if v.parent == to.ref {
			return v.ref, nil
		}
	default:
		return ref{}, fmt.Errorf("%s cannot be moved", kindName(v.ref.Kind, v.ref))
	}
	return m.moveLocked(v, to.ref), nil
}

func (s *Server) mutateAdd(op MutateOp) ([]MutateResult, error) {
	n := max(op.Count, 1)
	var out []MutateResult
	for i := 0; i < n; i++ {
		r, err := s.addOne(op)
		if err != nil {
			return out, err
		}
		id := s.ids().encode(r)
		if r.Kind == kChatMessage {
			id = s.chatMessageID(r)
		}
		out = append(out, MutateResult{Op: "add", Kind: kindName(r.Kind, r), ID: id})
	}
	return out, nil
}

// addOne creates one object whose content is generated from its serial.
func (s *Server) addOne(op MutateOp) (ref, error) {
	m := s.model
	k := strings.ToLower(op.Kind)
	if k == "channelmessage" {
		_, c, err := s.findChannel(op.Team, op.Channel)
		if err != nil {
			return ref{}, fmt.Errorf("%s", err.message)
		}
		if !s.channelAcceptsSends(c) {
			return ref{}, fmt.Errorf("channel %s is in migration mode: nobody can post in it", op.Channel)
		}
		if op.Parent != "" {
			return s.addChannelReply(c, op.Parent)
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		st := m.createRefLocked(ref{Kind: kChatMessage, Owner: c.Owner, Coll: c.Index}, c, ref{})
		st.src = st.ref
		return st.ref, nil
	}
	if k == "file" || k == "driveitem" || k == "drivefolder" {
		owner, parent, err := s.driveTarget(op)
		if err != nil {
			return ref{}, err
		}
		sub := uint16(1)
		if k == "drivefolder" {
			sub = 0
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		st := m.createLocked(kDriveItem, owner, s.t.driveRef(owner), parent, sub)
		st.src = st.ref
		st.createdAt = st.modified
		if sub != 0 {
			st.size = op.Size
		}
		if op.Name != "" {
			st.name = op.Name
		}
		return st.ref, nil
	}
	u, ok := s.t.userByKey(op.User)
	if !ok || !u.hasMailbox {
		return ref{}, fmt.Errorf("no mailbox for user %q", op.User)
	}
	var fk, ik kind
	def := ""
	switch k {
	case "message":
		fk, ik, def = kMailFolder, kMessage, "inbox"
	case "contact":
		fk, ik, def = kContactFolder, kContact, "contacts"
	case "event":
		fk, ik, def = kCalendar, kEvent, "calendar"
	case "mailfolder":
		fk, def = kMailFolder, "msgfolderroot"
	case "contactfolder":
		fk, def = kContactFolder, "contacts"
	case "calendar":
		fk = kCalendar
	default:
		return ref{}, fmt.Errorf("unknown kind %q", op.Kind)
	}
	var parent view
	if def != "" || op.Parent != "" {
		key := op.Parent
		if key == "" {
			key = def
		}
		var aerr *apiError
		if parent, aerr = s.resolveFolder(fk, u, key); aerr != nil {
			return ref{}, fmt.Errorf("parent %q: %s", key, aerr.message)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if ik != 0 {
		st := m.createLocked(ik, uint32(u.idx), parent.ref, ref{}, 0)
		st.src = st.ref
		return st.ref, nil
	}
	st := m.createLocked(fk, uint32(u.idx), parent.ref, ref{}, 0)
	st.name = op.Name
	if st.name == "" {
		st.name = fmt.Sprintf("Folder %d", st.ref.Serial)
	}
	return st.ref, nil
}

func (s *Server) driveTarget(op MutateOp) (uint32, ref, error) {
	var owner uint32
	switch {
	case op.Drive != "":
		r, ok := s.ids().decodeKind(op.Drive, kDrive)
		if !ok {
			return 0, ref{}, fmt.Errorf("unknown drive %q", op.Drive)
		}
		owner = r.Owner
	default:
		u, ok := s.t.userByKey(op.User)
		if !ok || !u.hasDrive {
			return 0, ref{}, fmt.Errorf("no drive for user %q", op.User)
		}
		owner = s.t.driveOwnerOfUser(u)
	}
	parent := driveFolderRef(owner, 0)
	if op.Parent != "" {
		r, ok := s.ids().decodeKind(op.Parent, kDriveItem)
		v, alive := s.model.alive(r)
		if !ok || !alive || r.Owner != owner || r.Sub != 0 {
			return 0, ref{}, fmt.Errorf("no folder %q in the drive", op.Parent)
		}
		parent = v.ref
	}
	return owner, parent, nil
}

// churn applies reproducible random changes: in every collection of the
// selected users (or all users and sites), about Rate of the items are
// touched: 40% modified, 25% added, 20% deleted, 15% moved.
func (s *Server) churn(op MutateOp) []MutateResult {
	s.t.directory()
	r := newRNG(uint64(op.Seed), tagChurn)
	rate := op.Rate
	if rate <= 0 {
		rate = 0.05
	}
	var out []MutateResult
	var users []*user
	if op.User != "" {
		if u, ok := s.t.userByKey(op.User); ok {
			users = []*user{u}
		}
	} else {
		// Special users and the Quirks site keep their generated state, so
		// their persistent faults and Expected stay as documented.
		users = s.t.regularUsers()
	}
	for _, u := range users {
		if u.hasMailbox {
			for _, fk := range []kind{kMailFolder, kContactFolder, kCalendar} {
				var folders []view
				if fk == kCalendar {
					folders = s.calendars(u)
				} else {
					folders = s.folderMembers(s.treeCollection(fk, u))
				}
				for _, f := range folders {
					out = append(out, s.churnCollection(r, s.itemsCollection(f), folders, rate)...)
				}
			}
		}
		if u.hasDrive {
			out = append(out, s.churnDrive(r, s.t.driveOwnerOfUser(u), rate)...)
		}
	}
	if op.User == "" {
		for _, site := range s.t.sites {
			if site.special != "" {
				continue
			}
			out = append(out, s.churnDrive(r, s.t.driveOwnerOfSite(site), rate)...)
		}
		for _, g := range s.t.groups {
			if !g.isTeam {
				continue
			}
			for i := range s.t.chatLayout(g).channels {
				out = append(out, s.churnChannel(r, ref{Kind: kChannel, Owner: uint32(g.idx), Index: uint32(i)}, rate)...)
			}
		}
		// Sites' further libraries last, so that they change no draw of
		// the churn of tenants without them.
		for _, site := range s.t.sites {
			for _, owner := range s.t.siteLibraryOwners(site)[1:] {
				out = append(out, s.churnDrive(r, owner, rate)...)
			}
		}
		// Sites' lists after everything else, for the same reason.
		out = append(out, s.churnLists(r, rate)...)
	}
	return out
}

// churnChannel edits (50%), posts (30%) and deletes (20%) channel messages.
func (s *Server) churnChannel(r *rng, ch ref, rate float64) []MutateResult {
	m := s.model
	c := s.channelCollection(ch)
	n := churnCount(r, c.baseLen, rate)
	var out []MutateResult
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := 0; i < n; i++ {
		p := r.float()
		if p >= 0.5 && p < 0.8 {
			st := m.createRefLocked(ref{Kind: kChatMessage, Owner: ch.Owner, Coll: ch.Index}, ch, ref{})
			st.src = st.ref
			out = append(out, MutateResult{Op: "add", Kind: "channelMessage", ID: s.chatMessageID(st.ref)})
			continue
		}
		v, ok := s.pickLiveLocked(r, c)
		if !ok {
			continue
		}
		id := s.chatMessageID(v.ref)
		if p < 0.5 {
			m.modifyLocked(v)
			out = append(out, MutateResult{Op: "modify", Kind: "channelMessage", ID: id})
		} else {
			m.deleteLocked(v)
			out = append(out, MutateResult{Op: "delete", Kind: "channelMessage", ID: id})
		}
	}
	return out
}

// pickLiveLocked draws a random live member of c; m.mu held.
func (s *Server) pickLiveLocked(r *rng, c collection) (view, bool) {
	m := s.model
	var added []ref
	if cs := m.colls[c.key]; cs != nil {
		added = cs.added
	}
	total := c.baseLen + len(added)
	for try := 0; try < 8 && total > 0; try++ {
		i := r.intn(total)
		var x ref
		if i < c.baseLen {
			x = c.base(i)
		} else {
			x = added[i-c.baseLen]
		}
		if v, ok := m.viewLocked(x); ok && c.member(v) {
			return v, true
		}
	}
	return view{}, false
}

func churnCount(r *rng, n int, rate float64) int {
	f := float64(n) * rate
	k := int(f)
	if r.chance(f - float64(k)) {
		k++
	}
	return k
}

func (s *Server) churnCollection(r *rng, c collection, folders []view, rate float64) []MutateResult {
	m := s.model
	items, _ := s.folderCounts(view{ref: c.key, st: nil})
	n := churnCount(r, items, rate)
	var out []MutateResult
	m.mu.Lock()
	defer m.mu.Unlock()
	ik := itemKindOf(c.key.Kind)
	for i := 0; i < n; i++ {
		p := r.float()
		if p >= 0.40 && p < 0.65 {
			st := m.createLocked(ik, c.key.Owner, c.key, ref{}, 0)
			st.src = st.ref
			out = append(out, MutateResult{Op: "add", Kind: kindName(ik, st.ref), ID: s.ids().encode(st.ref)})
			continue
		}
		v, ok := s.pickLiveLocked(r, c)
		if !ok {
			continue
		}
		id := s.ids().encode(v.ref)
		switch {
		case p < 0.40:
			m.modifyLocked(v)
			out = append(out, MutateResult{Op: "modify", Kind: kindName(ik, v.ref), ID: id})
		case p < 0.85 || len(folders) < 2:
			m.deleteLocked(v)
			out = append(out, MutateResult{Op: "delete", Kind: kindName(ik, v.ref), ID: id})
		default:
			to := folders[r.intn(len(folders))]
			if to.ref == v.container {
				continue
			}
			nr := m.moveLocked(v, to.ref)
			out = append(out, MutateResult{Op: "move", Kind: kindName(ik, v.ref), ID: id, NewID: s.ids().encode(nr)})
		}
	}
	return out
}

func (s *Server) churnDrive(r *rng, owner uint32, rate float64) []MutateResult {
	m := s.model
	c := s.driveCollection(owner)
	n := churnCount(r, c.baseLen, rate)
	var out []MutateResult
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := 0; i < n; i++ {
		p := r.float()
		v, ok := s.pickLiveLocked(r, c)
		if !ok {
			continue
		}
		id := s.ids().encode(v.ref)
		switch {
		case p < 0.40 && v.ref.Sub == 1:
			m.modifyLocked(v)
			out = append(out, MutateResult{Op: "modify", Kind: "file", ID: id})
		case p < 0.65:
			parent := v.ref
			if v.ref.Sub == 1 {
				parent = v.parent
			}
			st := m.createLocked(kDriveItem, owner, c.key, parent, 1)
			st.src = st.ref
			st.createdAt = st.modified
			out = append(out, MutateResult{Op: "add", Kind: "file", ID: s.ids().encode(st.ref)})
		case p < 0.85:
			if v.parent.isZero() {
				continue
			}
			m.deleteLocked(v)
			out = append(out, MutateResult{Op: "delete", Kind: kindName(kDriveItem, v.ref), ID: id})
		default:
			nf := len(s.t.driveLayout(owner).folders)
			to, ok := m.viewLocked(driveFolderRef(owner, r.intn(nf)))
			if !ok || !m.aliveLocked(to) || v.parent.isZero() || to.ref == v.ref || to.ref == v.parent || m.isUnderLocked(to, v.ref) {
				continue
			}
			m.moveLocked(v, to.ref)
			out = append(out, MutateResult{Op: "move", Kind: kindName(kDriveItem, v.ref), ID: id})
		}
	}
	return out
}
