package graphsim

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func errorOf(t *testing.T, body map[string]any) map[string]any {
	t.Helper()
	e, ok := body["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error envelope: %v", body)
	}
	return e
}

func TestExpiredExchangeTokensAnswer410WithSyncStateCodes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		expire func(h *harness, folder string)
		code   string
	}{
		{"control API, default code", func(h *harness, folder string) {
			h.sim.Expire(ExpireRequest{Collection: folder})
		}, "syncStateNotFound"},
		{"control API, resyncRequired", func(h *harness, folder string) {
			h.sendJSON(http.MethodPost, "http://"+h.srv.Listener.Addr().String()+"/_sim/expire",
				map[string]any{"collection": folder, "code": "resyncRequired"}, http.StatusOK)
		}, "resyncRequired"},
		{"all collections", func(h *harness, _ string) { h.sim.Expire(ExpireRequest{All: true}) }, "syncStateNotFound"},
		{"whole user", func(h *harness, _ string) { h.sim.Expire(ExpireRequest{User: h.user(0)}) }, "syncStateNotFound"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Options{})
			u := h.user(0)
			folder := h.getJSON("users/"+u+"/mailFolders/inbox", http.StatusOK)["id"].(string)
			first := h.getJSON("users/"+u+"/mailFolders/inbox/messages/delta", http.StatusOK, "Prefer", "odata.maxpagesize=2")
			next := first["@odata.nextLink"].(string)
			_, _, dl := h.deltaRound(next)
			tc.expire(h, folder)
			for _, link := range []string{next, dl} {
				e := errorOf(t, h.getJSON(link, http.StatusGone))
				if e["code"] != tc.code || e["message"] == "" {
					t.Fatalf("expired token answer %v", e)
				}
			}
			// Starting over without a token works.
			h.deltaRound("users/" + u + "/mailFolders/inbox/messages/delta")
		})
	}
}

func TestExpiredDriveTokensAnswer410WithLocationAndResyncCode(t *testing.T) {
	h := newHarness(t, Options{})
	u := h.user(0)
	drive := h.getJSON("users/"+u+"/drive", http.StatusOK)["id"].(string)
	_, _, dl := h.deltaRound("drives/" + drive + "/items/root/delta()")
	h.sim.Expire(ExpireRequest{Collection: drive})
	resp := h.do(http.MethodGet, dl, nil)
	body := h.decode(resp, http.StatusGone)
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, "https://graph.microsoft.com/v1.0/drives/") || strings.Contains(loc, "token=") {
		t.Fatalf("Location %q must be a fresh delta URL", loc)
	}
	e := errorOf(t, body)
	inner := e["innerError"].(map[string]any)
	if e["code"] != "resyncRequired" || inner["code"] != "resyncChangesApplyDifferences" {
		t.Fatalf("drive expiry body %v", e)
	}
	// The Location starts a full enumeration.
	h.deltaRound(loc)
}

func TestTokensExpireByAgeAndByChangeVolume(t *testing.T) {
	h := newHarness(t, Options{Delta: DeltaOptions{TokenTTL: time.Hour, MaxLogEntries: 3}})
	u := h.user(0)
	start := "users/" + u + "/contactFolders/contacts/contacts/delta"
	_, _, dl := h.deltaRound(start)
	h.clock.Advance(30 * time.Minute)
	_, _, dl = h.deltaRound(dl) // still young
	h.clock.Advance(2 * time.Hour)
	h.token, _ = h.sim.IssueToken()
	h.getJSON(dl, http.StatusGone)

	_, _, dl = h.deltaRound(start)
	h.mutate(MutateOp{Op: "add", Kind: "contact", User: u, Count: 4})
	e := errorOf(t, h.getJSON(dl, http.StatusGone))
	if e["code"] != "syncStateNotFound" {
		t.Fatalf("code %v", e["code"])
	}
}
