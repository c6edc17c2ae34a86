package graphsim

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// State is the ground truth of the tenant at one moment: every live item
// and folder with the hash of the exact bytes a backup would store.
//
// Content hashes (SHA-256, hex):
//   - messages: the MIME served by GET /users/{u}/messages/{id}/$value;
//   - drive files: the file bytes served by the download URL;
//   - contacts: the JSON body of GET /v1.0/users/{u}/contacts/{id} with no
//     query options (canonical: fixed property order, compact, no HTML
//     escaping);
//   - events: the JSON body of
//     GET /beta/users/{u}/events/{id}?$expand=exceptionOccurrences,attachments
//     (the same canonical form, carrying exceptions, cancelled occurrences
//     and attachments with their content) completed with what that GET
//     leaves out (eventatts.go): when the event has an item attachment,
//     its attachments as GET .../events/{id}/attachments
//     ?$expand=microsoft.graph.itemattachment/item lists them (in place of
//     the expanded ones), and for each exception whose hasAttachments is
//     true, its own attachments listed the same way at its id, as the
//     exception's last property, attachments; for the series whose
//     exceptions Exchange cannot list (Expected cause
//     instancesUnavailable) the body of
//     GET /beta/users/{u}/events/{id}?$expand=attachments instead;
//   - channel messages and replies: the JSON body of
//     GET /v1.0/teams/{g}/channels/{c}/messages/{id} (…/replies/{id});
//   - group conversation posts (category "conversations", kind "post";
//     every group's, teams or not): the JSON body of
//     GET /v1.0/groups/{g}/threads/{t}/posts/{id}?$expand=attachments,inReplyTo($select=id)
//     (PostExpand); CollectionID is the thread's id, Path its
//     conversation's topic and folder (m365.ConversationPath), Name the
//     topic;
//   - list items (category "lists", kind "listItem"; items of sites'
//     generic lists, not hidden, system or document libraries): the JSON
//     body of GET /v1.0/sites/{site-id}/lists/{list-id}/items/{id}
//     ?$expand=fields, whatever form the site and list were addressed by
//     (its @odata.context names them by id); CollectionID is the list's
//     id, Path its display name, ID the item's number, Name its Title.
//
// Folders are listed with an empty hash. Items a correct backup cannot
// read (Expected outcome "skipped") are not listed; a file whose download
// differs from its listing is listed with the downloaded bytes' Hash and
// Size and the listing's QuickXorHash.
type State struct {
	TenantID  string      `json:"tenantId"`
	Seed      int64       `json:"seed"`
	StateHash string      `json:"stateHash"` // SHA-256 over all entries in order
	Items     []StateItem `json:"items"`
	// Expected lists every resource or item a correct backup treats
	// specially (see Expectation). It is not part of StateHash.
	Expected []Expectation `json:"expected,omitempty"`
}

// StateItem is one object of the ground truth.
type StateItem struct {
	Resource     string `json:"resource"`   // user principal name or site URL
	ResourceID   string `json:"resourceId"` // user id or site id
	Category     string `json:"category"`   // mail, contacts, events, files, channels, lists
	Kind         string `json:"kind"`       // message, contact, event, file, folder, channelMessage, channelReply, listItem
	CollectionID string `json:"collectionId"`
	Path         string `json:"path"` // folder path of the item's container
	// Folders is Path as the names of its folders (mailbox items): an
	// Exchange folder's name may hold "/", which Path cannot tell apart.
	Folders      []string `json:"folders,omitempty"`
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	Size         int64    `json:"size"`
	Version      uint32   `json:"version"`
	Hash         string   `json:"hash,omitempty"`
	QuickXorHash string   `json:"quickXorHash,omitempty"`
	// Content identifies what a message says, whatever form its MIME
	// takes (see msgSpec.content): a restored copy, rendered anew, has
	// its original's Content and another Hash.
	Content string `json:"content,omitempty"`
	// Modified is a file's modification time as users see it
	// (fileSystemInfo.lastModifiedDateTime).
	Modified time.Time `json:"modified,omitzero"`
	// Library is the name of a drive item's drive (CollectionID): its
	// user's "OneDrive", or one of its site's document libraries.
	Library string `json:"library,omitempty"`
}

// StateFilter narrows a State.
type StateFilter struct {
	User     string // id or UPN; empty: all users and sites
	Category string // mail, contacts, events, files, channels, lists; empty: all
	NoHashes bool   // skip content hashes (cheap listing)
}

// State computes the ground truth. Hashing reads every item's content, so
// it costs time proportional to the tenant's bytes (cached for files).
func (s *Server) State(f StateFilter) (State, error) {
	s.t.directory()
	st := State{TenantID: s.opts.TenantID, Seed: s.opts.Tenant.Seed}
	want := func(cat string) bool { return f.Category == "" || strings.EqualFold(f.Category, cat) }
	var users []*user
	if f.User != "" {
		u, ok := s.t.userByKey(f.User)
		if !ok {
			return st, fmt.Errorf("unknown user %q", f.User)
		}
		users = []*user{u}
	} else {
		users = s.t.users
	}
	for _, u := range users {
		// A policy-blocked mailbox cannot be read and a locked OneDrive
		// cannot be listed: a correct backup stores nothing of either.
		if u.hasMailbox && u.special != specPolicyBlocked {
			if want("mail") {
				s.stateFolders(&st, u, kMailFolder, "mail", f.NoHashes)
			}
			if want("contacts") {
				s.stateFolders(&st, u, kContactFolder, "contacts", f.NoHashes)
			}
			if want("events") {
				s.stateFolders(&st, u, kCalendar, "events", f.NoHashes)
			}
		}
		if u.hasDrive && u.special != specLockedDrive && want("files") {
			s.stateDrive(&st, u.upn, u.id, s.t.driveOwnerOfUser(u), f.NoHashes)
		}
	}
	if f.User == "" && want("files") {
		for _, site := range s.t.sites {
			for _, owner := range s.t.siteLibraryOwners(site) {
				s.stateDrive(&st, site.webURL, site.id, owner, f.NoHashes)
			}
		}
	}
	if f.User == "" && want("channels") {
		for _, g := range s.t.groups {
			if g.isTeam {
				s.stateChannels(&st, g, f.NoHashes)
			}
		}
	}
	if f.User == "" && want("conversations") {
		for _, g := range s.t.groups {
			s.stateConversations(&st, g, f.NoHashes)
		}
	}
	if f.User == "" && want("lists") {
		s.stateLists(&st, f.NoHashes)
	}
	st.Expected = s.expectations(f, users)
	h := sha256.New()
	for _, it := range st.Items {
		fmt.Fprintf(h, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n", it.ResourceID, it.Category, it.Kind, it.CollectionID, it.Path, it.ID, it.Hash, it.Size)
	}
	st.StateHash = hex.EncodeToString(h.Sum(nil))
	return st, nil
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func (s *Server) stateFolders(st *State, u *user, k kind, category string, noHash bool) {
	var folders []view
	switch k {
	case kCalendar:
		folders = s.calendars(u)
	default:
		folders = s.folderMembers(s.treeCollection(k, u))
	}
	for _, f := range folders {
		fid := s.ids().encode(f.ref)
		segs := s.folderSegments(f)
		path := strings.Join(segs, "/")
		st.Items = append(st.Items, StateItem{Resource: u.upn, ResourceID: u.id, Category: category, Kind: "folder",
			CollectionID: fid, Path: path, Folders: segs, ID: fid, Name: s.folderName(f), Version: f.version})
		for _, v := range s.folderMembers(s.itemsCollection(f)) {
			if k == kMailFolder && s.itemQuirk(v) != quirkNone {
				continue // unreadable: listed in Expected instead
			}
			it := StateItem{Resource: u.upn, ResourceID: u.id, Category: category, CollectionID: fid, Path: path,
				Folders: segs, ID: s.ids().encode(v.ref), Version: v.version}
			var b []byte
			switch k {
			case kMailFolder:
				m := s.message(v)
				it.Kind, it.Name = "message", m.subject
				if !noHash {
					b = m.mime()
					it.Content = sha256Hex([]byte(m.content()))
				}
			case kContactFolder:
				it.Kind = "contact"
				o := s.contactObject(v)
				if n, ok := o.get("displayName"); ok {
					it.Name, _ = n.(string)
				}
				if !noHash {
					b, _ = o.MarshalJSON()
				}
			case kCalendar:
				e := s.event(v)
				it.Kind, it.Name = "event", e.subject
				if !noHash {
					x := canonicalEventExpansion
					if s.instancesUnavailable(v, e) {
						// Exchange cannot list its exceptions: a correct
						// backup stores it as served without them
						// (?$expand=attachments), and says so (Expected).
						x.exceptions = false
					}
					b, _ = s.eventObject(v, e, true, x).MarshalJSON()
				}
			}
			if !noHash {
				it.Hash, it.Size = sha256Hex(b), int64(len(b))
			}
			st.Items = append(st.Items, it)
		}
	}
}

func (s *Server) stateDrive(st *State, resource, resourceID string, owner uint32, noHash bool) {
	c := s.driveCollection(owner)
	driveID := s.ids().encode(c.key)
	library := s.t.driveName(owner)
	m := s.model
	m.mu.RLock()
	order := c.tree()
	m.mu.RUnlock()
	for _, r := range order {
		v, alive := m.alive(r)
		if !alive {
			continue
		}
		if q := s.itemQuirk(v); q == quirkMalware || q == quirkOneNoteSection {
			continue // unreadable: listed in Expected instead
		}
		d := s.driveItem(v)
		path := s.drivePath(v)
		dir := ""
		if i := strings.LastIndexByte(path, '/'); i >= 0 {
			dir = path[:i]
		}
		it := StateItem{Resource: resource, ResourceID: resourceID, Category: "files", CollectionID: driveID,
			Library: library, Path: dir, ID: s.ids().encode(v.ref), Name: d.name, Version: v.version}
		if v.parent.isZero() {
			it.Name = "root"
		}
		if d.folder {
			it.Kind = "folder"
		} else {
			it.Kind = "file"
			it.Size = d.content.size
			it.Modified = d.shownModified().UTC()
			if !noHash {
				// Hash and Size describe the bytes a download returns;
				// QuickXorHash is what the listing reports, which differs
				// for a file SharePoint rewrites (sizeDrift).
				h := s.hashes.of(d.content)
				it.Hash, it.QuickXorHash = h.sha256, h.quickXor
				if d.listed != nil {
					it.QuickXorHash = s.hashes.of(*d.listed).quickXor
				}
			}
		}
		st.Items = append(st.Items, it)
	}
}
