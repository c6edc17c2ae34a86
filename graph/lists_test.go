package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/m365"
)

// listSite is the tenant's first regular site.
func listSite(t *testing.T, e *env) graphsim.InfoRef {
	t.Helper()
	for _, s := range e.info.Sites {
		if s.Special == "" {
			return s
		}
	}
	t.Fatal("no regular site")
	return graphsim.InfoRef{}
}

// listTruth is the truth's list items of a site: list id → item id → item.
func listTruth(e *env, siteID string) map[string]map[string]graphsim.StateItem {
	out := map[string]map[string]graphsim.StateItem{}
	for _, it := range e.state("", "lists").Items {
		if it.ResourceID != siteID {
			continue
		}
		if out[it.CollectionID] == nil {
			out[it.CollectionID] = map[string]graphsim.StateItem{}
		}
		out[it.CollectionID][it.ID] = it
	}
	return out
}

// readListItems enumerates a list by delta from link (empty: a new round),
// reads every reported item, and returns item id → stored document, the
// removed ids, and the next delta link.
func readListItems(t *testing.T, c *Client, siteID, listID, link string) (map[string]m365.ListItemDocument, []string, string) {
	t.Helper()
	ctx := context.Background()
	docs := map[string]m365.ListItemDocument{}
	var removed []string
	for {
		p, err := c.DeltaPage(ctx, siteID, m365.ListItems, listID, link)
		if err != nil {
			t.Fatal(err)
		}
		for _, ch := range p.Changes {
			if ch.Removed {
				removed = append(removed, ch.ID)
				continue
			}
			body, err := c.FetchItemIn(ctx, siteID, m365.ListItems, listID, ch.ID)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(body)
			body.Close()
			meta := body.(m365.MetaReader).ItemMeta()
			if meta.Subject == "" || meta.Sender == "" || meta.Received.IsZero() || meta.Size != int64(len(b)) ||
				ch.ModTime.IsZero() || ch.Meta.Subject != meta.Subject {
				t.Fatalf("item %s: details %+v, change %+v", ch.ID, meta, ch)
			}
			var doc m365.ListItemDocument
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatal(err)
			}
			docs[ch.ID] = doc
		}
		if p.DeltaLink != "" {
			return docs, removed, p.DeltaLink
		}
		link = p.NextLink
	}
}

// itemFields reads the fields of a stored item.
func itemFields(t *testing.T, raw json.RawMessage) map[string]any {
	t.Helper()
	var it struct {
		Fields map[string]any `json:"fields"`
	}
	if err := json.Unmarshal(raw, &it); err != nil || it.Fields == nil {
		t.Fatalf("stored item without fields: %v %s", err, raw)
	}
	return it.Fields
}

// TestListContainersAreTheGenericLists: a site's containers are exactly
// its generic lists, named by their titles: not its document libraries,
// hidden or system lists, though Graph lists them all.
func TestListContainersAreTheGenericLists(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(nil)
	for _, site := range e.info.Sites {
		truth := listTruth(e, site.ID)
		got, err := c.Containers(context.Background(), site.ID, m365.ListItems)
		if err != nil {
			t.Fatal(err)
		}
		if site.Special != "" {
			if len(got) != 0 {
				t.Fatalf("site %s without lists: %+v", site.Name, got)
			}
			continue
		}
		if len(got) != len(truth) || len(got) == 0 {
			t.Fatalf("site %s: containers %+v, truth has %d lists", site.Name, got, len(truth))
		}
		for _, l := range got {
			items := truth[l.ID]
			if items == nil || l.Category != m365.ListItems || len(l.Path) != 1 || l.Path[0] != l.DisplayName {
				t.Fatalf("site %s: container %+v is no generic list of the truth", site.Name, l)
			}
			for _, it := range items {
				if it.Path != l.DisplayName {
					t.Fatalf("list %s named %q, truth %q", l.ID, l.DisplayName, it.Path)
				}
				break
			}
		}
	}
}

// TestListItemsThroughTheSDK: a site's lists, enumerated by delta and read
// item by item, hold exactly the tenant's items, each stored as served
// (the truth's hash) with its versions; the next round reports exactly an
// added, a modified and a deleted item; a plain listing lists the items.
func TestListItemsThroughTheSDK(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(nil)
	site := listSite(t, e)
	truth := listTruth(e, site.ID)
	lists, err := c.Containers(context.Background(), site.ID, m365.ListItems)
	if err != nil {
		t.Fatal(err)
	}
	links := map[string]string{}
	for _, l := range lists {
		docs, removed, dl := readListItems(t, c, site.ID, l.ID, "")
		links[l.ID] = dl
		want := truth[l.ID]
		if len(removed) != 0 || len(docs) != len(want) {
			t.Fatalf("list %s: read %d items (%d removed), truth %d", l.DisplayName, len(docs), len(removed), len(want))
		}
		for id, doc := range docs {
			if sha256Hex(doc.Item) != want[id].Hash {
				t.Fatalf("list %s item %s: stored item is not the served one", l.DisplayName, id)
			}
			if len(doc.Versions) == 0 {
				t.Fatalf("list %s item %s: no versions", l.DisplayName, id)
			}
			var newest struct {
				ID     string         `json:"id"`
				Fields map[string]any `json:"fields"`
			}
			_ = json.Unmarshal(doc.Versions[0], &newest)
			f := itemFields(t, doc.Item)
			if newest.ID != f["_UIVersionString"] || newest.Fields["Title"] != f["Title"] || f["Title"] != want[id].Name {
				t.Fatalf("list %s item %s: newest version %+v, item at %v", l.DisplayName, id, newest, f["_UIVersionString"])
			}
		}
		var listed []string
		for link := ""; ; {
			p, err := c.ListPage(context.Background(), site.ID, m365.ListItems, l.ID, link)
			if err != nil {
				t.Fatal(err)
			}
			for _, ch := range p.Changes {
				listed = append(listed, ch.ID)
			}
			if link = p.NextLink; link == "" {
				break
			}
		}
		if len(listed) != len(want) {
			t.Fatalf("list %s: listing has %d items, truth %d", l.DisplayName, len(listed), len(want))
		}
	}

	list := lists[0].ID
	added := e.mutate(graphsim.MutateOp{Op: "add", Kind: "listItem", Site: site.ID, List: list})[0].ID
	e.mutate(graphsim.MutateOp{Op: "modify", Site: site.ID, List: list, ID: "2"},
		graphsim.MutateOp{Op: "delete", Site: site.ID, List: list, ID: "4"})
	truth = listTruth(e, site.ID)
	for _, l := range lists {
		docs, removed, _ := readListItems(t, c, site.ID, l.ID, links[l.ID])
		if l.ID != list {
			if len(docs)+len(removed) != 0 {
				t.Fatalf("untouched list %s reported %d changes", l.DisplayName, len(docs)+len(removed))
			}
			continue
		}
		var upserts []string
		for id, doc := range docs {
			upserts = append(upserts, id)
			if sha256Hex(doc.Item) != truth[list][id].Hash {
				t.Fatalf("item %s of the second round is not the tenant's", id)
			}
		}
		sort.Strings(upserts)
		want := []string{"2", added}
		sort.Strings(want)
		if !reflect.DeepEqual(upserts, want) || !reflect.DeepEqual(removed, []string{"4"}) {
			t.Fatalf("second round: changed %v removed %v, want changed %v removed [4]", upserts, removed, want)
		}
		if n := len(docs["2"].Versions); n < 2 {
			t.Fatalf("modified item has %d versions", n)
		}
	}
}

// writes records what a client posts to lists.
type writes struct {
	mu     sync.Mutex
	bodies map[string][][]byte // "lists" or "items"
}

func (w *writes) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.Contains(r.URL.Path, "/lists") {
			b, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(b))
			kind := "lists"
			if strings.HasSuffix(r.URL.Path, "/items") {
				kind = "items"
			}
			w.mu.Lock()
			w.bodies[kind] = append(w.bodies[kind], b)
			w.mu.Unlock()
		}
		h.ServeHTTP(rw, r)
	})
}

// readOnlyFields are fields of a stored item a restore never writes.
var readOnlyFields = []string{"@odata.etag", "id", "ContentType", "Modified", "Created", "AuthorLookupId", "EditorLookupId",
	"_UIVersionString", "Attachments", "Edit", "LinkTitleNoMenu", "LinkTitle", "ItemChildCount", "FolderChildCount", "Total"}

// TestListRestoreRoundTrip: a list created from a stored schema has the
// stored list's own columns, and items created from stored fields have
// the stored values of every writable field; neither the list's nor the
// items' read-only columns or fields are ever sent. A deleted list is
// gone.
func TestListRestoreRoundTrip(t *testing.T) {
	w := &writes{bodies: map[string][][]byte{}}
	e := newEnv(t, w.wrap)
	c := e.client(nil)
	ctx := context.Background()
	site := listSite(t, e)
	lists, err := c.Containers(ctx, site.ID, m365.ListItems)
	if err != nil {
		t.Fatal(err)
	}
	src := lists[0]
	schema, err := c.ListSchema(ctx, site.ID, src.ID)
	if err != nil {
		t.Fatal(err)
	}
	dst, err := c.CreateList(ctx, site.ID, src.DisplayName+" (restored)", schema)
	if err != nil {
		t.Fatal(err)
	}
	srcCols, _ := readColumns(mustObject(t, schema).get("columns"))
	newSchema, err := c.ListSchema(ctx, site.ID, dst)
	if err != nil {
		t.Fatal(err)
	}
	dstCols, _ := readColumns(mustObject(t, newSchema).get("columns"))
	own := func(cols []storedColumn) []string {
		var out []string
		for _, col := range cols {
			if !col.readOnly {
				out = append(out, col.name)
			}
		}
		return out
	}
	if !reflect.DeepEqual(own(srcCols), own(dstCols)) {
		t.Fatalf("restored list's columns %v, stored %v", own(dstCols), own(srcCols))
	}
	writable := map[string]bool{}
	for _, col := range srcCols {
		if col.writable() {
			writable[col.fieldKey()] = true
		}
	}

	docs, _, _ := readListItems(t, c, site.ID, src.ID, "")
	n := 0
	for id, doc := range docs {
		stored := itemFields(t, doc.Item)
		raw, _ := json.Marshal(stored)
		newID, err := c.CreateListItem(ctx, site.ID, dst, raw)
		if err != nil {
			t.Fatalf("item %s: %v", id, err)
		}
		body, err := c.FetchItemIn(ctx, site.ID, m365.ListItems, dst, newID)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(body)
		body.Close()
		var got m365.ListItemDocument
		_ = json.Unmarshal(b, &got)
		restored := itemFields(t, got.Item)
		for k := range writable {
			if !reflect.DeepEqual(restored[k], stored[k]) {
				t.Fatalf("item %s field %s: restored %#v, stored %#v", id, k, restored[k], stored[k])
			}
		}
		if restored["Total"] != stored["Total"] {
			t.Fatalf("item %s: calculated Total %v, stored %v", id, restored["Total"], stored["Total"])
		}
		if n++; n == 8 {
			break
		}
	}

	if len(w.bodies["lists"]) != 1 || len(w.bodies["items"]) != n {
		t.Fatalf("%d list and %d item posts", len(w.bodies["lists"]), len(w.bodies["items"]))
	}
	var posted struct {
		Columns []map[string]any `json:"columns"`
	}
	_ = json.Unmarshal(w.bodies["lists"][0], &posted)
	for _, col := range posted.Columns {
		if name, _ := col["name"].(string); col["readOnly"] != nil || col["id"] != nil || m365.BuiltInListColumn(name) {
			t.Fatalf("posted column %v", col)
		}
	}
	for _, b := range w.bodies["items"] {
		var p struct {
			Fields map[string]any `json:"fields"`
		}
		_ = json.Unmarshal(b, &p)
		for _, k := range readOnlyFields {
			if _, ok := p.Fields[k]; ok {
				t.Fatalf("posted read-only field %s: %s", k, b)
			}
		}
	}

	if err := c.DeleteList(ctx, site.ID, dst); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListSchema(ctx, site.ID, dst); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted list: %v", err)
	}
}

func mustObject(t *testing.T, b []byte) jsonObject {
	t.Helper()
	o, err := parseObject(b)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestListDeltaExpiryIsErrDeltaExpired: a list whose delta token
// SharePoint no longer knows fails the next round with ErrDeltaExpired,
// and a new round enumerates it again.
func TestListDeltaExpiryIsErrDeltaExpired(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(nil)
	site := listSite(t, e)
	lists, err := c.Containers(context.Background(), site.ID, m365.ListItems)
	if err != nil {
		t.Fatal(err)
	}
	list := lists[0].ID
	p, err := c.DeltaPage(context.Background(), site.ID, m365.ListItems, list, "")
	for err == nil && p.DeltaLink == "" {
		p, err = c.DeltaPage(context.Background(), site.ID, m365.ListItems, list, p.NextLink)
	}
	if err != nil {
		t.Fatal(err)
	}
	e.control(http.MethodPost, "expire", graphsim.ExpireRequest{Collection: list}, nil)
	if _, err := c.DeltaPage(context.Background(), site.ID, m365.ListItems, list, p.DeltaLink); !errors.Is(err, ErrDeltaExpired) {
		t.Fatalf("expired token: %v", err)
	}
	docs, _, _ := readListItems(t, c, site.ID, list, "")
	if len(docs) != len(listTruth(e, site.ID)[list]) {
		t.Fatalf("new round read %d items", len(docs))
	}
}
