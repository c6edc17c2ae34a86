package graphsim

import (
	"net/http"
	"testing"
)

func stateHash(t *testing.T, s *Server) string {
	t.Helper()
	st, err := s.State(StateFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return st.StateHash
}

func TestSameSeedGivesTheSameTenant(t *testing.T) {
	opts := func(seed int64) Options {
		return Options{Tenant: TenantOptions{Seed: seed, Users: 3, ItemsPerUser: 150, ItemsPerSite: 20, MaxFileSize: 256 << 10}}
	}
	a := New(opts(11))
	b := New(opts(11))
	c := New(opts(12))
	// Touch b in a different order first: generation must not depend on it.
	h := newHarness(t, opts(11))
	h.collect("users/" + h.user(2) + "/drive/root/delta")
	h.collect("users/" + h.user(1) + "/mailFolders/delta")
	ha, hb, hc, hh := stateHash(t, a), stateHash(t, b), stateHash(t, c), stateHash(t, h.sim)
	if ha != hb || ha != hh {
		t.Fatalf("same seed, different tenants: %s %s %s", ha, hb, hh)
	}
	if ha == hc {
		t.Fatalf("different seeds, same tenant")
	}
	// Churn is reproducible too.
	a.Mutate([]MutateOp{{Op: "churn", Seed: 5, Rate: 0.1}})
	b.Mutate([]MutateOp{{Op: "churn", Seed: 5, Rate: 0.1}})
	if x, y := stateHash(t, a), stateHash(t, b); x != y || x == ha {
		t.Fatalf("churn: %s vs %s (before %s)", x, y, ha)
	}
}

func TestChurnedTenantMatchesDeltaReplay(t *testing.T) {
	// Applying every delta round to a local copy reproduces the ground truth.
	h := newHarness(t, Options{Tenant: TenantOptions{Users: 2, ItemsPerUser: 300}})
	u := h.user(0)
	local := map[string]string{} // message id -> folder id
	links := map[string]string{}
	folders, _, _ := h.collect("users/" + u + "/mailFolders/delta")
	for _, f := range folders {
		fid := f["id"].(string)
		links[fid] = "users/" + u + "/mailFolders/" + fid + "/messages/delta"
	}
	sync := func() {
		for fid, link := range links {
			up, rm, dl := h.deltaRound(link, "Prefer", "odata.maxpagesize=13")
			for id := range rm {
				delete(local, id)
			}
			for id := range up {
				local[id] = fid
			}
			links[fid] = dl
		}
	}
	sync()
	for round := int64(1); round <= 3; round++ {
		h.mutate(MutateOp{Op: "churn", Seed: round, Rate: 0.2, User: u})
		sync()
		st, _ := h.sim.State(StateFilter{User: u, Category: "mail", NoHashes: true})
		want := map[string]string{}
		for _, it := range st.Items {
			if it.Kind == "message" {
				want[it.ID] = it.CollectionID
			}
		}
		if len(want) != len(local) {
			t.Fatalf("round %d: local %d items, truth %d", round, len(local), len(want))
		}
		for id, fid := range want {
			if local[id] != fid {
				t.Fatalf("round %d: %s in %s locally, %s in truth", round, id, local[id], fid)
			}
		}
	}
	if st := h.sim.Stats(); st.Requests["mail.messages.delta"]["200"] == 0 {
		t.Fatalf("stats: %v", st.Requests)
	}
}

func TestChurnedDriveMatchesDeltaReplay(t *testing.T) {
	h := newHarness(t, Options{Tenant: TenantOptions{Users: 1, ItemsPerUser: 2000, ItemsPerSite: 5}})
	u := h.user(0)
	local := map[string]string{} // item id -> parent id
	link := "users/" + u + "/drive/root/delta?$top=97"
	sync := func() {
		up, rm, dl := h.deltaRound(link)
		for id := range rm {
			delete(local, id)
		}
		for id, v := range up {
			pid, _ := v["parentReference"].(map[string]any)["id"].(string)
			local[id] = pid
		}
		link = dl
	}
	sync()
	for round := int64(1); round <= 4; round++ {
		h.mutate(MutateOp{Op: "churn", Seed: round, Rate: 0.05, User: u})
		sync()
		st, _ := h.sim.State(StateFilter{User: u, Category: "files", NoHashes: true})
		if len(st.Items) != len(local) {
			t.Fatalf("round %d: local %d items, truth %d", round, len(local), len(st.Items))
		}
		for _, it := range st.Items {
			if _, ok := local[it.ID]; !ok {
				t.Fatalf("round %d: %s (%s) missing locally", round, it.Name, it.ID)
			}
		}
	}
	_ = http.StatusOK
}
