package graphsim

import (
	"strings"
)

// Special resources: users and sites that fail the way real tenants do, on
// every attempt, for one resource. They are appended after the regular
// users and sites (so regular ids, names and contents do not move) unless
// TenantOptions.Clean is set. Each has a fixed UPN or URL, an id of its own
// (tagSpecial) and a small mailbox or library that does not depend on
// ItemsPerUser. quirks.go holds the failures; expected.go says what a
// correct backup does with each.

type specialKind string

const (
	specUnlicensed    specialKind = "unlicensed"
	specOnPrem        specialKind = "onprem"
	specPolicyBlocked specialKind = "policyblocked"
	specOverQuota     specialKind = "overquota"
	specShared        specialKind = "sharedmailbox"
	specRoom          specialKind = "roommailbox"
	specLockedDrive   specialKind = "lockeddrive"
	specQuirky        specialKind = "quirky"
	specGuest         specialKind = "guest"
)

type siteKind string

const (
	siteQuirks   siteKind = "quirks"   // a library with unreadable items
	sitePersonal siteKind = "personal" // a OneDrive site, as GET /sites lists it
	siteSearch   siteKind = "search"   // the built-in search centre
)

// specialUsers in the order they are appended; the order is part of the
// id scheme (guid(seed, tagSpecial, 1, k)).
var specialUsers = []struct {
	kind                  specialKind
	given, surname        string
	job                   string
	mailbox, drive        bool
	licensed, enabled     bool
	onPremisesSyncEnabled bool
}{
	// No licence: Exchange answers AuthenticationError, OneDrive has no site.
	{kind: specUnlicensed, given: "Una", surname: "Licensed", job: "Contractor", enabled: true},
	// Hybrid user whose mailbox lives on premises; OneDrive is in the cloud.
	{kind: specOnPrem, given: "Olaf", surname: "Premises", job: "Engineer", drive: true, licensed: true, enabled: true, onPremisesSyncEnabled: true},
	{kind: specPolicyBlocked, given: "Paula", surname: "Blocked", job: "Counsel", mailbox: true, drive: true, licensed: true, enabled: true},
	{kind: specOverQuota, given: "Otto", surname: "Quota", job: "Archivist", mailbox: true, drive: true, licensed: true, enabled: true},
	// Shared and resource mailboxes need no licence and cannot sign in.
	{kind: specShared, given: "Shared", surname: "Mailbox", job: "", mailbox: true},
	{kind: specRoom, given: "Room", surname: "Harbor 2.01", job: "", mailbox: true},
	{kind: specLockedDrive, given: "Lola", surname: "Locked", job: "Analyst", mailbox: true, drive: true, licensed: true, enabled: true},
	{kind: specQuirky, given: "Quinn", surname: "Quirky", job: "Researcher", mailbox: true, drive: true, licensed: true, enabled: true},
	// A guest has neither mailbox nor OneDrive in the tenant.
	{kind: specGuest, given: "Gus", surname: "Guest", job: "Partner", enabled: true},
}

// Special mailboxes and drives are small and fixed so tests stay fast.
const (
	specialMail     = 6
	specialContacts = 2
	specialEvents   = 2
	specialFiles    = 2
	// The quirky user's calendars hold more events than one delta page of
	// theirs may carry (quirkEventPageLimit).
	quirkyEvents = 3 * quirkEventPageLimit
)

func (t *tenant) buildSpecials() {
	for k, sp := range specialUsers {
		i := len(t.users)
		u := &user{
			idx:                   i,
			id:                    guid(t.seed, tagSpecial, 1, uint64(k)),
			givenName:             sp.given,
			surname:               sp.surname,
			displayName:           sp.given + " " + sp.surname,
			jobTitle:              sp.job,
			department:            "Operations",
			hasMailbox:            sp.mailbox,
			hasDrive:              sp.drive,
			licensed:              sp.licensed,
			accountEnabled:        sp.enabled,
			onPremisesSyncEnabled: sp.onPremisesSyncEnabled,
			special:               sp.kind,
			created:               epoch.AddDate(-1, 0, -k),
		}
		u.upn = string(sp.kind) + "@" + t.domain
		u.mail = u.upn
		if sp.kind == specGuest {
			u.guest = true
			u.upn = "gus.guest_fabrikam.com#EXT#@" + t.domain
			u.mail = "gus.guest@fabrikam.com"
		}
		if u.hasMailbox {
			u.mailN, u.contactN, u.eventN = specialMail, specialContacts, specialEvents
			if sp.kind == specQuirky {
				u.eventN = quirkyEvents
			}
		}
		if u.hasDrive {
			u.fileN = specialFiles
		}
		t.users = append(t.users, u)
		t.userIndex[strings.ToLower(u.id)] = i
		t.userIndex[strings.ToLower(u.upn)] = i
	}

	q := &site{
		idx:          len(t.sites),
		collectionID: guid(t.seed, tagSpecial, 2, 1),
		webID:        guid(t.seed, tagSpecial, 2, 2),
		group:        -1,
		name:         "Quirks",
		displayName:  "Quirks",
		webURL:       "https://" + t.spHost() + "/sites/Quirks",
		special:      siteQuirks,
		created:      epoch.AddDate(-1, 0, 0),
	}
	q.id = t.spHost() + "," + q.collectionID + "," + q.webID
	t.sites = append(t.sites, q)
	t.siteIndex[strings.ToLower(q.id)] = q.idx
	t.siteIndex[strings.ToLower(q.collectionID)] = q.idx

	// GET /sites also lists OneDrive (personal) sites and the search centre
	// on real tenants; Corso filters both out (C: pkg/services/m365/api/
	// sites.go skippableSite: "sharepoint.com/personal/", and an unnamed
	// site whose URL ends in "/search").
	if t.nRegular > 0 {
		owner := t.users[0] // user 0 always has a OneDrive
		p := &site{
			idx:          -1,
			collectionID: guid(t.seed, tagSpecial, 3, 1),
			webID:        guid(t.seed, tagSpecial, 3, 2),
			group:        -1,
			ownerUser:    0,
			name:         t.personalPath(owner),
			displayName:  owner.displayName,
			webURL:       "https://" + t.myHost() + "/personal/" + t.personalPath(owner),
			special:      sitePersonal,
			created:      owner.created,
		}
		p.id = t.myHost() + "," + p.collectionID + "," + p.webID
		t.listedSites = append(t.listedSites, p)
	}
	sr := &site{
		idx:          -1,
		collectionID: guid(t.seed, tagSpecial, 4, 1),
		webID:        guid(t.seed, tagSpecial, 4, 2),
		group:        -1,
		name:         "search",
		displayName:  "", // "never has a name" (C: sites.go skippableSite)
		webURL:       "https://" + t.spHost() + "/search",
		special:      siteSearch,
		created:      epoch.AddDate(-3, 0, 0),
	}
	sr.id = t.spHost() + "," + sr.collectionID + "," + sr.webID
	t.listedSites = append(t.listedSites, sr)

	t.buildQuirks()
}

// siteHost is the host of a site's id ("host,collection,web").
func siteHost(st *site, def string) string {
	if h, _, ok := strings.Cut(st.id, ","); ok {
		return h
	}
	return def
}

// personalPath is the last segment of a user's OneDrive site URL.
func (t *tenant) personalPath(u *user) string {
	return strings.NewReplacer("@", "_", ".", "_", "#", "_").Replace(strings.ToLower(u.upn))
}

// specialUser and quirksSite need the directory built (they run inside
// its construction too, so they do not build it themselves).
func (t *tenant) specialUser(k specialKind) *user {
	for _, u := range t.users[t.nRegular:] {
		if u.special == k {
			return u
		}
	}
	return nil
}

func (t *tenant) quirksSite() *site {
	for _, s := range t.sites {
		if s.special == siteQuirks {
			return s
		}
	}
	return nil
}

// specialMailCounts puts a special mailbox's mail in the Inbox (where the
// quirky user's unreadable messages sit at fixed positions) and one
// message in Sent Items.
func specialMailCounts(nFolders, n int) []int {
	counts := make([]int, nFolders)
	inbox, sent := 1, 3 // msgfolderroot, inbox, drafts, sentitems (wellKnownMail order)
	if n > 1 && nFolders > sent {
		counts[sent] = 1
		n--
	}
	if nFolders > inbox {
		counts[inbox] = n
	}
	return counts
}

// siteDriveOwner is the drive a site's /drive and /drives address: a
// personal site's library is its owner's OneDrive; the search centre has
// no document library here.
func (t *tenant) siteDriveOwner(st *site) (uint32, bool) {
	switch st.special {
	case sitePersonal:
		return t.driveOwnerOfUser(t.users[st.ownerUser]), true
	case siteSearch:
		return 0, false
	}
	return t.driveOwnerOfSite(st), true
}

// regularUsers are the users random draws pick from (senders, sharing
// grantees, authors), so that special users never change regular content.
func (t *tenant) regularUsers() []*user { return t.users[:t.nRegular] }
