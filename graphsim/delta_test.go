package graphsim

import (
	"net/http"
	"strings"
	"testing"
)

func TestExchangeDeltaPagesHonourMaxPageSize(t *testing.T) {
	h := newHarness(t, Options{})
	u := h.user(0)
	for _, size := range []int{1, 3, 10, 1000} {
		next := "users/" + u + "/mailFolders/inbox/messages/delta()?$select=id,lastModifiedDateTime"
		total, pages, sawDelta := 0, 0, false
		for next != "" {
			resp := h.do(http.MethodGet, next, nil, "Prefer", "odata.maxpagesize="+itoa64(int64(size)))
			if got := resp.Header.Get("Preference-Applied"); got != "odata.maxpagesize="+itoa64(int64(size)) {
				t.Fatalf("Preference-Applied = %q", got)
			}
			page := h.decode(resp, http.StatusOK)
			vals := page["value"].([]any)
			if len(vals) > size {
				t.Fatalf("page of %d with maxpagesize %d", len(vals), size)
			}
			for _, v := range vals {
				m := v.(map[string]any)
				if _, ok := m["subject"]; ok {
					t.Fatalf("$select not carried into page %d: %v", pages, m)
				}
				if m["id"] == nil || m["lastModifiedDateTime"] == nil {
					t.Fatalf("selected properties missing: %v", m)
				}
			}
			total += len(vals)
			pages++
			next, _ = page["@odata.nextLink"].(string)
			_, hasDelta := page["@odata.deltaLink"]
			if hasDelta == (next != "") {
				t.Fatalf("page %d: nextLink %q and deltaLink %v must be exclusive", pages, next, hasDelta)
			}
			if next != "" && !strings.Contains(next, "$skiptoken=") {
				t.Fatalf("nextLink without $skiptoken: %s", next)
			}
			sawDelta = sawDelta || hasDelta
		}
		want := h.inboxCount(0)
		if total != want || !sawDelta {
			t.Fatalf("maxpagesize %d: %d items in %d pages, want %d", size, total, pages, want)
		}
		if size == 1 && pages != want {
			t.Fatalf("maxpagesize 1: %d pages for %d items", pages, want)
		}
	}
}

func (h *harness) inboxCount(u int) int {
	f := h.getJSON("users/"+h.user(u)+"/mailFolders/inbox", http.StatusOK)
	return int(f["totalItemCount"].(float64))
}

func TestExchangeDeltaDefaultPageSizeIsTen(t *testing.T) {
	h := newHarness(t, Options{})
	page := h.getJSON("users/"+h.user(0)+"/mailFolders/inbox/messages/delta", http.StatusOK)
	if n := len(page["value"].([]any)); n != 10 {
		t.Fatalf("default page has %d items", n)
	}
}

// deltaRound follows a delta link to completion and returns upserts and
// removals by id.
func (h *harness) deltaRound(link string, hdr ...string) (upserts, removed map[string]map[string]any, next string) {
	h.t.Helper()
	vals, dl, _ := h.collect(link, hdr...)
	upserts, removed = map[string]map[string]any{}, map[string]map[string]any{}
	for _, v := range vals {
		id := v["id"].(string)
		if _, ok := v["@removed"]; ok {
			removed[id] = v
			delete(upserts, id)
			continue
		}
		if _, ok := v["deleted"]; ok {
			removed[id] = v
			delete(upserts, id)
			continue
		}
		upserts[id] = v
		delete(removed, id)
	}
	if dl == "" {
		h.t.Fatalf("round from %s ended without a deltaLink", link)
	}
	return upserts, removed, dl
}

func (h *harness) mutate(ops ...MutateOp) []MutateResult {
	h.t.Helper()
	res := h.sim.Mutate(ops)
	for _, r := range res {
		if r.Error != "" {
			h.t.Fatalf("mutate %+v: %s", r, r.Error)
		}
	}
	return res
}

func TestMessageDeltaRoundsReturnExactlyTheChanges(t *testing.T) {
	h := newHarness(t, Options{})
	u := h.user(0)
	start := "users/" + u + "/mailFolders/inbox/messages/delta()"
	pref := []string{"Prefer", "odata.maxpagesize=4"}
	initial, removed, dl := h.deltaRound(start, pref...)
	if len(removed) != 0 || len(initial) != h.inboxCount(0) {
		t.Fatalf("initial round: %d upserts %d removed", len(initial), len(removed))
	}

	// An idle round is empty.
	up, rm, dl := h.deltaRound(dl, pref...)
	if len(up)+len(rm) != 0 {
		t.Fatalf("idle round returned %d/%d", len(up), len(rm))
	}

	var inboxIDs []string
	for id := range initial {
		inboxIDs = append(inboxIDs, id)
	}
	archive := h.getJSON("users/"+u+"/mailFolders/archive", http.StatusOK)["id"].(string)
	added := h.mutate(MutateOp{Op: "add", Kind: "message", User: u, Parent: "inbox", Count: 3})
	h.mutate(MutateOp{Op: "modify", ID: inboxIDs[0]}, MutateOp{Op: "delete", ID: inboxIDs[1]})
	moved := h.mutate(MutateOp{Op: "move", ID: inboxIDs[2], To: archive})
	// Created and deleted between rounds: the client never sees it.
	ghost := h.mutate(MutateOp{Op: "add", Kind: "message", User: u})
	h.mutate(MutateOp{Op: "delete", ID: ghost[0].ID})

	up, rm, dl = h.deltaRound(dl, pref...)
	wantUp := map[string]bool{added[0].ID: true, added[1].ID: true, added[2].ID: true, inboxIDs[0]: true}
	wantRm := map[string]bool{inboxIDs[1]: true, inboxIDs[2]: true}
	if len(up) != len(wantUp) || len(rm) != len(wantRm) {
		t.Fatalf("round 2: upserts %d removed %d, want %d/%d", len(up), len(rm), len(wantUp), len(wantRm))
	}
	for id := range wantUp {
		if up[id] == nil {
			t.Errorf("missing upsert %s", id)
		}
	}
	for id := range wantRm {
		r := rm[id]
		if r == nil {
			t.Fatalf("missing @removed %s", id)
		}
		if reason := r["@removed"].(map[string]any)["reason"]; reason != "deleted" {
			t.Errorf("@removed reason %v", reason)
		}
	}
	if moved[0].NewID == "" || moved[0].NewID == inboxIDs[2] {
		t.Fatalf("a moved message needs a new id: %+v", moved[0])
	}
	// The moved message shows up in the archive with its new id.
	arch, _, _ := h.deltaRound("users/" + u + "/mailFolders/" + archive + "/messages/delta")
	if arch[moved[0].NewID] == nil {
		t.Fatalf("moved message %s not in archive delta", moved[0].NewID)
	}
	// The modified message changed visibly.
	if initial[inboxIDs[0]]["changeKey"] == up[inboxIDs[0]]["changeKey"] {
		t.Errorf("modified message kept its changeKey")
	}
	up, rm, _ = h.deltaRound(dl, pref...)
	if len(up)+len(rm) != 0 {
		t.Fatalf("round 3 not empty: %d/%d", len(up), len(rm))
	}
}

func TestDeltaCarriesQueryOptionsInTokens(t *testing.T) {
	h := newHarness(t, Options{})
	u := h.user(0)
	_, _, dl := h.deltaRound("users/" + u + "/mailFolders/inbox/messages/delta?$select=subject")
	h.mutate(MutateOp{Op: "add", Kind: "message", User: u})
	up, _, _ := h.deltaRound(dl)
	for _, v := range up {
		if _, ok := v["from"]; ok || v["subject"] == nil {
			t.Fatalf("incremental round lost $select: %v", v)
		}
	}
}

func TestFolderHierarchyDeltaReportsAddsRenamesAndDeletes(t *testing.T) {
	h := newHarness(t, Options{})
	u := h.user(0)
	folders, _, dl := h.deltaRound("users/" + u + "/mailFolders/delta")
	var custom string
	for id, f := range folders {
		if f["parentFolderId"] == "" {
			t.Fatalf("folder without parent: %v", f)
		}
		if f["displayName"] == "Top of Information Store" {
			t.Fatalf("msgfolderroot must not be listed")
		}
		if h.sim.folderWellKnown(mustDecode(t, h, id)) == "" && custom == "" {
			custom = id
		}
	}
	added := h.mutate(MutateOp{Op: "add", Kind: "mailFolder", User: u, Name: "Fresh ✨"})
	h.mutate(MutateOp{Op: "rename", ID: custom, Name: "Renamed / again"})
	up, rm, dl := h.deltaRound(dl)
	if up[added[0].ID]["displayName"] != "Fresh ✨" || up[custom]["displayName"] != "Renamed / again" || len(rm) != 0 {
		t.Fatalf("hierarchy round: %v / %v", up, rm)
	}
	h.mutate(MutateOp{Op: "delete", ID: added[0].ID})
	_, rm, _ = h.deltaRound(dl)
	if rm[added[0].ID] == nil {
		t.Fatalf("deleted folder not reported: %v", rm)
	}
	// A delta on the deleted folder is a sync-folder-not-found error.
	resp := h.getJSON("users/"+u+"/mailFolders/"+added[0].ID+"/messages/delta", http.StatusNotFound)
	if code := resp["error"].(map[string]any)["code"]; code != "ErrorSyncFolderNotFound" {
		t.Fatalf("code %v", code)
	}
}

func mustDecode(t *testing.T, h *harness, id string) ref {
	t.Helper()
	r, ok := h.sim.ids().decode(id)
	if !ok {
		t.Fatalf("undecodable id %s", id)
	}
	return r
}

func TestContactAndEventDeltaRounds(t *testing.T) {
	h := newHarness(t, Options{})
	u := h.user(0)
	for _, tc := range []struct {
		name, start, kind, parent string
	}{
		{"contacts", "users/" + u + "/contactFolders/contacts/contacts/delta()", "contact", "contacts"},
		{"events", "/beta/users/" + u + "/calendars/calendar/events/delta", "event", "calendar"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			initial, _, dl := h.deltaRound(tc.start)
			if len(initial) == 0 {
				t.Fatalf("no %s", tc.name)
			}
			var first string
			for id := range initial {
				first = id
				break
			}
			added := h.mutate(MutateOp{Op: "add", Kind: tc.kind, User: u, Parent: tc.parent})
			h.mutate(MutateOp{Op: "delete", ID: first})
			up, rm, _ := h.deltaRound(dl)
			if len(up) != 1 || up[added[0].ID] == nil || len(rm) != 1 || rm[first] == nil {
				t.Fatalf("round 2: %d upserts %d removed", len(up), len(rm))
			}
		})
	}
}

func TestDriveDeltaReportsChangesWithDeletedFacets(t *testing.T) {
	h := newHarness(t, Options{Tenant: TenantOptions{ItemsPerUser: 600}})
	u := h.user(0)
	sel := "$select=id,content.downloadUrl,createdBy,createdDateTime,file,folder,lastModifiedDateTime,name,package,parentReference,root,size,deleted,malware,shared&$top=7"
	vals, dl, pages := h.collect("users/" + u + "/drive/root/delta?" + sel)
	if pages < 2 {
		t.Fatalf("$top=7 should page: %d pages for %d items", pages, len(vals))
	}
	seen := map[string]bool{}
	var file, folder, otherFolder, root string
	for i, v := range vals {
		id := v["id"].(string)
		if i == 0 && v["root"] == nil {
			t.Fatalf("root must come first: %v", v)
		}
		if pr, ok := v["parentReference"].(map[string]any); ok && pr["id"] != nil {
			if !seen[pr["id"].(string)] {
				t.Fatalf("child %s before its parent", v["name"])
			}
			if p, _ := pr["path"].(string); !strings.HasPrefix(p, "/drive/root:") {
				t.Fatalf("business drive delta parentReference path %q, want the parent's path", p)
			}
		}
		seen[id] = true
		switch {
		case v["file"] != nil && file == "":
			file = id
			if v["@microsoft.graph.downloadUrl"] == nil {
				t.Fatalf("file without downloadUrl: %v", v)
			}
		case v["root"] != nil:
			root = id
		case v["folder"] != nil && folder == "":
			folder = id
		case v["folder"] != nil && otherFolder == "" && v["parentReference"].(map[string]any)["id"] == root:
			otherFolder = id
		}
	}
	if file == "" || folder == "" || otherFolder == "" {
		t.Fatalf("tenant too small for the test")
	}
	h.mutate(MutateOp{Op: "modify", ID: file})
	h.mutate(MutateOp{Op: "rename", ID: folder, Name: "Renamed"})
	h.mutate(MutateOp{Op: "move", ID: otherFolder, To: folder})
	up, rm, dl := h.deltaRound(dl)
	if up[file] == nil || up[folder]["name"] != "Renamed" || up[otherFolder] == nil || len(rm) != 0 {
		t.Fatalf("round 2: up %d rm %d: file %v folder %v other %v", len(up), len(rm), up[file] != nil, up[folder], up[otherFolder] != nil)
	}
	if pid := up[otherFolder]["parentReference"].(map[string]any)["id"]; pid != folder {
		t.Fatalf("moved folder's parent %v, want %s", pid, folder)
	}
	// After a move the next full enumeration still lists parents first.
	vals, _, _ = h.collect("users/" + u + "/drive/root/delta?$top=5")
	seen = map[string]bool{}
	for _, v := range vals {
		if pr, ok := v["parentReference"].(map[string]any); ok && pr["id"] != nil && !seen[pr["id"].(string)] {
			t.Fatalf("after move: child %s before parent", v["name"])
		}
		seen[v["id"].(string)] = true
	}
	h.mutate(MutateOp{Op: "delete", ID: folder})
	up, rm, _ = h.deltaRound(dl)
	if rm[folder] == nil || rm[otherFolder] == nil {
		t.Fatalf("deleted folder and its moved-in child must be reported deleted: %d", len(rm))
	}
	for _, r := range rm {
		if r["deleted"].(map[string]any)["state"] != "deleted" {
			t.Fatalf("deleted facet: %v", r)
		}
	}
	_ = up
}

func TestDriveDeltaTokenLatestSkipsExistingItems(t *testing.T) {
	h := newHarness(t, Options{})
	u := h.user(0)
	page := h.getJSON("users/"+u+"/drive/root/delta?token=latest", http.StatusOK)
	if len(page["value"].([]any)) != 0 || page["@odata.deltaLink"] == nil {
		t.Fatalf("token=latest: %v", page)
	}
	added := h.mutate(MutateOp{Op: "add", Kind: "file", User: u})
	up, _, _ := h.deltaRound(page["@odata.deltaLink"].(string))
	if len(up) != 1 || up[added[0].ID] == nil {
		t.Fatalf("after latest: %v", up)
	}
}

// An added file may be given its size: a benchmark's one large file.
func TestAddedFilesTakeTheSizeAsked(t *testing.T) {
	h := newHarness(t, Options{})
	u := h.user(0)
	const size = 5<<20 + 3
	added := h.mutate(MutateOp{Op: "add", Kind: "file", User: u, Size: size})
	drive := h.getJSON("users/"+u+"/drive", http.StatusOK)["id"].(string)
	it := h.getJSON("drives/"+drive+"/items/"+added[0].ID, http.StatusOK)
	if it["size"].(float64) != size {
		t.Fatalf("size %v, want %d", it["size"], size)
	}
	body, _ := h.bytes(it["@microsoft.graph.downloadUrl"].(string), http.StatusOK)
	if len(body) != size {
		t.Fatalf("downloaded %d bytes, want %d", len(body), size)
	}
}
