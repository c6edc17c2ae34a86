package graphsim

import (
	"fmt"
	"hash/fnv"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// SharePoint lists of a site, as Graph v1.0 serves them
// (https://learn.microsoft.com/graph/api/resources/list,
// https://learn.microsoft.com/graph/api/resources/listitem,
// https://learn.microsoft.com/graph/api/resources/columndefinition).
//
// GET /sites/{site}/lists lists a site's document libraries (template
// "documentLibrary", one per drive of the site, with the drive's name and
// URL) beside its lists. Every regular site has one to three generic lists
// with items of every column type, a hidden list ("TaxonomyHiddenList",
// list.hidden true) and a system list ("User Information List", with the
// system facet, which GET /lists hides unless $select names system:
// https://learn.microsoft.com/graph/api/list-list). The Quirks site and the
// sites GET /sites lists beside the backup resources have no lists but
// their libraries.
//
// A list item's id is its number in the list, as SharePoint's: generated
// items 1..n, created ones numbered on from there in creation order. Field
// values take the shapes Graph gives them: person and lookup columns as
// "{name}LookupId" strings, hyperlinks as {"Description","Url"}, multiple
// choices as arrays, numbers and currencies as numbers, dates as ISO
// strings, booleans as booleans.
//
// Refs: a list is {kList, Owner: site index, Index: list number} when
// generated, {kList, Owner, Serial} when created; a list item is
// {kListItem, Owner: site index, Coll: list number, Index: item index}
// when generated, {kListItem, Owner, Serial} when created (its container
// is its list). A created item's id is kept in its record's name.

// listSpec is a generated list.
type listSpec struct {
	name     string // displayName
	urlName  string // name: the list's URL segment below /Lists/
	template string
	hidden   bool
	system   bool
	count    int // generated items
	created  time.Time
}

// genericListNames are the generated lists' display names.
var genericListNames = []string{"Issue Tracker", "Assets & Inventory", "Project Tasks 📋", "Vendors / Contacts", "Travel <Expenses>"}

// siteListSpecs are a site's generated lists: its generic lists, then the
// hidden list, then the system list. Sites that are no regular backup
// resource have none.
func (t *tenant) siteListSpecs(st *site) []listSpec {
	if st == nil || st.idx < 0 || st.special != "" {
		return nil
	}
	r := newRNG(t.seed, tagList, uint64(st.idx))
	n := 1 + r.intn(3)
	first := r.intn(len(genericListNames))
	hi := min(max(t.opts.ItemsPerSite/2, 6), 40)
	out := make([]listSpec, 0, n+2)
	for i := 0; i < n; i++ {
		name := genericListNames[(first+i)%len(genericListNames)]
		out = append(out, listSpec{name: name, urlName: listURLName(name), template: "genericList",
			count: r.between(5, hi), created: st.created.Add(time.Duration(24*(i+1)) * time.Hour)})
	}
	out = append(out,
		listSpec{name: "TaxonomyHiddenList", urlName: "TaxonomyHiddenList", template: "genericList", hidden: true, count: 2, created: st.created},
		listSpec{name: "User Information List", urlName: "users", template: "genericList", hidden: true, system: true, count: 3, created: st.created})
	return out
}

// listURLName is the URL segment SharePoint derives from a list's title:
// its letters and digits.
func listURLName(title string) string {
	var b strings.Builder
	for _, c := range title {
		if c < 128 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b.WriteRune(c)
		}
	}
	if b.Len() == 0 {
		return "List"
	}
	return b.String()
}

// listBaseView describes generated lists and list items.
func (t *tenant) listBaseView(r ref) (view, bool) {
	if r.Serial != 0 || r.Sub != 0 {
		return view{}, false
	}
	t.directory()
	if int(r.Owner) >= len(t.sites) {
		return view{}, false
	}
	specs := t.siteListSpecs(t.sites[r.Owner])
	v := view{ref: r, src: r}
	switch r.Kind {
	case kList:
		if r.Coll != 0 || int(r.Index) >= len(specs) {
			return view{}, false
		}
		return v, true
	case kListItem:
		if int(r.Coll) >= len(specs) || int(r.Index) >= specs[r.Coll].count {
			return view{}, false
		}
		v.container = ref{Kind: kList, Owner: r.Owner, Index: r.Coll}
		return v, true
	}
	return view{}, false
}

// columnSpec is a list column (columnDefinition).
type columnSpec struct {
	name        string
	display     string
	description string
	kind        string         // the type facet's name: text, number, dateTime, ...
	facet       map[string]any // the type facet as served
	readOnly    bool
	hidden      bool
	required    bool
	indexed     bool
	unique      bool
	group       string
}

// fieldKey is the column's key in a fieldValueSet: person and lookup
// columns are read and written as "{name}LookupId", and the ID column is
// "id".
func (c columnSpec) fieldKey() string {
	switch {
	case c.name == "ID":
		return "id"
	case c.kind == "personOrGroup" || c.kind == "lookup":
		return c.name + "LookupId"
	}
	return c.name
}

// writable reports whether an item's field of the column may be written:
// read-only columns and calculated ones are computed by SharePoint.
func (c columnSpec) writable() bool { return !c.readOnly && c.kind != "calculated" }

// multi reports whether the column holds several values (an array).
func (c columnSpec) multi() bool {
	switch c.kind {
	case "choice":
		return c.facet["displayAs"] == "checkBoxes"
	case "personOrGroup":
		return c.facet["allowMultipleSelection"] == true
	case "lookup":
		return c.facet["allowMultipleValues"] == true
	}
	return false
}

// columnKinds are the type facets a column may have.
var columnKinds = []string{"text", "number", "dateTime", "choice", "boolean", "currency", "personOrGroup",
	"lookup", "hyperlinkOrPicture", "calculated"}

var statusChoices = []any{"Not started", "In progress", "Blocked", "Completed"}
var tagChoices = []any{"Finance", "R&D", "Legal", "Ops", "Urgent"}

// titleColumn is the column every list has; items' names.
func titleColumn() columnSpec {
	return columnSpec{name: "Title", display: "Title", kind: "text", required: true, group: "Custom Columns",
		facet: map[string]any{"allowMultipleLines": false, "appendChangesToExistingText": false, "linesForEditing": 0, "maxLength": 255}}
}

// systemColumns are the read-only columns SharePoint keeps on every item,
// in the order a fieldValueSet lists them after the list's own.
func systemColumns() []columnSpec {
	ro := func(name, display, kind string, facet map[string]any) columnSpec {
		return columnSpec{name: name, display: display, kind: kind, facet: facet, readOnly: true, group: "_Hidden"}
	}
	text := map[string]any{"allowMultipleLines": false, "appendChangesToExistingText": false, "linesForEditing": 0, "maxLength": 255}
	person := map[string]any{"allowMultipleSelection": false, "chooseFromType": "peopleOnly", "displayAs": "nameWithPresence"}
	date := map[string]any{"displayAs": "default", "format": "dateTime"}
	return []columnSpec{
		ro("ID", "ID", "number", map[string]any{"decimalPlaces": "none", "displayAs": "number"}),
		ro("ContentType", "Content Type", "text", text),
		ro("Modified", "Modified", "dateTime", date),
		ro("Created", "Created", "dateTime", date),
		ro("Author", "Created By", "personOrGroup", person),
		ro("Editor", "Modified By", "personOrGroup", person),
		ro("_UIVersionString", "Version", "text", text),
		ro("Attachments", "Attachments", "boolean", map[string]any{}),
		ro("Edit", "Edit", "text", text),
		ro("LinkTitleNoMenu", "Title", "text", text),
		ro("LinkTitle", "Title", "text", text),
		ro("ItemChildCount", "Item Child Count", "text", text),
		ro("FolderChildCount", "Folder Child Count", "text", text),
		ro("_ComplianceFlags", "Label setting", "text", text),
		ro("_ComplianceTag", "Retention label", "text", text),
		ro("_ComplianceTagWrittenTime", "Retention label Applied", "text", text),
		ro("_ComplianceTagUserId", "Label applied by", "text", text),
	}
}

// genericColumns are a generated generic list's own columns: one of every
// column type. lookupList is the id of the list its lookup column reads.
func genericColumns(lookupList string) []columnSpec {
	c := func(name, display, kind string, facet map[string]any) columnSpec {
		return columnSpec{name: name, display: display, kind: kind, facet: facet, group: "Custom Columns"}
	}
	return []columnSpec{
		titleColumn(),
		c("Notes", "Notes", "text", map[string]any{"allowMultipleLines": true, "appendChangesToExistingText": false, "linesForEditing": 6, "maxLength": 0}),
		c("Quantity", "Quantity", "number", map[string]any{"decimalPlaces": "automatic", "displayAs": "number", "maximum": 1.7976931348623157e308, "minimum": -1.7976931348623157e308}),
		c("DueDate", "Due date", "dateTime", map[string]any{"displayAs": "default", "format": "dateTime"}),
		c("Status", "Status", "choice", map[string]any{"allowTextEntry": false, "choices": statusChoices, "displayAs": "dropDownMenu"}),
		c("Tags", "Tags", "choice", map[string]any{"allowTextEntry": false, "choices": tagChoices, "displayAs": "checkBoxes"}),
		c("Done", "Done", "boolean", map[string]any{}),
		c("Cost", "Cost", "currency", map[string]any{"locale": "en-us"}),
		c("Owner", "Owner", "personOrGroup", map[string]any{"allowMultipleSelection": false, "chooseFromType": "peopleOnly", "displayAs": "nameWithPresence"}),
		c("Related", "Related item", "lookup", map[string]any{"allowMultipleValues": false, "allowUnlimitedLength": false, "columnName": "Title", "listId": lookupList}),
		c("Link", "Link", "hyperlinkOrPicture", map[string]any{"isPicture": false}),
		c("Total", "Total", "calculated", map[string]any{"format": "number", "formula": "=[Quantity]*[Cost]", "outputType": "number"}),
	}
}

// listInfo is a resolved list of a site: generated, created, or one of
// the site's document libraries.
type listInfo struct {
	site     *site
	ref      ref    // kList; zero for a library
	library  uint32 // drive owner of a library
	id       string // GUID
	name     string // displayName
	urlName  string
	template string
	hidden   bool
	system   bool
	created  time.Time
	modified time.Time
	baseLen  int          // generated items
	columns  []columnSpec // own columns, Title first; system columns follow
}

func (li listInfo) isLibrary() bool { return li.ref.isZero() }

// createdList is what a created list keeps in its record's doc.
type createdList struct {
	displayName string
	urlName     string
	template    string
	description string
	columns     []columnSpec
}

const createdListKey = "list"

func (s *Server) generatedListID(st *site, index uint32) string {
	return guid(s.t.seed, tagList, 1, uint64(st.idx), uint64(index))
}

func (s *Server) listID(st *site, r ref) string {
	if r.Serial != 0 {
		return guid(s.t.seed, tagList, 2, uint64(st.idx), uint64(r.Serial))
	}
	return s.generatedListID(st, r.Index)
}

func (s *Server) libraryListID(owner uint32) string { return guid(s.t.seed, tagList, 3, uint64(owner)) }

// listInfoOf resolves a list view of site st.
func (s *Server) listInfoOf(st *site, v view) listInfo {
	li := listInfo{site: st, ref: v.ref, id: s.listID(st, v.ref)}
	if v.ref.Serial == 0 {
		spec := s.t.siteListSpecs(st)[v.ref.Index]
		li.name, li.urlName, li.template, li.hidden, li.system = spec.name, spec.urlName, spec.template, spec.hidden, spec.system
		li.created, li.modified, li.baseLen = spec.created, spec.created, spec.count
		if spec.hidden {
			li.columns = []columnSpec{titleColumn()}
		} else {
			li.columns = genericColumns(s.generatedListID(st, 0))
		}
		return li
	}
	cl, _ := v.st.doc[createdListKey].(*createdList)
	if cl == nil {
		cl = &createdList{}
	}
	li.name, li.urlName, li.template, li.columns = cl.displayName, cl.urlName, cl.template, cl.columns
	li.created, li.modified = v.st.createdAt, v.st.createdAt
	return li
}

// libraryInfo is a document library as a list.
func (s *Server) libraryInfo(st *site, owner uint32) listInfo {
	name, folder := s.t.libraryName(owner)
	return listInfo{site: st, library: owner, id: s.libraryListID(owner), name: name, urlName: folder,
		template: "documentLibrary", created: st.created, modified: epoch}
}

// siteLists are a site's live lists: its libraries, its generated lists,
// then the lists created in it.
func (s *Server) siteLists(st *site) []listInfo {
	var out []listInfo
	if owner, ok := s.t.siteDriveOwner(st); ok {
		out = append(out, s.libraryInfo(st, owner))
	}
	if st.idx < 0 {
		return out
	}
	for _, o := range s.t.siteLibraryOwners(st)[1:] {
		out = append(out, s.libraryInfo(st, o))
	}
	m := s.model
	m.mu.RLock()
	defer m.mu.RUnlock()
	var refs []ref
	for i := range s.t.siteListSpecs(st) {
		refs = append(refs, ref{Kind: kList, Owner: uint32(st.idx), Index: uint32(i)})
	}
	if cs := m.colls[ref{Kind: kSiteLists, Owner: uint32(st.idx)}]; cs != nil {
		refs = append(refs, cs.added...)
	}
	for _, r := range refs {
		if v, ok := m.viewLocked(r); ok && m.aliveLocked(v) {
			out = append(out, s.listInfoOf(st, v))
		}
	}
	return out
}

// findList resolves a list of site st by id or, as Graph allows, by
// display name.
func (s *Server) findList(st *site, key string) (listInfo, bool) {
	for _, li := range s.siteLists(st) {
		if strings.EqualFold(li.id, key) || strings.EqualFold(li.name, key) {
			return li, true
		}
	}
	return listInfo{}, false
}

// listColumns are the list's columns in the order Graph lists them: its
// own, then the system columns.
func (li listInfo) allColumns() []columnSpec {
	if li.isLibrary() {
		return nil
	}
	return append(append([]columnSpec{}, li.columns...), systemColumns()...)
}

func (li listInfo) webURL() string {
	if li.isLibrary() {
		return li.site.webURL + "/" + li.urlName
	}
	return li.site.webURL + "/Lists/" + li.urlName
}

// listObject renders a list (https://learn.microsoft.com/graph/api/list-get).
func (s *Server) listObject(li listInfo) object {
	tag := `"` + li.id + `,1"`
	o := object{
		{"@odata.etag", tag},
		{"createdDateTime", ts(li.created)},
		{"description", ""},
		{"eTag", tag},
		{"id", li.id},
		{"lastModifiedDateTime", ts(li.modified)},
		{"name", li.urlName},
		{"webUrl", li.webURL()},
		{"displayName", li.name},
		{"createdBy", map[string]any{"user": map[string]any{"displayName": "System Account"}}},
		{"parentReference", map[string]any{"siteId": li.site.id}},
		{"list", map[string]any{"contentTypesEnabled": false, "hidden": li.hidden, "template": li.template}},
	}
	if li.system {
		o = append(o, kv{"system", map[string]any{}})
	}
	return o
}

// listKnownProps are what $select may name on a list.
var listKnownProps = object{{"createdDateTime", nil}, {"description", nil}, {"eTag", nil}, {"id", nil},
	{"lastModifiedDateTime", nil}, {"name", nil}, {"webUrl", nil}, {"displayName", nil}, {"createdBy", nil},
	{"parentReference", nil}, {"list", nil}, {"system", nil}, {"sharepointIds", nil}, {"lastModifiedBy", nil}}

// columnID is a column's GUID: SharePoint's built-in columns have one
// GUID everywhere; a list's own columns one of their own.
func (s *Server) columnID(li listInfo, c columnSpec) string {
	h := fnv.New64a()
	h.Write([]byte(c.name))
	if c.group == "_Hidden" || c.name == "Title" {
		return guid(0, tagList, 4, h.Sum64())
	}
	h.Write([]byte(li.id))
	return guid(s.t.seed, tagList, 5, h.Sum64())
}

// columnObject renders a columnDefinition
// (https://learn.microsoft.com/graph/api/resources/columndefinition).
func (s *Server) columnObject(li listInfo, c columnSpec) object {
	facet := c.facet
	if facet == nil {
		facet = map[string]any{}
	}
	return object{
		{"columnGroup", c.group},
		{"description", c.description},
		{"displayName", c.display},
		{"enforceUniqueValues", c.unique},
		{"hidden", c.hidden},
		{"id", s.columnID(li, c)},
		{"indexed", c.indexed},
		{"name", c.name},
		{"readOnly", c.readOnly},
		{"required", c.required},
		{c.kind, facet},
	}
}

// userLookupID is a user's id in a site's User Information List, which
// person columns hold; SharePoint App is what an app writes as.
func userLookupID(i int) string { return strconv.Itoa(10 + i) }

const sharePointAppLookupID = "1073741822"

// listItemEdits are the versions of a list item that clients wrote
// (POST, PATCH of its fields), by version number.
type listItemEdits struct {
	versions map[int]listItemEdit
}

type listItemEdit struct {
	fields map[string]any // the item's own fields (no system fields)
	at     time.Time
}

const listItemEditsKey = "listItem"

func editsOf(v view) *listItemEdits {
	if v.st == nil {
		return nil
	}
	e, _ := v.st.doc[listItemEditsKey].(*listItemEdits)
	return e
}

// listItemSpec is what an item is at its current version.
type listItemSpec struct {
	id       string
	created  time.Time
	modified time.Time
	author   int // user index; -1: SharePoint App
	editor   int
	version  int // current version number (1.0, 2.0, ...)
	base     int // generated versions before any change
}

// listItemID is an item's number in its list.
func (s *Server) listItemID(v view) string {
	if v.ref.Serial != 0 && v.st != nil {
		return v.st.name
	}
	return strconv.Itoa(int(v.ref.Index) + 1)
}

// findListItem resolves an item id of a list.
func (s *Server) findListItem(li listInfo, id string) (view, bool) {
	n, err := strconv.Atoi(id)
	if err != nil || n <= 0 || li.isLibrary() {
		return view{}, false
	}
	m := s.model
	m.mu.RLock()
	defer m.mu.RUnlock()
	var r ref
	switch {
	case n <= li.baseLen:
		r = ref{Kind: kListItem, Owner: li.ref.Owner, Coll: li.ref.Index, Index: uint32(n - 1)}
	default:
		cs := m.colls[li.ref]
		if cs == nil || n-li.baseLen > len(cs.added) {
			return view{}, false
		}
		r = cs.added[n-li.baseLen-1]
	}
	v, ok := m.viewLocked(r)
	if !ok || !m.aliveLocked(v) || v.container != li.ref {
		return view{}, false
	}
	return v, true
}

// versionStep spaces an untouched generated item's versions.
const versionStep = 29 * time.Hour

func (s *Server) listItem(v view) listItemSpec {
	sp := listItemSpec{id: s.listItemID(v)}
	regular := max(s.t.nRegular, 1)
	switch {
	case !v.src.isZero():
		r := newRNG(s.t.seed, tagList, uint64(v.src.Owner), uint64(v.src.Coll), uint64(v.src.Index), uint64(v.src.Serial))
		parent := ref{Kind: kList, Owner: v.src.Owner, Index: v.src.Coll}
		created := epoch.AddDate(0, -3, 0)
		if v.src.Serial == 0 {
			specs := s.t.siteListSpecs(s.t.sites[v.src.Owner])
			created = specs[parent.Index].created
		}
		sp.created = created.Add(time.Duration(int(v.src.Index)+1)*37*time.Hour + time.Duration(r.intn(3600))*time.Second)
		sp.author, sp.editor = r.intn(regular), r.intn(regular)
		sp.base = 1 + r.intn(3)
		sp.modified = sp.created.Add(time.Duration(sp.base-1) * versionStep)
		if v.src.Serial != 0 && v.st != nil {
			sp.created, sp.modified, sp.base = v.st.createdAt, v.st.createdAt, 1
		}
	default:
		sp.created, sp.modified, sp.author, sp.editor, sp.base = v.st.createdAt, v.st.createdAt, -1, -1, 1
	}
	sp.version = sp.base + int(v.version)
	if v.version > 0 && v.st != nil {
		sp.modified = v.st.modified
		if e := editsOf(v); e != nil {
			if _, ok := e.versions[sp.version]; ok {
				sp.editor = -1
			}
		}
	}
	return sp
}

// versionTime is when version k of an item was made.
func (sp listItemSpec) versionTime(v view, k int) time.Time {
	if e := editsOf(v); e != nil {
		if ed, ok := e.versions[k]; ok {
			return ed.at
		}
	}
	if k >= sp.version {
		return sp.modified
	}
	if k <= sp.base {
		return sp.created.Add(time.Duration(k-1) * versionStep)
	}
	return sp.modified
}

// ownFields are an item's values of its list's own columns at version k.
func (s *Server) ownFields(li listInfo, v view, sp listItemSpec, k int) map[string]any {
	if e := editsOf(v); e != nil {
		best := 0
		for n := range e.versions {
			if n <= k && n > best {
				best = n
			}
		}
		if best > 0 {
			f := cloneFields(e.versions[best].fields)
			if best < k {
				// A later change by a user, not a client: it shows.
				if t, ok := f["Title"].(string); ok {
					f["Title"] = fmt.Sprintf("%s (v%d)", t, k)
				}
			}
			return f
		}
	}
	if v.src.isZero() {
		return map[string]any{}
	}
	return s.generatedFields(li, v.src, sp, k)
}

func cloneFields(f map[string]any) map[string]any {
	out := make(map[string]any, len(f))
	for k, v := range f {
		out[k] = v
	}
	return out
}

// generatedFields draws a generated item's values at version k: its title
// stays, the rest may change from version to version.
func (s *Server) generatedFields(li listInfo, src ref, sp listItemSpec, k int) map[string]any {
	r := newRNG(s.t.seed, tagList, uint64(src.Owner), uint64(src.Coll), uint64(src.Index), uint64(src.Serial), 1)
	rv := newRNG(s.t.seed, tagList, uint64(src.Owner), uint64(src.Coll), uint64(src.Index), uint64(src.Serial), 2, uint64(k))
	f := map[string]any{}
	regular := max(s.t.nRegular, 1)
	for _, c := range li.columns {
		key := c.fieldKey()
		switch c.kind {
		case "text":
			if c.name == "Title" {
				f[key] = capitalize(pickWords(r, r.between(2, 5)))
				if li.system {
					f[key] = s.t.users[r.intn(regular)].displayName
				}
			} else if !rv.chance(0.2) {
				f[key] = capitalize(pickWords(rv, rv.between(4, 20))) + "."
			}
		case "number":
			f[key] = float64(rv.intn(200)) + float64(rv.intn(2))*0.5
		case "currency":
			f[key] = float64(rv.intn(500000)) / 100
		case "dateTime":
			f[key] = ts(sp.created.Truncate(24*time.Hour).AddDate(0, 0, rv.intn(120)).Add(8 * time.Hour))
		case "boolean":
			f[key] = rv.chance(0.5)
		case "choice":
			choices, _ := c.facet["choices"].([]any)
			if len(choices) == 0 {
				continue
			}
			if c.multi() {
				var picked []any
				for _, ch := range choices {
					if rv.chance(0.35) {
						picked = append(picked, ch)
					}
				}
				if len(picked) > 0 {
					f[key] = picked
				}
			} else {
				f[key] = choices[rv.intn(len(choices))]
			}
		case "personOrGroup":
			f[key] = userLookupID(rv.intn(regular))
		case "lookup":
			if target := s.lookupTargetCount(li); target > 0 && !rv.chance(0.4) {
				f[key] = strconv.Itoa(1 + rv.intn(target))
			}
		case "hyperlinkOrPicture":
			if !rv.chance(0.3) {
				w := pickWords(rv, 2)
				f[key] = map[string]any{"Description": capitalize(w), "Url": "https://" + s.t.domain + "/wiki/" + strings.ReplaceAll(w, " ", "-") + "?a=1&b=2"}
			}
		}
	}
	return f
}

// lookupTargetCount is how many generated items the lists' lookup column
// may point at (the site's first list's).
func (s *Server) lookupTargetCount(li listInfo) int {
	specs := s.t.siteListSpecs(li.site)
	if len(specs) == 0 {
		return 0
	}
	return specs[0].count
}

var formulaRE = regexp.MustCompile(`^=\[([^\]]+)\]\s*([-+*/])\s*\[([^\]]+)\]$`)

// calculate evaluates a calculated column of the form =[A] op [B] over
// number fields; other formulas, and missing operands, give no value.
func calculate(formula string, f map[string]any) (float64, bool) {
	m := formulaRE.FindStringSubmatch(strings.TrimSpace(formula))
	if m == nil {
		return 0, false
	}
	a, ok1 := f[m[1]].(float64)
	b, ok2 := f[m[3]].(float64)
	if !ok1 || !ok2 {
		return 0, false
	}
	var x float64
	switch m[2] {
	case "+":
		x = a + b
	case "-":
		x = a - b
	case "*":
		x = a * b
	case "/":
		if b == 0 {
			return 0, false
		}
		x = a / b
	}
	return math.Round(x*100) / 100, true
}

// fieldsObject renders an item's fieldValueSet at version k: the list's
// own columns in their order, then the system fields.
func (s *Server) fieldsObject(li listInfo, v view, sp listItemSpec, k int, etag bool) object {
	own := s.ownFields(li, v, sp, k)
	o := object{}
	if etag {
		o = append(o, kv{"@odata.etag", s.listItemETag(v, k)})
	}
	for _, c := range li.columns {
		key := c.fieldKey()
		if c.kind == "calculated" {
			if x, ok := calculate(fmt.Sprint(c.facet["formula"]), own); ok {
				o = append(o, kv{key, x})
			}
			continue
		}
		if val, ok := own[key]; ok && val != nil {
			o = append(o, kv{key, val})
		}
	}
	at := sp.versionTime(v, k)
	author, editor := sp.author, s.versionEditor(v, sp, k)
	title, _ := own["Title"].(string)
	o = append(o,
		kv{"id", sp.id},
		kv{"ContentType", "Item"},
		kv{"Modified", ts(at)},
		kv{"Created", ts(sp.created)},
		kv{"AuthorLookupId", lookupOf(author)},
		kv{"EditorLookupId", lookupOf(editor)},
		kv{"_UIVersionString", strconv.Itoa(k) + ".0"},
		kv{"Attachments", false},
		kv{"Edit", ""},
		kv{"LinkTitleNoMenu", title},
		kv{"LinkTitle", title},
		kv{"ItemChildCount", "0"},
		kv{"FolderChildCount", "0"},
		kv{"_ComplianceFlags", ""},
		kv{"_ComplianceTag", ""},
		kv{"_ComplianceTagWrittenTime", ""},
		kv{"_ComplianceTagUserId", ""},
	)
	return o
}

// versionEditor is who made version k of an item: its author made the
// first, a client (SharePoint App) those it wrote.
func (s *Server) versionEditor(v view, sp listItemSpec, k int) int {
	switch {
	case k >= sp.version:
		return sp.editor
	case k == 1:
		return sp.author
	}
	if e := editsOf(v); e != nil {
		if _, ok := e.versions[k]; ok {
			return -1
		}
	}
	return newRNG(s.t.seed, tagList, uint64(v.ref.Owner), uint64(v.ref.Index), uint64(v.ref.Serial), 3, uint64(k)).intn(max(s.t.nRegular, 1))
}

func lookupOf(user int) string {
	if user < 0 {
		return sharePointAppLookupID
	}
	return userLookupID(user)
}

func (s *Server) listItemETag(v view, k int) string {
	return `"` + s.itemGUID(v.ref) + `,` + strconv.Itoa(k) + `"`
}

// personIdentity is who a person lookup id names, as createdBy shows it.
func (s *Server) personIdentity(user int) map[string]any {
	if user < 0 {
		return map[string]any{"user": map[string]any{"displayName": "SharePoint App"}}
	}
	return s.userIdentity(user)
}

// listItemRender says what an item's rendering carries.
type listItemRender struct {
	sel       []string // $select of the item's own properties
	fields    bool     // $expand=fields
	fieldSel  []string // $expand=fields($select=...)
	entityCtx bool     // the @odata.context of a GET of the item
}

// listItemObject renders a listItem
// (https://learn.microsoft.com/graph/api/listitem-get).
func (s *Server) listItemObject(li listInfo, v view, opt listItemRender) object {
	sp := s.listItem(v)
	tag := s.listItemETag(v, sp.version)
	o := object{}
	if opt.entityCtx {
		o = append(o, kv{"@odata.context", s.opts.GraphURL + "/v1.0/$metadata#sites('" + li.site.id + "')/lists('" + li.id + "')/items/$entity"})
	}
	o = append(o,
		kv{"@odata.etag", tag},
		kv{"createdDateTime", ts(sp.created)},
		kv{"eTag", tag},
		kv{"id", sp.id},
		kv{"lastModifiedDateTime", ts(sp.modified)},
		kv{"webUrl", li.webURL() + "/" + sp.id + "_.000"},
		kv{"createdBy", s.personIdentity(sp.author)},
		kv{"lastModifiedBy", s.personIdentity(sp.editor)},
		kv{"parentReference", map[string]any{"id": guid(s.t.seed, tagList, 6, uint64(li.site.idx), uint64(li.ref.Index), uint64(li.ref.Serial)), "siteId": li.site.id}},
		kv{"contentType", map[string]any{"id": "0x0100" + strings.ToUpper(strings.ReplaceAll(li.id, "-", "")), "name": "Item"}},
	)
	o = o.project(opt.sel)
	if opt.fields {
		f := s.fieldsObject(li, v, sp, sp.version, true)
		if len(opt.fieldSel) > 0 {
			f = f.project(opt.fieldSel)
		}
		o = append(o, kv{"fields", f})
	}
	return o
}

// listItemKnownProps are what $select may name on a list item.
var listItemKnownProps = object{{"createdDateTime", nil}, {"eTag", nil}, {"id", nil}, {"lastModifiedDateTime", nil},
	{"webUrl", nil}, {"createdBy", nil}, {"lastModifiedBy", nil}, {"parentReference", nil}, {"contentType", nil},
	{"sharepointIds", nil}, {"fields", nil}}

// versionObject renders a listItemVersion
// (https://learn.microsoft.com/graph/api/listitem-list-versions).
func (s *Server) versionObject(li listInfo, v view, sp listItemSpec, k int, fields bool) object {
	editor := s.versionEditor(v, sp, k)
	o := object{
		{"id", strconv.Itoa(k) + ".0"},
		{"lastModifiedDateTime", ts(sp.versionTime(v, k))},
		{"lastModifiedBy", s.personIdentity(editor)},
		{"publication", map[string]any{"level": "published", "versionId": strconv.Itoa(k) + ".0"}},
	}
	if fields {
		o = append(o, kv{"fields", s.fieldsObject(li, v, sp, k, false)})
	}
	return o
}
