package graphsim

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// The list routes: lists of a site, their columns and items, item deltas
// and versions, and the writes a restore makes. Lists count against the
// SharePoint resource-unit budget as drives do (throttle.go driveCost).

func errListNotFound() *apiError {
	return newError(http.StatusNotFound, "itemNotFound", "The specified list was not found")
}

func errListItemNotFound() *apiError {
	return newError(http.StatusNotFound, "itemNotFound", "The specified list item was not found")
}

// errLibraryItems answers item calls on a document library: its items are
// its drive's (drive.go), which the simulator serves only as drive items.
func errLibraryItems() *apiError {
	return errInvalidRequest("The list is a document library; read its items through its drive.")
}

// resolveList finds the site and list of a request.
func (rq *request) resolveList() (listInfo, *apiError) {
	st, err := rq.site(rq.params["site"])
	if err != nil {
		return listInfo{}, err
	}
	li, ok := rq.s.findList(st, rq.params["list"])
	if !ok {
		return listInfo{}, errListNotFound()
	}
	return li, nil
}

func (rq *request) resolveListItem() (listInfo, view, *apiError) {
	li, err := rq.resolveList()
	if err != nil {
		return listInfo{}, view{}, err
	}
	if li.isLibrary() {
		return listInfo{}, view{}, errLibraryItems()
	}
	v, ok := rq.s.findListItem(li, rq.params["item"])
	if !ok {
		return listInfo{}, view{}, errListItemNotFound()
	}
	return li, v, nil
}

func listPath(li listInfo) string {
	return "sites/" + escapeSeg(li.site.id) + "/lists/" + li.id
}

// listLists serves GET /sites/{site}/lists: system lists only when $select
// names system (https://learn.microsoft.com/graph/api/list-list).
func (rq *request) listLists() error {
	s := rq.s
	st, err := rq.site(rq.params["site"])
	if err != nil {
		return err
	}
	t, err := rq.listOptions()
	if err != nil {
		return err
	}
	sel, err := selectList(t.Sel, "list", listKnownProps)
	if err != nil {
		return err
	}
	withSystem := containsFold(sel, "system")
	var objs []object
	for _, li := range s.siteLists(st) {
		if li.system && !withSystem {
			continue
		}
		objs = append(objs, s.listObject(li))
	}
	objs, _, err = applyFilter(t.Filter, objs)
	if err != nil {
		return err
	}
	items := make([]any, len(objs))
	for i, o := range objs {
		items[i] = o.project(sel)
	}
	return rq.writeList("sites/"+escapeSeg(st.id)+"/lists", "sites('"+st.id+"')/lists", t, items, rq.listPageSize(t, 200, 999))
}

// getList serves GET /sites/{site}/lists/{list}, by id or title, with
// $expand=columns (https://learn.microsoft.com/graph/api/list-get).
func (rq *request) getList() error {
	li, err := rq.resolveList()
	if err != nil {
		return err
	}
	sel, err := selectList(rq.q.sel, "list", listKnownProps)
	if err != nil {
		return err
	}
	o := rq.s.listObject(li).project(sel)
	for _, x := range splitExpand(rq.q.expand) {
		name, _ := expandParts(x)
		if !strings.EqualFold(name, "columns") {
			return errBadRequest("Parsing OData Select and Expand failed: Could not find a property named '%s' on type 'microsoft.graph.list'.", name)
		}
		o = append(o, kv{"columns", rq.s.columnObjects(li)})
	}
	rq.sendJSON(http.StatusOK, o)
	return nil
}

func (s *Server) columnObjects(li listInfo) []any {
	var out []any
	for _, c := range li.allColumns() {
		out = append(out, s.columnObject(li, c))
	}
	return out
}

// listColumns serves GET .../lists/{list}/columns.
func (rq *request) listColumns() error {
	li, err := rq.resolveList()
	if err != nil {
		return err
	}
	t, err := rq.listOptions()
	if err != nil {
		return err
	}
	return rq.writeList(listPath(li)+"/columns", "sites('"+li.site.id+"')/lists('"+li.id+"')/columns", t, rq.s.columnObjects(li), 1000)
}

// splitExpand splits $expand at the commas outside parentheses.
func splitExpand(expand string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range expand {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(expand[start:i]))
				start = i + 1
			}
		}
	}
	if rest := strings.TrimSpace(expand[start:]); rest != "" {
		out = append(out, rest)
	}
	return out
}

// expandParts splits "fields($select=A,B)" into "fields" and [A B].
func expandParts(x string) (string, []string) {
	name, opts, ok := strings.Cut(x, "(")
	if !ok {
		return strings.TrimSpace(name), nil
	}
	var sel []string
	for _, o := range strings.Split(strings.TrimSuffix(opts, ")"), ";") {
		k, v, _ := strings.Cut(o, "=")
		if strings.EqualFold(strings.TrimPrefix(strings.TrimSpace(k), "$"), "select") {
			for _, f := range strings.Split(v, ",") {
				if f = strings.TrimSpace(f); f != "" {
					sel = append(sel, f)
				}
			}
		}
	}
	return strings.TrimSpace(name), sel
}

// itemRender reads an item call's $select and $expand.
func itemRender(selRaw []string, expand string) (listItemRender, *apiError) {
	sel, err := selectList(selRaw, "listItem", listItemKnownProps)
	if err != nil {
		return listItemRender{}, err
	}
	opt := listItemRender{sel: sel}
	for _, x := range splitExpand(expand) {
		name, fsel := expandParts(x)
		if !strings.EqualFold(name, "fields") {
			return listItemRender{}, errBadRequest("Parsing OData Select and Expand failed: Could not find a property named '%s' on type 'microsoft.graph.listItem'.", name)
		}
		opt.fields, opt.fieldSel = true, fsel
	}
	return opt, nil
}

// listCollection is the delta collection of a list's items.
func (s *Server) listCollection(li listInfo) collection {
	m := s.model
	return collection{
		key:     li.ref,
		service: "drive", // SharePoint's delta: token= links, 410 resyncRequired
		baseLen: li.baseLen,
		base: func(i int) ref {
			return ref{Kind: kListItem, Owner: li.ref.Owner, Coll: li.ref.Index, Index: uint32(i)}
		},
		member: func(v view) bool { return v.container == li.ref && m.aliveLocked(v) },
	}
}

// listListItems serves GET .../lists/{list}/items
// (https://learn.microsoft.com/graph/api/listitem-list).
func (rq *request) listListItems() error {
	li, err := rq.resolveList()
	if err != nil {
		return err
	}
	if li.isLibrary() {
		return errLibraryItems()
	}
	t, err := rq.listOptions()
	if err != nil {
		return err
	}
	opt, err := itemRender(t.Sel, t.Expand)
	if err != nil {
		return err
	}
	members := rq.s.folderMembers(rq.s.listCollection(li))
	size := rq.listPageSize(t, 200, 5000)
	items := make([]any, len(members))
	for i := t.Off; i < min(t.Off+size, len(members)); i++ {
		items[i] = rq.s.listItemObject(li, members[i], opt)
	}
	return rq.writeList(listPath(li)+"/items", "sites('"+li.site.id+"')/lists('"+li.id+"')/items", t, items, size)
}

// getListItem serves GET .../items/{item}
// (https://learn.microsoft.com/graph/api/listitem-get).
func (rq *request) getListItem() error {
	li, v, err := rq.resolveListItem()
	if err != nil {
		return err
	}
	opt, err := itemRender(rq.q.sel, rq.q.expand)
	if err != nil {
		return err
	}
	opt.entityCtx = true
	rq.fetchedItem("listItem", rq.params["item"])
	rq.sendJSON(http.StatusOK, rq.s.listItemObject(li, v, opt))
	return nil
}

// getListItemFields serves GET .../items/{item}/fields.
func (rq *request) getListItemFields() error {
	li, v, err := rq.resolveListItem()
	if err != nil {
		return err
	}
	sp := rq.s.listItem(v)
	rq.sendJSON(http.StatusOK, rq.s.fieldsObject(li, v, sp, sp.version, true))
	return nil
}

// listItemsDelta serves GET .../items/delta
// (https://learn.microsoft.com/graph/api/listitem-delta): token= links as
// the drive's, a removed item as its id with @removed.
func (rq *request) listItemsDelta() error {
	s := rq.s
	li, err := rq.resolveList()
	if err != nil {
		return err
	}
	if li.isLibrary() {
		return errLibraryItems()
	}
	if _, err := itemRender(rq.q.sel, rq.q.expand); err != nil {
		return err
	}
	start := func() (map[string]string, *apiError) {
		if rq.q.expand == "" {
			return nil, nil
		}
		return map[string]string{"expand": rq.q.expand}, nil
	}
	return rq.serveDeltaWith(s.listCollection(li), listPath(li)+"/items/delta", "listItem", listItemKnownProps, start,
		func(e deltaEntry, tok *deltaToken, _ filterExpr) []any {
			if e.removed {
				return []any{object{{"@odata.type", "#microsoft.graph.listItem"}, {"id", s.listItemID(e.v)},
					{"@removed", map[string]any{"reason": "deleted"}}}}
			}
			opt, _ := itemRender(tok.Sel, tok.Extra["expand"])
			return []any{s.listItemObject(li, e.v, opt)}
		})
}

// listItemVersions serves GET .../items/{item}/versions, newest first
// (https://learn.microsoft.com/graph/api/listitem-list-versions);
// $expand=fields gives each version's fields.
func (rq *request) listItemVersions() error {
	li, v, err := rq.resolveListItem()
	if err != nil {
		return err
	}
	t, err := rq.listOptions()
	if err != nil {
		return err
	}
	fields := false
	for _, x := range splitExpand(t.Expand) {
		if name, _ := expandParts(x); !strings.EqualFold(name, "fields") {
			return errBadRequest("Parsing OData Select and Expand failed: Could not find a property named '%s' on type 'microsoft.graph.listItemVersion'.", name)
		}
		fields = true
	}
	sp := rq.s.listItem(v)
	var items []any
	for k := sp.version; k >= 1; k-- {
		items = append(items, rq.s.versionObject(li, v, sp, k, fields))
	}
	return rq.writeList(listPath(li)+"/items/"+sp.id+"/versions", "sites('"+li.site.id+"')/lists('"+li.id+"')/items('"+sp.id+"')/versions",
		t, items, rq.listPageSize(t, 200, 1000))
}

// ---- writes ----

// errReadOnlyField answers a write of a field SharePoint computes.
func errReadOnlyField(key string) *apiError {
	return errInvalidRequest("Field '%s' is read-only", key)
}

func errUnknownField(key string) *apiError {
	return errInvalidRequest("Field '%s' is not recognized", key)
}

// writtenFields checks the fields a client writes
// (https://learn.microsoft.com/graph/api/listitem-create,
// https://learn.microsoft.com/graph/api/listitem-update): every key must
// name a writable column (person and lookup columns by "{name}LookupId"),
// and a multi-valued field needs its "{key}@odata.type" collection
// annotation, without which Graph cannot read the array. It returns the
// values by key, null for a field cleared.
func writtenFields(li listInfo, doc map[string]any) (map[string]any, *apiError) {
	byKey := map[string]columnSpec{}
	for _, c := range li.allColumns() {
		byKey[strings.ToLower(c.fieldKey())] = c
	}
	keys := make([]string, 0, len(doc))
	for k := range doc {
		keys = append(keys, k)
	}
	sort.Strings(keys) // one answer for one body
	out := map[string]any{}
	for _, k := range keys {
		if base, ok := strings.CutSuffix(k, "@odata.type"); ok && base != "" {
			if _, known := byKey[strings.ToLower(base)]; known {
				continue
			}
		}
		c, ok := byKey[strings.ToLower(k)]
		if !ok {
			return nil, errUnknownField(k)
		}
		if !c.writable() {
			return nil, errReadOnlyField(k)
		}
		val := doc[k]
		if arr, isArr := val.([]any); isArr {
			if !c.multi() {
				return nil, errInvalidRequest("Field '%s' takes one value", k)
			}
			if t, _ := doc[k+"@odata.type"].(string); !strings.HasPrefix(t, "Collection(") {
				return nil, errBadRequest("A value without a type name was found and no expected type is available. When the model is specified, each value in the payload must have a type which can be either specified in the payload, explicitly by the caller or implicitly inferred from the parent value.")
			}
			val = arr
		}
		if (c.kind == "personOrGroup" || c.kind == "lookup") && !c.multi() {
			if n, isNum := val.(float64); isNum {
				val = strconv.FormatFloat(n, 'f', -1, 64)
			}
		}
		out[c.fieldKey()] = val
	}
	return out, nil
}

// createListItem serves POST .../lists/{list}/items with {"fields": {...}}.
func (rq *request) createListItem() error {
	s := rq.s
	li, err := rq.resolveList()
	if err != nil {
		return err
	}
	if li.isLibrary() {
		return errLibraryItems()
	}
	doc, err := rq.readJSONBody()
	if err != nil {
		return err
	}
	raw, _ := doc["fields"].(map[string]any)
	if raw == nil {
		raw = map[string]any{}
	}
	fields, err := writtenFields(li, raw)
	if err != nil {
		return err
	}
	for k, v := range fields {
		if v == nil {
			delete(fields, k)
		}
	}
	m := s.model
	m.mu.Lock()
	st := m.createRefLocked(ref{Kind: kListItem, Owner: li.ref.Owner, Coll: li.ref.Index}, li.ref, ref{})
	st.name = strconv.Itoa(li.baseLen + len(m.colls[li.ref].added))
	st.doc = map[string]any{listItemEditsKey: &listItemEdits{versions: map[int]listItemEdit{1: {fields: fields, at: st.createdAt}}}}
	m.mu.Unlock()
	v, _ := m.view(st.ref)
	rq.sendJSON(http.StatusCreated, s.listItemObject(li, v, listItemRender{fields: true}))
	return nil
}

// patchListItemFields serves PATCH .../items/{item}/fields: the item gets
// a new version with the fields changed.
func (rq *request) patchListItemFields() error {
	s := rq.s
	li, v, err := rq.resolveListItem()
	if err != nil {
		return err
	}
	doc, err := rq.readJSONBody()
	if err != nil {
		return err
	}
	upd, err := writtenFields(li, doc)
	if err != nil {
		return err
	}
	m := s.model
	m.mu.Lock()
	v, ok := m.viewLocked(v.ref)
	if !ok || !m.aliveLocked(v) {
		m.mu.Unlock()
		return errListItemNotFound()
	}
	sp := s.listItem(v)
	fields := s.ownFields(li, v, sp, sp.version)
	for k, val := range upd {
		if val == nil {
			delete(fields, k)
		} else {
			fields[k] = val
		}
	}
	st := m.modifyLocked(v)
	e, _ := st.doc[listItemEditsKey].(*listItemEdits)
	if e == nil {
		e = &listItemEdits{versions: map[int]listItemEdit{}}
		if st.doc == nil {
			st.doc = map[string]any{}
		}
		st.doc[listItemEditsKey] = e
	}
	e.versions[sp.base+int(st.version)] = listItemEdit{fields: fields, at: st.modified}
	m.mu.Unlock()
	v, _ = m.view(v.ref)
	sp = s.listItem(v)
	rq.sendJSON(http.StatusOK, s.fieldsObject(li, v, sp, sp.version, true))
	return nil
}

// deleteListItem serves DELETE .../items/{item}.
func (rq *request) deleteListItem() error {
	_, v, err := rq.resolveListItem()
	if err != nil {
		return err
	}
	return rq.deleteIfAlive(v.ref)
}

// deleteList serves DELETE /sites/{site}/lists/{list}: the list and its
// items are gone.
func (rq *request) deleteList() error {
	li, err := rq.resolveList()
	if err != nil {
		return err
	}
	if li.isLibrary() {
		return errInvalidRequest("The list is a document library; the simulator does not delete libraries.")
	}
	if li.system {
		return newError(http.StatusForbidden, "accessDenied", "Access denied. You do not have permission to perform this action or access this resource.")
	}
	return rq.deleteIfAlive(li.ref)
}

// deleteIfAlive deletes what r names if it still lives, and answers 204.
func (rq *request) deleteIfAlive(r ref) error {
	m := rq.s.model
	m.mu.Lock()
	if v, ok := m.viewLocked(r); ok && m.aliveLocked(v) {
		m.deleteLocked(v)
	}
	m.mu.Unlock()
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}

// createList serves POST /sites/{site}/lists
// (https://learn.microsoft.com/graph/api/list-create): a generic list with
// Title, the posted columns and SharePoint's system columns.
func (rq *request) createList() error {
	s := rq.s
	st, err := rq.site(rq.params["site"])
	if err != nil {
		return err
	}
	if st.idx < 0 || st.special != "" {
		return newError(http.StatusForbidden, "accessDenied", "Access denied. You do not have permission to perform this action or access this resource.")
	}
	doc, err := rq.readJSONBody()
	if err != nil {
		return err
	}
	name, _ := doc["displayName"].(string)
	if strings.TrimSpace(name) == "" {
		return errInvalidRequest("The displayName property is required.")
	}
	template := "genericList"
	if l, ok := doc["list"].(map[string]any); ok {
		if t, ok := l["template"].(string); ok && t != "" {
			template = t
		}
	}
	if template != "genericList" {
		return errInvalidRequest("The simulator creates generic lists only, not %q.", template)
	}
	existing := s.siteLists(st)
	urls := map[string]bool{}
	for _, li := range existing {
		if strings.EqualFold(li.name, name) {
			return newError(http.StatusConflict, "nameAlreadyExists",
				"A list, survey, discussion board, or document library with the specified title already exists in this Web site.  Please choose another title.")
		}
		urls[strings.ToLower(li.urlName)] = true
	}
	cl := &createdList{displayName: name, template: template, columns: []columnSpec{titleColumn()}}
	cl.description, _ = doc["description"].(string)
	cl.urlName = listURLName(name)
	for n, base := 1, cl.urlName; urls[strings.ToLower(cl.urlName)]; n++ {
		cl.urlName = base + strconv.Itoa(n)
	}
	taken := map[string]bool{}
	for _, c := range append([]columnSpec{titleColumn()}, systemColumns()...) {
		taken[strings.ToLower(c.name)] = true
	}
	cols, _ := doc["columns"].([]any)
	for i, x := range cols {
		c, err := postedColumn(x, i)
		if err != nil {
			return err
		}
		if taken[strings.ToLower(c.name)] {
			return errInvalidRequest("A duplicate field name \"%s\" was found.", c.name)
		}
		taken[strings.ToLower(c.name)] = true
		cl.columns = append(cl.columns, c)
	}
	m := s.model
	m.mu.Lock()
	rec := m.createRefLocked(ref{Kind: kList, Owner: uint32(st.idx)}, ref{}, ref{})
	rec.doc = map[string]any{createdListKey: cl}
	m.mu.Unlock()
	v, _ := m.view(rec.ref)
	rq.sendJSON(http.StatusCreated, s.listObject(s.listInfoOf(st, v)))
	return nil
}

// postedColumn reads a column definition of a list-create body: a name
// and exactly one type facet. A read-only column cannot be created.
func postedColumn(x any, i int) (columnSpec, *apiError) {
	d, ok := x.(map[string]any)
	if !ok {
		return columnSpec{}, errBadRequest("Invalid column definition at position %d.", i)
	}
	c := columnSpec{group: "Custom Columns"}
	c.name, _ = d["name"].(string)
	if c.name == "" {
		return columnSpec{}, errInvalidRequest("The name property of a column is required.")
	}
	c.display, _ = d["displayName"].(string)
	if c.display == "" {
		c.display = c.name
	}
	c.description, _ = d["description"].(string)
	if ro, _ := d["readOnly"].(bool); ro {
		return columnSpec{}, errInvalidRequest("Column '%s' is read-only and cannot be created.", c.name)
	}
	c.hidden, _ = d["hidden"].(bool)
	c.required, _ = d["required"].(bool)
	c.indexed, _ = d["indexed"].(bool)
	c.unique, _ = d["enforceUniqueValues"].(bool)
	for _, k := range columnKinds {
		f, ok := d[k].(map[string]any)
		if !ok {
			continue
		}
		if c.kind != "" {
			return columnSpec{}, errInvalidRequest("Column '%s' has more than one type.", c.name)
		}
		c.kind, c.facet = k, f
	}
	if c.kind == "" {
		return columnSpec{}, errInvalidRequest("Column '%s' has no type; give one of %s.", c.name, strings.Join(columnKinds, ", "))
	}
	return c, nil
}

// listItemName is the Title of an item, its name in the ground truth.
func (s *Server) listItemName(li listInfo, v view) string {
	sp := s.listItem(v)
	t, _ := s.ownFields(li, v, sp, sp.version)["Title"].(string)
	return t
}

// stateLists adds every live item of every site's generic lists (not
// hidden, not system, not libraries) to the truth.
func (s *Server) stateLists(st *State, noHash bool) {
	for _, site := range s.t.sites {
		for _, li := range s.siteLists(site) {
			if li.isLibrary() || li.hidden || li.system {
				continue
			}
			for _, v := range s.folderMembers(s.listCollection(li)) {
				it := StateItem{Resource: site.webURL, ResourceID: site.id, Category: "lists", Kind: "listItem",
					CollectionID: li.id, Path: li.name, ID: s.listItemID(v), Name: s.listItemName(li, v), Version: v.version}
				if !noHash {
					b, _ := s.listItemObject(li, v, listItemRender{fields: true, entityCtx: true}).MarshalJSON()
					it.Hash, it.Size = sha256Hex(b), int64(len(b))
				}
				st.Items = append(st.Items, it)
			}
		}
	}
}

// listKeyByID finds the delta collection of a list by its id.
func (s *Server) listKeyByID(id string) (ref, bool) {
	s.t.directory()
	for _, st := range s.t.sites {
		for _, li := range s.siteLists(st) {
			if !li.isLibrary() && strings.EqualFold(li.id, id) {
				return li.ref, true
			}
		}
	}
	return ref{}, false
}

// listTarget resolves a mutation's site and list.
func (s *Server) listTarget(op MutateOp) (listInfo, error) {
	st, ok := s.t.siteByKey(op.Site)
	if !ok {
		return listInfo{}, fmt.Errorf("unknown site %q", op.Site)
	}
	li, ok := s.findList(st, op.List)
	if !ok || li.isLibrary() {
		return listInfo{}, fmt.Errorf("no list %q in site %q", op.List, op.Site)
	}
	return li, nil
}

// addListItemLocked creates an item whose content is generated from its
// serial; m.mu held.
func (s *Server) addListItemLocked(li listInfo) *itemState {
	m := s.model
	st := m.createRefLocked(ref{Kind: kListItem, Owner: li.ref.Owner, Coll: li.ref.Index}, li.ref, ref{})
	st.src = st.ref
	st.name = strconv.Itoa(li.baseLen + len(m.colls[li.ref].added))
	return st
}

// mutateListItem adds, modifies or deletes a list item (op.Site, op.List;
// op.ID for modify and delete).
func (s *Server) mutateListItem(op MutateOp) ([]MutateResult, error) {
	li, err := s.listTarget(op)
	if err != nil {
		return nil, err
	}
	m := s.model
	if strings.EqualFold(op.Op, "add") {
		var out []MutateResult
		for i := 0; i < max(op.Count, 1); i++ {
			m.mu.Lock()
			st := s.addListItemLocked(li)
			m.mu.Unlock()
			out = append(out, MutateResult{Op: "add", Kind: "listItem", ID: st.name})
		}
		return out, nil
	}
	v, ok := s.findListItem(li, op.ID)
	if !ok {
		return nil, fmt.Errorf("no live list item %q", op.ID)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	switch strings.ToLower(op.Op) {
	case "modify":
		m.modifyLocked(v)
	case "delete":
		m.deleteLocked(v)
	default:
		return nil, fmt.Errorf("unknown op %q for list items", op.Op)
	}
	return []MutateResult{{Op: op.Op, Kind: "listItem", ID: op.ID}}, nil
}

// churnLists edits (40%), adds (30%) and deletes (30%) items of every
// regular site's generic lists.
func (s *Server) churnLists(r *rng, rate float64) []MutateResult {
	var out []MutateResult
	m := s.model
	for _, site := range s.t.sites {
		for _, li := range s.siteLists(site) {
			if li.isLibrary() || li.hidden || li.system {
				continue
			}
			c := s.listCollection(li)
			n := churnCount(r, max(c.baseLen, 5), rate)
			m.mu.Lock()
			for i := 0; i < n; i++ {
				p := r.float()
				if p >= 0.4 && p < 0.7 {
					st := s.addListItemLocked(li)
					out = append(out, MutateResult{Op: "add", Kind: "listItem", ID: st.name})
					continue
				}
				v, ok := s.pickLiveLocked(r, c)
				if !ok {
					continue
				}
				id := s.listItemID(v)
				if p < 0.4 {
					m.modifyLocked(v)
					out = append(out, MutateResult{Op: "modify", Kind: "listItem", ID: id})
				} else {
					m.deleteLocked(v)
					out = append(out, MutateResult{Op: "delete", Kind: "listItem", ID: id})
				}
			}
			m.mu.Unlock()
		}
	}
	return out
}
