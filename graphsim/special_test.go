package graphsim

import (
	"io"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// Tests of the special resources (special.go) and their persistent faults
// (quirks.go, expected.go).

func specialHarness(t *testing.T) *harness {
	return newHarness(t, Options{Tenant: TenantOptions{Users: 3, ItemsPerUser: 60, ItemsPerSite: 10, Groups: 1, Sites: 1}})
}

func (h *harness) special(k specialKind) *user {
	h.t.Helper()
	h.sim.t.directory()
	u := h.sim.t.specialUser(k)
	if u == nil {
		h.t.Fatalf("no %s user", k)
	}
	return u
}

// graphErr calls path n times and requires the same error every time.
func (h *harness) graphErr(path string, status int, code, message string, n int) map[string]any {
	h.t.Helper()
	var last map[string]any
	for i := 0; i < n; i++ {
		body := h.getJSON(path, status)
		e := body["error"].(map[string]any)
		if e["code"] != code || message != "" && e["message"] != message {
			h.t.Fatalf("%s (try %d): %v, want %s %q", path, i+1, e, code, message)
		}
		last = e
	}
	return last
}

const tries = 3 // persistent: the same answer on every retry

func TestSpecialUsersAreAppendedWithFixedUPNsAndIDs(t *testing.T) {
	h := specialHarness(t)
	all, _, _ := h.collect("users?$select=id,userPrincipalName,mail,accountEnabled,assignedLicenses,userType,onPremisesSyncEnabled&$top=999")
	if len(all) != 3+len(specialUsers) {
		t.Fatalf("%d users, want 3 regular and %d special", len(all), len(specialUsers))
	}
	byUPN := map[string]map[string]any{}
	for i, u := range all {
		byUPN[u["userPrincipalName"].(string)] = u
		if i < 3 && u["id"] != h.user(i) {
			t.Fatalf("regular user %d moved: %v", i, u)
		}
	}
	dom := "@contoso.onmicrosoft.com"
	for _, sp := range specialUsers {
		upn := string(sp.kind) + dom
		if sp.kind == specGuest {
			upn = "gus.guest_fabrikam.com#EXT#" + dom
		}
		u := byUPN[upn]
		if u == nil {
			t.Fatalf("no user %s", upn)
		}
		if u["id"] != guid(7, tagSpecial, 1, uint64(indexOfSpecial(sp.kind))) {
			t.Errorf("%s: id %v", upn, u["id"])
		}
		lic := u["assignedLicenses"].([]any)
		if (len(lic) > 0) != sp.licensed || u["accountEnabled"] != sp.enabled || u["mail"] == nil {
			t.Errorf("%s: licences %v, enabled %v, mail %v", upn, lic, u["accountEnabled"], u["mail"])
		}
	}
	if byUPN["onprem"+dom]["onPremisesSyncEnabled"] != true {
		t.Error("onprem user not synced from on premises")
	}
	if g := byUPN["gus.guest_fabrikam.com#EXT#"+dom]; g["userType"] != "Guest" {
		t.Errorf("guest %v", g)
	}
	// StateFilter.User accepts them.
	for _, sp := range specialUsers {
		if _, err := h.sim.State(StateFilter{User: h.special(sp.kind).upn, NoHashes: true}); err != nil {
			t.Fatal(err)
		}
	}
}

func indexOfSpecial(k specialKind) int {
	for i, sp := range specialUsers {
		if sp.kind == k {
			return i
		}
	}
	return -1
}

func TestCleanTenantHasNoSpecialResources(t *testing.T) {
	h := newHarness(t, Options{Tenant: TenantOptions{Users: 3, ItemsPerUser: 60, ItemsPerSite: 10, Clean: true}})
	all, _, _ := h.collect("users?$top=999")
	sites, _, _ := h.collect("sites?$select=id,webUrl&$top=999")
	if len(all) != 3 || len(sites) != 2+1 { // the 2 groups' sites and the root site
		t.Fatalf("%d users, %d sites", len(all), len(sites))
	}
	for _, s := range sites {
		if u := s["webUrl"].(string); strings.Contains(u, "/personal/") || strings.HasSuffix(u, "/search") || strings.HasSuffix(u, "/Quirks") {
			t.Errorf("clean tenant lists %s", u)
		}
	}
	st, _ := h.sim.State(StateFilter{NoHashes: true})
	for _, e := range st.Expected {
		if e.Cause != causeNoMailbox && e.Cause != causeNoDrive {
			t.Errorf("clean tenant expects %+v", e)
		}
	}
	h.getJSON("users/unlicensed@contoso.onmicrosoft.com", http.StatusNotFound)
}

func TestUnlicensedUserHasNoMailboxAndNoDrive(t *testing.T) {
	h := specialHarness(t)
	u := h.special(specUnlicensed).id
	for _, p := range []string{"mailFolders", "mailFolders/inbox", "mailFolders/delta", "mailFolders/inbox/messages",
		"contactFolders", "calendars", "events", "mailboxSettings", "calendar/events"} {
		h.graphErr("users/"+u+"/"+p, http.StatusBadRequest, "AuthenticationError", "Error authenticating with resource", tries)
	}
	h.graphErr("users/"+u+"/drive", http.StatusNotFound, "ResourceNotFound", "User's mysite not found.", tries)
	h.graphErr("users/"+u+"/drive/root/delta", http.StatusNotFound, "ResourceNotFound", "User's mysite not found.", 1)
	h.getJSON("users/"+u, http.StatusOK)
}

func TestOnPremisesMailboxIsNotEnabledButDriveWorks(t *testing.T) {
	h := specialHarness(t)
	u := h.special(specOnPrem).id
	for _, p := range []string{"mailFolders", "mailFolders/inbox", "contactFolders", "events"} {
		h.graphErr("users/"+u+"/"+p, http.StatusNotFound, "MailboxNotEnabledForRESTAPI",
			"The mailbox is either inactive, soft-deleted, or is hosted on-premise.", tries)
	}
	if items, _, _ := h.collect("users/" + u + "/drive/root/delta"); len(items) < 2 {
		t.Fatalf("onprem drive delta: %d items", len(items))
	}
}

func TestAccessPolicyBlocksEveryExchangeCallButNotOneDrive(t *testing.T) {
	h := specialHarness(t)
	u := h.special(specPolicyBlocked).id
	msg := "Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly AccessPolicy settings."
	for _, p := range []string{"mailFolders", "mailFolders/inbox", "mailFolders/delta", "mailFolders/inbox/messages",
		"mailFolders/inbox/messages/delta", "contactFolders", "contactFolders/delta", "contacts", "calendars",
		"events", "calendar/events", "mailboxSettings", "/beta/users/" + u + "/mailFolders"} {
		path := "users/" + u + "/" + p
		if strings.HasPrefix(p, "/") {
			path = p
		}
		h.graphErr(path, http.StatusForbidden, "ErrorAccessDenied", msg, tries)
	}
	h.sendJSON(http.MethodPost, "users/"+u+"/mailFolders", map[string]any{"displayName": "x"}, http.StatusForbidden)
	if items, _, _ := h.collect("users/" + u + "/drive/root/delta"); len(items) < 2 {
		t.Fatalf("policy-blocked user's drive: %d items", len(items))
	}
}

func TestOverQuotaMailboxFailsDeltaButListingWorks(t *testing.T) {
	h := specialHarness(t)
	u := h.special(specOverQuota).id
	msg := "The process failed to get the correct properties."
	h.graphErr("users/"+u+"/mailFolders/delta", http.StatusForbidden, "ErrorQuotaExceeded", msg, tries)
	h.graphErr("users/"+u+"/mailFolders/inbox/messages/delta", http.StatusForbidden, "ErrorQuotaExceeded", msg, tries)
	h.graphErr("users/"+u+"/mailFolders('inbox')/messages/microsoft.graph.delta()", http.StatusForbidden, "ErrorQuotaExceeded", msg, 1)
	folders, _, _ := h.collect("users/" + u + "/mailFolders?$top=100")
	var inbox, parent string
	for _, f := range folders {
		if f["displayName"] == "Inbox" {
			inbox = f["id"].(string)
		}
		if f["childFolderCount"].(float64) > 0 && parent == "" {
			parent = f["id"].(string)
		}
	}
	if inbox == "" || parent == "" {
		t.Fatalf("folders %v", folders)
	}
	kids, _, _ := h.collect("users/" + u + "/mailFolders/" + parent + "/childFolders")
	if len(kids) == 0 {
		t.Fatal("no child folders")
	}
	child := kids[0]["id"].(string)
	h.graphErr("users/"+u+"/mailFolders/"+parent+"/childFolders/"+child+"/messages/delta", http.StatusForbidden, "ErrorQuotaExceeded", msg, 1)
	msgs, _, _ := h.collect("users/" + u + "/mailFolders/" + inbox + "/messages?$top=2")
	if len(msgs) == 0 {
		t.Fatal("inbox lists no messages")
	}
	id := msgs[0]["id"].(string)
	h.getJSON("users/"+u+"/messages/"+id, http.StatusOK)
	h.bytes("users/"+u+"/messages/"+id+"/$value", http.StatusOK)
	// Contacts and calendars are not affected.
	h.collect("users/" + u + "/contactFolders/delta")
	h.collect("users/" + u + "/calendars/calendar/events/delta")
	st, _ := h.sim.State(StateFilter{User: u, Category: "mail", NoHashes: true})
	n := 0
	for _, it := range st.Items {
		if it.Kind == "message" {
			n++
		}
	}
	if n != specialMail {
		t.Fatalf("over-quota mailbox has %d messages in Items, want %d", n, specialMail)
	}
}

func TestSharedAndRoomMailboxesWorkWithoutOneDrive(t *testing.T) {
	h := specialHarness(t)
	for _, k := range []specialKind{specShared, specRoom} {
		u := h.special(k).id
		h.collect("users/" + u + "/mailFolders/delta")
		h.collect("users/" + u + "/mailFolders/inbox/messages/delta")
		h.graphErr("users/"+u+"/drive", http.StatusNotFound, "ResourceNotFound", "User's mysite not found.", tries)
		if o := h.getJSON("users/"+u+"?$select=accountEnabled", http.StatusOK); o["accountEnabled"] != false {
			t.Errorf("%s enabled: %v", k, o)
		}
	}
}

func TestLockedOneDriveAnswers423(t *testing.T) {
	h := specialHarness(t)
	u := h.special(specLockedDrive)
	driveID := h.sim.ids().encode(h.sim.t.driveRef(h.sim.t.driveOwnerOfUser(u)))
	msg := "Access to this site has been blocked. Please contact the administrator to resolve this problem."
	for _, p := range []string{"users/" + u.id + "/drive", "users/" + u.id + "/drive/root/delta", "users/" + u.id + "/drives",
		"drives/" + driveID, "drives/" + driveID + "/root/children", "drives/" + driveID + "/items/root/delta"} {
		e := h.graphErr(p, http.StatusLocked, "notAllowed", msg, tries)
		if inner := e["innerError"].(map[string]any); inner["code"] != "resourceLocked" {
			t.Errorf("%s: innerError %v", p, inner)
		}
	}
	h.collect("users/" + u.id + "/mailFolders/delta")
}

// quirkyMessages maps cause to message id for the quirky user.
func (h *harness) quirkyMessages() map[string]string {
	st, _ := h.sim.State(StateFilter{User: h.special(specQuirky).id, Category: "mail", NoHashes: true})
	out := map[string]string{}
	for _, e := range st.Expected {
		out[e.Cause] = e.ItemID
	}
	return out
}

func TestUnreadableMessagesFailForEver(t *testing.T) {
	h := specialHarness(t)
	u := h.special(specQuirky).id
	q := h.quirkyMessages()
	if len(q) != 3 || q["corrupt"] == "" || q["cannotOpen"] == "" || q["invalidRecipients"] == "" {
		t.Fatalf("quirky messages %v", q)
	}
	m := "users/" + u + "/messages/"
	for _, p := range []string{m + q["corrupt"], m + q["corrupt"] + "/$value", m + q["corrupt"] + "?$select=id,subject"} {
		e := h.graphErr(p, http.StatusInternalServerError, "ErrorCorruptData", "", tries)
		if !strings.HasPrefix(e["message"].(string), "Data is corrupt., Invalid global object ID: ") {
			t.Errorf("%s: %v", p, e)
		}
	}
	for _, p := range []string{m + q["invalidRecipients"], m + q["invalidRecipients"] + "/$value"} {
		h.graphErr(p, http.StatusBadRequest, "ErrorInvalidRecipients", "At least one recipient isn't valid.", tries)
	}
	// The cannotOpen message reads, its attachment's body does not.
	co := m + q["cannotOpen"]
	if o := h.getJSON(co, http.StatusOK); o["hasAttachments"] != true {
		t.Fatalf("cannotOpen message %v", o)
	}
	msg := "OLE conversion failed for an attachment."
	h.graphErr(co+"/$value", http.StatusInternalServerError, "ErrorCannotOpenFileAttachment", msg, tries)
	h.graphErr(co+"?$expand=attachments", http.StatusInternalServerError, "ErrorCannotOpenFileAttachment", msg, 1)
	h.graphErr(co+"/attachments", http.StatusInternalServerError, "ErrorCannotOpenFileAttachment", msg, 1)
	list := h.getJSON(co+"/attachments?$select=id,name,size", http.StatusOK)["value"].([]any)
	bad := 0
	for _, a := range list {
		a := a.(map[string]any)
		p := co + "/attachments/" + url.PathEscape(a["id"].(string))
		if a["name"] == quirkAttachmentName {
			bad++
			h.graphErr(p, http.StatusInternalServerError, "ErrorCannotOpenFileAttachment", msg, tries)
			h.graphErr(p+"/$value", http.StatusInternalServerError, "ErrorCannotOpenFileAttachment", msg, 1)
		} else {
			h.getJSON(p, http.StatusOK)
		}
	}
	if bad != 1 {
		t.Fatalf("%d unopenable attachments in %v", bad, list)
	}
	// Listing and delta still enumerate all three.
	up, _, _ := h.deltaRound("users/" + u + "/mailFolders/inbox/messages/delta")
	for c, id := range q {
		if _, ok := up[id]; !ok {
			t.Errorf("delta lacks the %s message", c)
		}
	}
	// Random faults off, a reset, a second server: still the same.
	h.sim.Reset()
	h.graphErr(m+q["corrupt"], http.StatusInternalServerError, "ErrorCorruptData", "", 1)
	h2 := specialHarness(t)
	if !reflect.DeepEqual(h2.quirkyMessages(), q) {
		t.Fatal("quirky messages differ between servers of one seed")
	}
}

func TestUnreadableMessagesAreExpectedNotInItems(t *testing.T) {
	h := specialHarness(t)
	u := h.special(specQuirky)
	q := h.quirkyMessages()
	st, _ := h.sim.State(StateFilter{User: u.id})
	for _, it := range st.Items {
		for c, id := range q {
			if it.ID == id {
				t.Errorf("%s message in Items", c)
			}
		}
	}
	n := 0
	for _, e := range st.Expected {
		if e.Service != "exchange" || e.Category != "mail" {
			continue
		}
		n++
		if e.Outcome != OutcomeSkipped || e.Resource != u.upn || e.ResourceID != u.id || e.Path != "Inbox" || e.Source == "" {
			t.Errorf("expectation %+v", e)
		}
	}
	if n != 3 {
		t.Fatalf("%d mail expectations", n)
	}
}

// quirkDrive returns the items of a quirk drive by name.
func (h *harness) quirkDrive(driveID string) map[string]map[string]any {
	items, _, _ := h.collect("drives/" + driveID + "/root/delta")
	out := map[string]map[string]any{}
	for _, it := range items {
		out[it["name"].(string)] = it
	}
	return out
}

func TestQuirkyDrivesHoldMalwareOneNoteAndDrift(t *testing.T) {
	h := specialHarness(t)
	quirky := h.special(specQuirky)
	site := h.sim.t.quirksSite()
	// The quirky OneDrive's delta answers its one transient 400 first
	// (transient.go); spend it so that both drives list normally below.
	h.graphErr("users/"+quirky.id+"/drive/root/delta", http.StatusBadRequest, "invalidRequest", "Invalid request", 1)
	for name, owner := range map[string]uint32{"onedrive": h.sim.t.driveOwnerOfUser(quirky), "site": h.sim.t.driveOwnerOfSite(site)} {
		t.Run(name, func(t *testing.T) {
			driveID := h.sim.ids().encode(h.sim.t.driveRef(owner))
			items := h.quirkDrive(driveID)
			mal, pkg, one, toc, doc := items["invoice-viewer.exe"], items[quirkPackageName], items["General.one"],
				items["Open Notebook.onetoc2"], items["Quarterly Report.docx"]
			if mal == nil || pkg == nil || one == nil || toc == nil || doc == nil {
				t.Fatalf("quirk drive items %v", items)
			}
			// Malware: facet in delta, children and get; content 403 for ever.
			if mal["malware"] == nil || mal["file"] == nil {
				t.Fatalf("malware item %v", mal)
			}
			item := "drives/" + driveID + "/items/" + mal["id"].(string)
			if h.getJSON(item, http.StatusOK)["malware"] == nil {
				t.Error("GET lacks the malware facet")
			}
			found := false
			for _, k := range h.getJSON("drives/"+driveID+"/items/root/children", http.StatusOK)["value"].([]any) {
				if k := k.(map[string]any); k["id"] == mal["id"] {
					found = k["malware"] != nil
				}
			}
			if !found {
				t.Error("children lack the malware facet")
			}
			for i := 0; i < tries; i++ {
				resp := h.do(http.MethodGet, item+"/content", nil)
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusForbidden || resp.Header.Get("X-Virus-Infected") != "true" ||
					!strings.Contains(string(b), `"code":"malwareDetected"`) || !strings.Contains(string(b), "Malware detected") {
					t.Fatalf("malware content: %d %v %s", resp.StatusCode, resp.Header, b)
				}
			}
			resp := h.do(http.MethodGet, mal["@microsoft.graph.downloadUrl"].(string), nil)
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden || resp.Header.Get("X-Virus-Infected") != "true" {
				t.Fatalf("malware download URL: %d", resp.StatusCode)
			}
			// OneNote: the package has no folder or file facet; the section
			// has a file facet and answers 503 without a body for ever.
			if p, _ := pkg["package"].(map[string]any); p["type"] != "oneNote" || pkg["folder"] != nil || pkg["file"] != nil {
				t.Fatalf("package %v", pkg)
			}
			children := h.getJSON("drives/"+driveID+"/items/"+pkg["id"].(string)+"/children", http.StatusOK)["value"].([]any)
			if len(children) != 2 {
				t.Fatalf("package children %v", children)
			}
			if f, _ := one["file"].(map[string]any); f["mimeType"] != "application/msonenote" ||
				one["parentReference"].(map[string]any)["id"] != pkg["id"] {
				t.Fatalf("section %v", one)
			}
			for _, u := range []string{"drives/" + driveID + "/items/" + one["id"].(string) + "/content", one["@microsoft.graph.downloadUrl"].(string)} {
				for i := 0; i < tries; i++ {
					resp := h.do(http.MethodGet, u, nil)
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusServiceUnavailable || len(b) != 0 || resp.Header.Get("Retry-After") != "" {
						t.Fatalf("section content: %d %q retry-after %q", resp.StatusCode, b, resp.Header.Get("Retry-After"))
					}
				}
			}
			h.bytes(toc["@microsoft.graph.downloadUrl"].(string), http.StatusOK)
			// Drift: the download differs from size and quickXorHash.
			body, _ := h.bytes(doc["@microsoft.graph.downloadUrl"].(string), http.StatusOK)
			listed := doc["file"].(map[string]any)["hashes"].(map[string]any)["quickXorHash"]
			if int64(len(body)) == int64(doc["size"].(float64)) || QuickXorBase64(body) == listed {
				t.Fatalf("drift file downloads what it lists: %d bytes, size %v", len(body), doc["size"])
			}
			h.bytes("drives/"+driveID+"/items/"+doc["id"].(string)+"/content", http.StatusFound)
		})
	}
}

func TestQuirkyDriveStateAndExpected(t *testing.T) {
	h := specialHarness(t)
	st, _ := h.sim.State(StateFilter{Category: "files"})
	byID := map[string]StateItem{}
	for _, it := range st.Items {
		byID[it.ID] = it
	}
	type key struct{ service, cause, outcome, name string }
	got := map[key]int{}
	for _, e := range st.Expected {
		if e.Category != "files" {
			continue
		}
		got[key{e.Service, e.Cause, e.Outcome, e.Name}]++
		_, in := byID[e.ItemID]
		if in != (e.Outcome == OutcomeBackedUp) {
			t.Errorf("%+v: in Items %v", e, in)
		}
		if e.Cause == "sizeDrift" {
			it := byID[e.ItemID]
			item := h.getJSON("drives/"+it.CollectionID+"/items/"+it.ID, http.StatusOK)
			body, _ := h.bytes(item["@microsoft.graph.downloadUrl"].(string), http.StatusOK)
			if it.Hash != sha256Sum(body) || it.Size != int64(len(body)) ||
				it.QuickXorHash != item["file"].(map[string]any)["hashes"].(map[string]any)["quickXorHash"] {
				t.Errorf("drift state %+v for %d bytes", it, len(body))
			}
		}
	}
	want := map[key]int{}
	for _, svc := range []string{"onedrive", "sharepoint"} {
		want[key{svc, "malware", OutcomeSkipped, "invoice-viewer.exe"}] = 1
		want[key{svc, "oneNotePackage", OutcomeSkipped, "General.one"}] = 1
		want[key{svc, "sizeDrift", OutcomeBackedUp, "Quarterly Report.docx"}] = 1
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("file expectations %v, want %v", got, want)
	}
}

func TestExpectedListsEverySpecialResource(t *testing.T) {
	h := specialHarness(t)
	st, _ := h.sim.State(StateFilter{NoHashes: true})
	var got []string
	for _, e := range st.Expected {
		if e.Category != "" {
			continue
		}
		if e.Source == "" || e.ResourceID == "" {
			t.Errorf("%+v lacks a source or id", e)
		}
		got = append(got, strings.SplitN(e.Resource, "@", 2)[0]+" "+e.Service+" "+e.Outcome+" "+e.Cause)
	}
	want := []string{
		"unlicensed exchange notBackedUp unlicensed", "unlicensed onedrive notBackedUp noDrive",
		"onprem exchange notBackedUp noMailbox",
		"policyblocked exchange failed accessDenied",
		"overquota exchange backedUp quotaExceeded",
		"sharedmailbox onedrive notBackedUp noDrive", "roommailbox onedrive notBackedUp noDrive",
		"lockeddrive onedrive notBackedUp locked",
		"gus.guest_fabrikam.com#EXT# exchange notBackedUp noMailbox", "gus.guest_fabrikam.com#EXT# onedrive notBackedUp noDrive",
	}
	for _, u := range h.sim.t.regularUsers() {
		local := strings.SplitN(u.upn, "@", 2)[0]
		if !u.hasMailbox {
			want = append(want, local+" exchange notBackedUp noMailbox")
		}
		if !u.hasDrive {
			want = append(want, local+" onedrive notBackedUp noDrive")
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("whole-resource expectations\n got %q\nwant %q", got, want)
	}
	// Policy-blocked mail and the locked drive are not in Items; the
	// over-quota, shared and room mailboxes are.
	has := map[string]map[string]bool{}
	for _, it := range st.Items {
		if has[it.Resource] == nil {
			has[it.Resource] = map[string]bool{}
		}
		has[it.Resource][it.Category] = true
	}
	dom := "@contoso.onmicrosoft.com"
	if has["policyblocked"+dom]["mail"] || !has["policyblocked"+dom]["files"] || has["lockeddrive"+dom]["files"] ||
		!has["lockeddrive"+dom]["mail"] || !has["overquota"+dom]["mail"] || !has["sharedmailbox"+dom]["mail"] ||
		!has["roommailbox"+dom]["events"] || has["unlicensed"+dom] != nil {
		t.Fatalf("items by resource %v", has)
	}
	// The same on another server of the seed, and filters narrow it.
	st2, _ := specialHarness(t).sim.State(StateFilter{NoHashes: true})
	if !reflect.DeepEqual(st.Expected, st2.Expected) || st.StateHash != st2.StateHash {
		t.Fatal("expectations differ between servers of one seed")
	}
	one, _ := h.sim.State(StateFilter{User: "lockeddrive" + dom, Category: "files", NoHashes: true})
	if len(one.Expected) != 1 || one.Expected[0].Cause != causeLocked {
		t.Fatalf("filtered expectations %+v", one.Expected)
	}
	mail, _ := h.sim.State(StateFilter{User: "lockeddrive" + dom, Category: "mail", NoHashes: true})
	if len(mail.Expected) != 0 {
		t.Fatalf("mail expectations of lockeddrive %+v", mail.Expected)
	}
}

func TestSitesListPersonalAndSearchSites(t *testing.T) {
	h := specialHarness(t)
	sites, _, _ := h.collect("sites?$select=id,webUrl&$top=999")
	var personal, search, quirks string
	for _, s := range sites {
		u := s["webUrl"].(string)
		switch {
		case strings.HasPrefix(u, "https://contoso-my.sharepoint.com/personal/"):
			personal = s["id"].(string)
		case u == "https://contoso.sharepoint.com/search":
			search = s["id"].(string)
		case u == "https://contoso.sharepoint.com/sites/Quirks":
			quirks = s["id"].(string)
		}
	}
	if personal == "" || search == "" || quirks == "" {
		t.Fatalf("sites %v", sites)
	}
	if o := h.getJSON("sites/"+search, http.StatusOK); o["displayName"] != "" {
		t.Errorf("search site has a name: %v", o)
	}
	if d := h.getJSON("sites/"+search+"/drives", http.StatusOK)["value"].([]any); len(d) != 0 {
		t.Errorf("search site drives %v", d)
	}
	h.getJSON("sites/"+search+"/drive", http.StatusNotFound)
	h.getJSON("sites/contoso.sharepoint.com:/search", http.StatusOK)
	user0Drive := h.sim.ids().encode(h.sim.t.driveRef(0))
	d := h.getJSON("sites/"+personal+"/drives", http.StatusOK)["value"].([]any)
	if len(d) != 1 || d[0].(map[string]any)["id"] != user0Drive {
		t.Errorf("personal site drives %v", d)
	}
	if h.getJSON("sites/"+personal+"/drive", http.StatusOK)["id"] != user0Drive {
		t.Error("personal site drive is not its owner's OneDrive")
	}
	// The listed-only sites are no backup resource: not in Info or State.
	for _, s := range h.sim.Info().Sites {
		if s.ID == personal || s.ID == search {
			t.Errorf("Info lists %s", s.ID)
		}
	}
}

func TestChurnLeavesSpecialResourcesAlone(t *testing.T) {
	h := specialHarness(t)
	before, _ := h.sim.State(StateFilter{User: h.special(specQuirky).id})
	h.mutate(MutateOp{Op: "churn", Seed: 3, Rate: 0.5})
	after, _ := h.sim.State(StateFilter{User: h.special(specQuirky).id})
	if before.StateHash != after.StateHash || !reflect.DeepEqual(before.Expected, after.Expected) {
		t.Fatal("churn changed the quirky user")
	}
}

func TestQuirkyCalendarsRefuseLargeEventDeltaPagesForEver(t *testing.T) {
	h := specialHarness(t)
	u := h.special(specQuirky).id
	cals, _, _ := h.collect("users/" + u + "/calendars")
	total, refused := 0, 0
	for _, c := range cals {
		link := "/beta/users/" + u + "/calendars/" + c["id"].(string) + "/events/delta"
		vals, _, _ := h.collect(link, "Prefer", "odata.maxpagesize=10")
		total += len(vals)
		if len(vals) <= quirkEventPageLimit {
			continue
		}
		refused++
		for i := 0; i < tries; i++ {
			resp := h.do(http.MethodGet, link, nil, "Prefer", "odata.maxpagesize=500")
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusServiceUnavailable || len(b) != 0 || resp.Header.Get("Retry-After") != "" {
				t.Fatalf("a large page (try %d): %d %q, want 503 with an empty body and no Retry-After", i+1, resp.StatusCode, b)
			}
		}
	}
	if total != quirkyEvents || refused == 0 {
		t.Fatalf("pages of 10 carried %d events, the calendars hold %d; %d calendars refuse large pages", total, quirkyEvents, refused)
	}
	// Plain listing works at any page size, and other users' calendars
	// take large pages.
	for _, c := range cals {
		h.getJSON("users/"+u+"/calendars/"+c["id"].(string)+"/events?$top=500", http.StatusOK)
	}
	h.getJSON("/beta/users/"+h.user(0)+"/calendar/events/delta", http.StatusOK, "Prefer", "odata.maxpagesize=500")
}
