package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"path"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/export"
	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/repository"
	"github.com/corso-temporal/corso/workflows"
)

// storedListItems reads a SharePoint lists backup straight from the
// repository: list id/item id → SHA-256 of the item as Graph served it
// (the stored document's "item"). Every list's schema is stored, with its
// columns.
func (a exchangeAdmin) storedListItems(t *testing.T, backupID string) map[string]string {
	t.Helper()
	out := map[string]string{}
	schemaRead := map[string]bool{}
	a.eachStoredItem(t, backupID, m365.ListItems, func(r *repository.Repository, c repository.Collection, id string, b []byte) {
		if !schemaRead[c.ContainerID] {
			schemaRead[c.ContainerID] = true
			var schema struct {
				Columns []json.RawMessage `json:"columns"`
			}
			if c.SchemaID == "" {
				t.Fatalf("list %q: no schema stored", c.Path)
			}
			if err := r.ReadJSON(context.Background(), c.SchemaID, &schema); err != nil || len(schema.Columns) == 0 {
				t.Fatalf("list %q: stored schema has %d columns (%v)", c.Path, len(schema.Columns), err)
			}
		}
		out[c.ContainerID+"/"+id] = listItemHash(t, b)
	})
	return out
}

// listItemHash is the SHA-256 of a list item document's item, compacted
// (an export indents it).
func listItemHash(t *testing.T, stored []byte) string {
	t.Helper()
	var doc m365.ListItemDocument
	if err := json.Unmarshal(stored, &doc); err != nil || len(doc.Item) == 0 {
		t.Fatalf("not a stored list item (%v): %.200s", err, stored)
	}
	var item bytes.Buffer
	if err := json.Compact(&item, doc.Item); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(item.Bytes())
	return hex.EncodeToString(sum[:])
}

// listTruth is the simulator's list items of one site in the same shape.
func listTruth(t *testing.T, siteID string) map[string]string {
	t.Helper()
	st, err := tenant.State(graphsim.StateFilter{Category: "lists"})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, it := range st.Items {
		if it.ResourceID == siteID {
			out[it.CollectionID+"/"+it.ID] = it.Hash
		}
	}
	return out
}

// TestSharePointListsBackupRestoreExport backs up a site's libraries and lists
// in two requests; the lists backup holds every item of the site's
// generic lists as Graph serves it, with each list's schema. After an
// item is added, one modified and one deleted, the incremental matches
// the tenant again, having read only the two that changed. Details
// select by list, the export writes each item as its stored JSON and
// each list as a CSV with a row per item, and a restore re-creates a list
// as a new one whose items' writable fields equal the source's.
func TestSharePointListsBackupRestoreExport(t *testing.T) {
	a := newExchangeAdmin(t, tenant, "lists")

	// The site with the most list items.
	st, err := tenant.State(graphsim.StateFilter{Category: "lists", NoHashes: true})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	siteURL := map[string]string{}
	for _, it := range st.Items {
		count[it.ResourceID]++
		siteURL[it.ResourceID] = it.Resource
	}
	site := ""
	for id, n := range count {
		if site == "" || n > count[site] || n == count[site] && id < site {
			site = id
		}
	}
	if site == "" {
		t.Fatal("the tenant has no list items")
	}

	// --data libraries,lists: two requests, one JSON document each.
	r := a.run(t, "backup", "create", "sharepoint", "--site", siteURL[site], "--data", "libraries,lists", "--json")
	mustSucceed(t, r)
	services := map[string]backup.Summary{}
	sc := bufio.NewScanner(strings.NewReader(r.Stdout))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var out createJSON
		if err := json.Unmarshal(sc.Bytes(), &out); err != nil {
			t.Fatalf("a line of --json output does not parse: %v\n%s", err, r.Stdout)
		}
		if len(out.Backups) != 1 || out.Backups[0].Status != backup.StatusCompleted {
			t.Fatalf("request %s: %+v", out.Workflow.WorkflowID, out.Backups)
		}
		services[out.Backups[0].Service] = out.Backups[0]
	}
	first, ok := services[m365.SharePointLists]
	if len(services) != 2 || !ok || services[m365.SharePoint].BackupID == "" {
		t.Fatalf("--data libraries,lists made backups of %v", services)
	}
	if first.Resource != site {
		t.Fatalf("the lists backup is of %s, want site %s", first.Resource, site)
	}
	assertSameItems(t, a.storedListItems(t, first.BackupID), listTruth(t, site))

	// Changes in the site's fullest list.
	perList := map[string][]string{}
	for _, it := range st.Items {
		if it.ResourceID == site {
			perList[it.CollectionID] = append(perList[it.CollectionID], it.ID)
		}
	}
	list := ""
	for id, items := range perList {
		if list == "" || len(items) > len(perList[list]) || len(items) == len(perList[list]) && id < list {
			list = id
		}
	}
	if len(perList[list]) < 2 {
		t.Fatalf("list %s has %d items, too few to change", list, len(perList[list]))
	}
	sort.Strings(perList[list])
	for _, op := range []graphsim.MutateOp{
		{Op: "add", Kind: "listItem", Site: site, List: list},
		{Op: "modify", Kind: "listItem", ID: perList[list][0], Site: site, List: list},
		{Op: "delete", Kind: "listItem", ID: perList[list][1], Site: site, List: list},
	} {
		if res := tenant.Mutate([]graphsim.MutateOp{op}); len(res) != 1 || res[0].Error != "" {
			t.Fatalf("%+v: %+v", op, res)
		}
	}
	second := a.create(t, "sharepoint", "--site", siteURL[site], "--data", "lists")
	if len(second) != 1 || second[0].Status != backup.StatusCompleted || second[0].Service != m365.SharePointLists {
		t.Fatalf("incremental: %+v", second)
	}
	b := second[0]
	truth := listTruth(t, site)
	assertSameItems(t, a.storedListItems(t, b.BackupID), truth)
	if b.Fetched != 2 || b.Items != first.Items {
		t.Fatalf("incremental read %d items and holds %d (the first held %d): want 2 read and as many held", b.Fetched, b.Items, first.Items)
	}

	// Details select by list name.
	_, idx := a.openBackup(t, b.BackupID)
	names := map[string]string{} // list id → name
	for _, c := range idx.Collections {
		names[c.ContainerID] = c.Path[len(c.Path)-1]
	}
	r = a.run(t, "backup", "details", m365.SharePointLists, "--backup", b.BackupID, "--list", names[list], "--json")
	mustSucceed(t, r)
	var det workflows.BackupDetailsResult
	if err := json.Unmarshal([]byte(r.Stdout), &det); err != nil {
		t.Fatal(err)
	}
	inList := 0
	for k := range truth {
		if strings.HasPrefix(k, list+"/") {
			inList++
		}
	}
	if len(det.Entries) != inList {
		t.Fatalf("--list %q selected %d items, the list has %d", names[list], len(det.Entries), inList)
	}

	// Export: each item as its stored JSON, each list as a CSV.
	dir := t.TempDir()
	mustSucceed(t, a.run(t, "export", m365.SharePointLists, dir, "--backup", b.BackupID))
	files := readExportDir(t, dir)
	byName := map[string]string{} // list name as a file name → id
	for id, n := range names {
		byName[export.SafeName(n)] = id
	}
	items, rows := 0, 0
	for name, data := range files {
		switch {
		case strings.HasSuffix(name, ".json"):
			listID := byName[path.Base(path.Dir(name))]
			itemID := strings.TrimSuffix(strings.TrimPrefix(path.Base(name), "item-"), ".json")
			if want, ok := truth[listID+"/"+itemID]; !ok || listItemHash(t, data) != want {
				t.Fatalf("%s is not item %s of list %s as the tenant has it", name, itemID, listID)
			}
			items++
		case strings.HasSuffix(name, ".csv"):
			recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
			if err != nil {
				t.Fatalf("%s does not parse: %v", name, err)
			}
			listID := byName[strings.TrimSuffix(path.Base(name), ".csv")]
			n := 0
			for k := range truth {
				if strings.HasPrefix(k, listID+"/") {
					n++
				}
			}
			if len(recs) != n+1 || len(recs[0]) == 0 || recs[0][0] != "Title" {
				t.Fatalf("%s has %d records (header %q) for %d items", name, len(recs), recs[0], n)
			}
			rows += len(recs) - 1
		default:
			t.Fatalf("export wrote %s", name)
		}
	}
	if int64(items) != b.Items || int64(rows) != b.Items {
		t.Fatalf("export wrote %d item files and %d CSV rows for %d items", items, rows, b.Items)
	}

	// Restore the changed list as a new list beside it.
	c := &simClient{sim: tenant}
	mustSucceed(t, a.run(t, "restore", m365.SharePointLists, "--backup", b.BackupID, "--list", names[list], "--destination", "Restored"))
	var lists struct {
		Value []struct {
			ID   string `json:"id"`
			Name string `json:"displayName"`
		} `json:"value"`
	}
	if err := json.Unmarshal(c.get(t, "/v1.0/sites/"+site+"/lists"), &lists); err != nil {
		t.Fatal(err)
	}
	restored := ""
	for _, l := range lists.Value {
		if l.Name == names[list]+" Restored" {
			restored = l.ID
		}
	}
	if restored == "" {
		t.Fatalf("no list %q in the site after the restore", names[list]+" Restored")
	}
	keys := writableKeys(t, c.get(t, "/v1.0/sites/"+site+"/lists/"+list+"?$expand=columns"))
	want, got := listFields(t, c, site, list, keys), listFields(t, c, site, restored, keys)
	if len(want) == 0 || !slices.Equal(got, want) {
		t.Fatalf("the restored list's items have the writable fields\n%q\nthe source's have\n%q", got, want)
	}

	// In place with --collisions replace: an item changed since the
	// backup gets its backed-up fields back, and no item is doubled.
	changeListItem(t, c, site, list, keys)
	if slices.Equal(listFields(t, c, site, list, keys), want) {
		t.Fatal("the change of a list item does not show in its fields")
	}
	mustSucceed(t, a.run(t, "restore", m365.SharePointLists, "--backup", b.BackupID, "--list", names[list], "--destination", "/", "--collisions", "replace"))
	if got := listFields(t, c, site, list, keys); !slices.Equal(got, want) {
		t.Fatalf("after an in-place restore replacing what is there, the list's items have\n%q\nthe backup's have\n%q", got, want)
	}
}

// changeListItem gives one item of a list another item's value of a
// writable column other than Title, through Graph.
func changeListItem(t *testing.T, c *simClient, site, list string, keys []string) {
	t.Helper()
	var page struct {
		Value []struct {
			ID     string                     `json:"id"`
			Fields map[string]json.RawMessage `json:"fields"`
		} `json:"value"`
	}
	if err := json.Unmarshal(c.get(t, "/v1.0/sites/"+site+"/lists/"+list+"/items?$expand=fields"), &page); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k == "Title" {
			continue
		}
		for _, x := range page.Value {
			for _, y := range page.Value {
				vx, okx := x.Fields[k]
				vy, oky := y.Fields[k]
				if okx && oky && !bytes.Equal(vx, vy) {
					body, _ := json.Marshal(map[string]json.RawMessage{k: vy})
					c.send(t, http.MethodPatch, c.sim.Endpoint+"/v1.0/sites/"+site+"/lists/"+list+"/items/"+x.ID+"/fields", body, "application/json")
					return
				}
			}
		}
	}
	t.Fatal("no two items of the list differ in a writable column")
}

// writableKeys are the field keys of a list's columns a restore writes:
// Title and the list's own columns, not read-only or calculated ones.
func writableKeys(t *testing.T, schema []byte) []string {
	t.Helper()
	var s struct {
		Columns []map[string]json.RawMessage `json:"columns"`
	}
	if err := json.Unmarshal(schema, &s); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, col := range s.Columns {
		var name string
		var ro bool
		_ = json.Unmarshal(col["name"], &name)
		_ = json.Unmarshal(col["readOnly"], &ro)
		_, calculated := col["calculated"]
		_, person := col["personOrGroup"]
		_, lookup := col["lookup"]
		if ro || calculated || (m365.BuiltInListColumn(name) && name != "Title") {
			continue
		}
		out = append(out, m365.ListFieldKey(name, person || lookup))
	}
	if len(out) < 2 {
		t.Fatalf("the list has %d writable columns", len(out))
	}
	return out
}

// listFields reads a list's items through Graph: each item's writable
// fields as canonical JSON, sorted.
func listFields(t *testing.T, c *simClient, site, list string, keys []string) []string {
	t.Helper()
	var out []string
	link := "/v1.0/sites/" + site + "/lists/" + list + "/items?$expand=fields"
	for link != "" {
		var page struct {
			Value []struct {
				Fields map[string]json.RawMessage `json:"fields"`
			} `json:"value"`
			Next string `json:"@odata.nextLink"`
		}
		if err := json.Unmarshal(c.get(t, link), &page); err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Value {
			kept := map[string]json.RawMessage{}
			for _, k := range keys {
				if v, ok := it.Fields[k]; ok {
					kept[k] = v
				}
			}
			b, _ := json.Marshal(kept)
			out = append(out, string(b))
		}
		link = strings.TrimPrefix(page.Next, tenant.Endpoint)
	}
	sort.Strings(out)
	return out
}
