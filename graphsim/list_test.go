package graphsim

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
)

// biggestCollection is the id and item count of the folder of u holding
// the most items of a kind.
func (h *harness) biggestCollection(u, category, kind string) (string, int) {
	h.t.Helper()
	counts := map[string]int{}
	for _, it := range h.stateItems(u, category, kind) {
		counts[it.CollectionID]++
	}
	best, n := "", 0
	for id, c := range counts {
		if c > n || c == n && id < best {
			best, n = id, c
		}
	}
	return best, n
}

func TestCollisionCheckListingsSelectAndPage(t *testing.T) {
	h := newHarness(t, Options{Tenant: TenantOptions{Users: 1, ItemsPerUser: 400, MaxAttachmentSize: 16 << 10,
		Mix: ItemMix{Mail: 0.3, Contacts: 0.3, Events: 0.3, Files: 0.1}}})
	u := h.user(0)
	cases := []struct {
		category, kind, folders, items, sel string
	}{
		{"mail", "message", "mailFolders", "messages", "subject,sentDateTime,receivedDateTime,createdDateTime"},
		{"contacts", "contact", "contactFolders", "contacts", "givenName,surname,emailAddresses,mobilePhone,createdDateTime"},
		{"events", "event", "calendars", "events", "subject,type,start,end,isCancelled,isDraft,recurrence,createdDateTime"},
	}
	for _, c := range cases {
		t.Run(c.items, func(t *testing.T) {
			folder, n := h.biggestCollection(u, c.category, c.kind)
			if n < 20 {
				t.Fatalf("biggest %s folder holds %d items", c.category, n)
			}
			want := append([]string{"@odata.etag", "id"}, strings.Split(c.sel, ",")...)
			sort.Strings(want)
			base := "users/" + u + "/" + c.folders + "/" + folder + "/" + c.items + "?$select=" + c.sel
			for _, paging := range []struct {
				query string
				hdr   []string
			}{
				{"", []string{"Prefer", "odata.maxpagesize=7"}},
				{"&$top=9", nil},
				{"", nil},
			} {
				vals, _, pages := h.collect(base+paging.query, paging.hdr...)
				if len(vals) != n || pages < 2 {
					t.Fatalf("%s%s %v: %d items in %d pages, folder holds %d", base, paging.query, paging.hdr, len(vals), pages, n)
				}
				seen := map[string]bool{}
				for _, v := range vals {
					keys := make([]string, 0, len(v))
					for k := range v {
						keys = append(keys, k)
					}
					sort.Strings(keys)
					if strings.Join(keys, ",") != strings.Join(want, ",") {
						t.Fatalf("properties %v, want %v", keys, want)
					}
					if v["createdDateTime"] == nil || seen[v["id"].(string)] {
						t.Fatalf("item %v", v)
					}
					seen[v["id"].(string)] = true
					if c.kind == "event" && v["type"] != "seriesMaster" && v["type"] != "singleInstance" {
						t.Fatalf("events list holds a %v", v["type"])
					}
				}
			}
		})
	}
}

func TestFolderNameFiltersFindFolders(t *testing.T) {
	h := newHarness(t, Options{})
	u := h.user(0)
	name := `O'Brien's "Q3" & more`
	filter := func(prop string) string {
		return "?$filter=" + url.QueryEscape(prop+" eq '"+strings.ReplaceAll(name, "'", "''")+"'")
	}
	// Well-known folders are found by name at the top of their hierarchy.
	for _, c := range []struct{ list, prop, name, wellKnown string }{
		{"users/" + u + "/mailFolders", "displayName", "Inbox", "users/" + u + "/mailFolders/inbox"},
		{"users/" + u + "/mailFolders", "displayName", "sent items", "users/" + u + "/mailFolders/sentitems"},
		{"users/" + u + "/calendars", "name", "Calendar", "users/" + u + "/calendars/calendar"},
	} {
		want := h.getJSON(c.wellKnown, http.StatusOK)["id"]
		vals := h.getJSON(c.list+"?$filter="+url.QueryEscape(c.prop+" eq '"+c.name+"'"), http.StatusOK)["value"].([]any)
		if len(vals) != 1 || vals[0].(map[string]any)["id"] != want {
			t.Fatalf("%s filtered by %q: %v", c.list, c.name, vals)
		}
	}
	for _, c := range []struct{ list, prop string }{
		{"users/" + u + "/mailFolders", "displayName"},
		{"users/" + u + "/contactFolders", "displayName"},
		{"users/" + u + "/calendars", "name"},
	} {
		top := h.sendJSON(http.MethodPost, c.list, map[string]any{c.prop: name}, http.StatusCreated)["id"].(string)
		lists := []struct{ path, want string }{{c.list, top}}
		if c.prop == "displayName" {
			child := h.sendJSON(http.MethodPost, c.list+"/"+top+"/childFolders", map[string]any{c.prop: name}, http.StatusCreated)["id"].(string)
			lists = append(lists, struct{ path, want string }{c.list + "/" + top + "/childFolders", child})
		}
		for _, l := range lists {
			vals := h.getJSON(l.path+filter(c.prop), http.StatusOK)["value"].([]any)
			if len(vals) != 1 || vals[0].(map[string]any)["id"] != l.want || vals[0].(map[string]any)[c.prop] != name {
				t.Fatalf("%s filtered by name: %v", l.path, vals)
			}
			none := h.getJSON(l.path+"?$filter="+url.QueryEscape(c.prop+" eq 'O''Brien'"), http.StatusOK)["value"].([]any)
			if len(none) != 0 {
				t.Fatalf("%s: a different name matches %v", l.path, none)
			}
		}
	}
}
