package graphsim

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
)

func listsHarness(t *testing.T) (*harness, *site) {
	h := newHarness(t, Options{Tenant: TenantOptions{Groups: 2, Sites: 2, ItemsPerSite: 60}})
	h.sim.t.directory()
	// site1 (a standalone site) has two libraries beside Documents.
	for _, st := range h.sim.t.sites {
		if st.name == "site1" {
			return h, st
		}
	}
	t.Fatal("no site1")
	return nil, nil
}

// siteListObjects lists a site's lists by display name.
func siteListObjects(h *harness, siteID, query string) map[string]map[string]any {
	vals, _, _ := h.collect("sites/" + siteID + "/lists" + query)
	out := map[string]map[string]any{}
	for _, v := range vals {
		out[v["displayName"].(string)] = v
	}
	return out
}

func genericListIDs(h *harness, siteID string) []string {
	var ids []string
	for _, l := range siteListObjects(h, siteID, "?$select=id,displayName,list,system") {
		info := l["list"].(map[string]any)
		if info["template"] == "genericList" && info["hidden"] == false && l["system"] == nil {
			ids = append(ids, l["id"].(string))
		}
	}
	sort.Strings(ids)
	return ids
}

// TestSiteListsAreLibrariesListsAndHiddenOnes: a site's lists are its
// drives as document libraries (same names and URLs), its generic lists,
// a hidden list, and a system list only when $select names system; a list
// reads by id and by title, with its columns.
func TestSiteListsAreLibrariesListsAndHiddenOnes(t *testing.T) {
	h, st := listsHarness(t)
	drives, _, _ := h.collect("sites/" + st.id + "/drives")
	lists := siteListObjects(h, st.id, "")
	if len(drives) != 3 {
		t.Fatalf("%d drives", len(drives))
	}
	for _, d := range drives {
		l, ok := lists[d["name"].(string)]
		if !ok || l["list"].(map[string]any)["template"] != "documentLibrary" || l["webUrl"] != d["webUrl"] {
			t.Fatalf("drive %v has no matching library list: %v", d["name"], l)
		}
	}
	hidden, ok := lists["TaxonomyHiddenList"]
	if !ok || hidden["list"].(map[string]any)["hidden"] != true {
		t.Fatalf("no hidden list: %v", lists)
	}
	if _, ok := lists["User Information List"]; ok {
		t.Fatal("a system list listed without $select=system")
	}
	withSystem := siteListObjects(h, st.id, "?$select=id,displayName,list,system")
	sys, ok := withSystem["User Information List"]
	if !ok || sys["system"] == nil {
		t.Fatalf("no system list with $select=system: %v", withSystem)
	}
	generic := genericListIDs(h, st.id)
	if len(generic) < 1 || len(generic) > 3 || len(lists) != 3+len(generic)+1 {
		t.Fatalf("%d generic lists of %d", len(generic), len(lists))
	}
	byID := h.getJSON("sites/"+st.id+"/lists/"+generic[0]+"?$expand=columns", http.StatusOK)
	title := byID["displayName"].(string)
	byName := h.getJSON("sites/"+st.id+"/lists/"+url.PathEscape(title), http.StatusOK)
	if byName["id"] != generic[0] {
		t.Fatalf("list by title %q: %v", title, byName["id"])
	}
	kinds := map[string]bool{}
	readOnly := map[string]bool{}
	for _, c := range byID["columns"].([]any) {
		col := c.(map[string]any)
		for _, k := range columnKinds {
			if col[k] != nil {
				kinds[k] = true
			}
		}
		if col["readOnly"] == true {
			readOnly[col["name"].(string)] = true
		}
	}
	for _, k := range columnKinds {
		if !kinds[k] {
			t.Errorf("no %s column", k)
		}
	}
	for _, n := range []string{"ID", "Created", "Modified", "Author", "Editor", "Attachments", "ContentType"} {
		if !readOnly[n] {
			t.Errorf("column %s is not read-only", n)
		}
	}
	cols, _, _ := h.collect("sites/" + st.id + "/lists/" + generic[0] + "/columns")
	if len(cols) != len(byID["columns"].([]any)) {
		t.Fatalf("columns: %d listed, %d expanded", len(cols), len(byID["columns"].([]any)))
	}
	h.getJSON("sites/"+st.id+"/lists/No%20such%20list", http.StatusNotFound)
}

// TestListItemFieldsHaveGraphShapes: items page by $top and carry every
// column type's value in the shape Graph gives it; an item read alone is
// the listed one.
func TestListItemFieldsHaveGraphShapes(t *testing.T) {
	h, st := listsHarness(t)
	list := genericListIDs(h, st.id)[0]
	base := "sites/" + st.id + "/lists/" + list + "/items"
	items, _, pages := h.collect(base + "?$expand=fields&$top=4")
	spec := h.sim.t.siteListSpecs(st)[0]
	if len(items) != spec.count || pages < 2 {
		t.Fatalf("%d items in %d pages, want %d", len(items), pages, spec.count)
	}
	seen := map[string]bool{}
	for _, it := range items {
		f := it["fields"].(map[string]any)
		check := func(key string, ok bool) {
			if v, present := f[key]; present {
				seen[key] = true
				if !ok {
					t.Fatalf("item %v: %s = %#v", it["id"], key, v)
				}
			}
		}
		_, isStr := f["OwnerLookupId"].(string)
		check("OwnerLookupId", isStr)
		_, isStr = f["RelatedLookupId"].(string)
		check("RelatedLookupId", isStr)
		link, _ := f["Link"].(map[string]any)
		check("Link", link != nil && link["Url"] != nil && link["Description"] != nil)
		_, isArr := f["Tags"].([]any)
		check("Tags", isArr)
		_, isNum := f["Quantity"].(float64)
		check("Quantity", isNum)
		_, isNum = f["Cost"].(float64)
		check("Cost", isNum)
		_, isNum = f["Total"].(float64)
		check("Total", isNum)
		d, _ := f["DueDate"].(string)
		check("DueDate", strings.HasSuffix(d, "Z") && len(d) == 20)
		_, isBool := f["Done"].(bool)
		check("Done", isBool)
		_, isStr = f["AuthorLookupId"].(string)
		check("AuthorLookupId", isStr)
		if f["id"] != it["id"] || f["Title"] == nil {
			t.Fatalf("fields of %v: %v", it["id"], f)
		}
	}
	for _, k := range []string{"OwnerLookupId", "RelatedLookupId", "Link", "Tags", "Quantity", "Cost", "Total", "DueDate", "Done", "AuthorLookupId"} {
		if !seen[k] {
			t.Errorf("no item has %s", k)
		}
	}
	one := h.getJSON(base+"/"+items[2]["id"].(string)+"?$expand=fields", http.StatusOK)
	if one["eTag"] != items[2]["eTag"] || one["fields"].(map[string]any)["Title"] != items[2]["fields"].(map[string]any)["Title"] {
		t.Fatalf("item read alone differs: %v vs %v", one, items[2])
	}
	h.getJSON(base+"/9999", http.StatusNotFound)
}

// TestListItemDeltaReportsExactlyTheChanges: a first round lists every
// item; after an add, a modify and a delete the next round lists exactly
// the added and modified items and the deleted one as @removed.
func TestListItemDeltaReportsExactlyTheChanges(t *testing.T) {
	h, st := listsHarness(t)
	list := genericListIDs(h, st.id)[0]
	base := "sites/" + st.id + "/lists/" + list + "/items/delta?$expand=fields&$top=7"
	first, dl, _ := h.collect(base)
	if len(first) != h.sim.t.siteListSpecs(st)[0].count || !strings.Contains(dl, "token=") {
		t.Fatalf("first round: %d items, deltaLink %q", len(first), dl)
	}
	added := h.mutate(MutateOp{Op: "add", Kind: "listItem", Site: st.id, List: list})[0].ID
	h.mutate(MutateOp{Op: "modify", Site: st.id, List: list, ID: "2"}, MutateOp{Op: "delete", Site: st.id, List: list, ID: "3"})
	second, _, _ := h.collect(dl)
	got := map[string]string{}
	for _, v := range second {
		kind := "upsert"
		if v["@removed"] != nil {
			kind = "removed"
		} else if v["fields"] == nil {
			t.Fatalf("delta entry without fields: %v", v)
		}
		got[v["id"].(string)] = kind
	}
	want := map[string]string{added: "upsert", "2": "upsert", "3": "removed"}
	if len(got) != len(want) {
		t.Fatalf("second round %v, want %v", got, want)
	}
	for id, k := range want {
		if got[id] != k {
			t.Fatalf("second round %v, want %v", got, want)
		}
	}
	if added != strconv.Itoa(h.sim.t.siteListSpecs(st)[0].count+1) {
		t.Fatalf("added item id %s", added)
	}
}

// TestListItemVersionsGrowWithChanges: a modified item has one version
// more, newest first, each with its fields.
func TestListItemVersionsGrowWithChanges(t *testing.T) {
	h, st := listsHarness(t)
	list := genericListIDs(h, st.id)[0]
	base := "sites/" + st.id + "/lists/" + list + "/items/5"
	before, _, _ := h.collect(base + "/versions?$expand=fields")
	h.mutate(MutateOp{Op: "modify", Site: st.id, List: list, ID: "5"})
	after, _, _ := h.collect(base + "/versions?$expand=fields")
	if len(after) != len(before)+1 {
		t.Fatalf("%d versions, then %d", len(before), len(after))
	}
	item := h.getJSON(base+"?$expand=fields", http.StatusOK)
	cur := item["fields"].(map[string]any)["_UIVersionString"]
	if after[0]["id"] != cur || after[len(after)-1]["id"] != "1.0" {
		t.Fatalf("versions %v .. %v, item at %v", after[0]["id"], after[len(after)-1]["id"], cur)
	}
	for _, v := range after {
		f, _ := v["fields"].(map[string]any)
		if f == nil || f["_UIVersionString"] != v["id"] {
			t.Fatalf("version %v: fields %v", v["id"], f)
		}
	}
}

// TestListWritesCheckFieldsAndJoinTheTenant: a created list has its
// columns; an item posted with a read-only or unknown field, or an array
// without its collection type, is refused with Graph's error; a valid one
// is created, patched into a new version and deleted; the list is deleted.
func TestListWritesCheckFieldsAndJoinTheTenant(t *testing.T) {
	h, st := listsHarness(t)
	lists := "sites/" + st.id + "/lists"
	body := map[string]any{"displayName": "Restored <Books>", "list": map[string]any{"template": "genericList"},
		"columns": []any{
			map[string]any{"name": "Author0", "text": map[string]any{}},
			map[string]any{"name": "Pages", "number": map[string]any{}},
			map[string]any{"name": "Genres", "choice": map[string]any{"choices": []any{"a", "b"}, "displayAs": "checkBoxes"}},
			map[string]any{"name": "Reader", "personOrGroup": map[string]any{}},
		}}
	created := h.sendJSON(http.MethodPost, lists, body, http.StatusCreated)
	id := created["id"].(string)
	h.sendJSON(http.MethodPost, lists, body, http.StatusConflict)
	dup := map[string]any{"displayName": "Other", "columns": []any{map[string]any{"name": "Created", "dateTime": map[string]any{}}}}
	if e := h.sendJSON(http.MethodPost, lists, dup, http.StatusBadRequest); !strings.Contains(errMessage(e), "duplicate field name") {
		t.Fatalf("duplicate column: %v", e)
	}
	items := lists + "/" + id + "/items"
	for _, tc := range []struct {
		fields map[string]any
		want   string
	}{
		{map[string]any{"Title": "x", "Created": "2024-01-01T00:00:00Z"}, "Field 'Created' is read-only"},
		{map[string]any{"Title": "x", "AuthorLookupId": "12"}, "Field 'AuthorLookupId' is read-only"},
		{map[string]any{"Title": "x", "@odata.etag": "\"1\""}, "Field '@odata.etag' is not recognized"},
		{map[string]any{"Title": "x", "Nope": 1}, "Field 'Nope' is not recognized"},
		{map[string]any{"Title": "x", "Genres": []any{"a"}}, "A value without a type name"},
	} {
		e := h.sendJSON(http.MethodPost, items, map[string]any{"fields": tc.fields}, http.StatusBadRequest)
		if !strings.Contains(errMessage(e), tc.want) {
			t.Fatalf("%v: %v, want %q", tc.fields, e, tc.want)
		}
	}
	item := h.sendJSON(http.MethodPost, items, map[string]any{"fields": map[string]any{"Title": "Dune & co", "Pages": 412,
		"Genres": []any{"a", "b"}, "Genres@odata.type": "Collection(Edm.String)", "ReaderLookupId": 12}}, http.StatusCreated)
	if item["id"] != "1" {
		t.Fatalf("first item of a new list: %v", item["id"])
	}
	f := item["fields"].(map[string]any)
	if f["Title"] != "Dune & co" || f["Pages"] != float64(412) || f["ReaderLookupId"] != "12" || len(f["Genres"].([]any)) != 2 {
		t.Fatalf("fields %v", f)
	}
	patched := h.sendJSON(http.MethodPatch, items+"/1/fields", map[string]any{"Pages": 500}, http.StatusOK)
	if patched["Pages"] != float64(500) || patched["Title"] != "Dune & co" || patched["_UIVersionString"] != "2.0" {
		t.Fatalf("patched %v", patched)
	}
	vs, _, _ := h.collect(items + "/1/versions?$expand=fields")
	if len(vs) != 2 || vs[1]["fields"].(map[string]any)["Pages"] != float64(412) {
		t.Fatalf("versions %v", vs)
	}
	h.do(http.MethodDelete, items+"/1", nil).Body.Close()
	h.getJSON(items+"/1", http.StatusNotFound)
	h.do(http.MethodDelete, lists+"/"+id, nil).Body.Close()
	h.getJSON(lists+"/"+id, http.StatusNotFound)
}

func errMessage(e map[string]any) string {
	inner, _ := e["error"].(map[string]any)
	s, _ := inner["message"].(string)
	return s
}

// TestListStateHashesTheServedItems: the truth lists every item of the
// generic lists (none of hidden or system lists), hashed over the bytes
// of GET item?$expand=fields.
func TestListStateHashesTheServedItems(t *testing.T) {
	h, st := listsHarness(t)
	state, err := h.sim.State(StateFilter{Category: "lists"})
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, sp := range h.sim.t.siteListSpecs(st) {
		if !sp.hidden {
			want += sp.count
		}
	}
	n := 0
	for _, it := range state.Items {
		if it.ResourceID != st.id {
			continue
		}
		n++
		b, _ := h.bytes("sites/"+st.id+"/lists/"+it.CollectionID+"/items/"+it.ID+"?$expand=fields", http.StatusOK)
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != it.Hash || it.Category != "lists" || it.Kind != "listItem" || it.Path == "" {
			t.Fatalf("item %s/%s: state %+v, served %s", it.CollectionID, it.ID, it, b)
		}
	}
	if n != want {
		t.Fatalf("%d items in the truth of %s, want %d", n, st.name, want)
	}
}

// TestListCallsSpendResourceUnits: list calls count against SharePoint's
// resource units: 2 for listings, 1 for one item.
func TestListCallsSpendResourceUnits(t *testing.T) {
	h, st := listsHarness(t)
	list := genericListIDs(h, st.id)[0]
	for path, want := range map[string]string{
		"sites/" + st.id + "/lists":                               "2",
		"sites/" + st.id + "/lists/" + list + "/items":            "2",
		"sites/" + st.id + "/lists/" + list + "/items/1":          "1",
		"sites/" + st.id + "/lists/" + list + "/items/delta":      "2",
		"sites/" + st.id + "/lists/" + list + "/items/1/versions": "2",
	} {
		_, resp := h.bytes(path, http.StatusOK)
		if got := resp.Header.Get("x-ms-resource-unit"); got != want {
			t.Errorf("%s: %s resource units, want %s", path, got, want)
		}
	}
}

// TestListsLeaveOtherContentAlone: reading and changing lists changes no
// other category of the truth.
func TestListsLeaveOtherContentAlone(t *testing.T) {
	h, st := listsHarness(t)
	other := func() string {
		var hs []string
		for _, c := range []string{"mail", "contacts", "events", "files", "channels"} {
			s, _ := h.sim.State(StateFilter{Category: c, NoHashes: true})
			hs = append(hs, s.StateHash)
		}
		return strings.Join(hs, ",")
	}
	before := other()
	list := genericListIDs(h, st.id)[0]
	h.collect("sites/" + st.id + "/lists/" + list + "/items/delta?$expand=fields")
	h.mutate(MutateOp{Op: "add", Kind: "listItem", Site: st.id, List: list}, MutateOp{Op: "delete", Site: st.id, List: list, ID: "1"})
	if other() != before {
		t.Fatal("list changes changed other content")
	}
}
