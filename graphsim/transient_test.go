package graphsim

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Tests of the deterministic transient answers (transient.go).

// noRevoke turns off the revoked access token (transient.go) for a test
// that makes more Graph requests than RevokeTokenAfter with one token and
// is not about authentication.
func noRevoke(o Options) Options {
	o.RevokeTokenAfter = -1
	return o
}

// raw makes a GET and returns status, headers and body.
func (h *harness) raw(path string) (int, http.Header, []byte) {
	h.t.Helper()
	resp := h.do(http.MethodGet, path, nil)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatalf("%s: %v", path, err)
	}
	return resp.StatusCode, resp.Header, b
}

// wantEmpty404 requires a 404 without any body.
func (h *harness) wantEmpty404(path string) {
	h.t.Helper()
	status, hdr, b := h.raw(path)
	if status != http.StatusNotFound || len(b) != 0 || hdr.Get("Content-Length") != "0" {
		h.t.Fatalf("%s: %d Content-Length %q body %q, want 404 with an empty body", path, status, hdr.Get("Content-Length"), b)
	}
	if ct := hdr.Get("Content-Type"); strings.Contains(ct, "json") {
		h.t.Fatalf("%s: empty 404 with Content-Type %q", path, ct)
	}
}

func (h *harness) faults() map[string]int64 { return h.sim.Stats().Faults }

func TestTransient404OnFirstGETOfAQuirkyMessageMIMEAndEvent(t *testing.T) {
	// Twice: a second server of the same seed answers the same way.
	for range 2 {
		h := specialHarness(t)
		u := h.special(specQuirky)
		msg := h.sim.ids().encode(transientMessage(u))
		evRef, ok := h.sim.transientEvent(u)
		if !ok {
			t.Fatal("the quirky user has no event")
		}
		ev := h.sim.ids().encode(evRef)
		base := "users/" + u.id

		// The message's JSON reads normally and does not spend the MIME's
		// one-shot; neither does another ordinary message's MIME.
		h.getJSON(base+"/messages/"+msg, http.StatusOK)
		other := transientMessage(u)
		other.Index++
		h.bytes(base+"/messages/"+h.sim.ids().encode(other)+"/$value", http.StatusOK)

		h.wantEmpty404(base + "/messages/" + msg + "/$value")
		first, _ := h.bytes(base+"/messages/"+msg+"/$value", http.StatusOK)
		again, _ := h.bytes(base+"/messages/"+msg+"/$value", http.StatusOK)
		v, _ := h.sim.model.alive(transientMessage(u))
		if string(first) != string(again) || string(first) != string(h.sim.message(v).mime()) {
			t.Fatal("the retried MIME differs from the message's MIME")
		}

		// The event: the first GET in any form (here beta with the
		// canonical expansion) answers the empty 404, later ones the event.
		h.wantEmpty404("/beta/" + base + "/events/" + ev + canonicalEventQuery)
		got := h.getJSON("/beta/"+base+"/events/"+ev+canonicalEventQuery, http.StatusOK)
		if got["id"] != ev {
			t.Fatalf("event id %v, want %s", got["id"], ev)
		}
		h.getJSON(base+"/events/"+ev, http.StatusOK)
		if n := h.faults()["transient404"]; n != 2 {
			t.Fatalf("faults[transient404] = %d, want 2", n)
		}
		if n := h.faults()["persistent"]; n != 0 {
			t.Fatalf("faults[persistent] = %d: a transient answer counted as persistent", n)
		}
		st := h.sim.Stats().Requests
		if st["mail.message.mime"]["404"] != 1 || st["events.get"]["404"] != 1 {
			t.Fatalf("request stats %v %v", st["mail.message.mime"], st["events.get"])
		}
	}
}

func TestTransient400OnTheQuirkyOneDrivesFirstNextLinkPage(t *testing.T) {
	h := specialHarness(t)
	u := h.special(specQuirky)
	site := h.sim.t.quirksSite()
	siteDrive := h.sim.ids().encode(h.sim.t.driveRef(h.sim.t.driveOwnerOfSite(site)))
	// The Quirks site's library is not affected.
	h.collect("drives/" + siteDrive + "/root/delta?$top=2")

	// Pages of 2: the first page is fine, the first nextLink page answers
	// 400 invalidRequest once, and the same link then works.
	page := h.getJSON("users/"+u.id+"/drive/root/delta?$top=2", http.StatusOK)
	values := page["value"].([]any)
	next, _ := page["@odata.nextLink"].(string)
	if next == "" {
		t.Fatal("no nextLink with $top=2")
	}
	e := h.graphErr(next, http.StatusBadRequest, "invalidRequest", "Invalid request", 1)
	if e["innerError"] == nil {
		t.Fatalf("400 without innerError: %v", e)
	}
	rest, deltaLink, _ := h.collect(next)
	for _, v := range rest {
		values = append(values, v)
	}
	if deltaLink == "" {
		t.Fatal("the round did not finish")
	}
	// The round holds the drive exactly: what a round without the 400 holds.
	clean, _, _ := h.collect("users/" + u.id + "/drive/root/delta?$top=2")
	if len(values) != len(clean) || len(values) != quirkDriveFiles+2 {
		t.Fatalf("round with a retried page: %d items, clean round %d, drive %d", len(values), len(clean), quirkDriveFiles+2)
	}
	got := map[string]bool{}
	for _, v := range values {
		got[v.(map[string]any)["id"].(string)] = true
	}
	for _, v := range clean {
		if !got[v["id"].(string)] {
			t.Errorf("item %v missing after the retry", v["name"])
		}
	}
	// Only once per server: later rounds, first pages and deltaLinks work.
	h.collect("users/" + u.id + "/drive/root/delta")
	h.collect(deltaLink)
	if n := h.faults()["transient400"]; n != 1 {
		t.Fatalf("faults[transient400] = %d, want 1", n)
	}
}

func TestTransient400OnTheQuirkyOneDrivesOnlyPage(t *testing.T) {
	// At Graph's default page size the quirky OneDrive is one page: that
	// page takes the 400 once.
	h := specialHarness(t)
	u := h.special(specQuirky)
	driveID := h.sim.ids().encode(h.sim.t.driveRef(h.sim.t.driveOwnerOfUser(u)))
	h.graphErr("drives/"+driveID+"/items/root/delta", http.StatusBadRequest, "invalidRequest", "Invalid request", 1)
	items, deltaLink, pages := h.collect("drives/" + driveID + "/items/root/delta")
	if pages != 1 || deltaLink == "" || len(items) != quirkDriveFiles+2 {
		t.Fatalf("retry: %d pages, %d items, deltaLink %q", pages, len(items), deltaLink)
	}
	h.collect("users/" + u.id + "/drive/root/delta")
	if n := h.faults()["transient400"]; n != 1 {
		t.Fatalf("faults[transient400] = %d, want 1", n)
	}
}

// tokenFromEndpoint asks the token endpoint for a token, as a client does.
func (h *harness) tokenFromEndpoint() string {
	h.t.Helper()
	status, body := h.postForm("/"+h.sim.TenantID()+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {"graphsim-client"}, "client_secret": {"graphsim-secret"},
		"scope": {"https://graph.microsoft.com/.default"}})
	if status != http.StatusOK {
		h.t.Fatalf("token endpoint: %d %v", status, body)
	}
	return body["access_token"].(string)
}

// wantRevoked requires the revoked-token 401.
func (h *harness) wantRevoked(path string) {
	h.t.Helper()
	resp := h.do(http.MethodGet, path, nil)
	www := resp.Header.Get("WWW-Authenticate")
	e, _ := h.decode(resp, http.StatusUnauthorized)["error"].(map[string]any)
	if msg, _ := e["message"].(string); e["code"] != "InvalidAuthenticationToken" || !strings.HasPrefix(msg, "Continuous access evaluation resulted in challenge") {
		h.t.Fatalf("%s: 401 body %v", path, e)
	}
	if www == "" || strings.Contains(www, "claims=") {
		h.t.Fatalf("%s: WWW-Authenticate %q, want one without a claims challenge", path, www)
	}
}

func TestRevokedTokenStaysRevokedWhileANewTokenWorks(t *testing.T) {
	const after = 5
	h := newHarness(t, Options{RevokeTokenAfter: after})
	old := h.tokenFromEndpoint()
	h.token = old
	users := "users/" + h.user(0)
	for i := 0; i < after; i++ {
		h.getJSON(users, http.StatusOK)
	}
	// Downloads, the token endpoint and /_sim/ are not Graph requests and
	// do not count.
	h.control("GET", "stats", "", 200)
	h.wantRevoked(users)              // request after+1: its token is revoked
	h.wantRevoked("users")            // and stays so on every path,
	h.clock.Advance(10 * time.Minute) // long before the token expires,
	h.wantRevoked("/beta/" + users)   // in every version.

	// A new token from the endpoint is a different string and works, for
	// as long as it lives: only one token is revoked per server.
	fresh := h.tokenFromEndpoint()
	if fresh == old {
		t.Fatal("the token endpoint issued the revoked token again")
	}
	h.token = fresh
	for i := 0; i < 3*defaultRevokeTokenAfter; i++ {
		h.getJSON(users, http.StatusOK)
	}
	h.token = old
	h.wantRevoked(users)
	if a, b := h.tokenFromEndpoint(), h.tokenFromEndpoint(); a == b || a == old {
		t.Fatal("the token endpoint issued the same token twice")
	}
	f := h.faults()
	if f["revokedToken"] != 1 || f["revokedTokenRejected"] != 4 {
		t.Fatalf("faults %v, want revokedToken 1 and revokedTokenRejected 4", f)
	}
	if n := h.sim.Stats().Requests["auth.rejected"]["401"]; n != 4 {
		t.Fatalf("requests[auth.rejected][401] = %d, want 4", n)
	}
}

func TestRevokedTokenDefaultsTo200AndMinusOneDisablesIt(t *testing.T) {
	h := newHarness(t, Options{})
	users := "users/" + h.user(0)
	for i := 0; i < defaultRevokeTokenAfter; i++ {
		h.getJSON(users, http.StatusOK)
	}
	h.wantRevoked(users)
	h.token = h.tokenFromEndpoint()
	h.getJSON(users, http.StatusOK)

	off := newHarness(t, Options{RevokeTokenAfter: -1})
	for i := 0; i < 2*defaultRevokeTokenAfter+1; i++ {
		off.getJSON(users, http.StatusOK)
	}
	if n := off.faults()["revokedToken"]; n != 0 {
		t.Fatalf("RevokeTokenAfter -1: faults[revokedToken] = %d", n)
	}
}

func TestTransientsAreAbsentInCleanTenants(t *testing.T) {
	h := newHarness(t, Options{Tenant: TenantOptions{Clean: true, Users: 2, ItemsPerUser: 40}, RevokeTokenAfter: 3})
	u := h.user(0)
	for i := 0; i < 2*defaultRevokeTokenAfter; i++ {
		h.getJSON("users/"+u, http.StatusOK)
	}
	items, _, _ := h.collect("users/" + u + "/drive/root/delta?$top=2")
	if len(items) < 3 {
		t.Fatalf("%d drive items", len(items))
	}
	msgs, _, _ := h.collect("users/" + u + "/mailFolders/inbox/messages/delta")
	for _, m := range msgs[:min(len(msgs), 5)] {
		h.bytes("users/"+u+"/messages/"+m["id"].(string)+"/$value", http.StatusOK)
	}
	if f := h.faults(); len(f) != 0 {
		t.Fatalf("clean tenant faults %v", f)
	}
}
