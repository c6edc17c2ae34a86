package graphsim

import (
	"net/http"
	"sync"
	"testing"
)

// Concurrent readers, writers and mutations must not corrupt the model
// (run with -race to check the locking).
func TestConcurrentReadsWritesAndMutations(t *testing.T) {
	h := newHarness(t, Options{Throttle: ThrottleOptions{MailboxConcurrency: -1}})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			u := h.user(w % 2)
			for i := 0; i < 3; i++ {
				h.collect("users/"+u+"/mailFolders/inbox/messages/delta", "Prefer", "odata.maxpagesize=5")
				vals, _, _ := h.collect("users/" + u + "/drive/root/delta?$top=9")
				for _, v := range vals[:min(3, len(vals))] {
					if d, ok := v["@microsoft.graph.downloadUrl"].(string); ok {
						h.bytes(d, http.StatusOK)
					}
				}
				h.sendJSON(http.MethodPost, "users/"+u+"/contacts", map[string]any{"givenName": "C"}, http.StatusCreated)
			}
		}(w)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := int64(0); i < 5; i++ {
			h.sim.Mutate([]MutateOp{{Op: "churn", Seed: i, Rate: 0.05}})
			if _, err := h.sim.State(StateFilter{NoHashes: true}); err != nil {
				t.Error(err)
			}
		}
	}()
	wg.Wait()
}
