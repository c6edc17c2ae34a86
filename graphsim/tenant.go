package graphsim

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// epoch anchors generated timestamps: generated mail, files and contacts
// were created in the two years before it; events spread around it.
var epoch = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

// tenant is the generated, immutable part of the simulated tenant. Users,
// groups and sites are materialised on first use (a few hundred bytes each);
// per-owner layouts (folder trees with item counts) are built on first touch
// and cached; items themselves are never stored, only derived.
type tenant struct {
	opts   TenantOptions
	seed   uint64
	ids    idCodec
	id     string
	domain string
	name   string // "contoso" from the domain

	once       sync.Once
	users      []*user // regular users (0..nRegular-1), then special ones
	nRegular   int
	userIndex  map[string]int // lower-case id and UPN
	groups     []*group
	groupIndex map[string]int
	sites      []*site // regular sites, then the Quirks site
	siteIndex  map[string]int
	// listedSites are sites GET /sites lists that are no backup resource
	// (a personal site and the search site); they own no drive of their
	// own (see siteDriveOwner).
	listedSites []*site
	quirks      map[ref]quirk // persistent item faults by generated ref

	layoutMu sync.Mutex
	mail     map[uint32]*folderLayout
	contacts map[uint32]*folderLayout
	cals     map[uint32]*folderLayout
	drives   map[uint32]*driveLayout
	chats    map[int]*chatLayout
}

type user struct {
	idx                     int
	id, upn, mail           string
	displayName             string
	givenName, surname      string
	jobTitle, department    string
	hasMailbox, hasDrive    bool
	guest, accountEnabled   bool
	onPremisesSyncEnabled   bool
	licensed                bool
	special                 specialKind // "" for regular users
	created                 time.Time
	mailN, contactN, eventN int
	fileN                   int
}

type group struct {
	idx         int
	id          string
	displayName string
	nickname    string
	isTeam      bool
	members     []int
	created     time.Time
}

type site struct {
	idx          int
	id           string // host,collection,web
	collectionID string
	webID        string
	name         string
	displayName  string
	webURL       string
	group        int // owning group, or -1
	ownerUser    int // personal sites: the OneDrive owner's user index
	root         bool
	special      siteKind // "" for regular sites
	fileN        int
	created      time.Time
}

func newTenant(o TenantOptions) *tenant {
	t := &tenant{
		opts:     o,
		seed:     uint64(o.Seed),
		ids:      newIDCodec(o.Seed),
		domain:   strings.ToLower(o.Domain),
		mail:     map[uint32]*folderLayout{},
		contacts: map[uint32]*folderLayout{},
		cals:     map[uint32]*folderLayout{},
		drives:   map[uint32]*driveLayout{},
	}
	t.name, _, _ = strings.Cut(t.domain, ".")
	t.id = guid(t.seed, tagUser, 0xffffffff)
	return t
}

func (t *tenant) spHost() string { return t.name + ".sharepoint.com" }
func (t *tenant) myHost() string { return t.name + "-my.sharepoint.com" }

// directory materialises users, groups and sites once.
func (t *tenant) directory() {
	t.once.Do(func() {
		t.buildUsers()
		t.buildGroupsAndSites()
		if !t.opts.Clean {
			t.buildSpecials()
		}
	})
}

func (t *tenant) buildUsers() {
	n := t.opts.Users
	t.nRegular = n
	t.users = make([]*user, n)
	t.userIndex = make(map[string]int, 2*n)
	mix := t.opts.Mix
	counts := split(t.opts.ItemsPerUser, []float64{mix.Mail, mix.Contacts, mix.Events, mix.Files})
	for i := 0; i < n; i++ {
		r := newRNG(t.seed, tagUser, uint64(i))
		first, last := pick(r, firstNames), pick(r, lastNames)
		u := &user{
			idx:                   i,
			id:                    guid(t.seed, tagUser, uint64(i)),
			givenName:             first,
			surname:               last,
			displayName:           first + " " + last,
			jobTitle:              pick(r, jobTitles),
			department:            pick(r, departments),
			hasMailbox:            true,
			hasDrive:              true,
			accountEnabled:        true,
			onPremisesSyncEnabled: r.chance(0.3),
			created:               epoch.AddDate(-3, 0, 0).Add(time.Duration(r.intn(700*24)) * time.Hour),
		}
		local := fmt.Sprintf("%s%d", addressLocal(first, last), i)
		u.upn = local + "@" + t.domain
		u.mail = u.upn
		// User 0 always has everything so tests can rely on it; others vary.
		if i > 0 {
			switch {
			case r.chance(0.05):
				u.guest = true
				u.hasMailbox, u.hasDrive = false, false
				u.upn = local + "_fabrikam.com#EXT#@" + t.domain
				u.mail = local + "@fabrikam.com"
			default:
				u.hasMailbox = !r.chance(0.08)
				u.hasDrive = !r.chance(0.08)
				u.accountEnabled = !r.chance(0.03)
			}
		}
		if u.hasMailbox {
			u.mailN, u.contactN, u.eventN = counts[0], counts[1], counts[2]
		}
		if u.hasDrive {
			u.fileN = counts[3]
		}
		u.licensed = u.hasMailbox || u.hasDrive
		t.users[i] = u
		t.userIndex[strings.ToLower(u.id)] = i
		t.userIndex[strings.ToLower(u.upn)] = i
	}
}

func (t *tenant) buildGroupsAndSites() {
	topics := []string{"Falcon", "Harbor", "Quartz", "Nimbus", "Atlas", "Ünïcödé Crew", "Sales EMEA", "Platform"}
	t.groups = make([]*group, t.opts.Groups)
	t.groupIndex = map[string]int{}
	for g := range t.groups {
		r := newRNG(t.seed, tagGroup, uint64(g))
		name := topics[g%len(topics)]
		if g >= len(topics) {
			name = fmt.Sprintf("%s %d", name, g/len(topics)+1)
		}
		gr := &group{
			idx:         g,
			id:          guid(t.seed, tagGroup, uint64(g)),
			displayName: "Project " + name,
			nickname:    fmt.Sprintf("project%s%d", strings.ToLower(addressLocal(name, "")), g),
			isTeam:      g%3 != 2,
			created:     epoch.AddDate(-2, 0, 0).Add(time.Duration(r.intn(300*24)) * time.Hour),
		}
		gr.nickname = strings.Trim(strings.ReplaceAll(gr.nickname, ".", ""), "-")
		for u := range t.nRegular {
			if r.chance(0.4) || u == 0 {
				gr.members = append(gr.members, u)
			}
		}
		t.groups[g] = gr
		t.groupIndex[gr.id] = g
	}
	nSites := t.opts.Groups + t.opts.Sites
	t.sites = make([]*site, nSites)
	t.siteIndex = map[string]int{}
	for s := 0; s < nSites; s++ {
		r := newRNG(t.seed, tagSite, uint64(s))
		st := &site{
			idx:          s,
			collectionID: guid(t.seed, tagSite, uint64(s), 1),
			webID:        guid(t.seed, tagSite, uint64(s), 2),
			group:        -1,
			fileN:        t.opts.ItemsPerSite,
			created:      epoch.AddDate(-2, 0, 0).Add(time.Duration(r.intn(300*24)) * time.Hour),
		}
		switch {
		case s < t.opts.Groups:
			g := t.groups[s]
			st.group = s
			st.name = g.nickname
			st.displayName = g.displayName
			st.webURL = "https://" + t.spHost() + "/sites/" + g.nickname
		case s == t.opts.Groups:
			st.root = true
			st.name = "root"
			st.displayName = "Communication site"
			st.webURL = "https://" + t.spHost()
		default:
			n := s - t.opts.Groups
			st.name = fmt.Sprintf("site%d", n)
			st.displayName = fmt.Sprintf("Intranet %d", n)
			st.webURL = "https://" + t.spHost() + "/sites/" + st.name
		}
		st.id = t.spHost() + "," + st.collectionID + "," + st.webID
		t.sites[s] = st
		t.siteIndex[strings.ToLower(st.id)] = s
		t.siteIndex[strings.ToLower(st.collectionID)] = s
	}
}

func (t *tenant) userByKey(key string) (*user, bool) {
	t.directory()
	i, ok := t.userIndex[strings.ToLower(key)]
	if !ok {
		return nil, false
	}
	return t.users[i], true
}

func (t *tenant) groupByID(id string) (*group, bool) {
	t.directory()
	i, ok := t.groupIndex[strings.ToLower(id)]
	if !ok {
		return nil, false
	}
	return t.groups[i], true
}

// siteByKey accepts a composite site id, its site-collection GUID, "root",
// or host:/server-relative-path form.
func (t *tenant) siteByKey(key string) (*site, bool) {
	t.directory()
	if strings.EqualFold(key, "root") || strings.EqualFold(key, t.spHost()) {
		for _, s := range t.sites {
			if s.root {
				return s, true
			}
		}
		return nil, false
	}
	if i, ok := t.siteIndex[strings.ToLower(key)]; ok {
		return t.sites[i], true
	}
	// host,collection,web with the host omitted or differing in case.
	parts := strings.Split(key, ",")
	if len(parts) == 3 {
		if i, ok := t.siteIndex[strings.ToLower(parts[1])]; ok {
			return t.sites[i], true
		}
	}
	for _, s := range t.listedSites {
		if strings.EqualFold(key, s.id) || strings.EqualFold(key, s.collectionID) ||
			len(parts) == 3 && strings.EqualFold(parts[1], s.collectionID) {
			return s, true
		}
	}
	return nil, false
}

func (t *tenant) siteByPath(host, path string) (*site, bool) {
	t.directory()
	want := strings.TrimRight("https://"+strings.ToLower(host)+"/"+strings.Trim(path, "/"), "/")
	for _, s := range t.sites {
		if strings.EqualFold(s.webURL, want) {
			return s, true
		}
	}
	for _, s := range t.listedSites {
		if strings.EqualFold(s.webURL, want) {
			return s, true
		}
	}
	return nil, false
}

// Drive owners are regular users 0..U-1, then sites, then special users:
// regular users and sites keep the owner index (and so the drive and item
// ids and contents) they have in a Clean tenant.

func (t *tenant) driveOwnerOfUser(u *user) uint32 {
	if u.idx < t.nRegular {
		return uint32(u.idx)
	}
	return uint32(len(t.sites) + u.idx)
}

func (t *tenant) driveOwnerOfSite(s *site) uint32 { return uint32(t.nRegular + s.idx) }

// Sites hold several document libraries on real tenants: GET
// /sites/{id}/drives lists them all, "Shared Documents" beside libraries
// such as "Contoso Project Files" (learn.microsoft.com/graph/api/drive-list),
// while GET /sites/{id}/drive is the default one
// (learn.microsoft.com/graph/api/drive-get). Every site has its default
// library, "Documents" (URL "Shared Documents"); standalone sites also have
// further libraries with their own folders and files: site1 (and every
// fourth from it) two, site3 (and every fourth from it) one.
//
// A further library's drive owner index is libraryOwnerBase + site<<2 +
// n (n = 1, 2), beyond every user's and site's, so that adding libraries
// moves no other drive's owner index (and so ids and contents), whatever
// the numbers of users and sites.
const libraryOwnerBase = 1 << 30

// extraLibraryNames are the further libraries' names, which are also the
// folders of their URLs.
var extraLibraryNames = []string{"Contracts", "Marketing Assets"}

// extraLibraries is how many libraries site st has beside Documents.
func (t *tenant) extraLibraries(st *site) int {
	if st.special != "" || st.group >= 0 || st.root {
		return 0
	}
	n := st.idx - t.opts.Groups // siteN
	return [4]int{0, 2, 0, 1}[n%4]
}

// siteLibraryOwners are the drive owner indexes of a site's libraries,
// Documents first.
func (t *tenant) siteLibraryOwners(st *site) []uint32 {
	out := []uint32{t.driveOwnerOfSite(st)}
	for n := 1; n <= t.extraLibraries(st); n++ {
		out = append(out, libraryOwnerBase+uint32(st.idx)<<2+uint32(n))
	}
	return out
}

// extraLibrary resolves a further library's owner index to its site and
// number (1 or 2); n is 0 for any other owner index.
func (t *tenant) extraLibrary(owner uint32) (st *site, n int) {
	if owner < libraryOwnerBase {
		return nil, 0
	}
	k := owner - libraryOwnerBase
	s, n := int(k>>2), int(k&3)
	if s >= len(t.sites) || n == 0 || n > t.extraLibraries(t.sites[s]) {
		return nil, 0
	}
	return t.sites[s], n
}

// libraryName is a site drive's name and the folder of its URL below the
// site's.
func (t *tenant) libraryName(owner uint32) (name, urlFolder string) {
	if _, n := t.extraLibrary(owner); n > 0 {
		return extraLibraryNames[n-1], extraLibraryNames[n-1]
	}
	return "Documents", "Shared Documents"
}

// driveName is the name of a drive: "OneDrive" for users' drives, the
// library's for sites'.
func (t *tenant) driveName(owner uint32) string {
	if u, _, _ := t.driveOwner(owner); u != nil {
		return "OneDrive"
	}
	name, _ := t.libraryName(owner)
	return name
}

// driveOwner resolves a drive owner index to its user or site.
func (t *tenant) driveOwner(owner uint32) (*user, *site, bool) {
	t.directory()
	if owner >= libraryOwnerBase {
		st, _ := t.extraLibrary(owner)
		return nil, st, st != nil
	}
	o := int(owner)
	switch {
	case o < t.nRegular:
		u := t.users[o]
		return u, nil, u.hasDrive
	case o < t.nRegular+len(t.sites):
		return nil, t.sites[o-t.nRegular], true
	case o-len(t.sites) < len(t.users):
		u := t.users[o-len(t.sites)]
		return u, nil, u.hasDrive
	}
	return nil, nil, false
}

func (t *tenant) driveRef(owner uint32) ref { return ref{Kind: kDrive, Owner: owner} }

// folderLayout is the generated folder tree of one mailbox service
// (mail folders, contact folders or calendars) with item counts.
type folderLayout struct {
	folders []folderSpec
}

type folderSpec struct {
	name      string
	wellKnown string
	parent    int // -1: top of the hierarchy
	depth     int
	count     int // generated items
	children  []int
}

// Well-known mail folders, in the order Graph lists them.
var wellKnownMail = []struct {
	key, name string
	weight    float64
}{
	{"inbox", "Inbox", 30}, {"drafts", "Drafts", 1}, {"sentitems", "Sent Items", 10},
	{"deleteditems", "Deleted Items", 3}, {"junkemail", "Junk Email", 1}, {"outbox", "Outbox", 0},
	{"archive", "Archive", 5}, {"conversationhistory", "Conversation History", 0},
}

const mailRootIndex = 0 // msgfolderroot, "Top of Information Store"

func (t *tenant) mailLayout(u *user) *folderLayout {
	t.layoutMu.Lock()
	defer t.layoutMu.Unlock()
	if l, ok := t.mail[uint32(u.idx)]; ok {
		return l
	}
	r := newRNG(t.seed, tagMailLayout, uint64(u.idx))
	l := &folderLayout{}
	l.folders = append(l.folders, folderSpec{name: "Top of Information Store", wellKnown: "msgfolderroot", parent: -1})
	weights := []float64{0}
	for _, wk := range wellKnownMail {
		l.add(folderSpec{name: wk.name, wellKnown: wk.key, parent: mailRootIndex})
		weights = append(weights, wk.weight)
	}
	inbox := 1
	nCustom := min(3+u.mailN/200, 40)
	if t.opts.MailFolders > 0 {
		// Exchange Online allows up to 10,000 subfolders per mailbox folder
		// and a hierarchy 300 deep ("Mailbox folder limits",
		// learn.microsoft.com/office365/servicedescriptions/exchange-online-service-description/exchange-online-limits),
		// so a mailbox of thousands of folders is real.
		nCustom = t.opts.MailFolders
	}
	bigOne := r.chance(0.25)
	for c := 0; c < nCustom; c++ {
		parent := mailRootIndex
		switch p := r.float(); {
		case p < 0.4:
			parent = inbox
		case p < 0.7 && len(l.folders) > len(wellKnownMail)+1:
			parent = len(wellKnownMail) + 1 + r.intn(len(l.folders)-len(wellKnownMail)-1)
		}
		if l.folders[parent].depth >= 5 {
			parent = inbox
		}
		name := customFolderNames[(c+int(t.seed%7))%len(customFolderNames)]
		if c >= len(customFolderNames) {
			name = fmt.Sprintf("%s %d", name, c/len(customFolderNames)+1)
		}
		l.add(folderSpec{name: name, parent: parent})
		w := r.logNormal(3, 0.8)
		if c == 0 && bigOne {
			w *= 20 // some mailboxes have one very large folder
		}
		weights = append(weights, w)
	}
	counts := split(u.mailN, weights)
	if u.special != "" {
		counts = specialMailCounts(len(l.folders), u.mailN)
	}
	for i := range l.folders {
		l.folders[i].count = counts[i]
	}
	t.mail[uint32(u.idx)] = l
	return l
}

// add appends a folder, fixing depth, sibling-name clashes and child lists.
func (l *folderLayout) add(f folderSpec) int {
	if f.parent >= 0 {
		f.depth = l.folders[f.parent].depth + 1
		base, n := f.name, 2
		for l.hasChildNamed(f.parent, f.name) {
			f.name = fmt.Sprintf("%s (%d)", base, n)
			n++
		}
	}
	l.folders = append(l.folders, f)
	i := len(l.folders) - 1
	if f.parent >= 0 {
		l.folders[f.parent].children = append(l.folders[f.parent].children, i)
	}
	return i
}

func (l *folderLayout) hasChildNamed(parent int, name string) bool {
	for _, c := range l.folders[parent].children {
		if strings.EqualFold(l.folders[c].name, name) {
			return true
		}
	}
	return false
}

func (l *folderLayout) wellKnown(key string) (int, bool) {
	for i, f := range l.folders {
		if f.wellKnown != "" && strings.EqualFold(f.wellKnown, key) {
			return i, true
		}
	}
	return 0, false
}

// contactLayout builds a mailbox's contact folders: folder 0 is the default
// "Contacts" folder; custom folders hang below it.
func (t *tenant) contactLayout(u *user) *folderLayout {
	t.layoutMu.Lock()
	defer t.layoutMu.Unlock()
	if l, ok := t.contacts[uint32(u.idx)]; ok {
		return l
	}
	r := newRNG(t.seed, tagContactLayout, uint64(u.idx))
	l := &folderLayout{folders: []folderSpec{{name: "Contacts", wellKnown: "contacts", parent: -1}}}
	weights := []float64{6}
	names := []string{"Family", "Vendors", "Ünïcödé Friends", "Club / Board", `"VIP"`}
	for c, n := 0, r.between(1, 4); c < n; c++ {
		parent := 0
		if c > 0 && r.chance(0.3) {
			parent = len(l.folders) - 1
		}
		l.add(folderSpec{name: names[c%len(names)], parent: parent})
		weights = append(weights, r.logNormal(1, 0.5))
	}
	counts := split(u.contactN, weights)
	for i := range l.folders {
		l.folders[i].count = counts[i]
	}
	t.contacts[uint32(u.idx)] = l
	return l
}

// calendarLayout builds a mailbox's calendars: calendar 0 is the default "Calendar"; calendars are flat.
func (t *tenant) calendarLayout(u *user) *folderLayout {
	t.layoutMu.Lock()
	defer t.layoutMu.Unlock()
	if l, ok := t.cals[uint32(u.idx)]; ok {
		return l
	}
	r := newRNG(t.seed, tagCalendarLayout, uint64(u.idx))
	l := &folderLayout{folders: []folderSpec{{name: "Calendar", wellKnown: "calendar", parent: -1}}}
	weights := []float64{8}
	names := []string{"Team Events", "Holidays 🎉", "On-call / Rota"}
	for c, n := 0, r.intn(3); c < n; c++ {
		l.folders = append(l.folders, folderSpec{name: names[c], parent: -1})
		weights = append(weights, 1)
	}
	counts := split(u.eventN, weights)
	for i := range l.folders {
		l.folders[i].count = counts[i]
	}
	t.cals[uint32(u.idx)] = l
	return l
}

// driveLayout is a generated drive: folder 0 is the root, folders are listed
// parents first, and each folder owns a contiguous range of file indexes so
// that a file's parent is a binary search away.
type driveLayout struct {
	folders []driveFolder
	files   int
	starts  []int // starts[j] = first file index of folder j; ascending
}

type driveFolder struct {
	name       string
	parent     int
	depth      int
	fileStart  int
	fileCount  int
	subfolders []int
}

func (t *tenant) driveLayout(owner uint32) *driveLayout {
	t.layoutMu.Lock()
	defer t.layoutMu.Unlock()
	if l, ok := t.drives[owner]; ok {
		return l
	}
	if l := t.quirkDriveLayout(owner); l != nil {
		t.drives[owner] = l
		return l
	}
	u, s, _ := t.driveOwner(owner)
	files := 0
	switch {
	case u != nil:
		files = u.fileN
	case s != nil:
		files = s.fileN
		if _, n := t.extraLibrary(owner); n > 0 {
			files = max(s.fileN/2, 3)
		}
	}
	r := newRNG(t.seed, tagDriveLayout, uint64(owner))
	nFolders := min(2+files/25, 200)
	l := &driveLayout{files: files}
	l.folders = append(l.folders, driveFolder{name: "root", parent: -1})
	weights := []float64{2}
	for j := 1; j < nFolders; j++ {
		parent := 0
		if j > 1 && r.chance(0.6) {
			parent = r.intn(j)
		}
		if l.folders[parent].depth >= 7 {
			parent = 0
		}
		name := driveFolderNames[r.intn(len(driveFolderNames))]
		base, n := name, 2
		for l.hasSubfolder(parent, name) {
			name = fmt.Sprintf("%s (%d)", base, n)
			n++
		}
		l.folders = append(l.folders, driveFolder{name: name, parent: parent, depth: l.folders[parent].depth + 1})
		l.folders[parent].subfolders = append(l.folders[parent].subfolders, j)
		weights = append(weights, r.logNormal(1, 1))
	}
	counts := split(files, weights)
	l.starts = make([]int, len(l.folders))
	next := 0
	for j := range l.folders {
		l.folders[j].fileStart = next
		l.folders[j].fileCount = counts[j]
		l.starts[j] = next
		next += counts[j]
	}
	t.drives[owner] = l
	return l
}

func (l *driveLayout) hasSubfolder(parent int, name string) bool {
	for _, c := range l.folders[parent].subfolders {
		if strings.EqualFold(l.folders[c].name, name) {
			return true
		}
	}
	return false
}

// folderOfFile returns the folder owning file index k.
func (l *driveLayout) folderOfFile(k int) int {
	// The last folder whose start is <= k and that has files covering k.
	j := sort.Search(len(l.starts), func(i int) bool { return l.starts[i] > k }) - 1
	for j > 0 && l.folders[j].fileCount == 0 {
		j--
	}
	return j
}
