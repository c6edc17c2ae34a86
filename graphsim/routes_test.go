package graphsim

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestEveryPathFormReachesTheSameResource(t *testing.T) {
	h := newHarness(t, Options{})
	info := h.sim.Info()
	u := info.Users[0]
	inbox := h.getJSON("users/"+u.ID+"/mailFolders/inbox", http.StatusOK)["id"].(string)
	upnEsc := url.PathEscape(u.UPN)
	firstIDs := func(path string) string {
		page := h.getJSON(path, http.StatusOK, "Prefer", "odata.maxpagesize=3")
		var ids []string
		for _, v := range page["value"].([]any) {
			ids = append(ids, v.(map[string]any)["id"].(string))
		}
		return strings.Join(ids, ",")
	}
	want := firstIDs("users/" + u.ID + "/mailFolders/" + inbox + "/messages/delta")
	for _, p := range []string{
		"users/" + u.ID + "/mailFolders/inbox/messages/delta()",
		"users/" + strings.ToUpper(u.ID) + "/mailfolders/INBOX/Messages/Delta",
		"users/" + upnEsc + "/mailFolders('" + inbox + "')/messages/delta",
		"users('" + u.ID + "')/mailFolders/" + url.PathEscape(inbox) + "/messages/microsoft.graph.delta()",
		"USERS/" + strings.ReplaceAll(upnEsc, "%40", "%40") + "/MAILFOLDERS/" + inbox + "/MESSAGES/DELTA()",
	} {
		if got := firstIDs(p); got != want {
			t.Errorf("%s: %s, want %s", p, got, want)
		}
	}
	driveWant := firstIDs("drives/" + u.DriveID + "/items/root/delta?$top=3")
	for _, p := range []string{
		"drives/" + url.PathEscape(u.DriveID) + "/items/root/delta()",
		"drives/" + u.DriveID + "/root/delta",
		"users/" + u.ID + "/drive/root/delta",
		"users/" + upnEsc + "/drive/items/root/microsoft.graph.delta()",
	} {
		if got := firstIDs(p + "?$top=3"); got != driveWant {
			t.Errorf("%s: %s, want %s", p, got, driveWant)
		}
	}
	// delta(token='...') carries the token in the function form.
	page := h.getJSON("drives/"+u.DriveID+"/items/root/delta?$top=2", http.StatusOK)
	next := page["@odata.nextLink"].(string)
	tok := next[strings.Index(next, "token=")+len("token="):]
	tok, _ = url.QueryUnescape(tok)
	h.getJSON("drives/"+u.DriveID+"/items/root/delta(token='"+tok+"')", http.StatusOK)
}

func TestPathAddressingResolvesDriveItemsAndSites(t *testing.T) {
	h := newHarness(t, Options{Tenant: TenantOptions{ItemsPerUser: 400}})
	u := h.user(0)
	kids := h.getJSON("users/"+u+"/drive/root/children", http.StatusOK)["value"].([]any)
	var folder map[string]any
	for _, k := range kids {
		if km := k.(map[string]any); km["folder"] != nil {
			folder = km
			break
		}
	}
	name := folder["name"].(string)
	got := h.getJSON("users/"+u+"/drive/root:/"+url.PathEscape(name)+":", http.StatusOK)
	if got["id"] != folder["id"] {
		t.Fatalf("path address found %v", got["id"])
	}
	inner := h.getJSON("drives/"+got["parentReference"].(map[string]any)["driveId"].(string)+"/items/"+folder["id"].(string)+"/children", http.StatusOK)["value"].([]any)
	if len(inner) > 0 {
		child := inner[0].(map[string]any)
		byPath := h.getJSON("users/"+u+"/drive/root:/"+url.PathEscape(name)+"/"+url.PathEscape(child["name"].(string)), http.StatusOK)
		if byPath["id"] != child["id"] {
			t.Fatalf("nested path address")
		}
	}
	site := h.sim.Info().Sites[0]
	st := h.getJSON("sites/"+site.ID, http.StatusOK)
	web, _ := url.Parse(st["webUrl"].(string))
	byPath := h.getJSON("sites/"+web.Host+":"+web.Path+":", http.StatusOK)
	if byPath["id"] != site.ID {
		t.Fatalf("site path address: %v", byPath["id"])
	}
	drives := h.getJSON("sites/"+site.ID+"/drives", http.StatusOK)["value"].([]any)
	if len(drives) != 1 || drives[0].(map[string]any)["driveType"] != "documentLibrary" {
		t.Fatalf("site drives %v", drives)
	}
	h.collect("sites/" + site.ID + "/drive/root/delta")
}

func TestUsersListSupportsFilterCountAndSelect(t *testing.T) {
	h := newHarness(t, Options{Tenant: TenantOptions{Users: 30, ItemsPerUser: 10}})
	all, _, pages := h.collect("users?$top=7&$select=id,userPrincipalName,userType")
	// 30 generated users and the special ones.
	n := len(h.sim.t.users)
	if len(all) != n || n != 30+len(specialUsers) || pages != (n+6)/7 {
		t.Fatalf("%d users in %d pages", len(all), pages)
	}
	for _, u := range all {
		if _, ok := u["displayName"]; ok || u["userType"] == nil {
			t.Fatalf("$select not applied: %v", u)
		}
	}
	guests := 0
	for _, u := range h.sim.t.users {
		if u.guest {
			guests++
		}
	}
	page := h.getJSON("users?$filter=userType ne 'Guest'&$count=true&$select=id", http.StatusOK, "ConsistencyLevel", "eventual")
	if int(page["@odata.count"].(float64)) != n-guests {
		t.Fatalf("count %v, %d guests", page["@odata.count"], guests)
	}
	// Corso's filter: onPremisesSyncEnabled eq true OR userType ne 'Guest'.
	h.getJSON("users?$filter=onPremisesSyncEnabled eq true OR userType ne 'Guest'&$count=true", http.StatusOK, "ConsistencyLevel", "eventual")
	h.getJSON("users?$filter=userType ne 'Guest'", http.StatusBadRequest)
	one := h.sim.t.users[3]
	page = h.getJSON("users?$filter=userPrincipalName eq '"+strings.ToUpper(one.upn)+"'", http.StatusOK)
	if vals := page["value"].([]any); len(vals) != 1 || vals[0].(map[string]any)["id"] != one.id {
		t.Fatalf("filter by UPN: %v", vals)
	}
	page = h.getJSON("groups?$filter=resourceProvisioningOptions/Any(x:x eq 'Team')", http.StatusOK)
	for _, g := range page["value"].([]any) {
		if h.getJSON("teams/"+g.(map[string]any)["id"].(string), http.StatusOK)["id"] == nil {
			t.Fatal("team")
		}
	}
}
