package graphsim

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"
)

// A stalled body sends its first bytes, then nothing, and keeps the
// connection open until the client goes away.
func TestStalledBodyHoldsTheConnectionUntilTheClientLeaves(t *testing.T) {
	h := newHarness(t, Options{})
	u := h.user(0)
	msgs := h.getJSON("users/"+u+"/mailFolders/inbox/messages", http.StatusOK)["value"].([]any)
	mid := msgs[0].(map[string]any)["id"].(string)

	h.sim.SetFaults(FaultOptions{StallRate: 1, StallAfterBytes: 100, Classes: []string{"mail.message.mime"}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, h.srv.URL+"/v1.0/users/"+u+"/messages/"+mid+"/$value", nil)
	req.Header.Set("Authorization", "Bearer "+h.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	first := make([]byte, 100)
	if _, err := io.ReadFull(resp.Body, first); err != nil {
		t.Fatalf("the bytes before the stall: %v", err)
	}
	read := make(chan error, 1)
	go func() {
		_, err := resp.Body.Read(make([]byte, 1))
		read <- err
	}()
	select {
	case err := <-read:
		t.Fatalf("a stalled body answered a Read (%v), want it to block", err)
	case <-time.After(300 * time.Millisecond):
	}
	cancel()
	select {
	case <-read:
	case <-time.After(5 * time.Second):
		t.Fatal("the Read stayed blocked after the client went away")
	}
	if st := h.sim.Stats(); st.Faults["stall"] != 1 {
		t.Fatalf("fault stats %v, want one stall", st.Faults)
	}
	// The simulator serves again once the client left.
	h.sim.SetFaults(FaultOptions{})
	h.bytes("users/"+u+"/messages/"+mid+"/$value", http.StatusOK)
}
