package graphsim

import (
	"net/http"
	"reflect"
	"slices"
	"testing"
)

// Standalone sites site1 and site3 hold further document libraries, each
// with its own folders and files, listed by GET /sites/{id}/drives and in
// the ground truth by library.
func TestSitesHoldSeveralLibraries(t *testing.T) {
	opts := Options{Tenant: TenantOptions{Seed: 5, Users: 3, ItemsPerUser: 40, ItemsPerSite: 30, Groups: 1, Sites: 4}}
	h := newHarness(t, opts)
	want := map[string][]string{ // site name -> libraries
		"Project Falcon":     {"Documents"},
		"Communication site": {"Documents"},
		"Intranet 1":         {"Documents", "Contracts", "Marketing Assets"},
		"Intranet 2":         {"Documents"},
		"Intranet 3":         {"Documents", "Contracts"},
		"Quirks":             {"Documents"},
	}
	st, err := h.sim.State(StateFilter{Category: "files"})
	if err != nil {
		t.Fatal(err)
	}
	type lib struct{ site, name string }
	files := map[string][]StateItem{} // drive id -> files
	folders := map[string]int{}
	libOf := map[string]lib{}
	for _, it := range st.Items {
		if it.Kind == "file" {
			files[it.CollectionID] = append(files[it.CollectionID], it)
		} else if it.Name != "root" {
			folders[it.CollectionID]++
		}
		if prev, ok := libOf[it.CollectionID]; ok && prev != (lib{it.ResourceID, it.Library}) {
			t.Fatalf("drive %s is %v and %v", it.CollectionID, prev, lib{it.ResourceID, it.Library})
		}
		libOf[it.CollectionID] = lib{it.ResourceID, it.Library}
	}
	sites := h.sim.Info().Sites
	if len(sites) != len(want) {
		t.Fatalf("%d sites, want %d", len(sites), len(want))
	}
	for _, s := range sites {
		var names []string
		for _, l := range s.Libraries {
			names = append(names, l.Name)
		}
		if !slices.Equal(names, want[s.Name]) || s.Libraries[0].DriveID != s.DriveID {
			t.Errorf("%s: libraries %+v, want %v first %s", s.Name, s.Libraries, want[s.Name], s.DriveID)
		}
		drives := h.getJSON("sites/"+s.ID+"/drives", http.StatusOK)["value"].([]any)
		var listed []InfoLibrary
		for _, d := range drives {
			dm := d.(map[string]any)
			if dm["driveType"] != "documentLibrary" {
				t.Errorf("%s: drive %v", s.Name, dm)
			}
			listed = append(listed, InfoLibrary{DriveID: dm["id"].(string), Name: dm["name"].(string)})
		}
		if !reflect.DeepEqual(listed, s.Libraries) {
			t.Errorf("%s: GET drives lists %+v, want %+v", s.Name, listed, s.Libraries)
		}
		if d := h.getJSON("sites/"+s.ID+"/drive", http.StatusOK); d["id"] != s.DriveID || d["name"] != "Documents" {
			t.Errorf("%s: default drive %v %v", s.Name, d["id"], d["name"])
		}
		for i, l := range s.Libraries {
			if got := libOf[l.DriveID]; got != (lib{s.ID, l.Name}) {
				t.Errorf("%s: state has library %s as %+v", s.Name, l.Name, got)
			}
			n := len(files[l.DriveID])
			if s.Name != "Quirks" && (n == 0 || i == 0 && n != 30 || i > 0 && (n != 15 || folders[l.DriveID] < 1)) {
				t.Errorf("%s/%s: %d files in %d folders", s.Name, l.Name, n, folders[l.DriveID])
			}
			// Delta enumerates the library's own items, as the state lists them.
			items, _, _ := h.collect("drives/" + l.DriveID + "/root/delta")
			seen := 0
			for _, it := range items {
				pr, _ := it["parentReference"].(map[string]any)
				if pr["driveId"] != l.DriveID {
					t.Fatalf("%s/%s: delta item of drive %v", s.Name, l.Name, pr["driveId"])
				}
				if it["file"] != nil {
					seen++
				}
			}
			if seen != n && s.Name != "Quirks" { // its unreadable files are no state
				t.Errorf("%s/%s: delta lists %d files, state %d", s.Name, l.Name, seen, n)
			}
		}
	}

	// The same names and folders in two libraries hold other bytes.
	intranet1 := sites[2].Libraries
	byName := map[string]string{}
	for _, f := range files[intranet1[0].DriveID] {
		byName[f.Path+"/"+f.Name] = f.Hash
	}
	same := 0
	for _, f := range files[intranet1[1].DriveID] {
		if h, ok := byName[f.Path+"/"+f.Name]; ok {
			same++
			if h == f.Hash {
				t.Errorf("%s/%s has the content of its namesake in Documents", f.Path, f.Name)
			}
		}
	}
	if same == 0 {
		t.Error("no file of Contracts shares a path with one of Documents")
	}

	// Writes land in the library addressed.
	lib1 := intranet1[1].DriveID
	created := h.sendJSON(http.MethodPost, "drives/"+lib1+"/items/root/children",
		map[string]any{"name": "Added", "folder": map[string]any{}}, http.StatusCreated)
	if pr := created["parentReference"].(map[string]any); pr["driveId"] != lib1 || pr["siteId"] != sites[2].ID {
		t.Errorf("created in %v", pr)
	}
	res := h.sim.Mutate([]MutateOp{{Op: "add", Kind: "file", Drive: intranet1[2].DriveID, Count: 2}})
	for _, r := range res {
		if r.Error != "" {
			t.Fatal(r.Error)
		}
	}
	after, err := h.sim.State(StateFilter{Category: "files", NoHashes: true})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, it := range after.Items {
		count[it.CollectionID]++
	}
	before := map[string]int{}
	for _, it := range st.Items {
		before[it.CollectionID]++
	}
	for id, n := range before {
		want := n
		switch id {
		case lib1:
			want++
		case intranet1[2].DriveID:
			want += 2
		}
		if count[id] != want {
			t.Errorf("drive %s: %d items after the writes, want %d", id, count[id], want)
		}
	}
}

// Further libraries change nothing else of a tenant: the default libraries
// and OneDrives of a tenant with fewer sites are the same.
func TestLibrariesLeaveOtherDrivesAlone(t *testing.T) {
	small := newHarness(t, Options{Tenant: TenantOptions{Seed: 5, Users: 3, ItemsPerUser: 40, Groups: 1, Sites: 1}})
	large := newHarness(t, Options{Tenant: TenantOptions{Seed: 5, Users: 3, ItemsPerUser: 40, Groups: 1, Sites: 2}})
	a, err := small.sim.State(StateFilter{Category: "files"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := large.sim.State(StateFilter{Category: "files"})
	if err != nil {
		t.Fatal(err)
	}
	site1 := large.sim.Info().Sites[2]
	if len(site1.Libraries) != 3 {
		t.Fatalf("site1 has libraries %+v", site1.Libraries)
	}
	// Regular users and sites keep their drives; special users' and the
	// Quirks site's owner indexes follow the sites, with or without
	// further libraries.
	special := map[string]bool{site1.ID: true}
	for _, in := range []Info{small.sim.Info(), large.sim.Info()} {
		for _, u := range in.Users {
			special[u.ID] = u.Special != ""
		}
		for _, s := range in.Sites {
			special[s.ID] = special[s.ID] || s.Special != ""
		}
	}
	regular := func(items []StateItem) []StateItem {
		var out []StateItem
		for _, it := range items {
			if !special[it.ResourceID] {
				out = append(out, it)
			}
		}
		return out
	}
	x, y := regular(a.Items), regular(b.Items)
	if len(x) == 0 || !reflect.DeepEqual(x, y) {
		t.Errorf("a second standalone site changed the other drives: %d items, then %d", len(x), len(y))
	}
}
