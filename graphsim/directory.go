package graphsim

import (
	"net/http"
	"strings"
)

// Directory objects: users, groups, sites and teams.

var defaultUserProps = []string{"businessPhones", "displayName", "givenName", "jobTitle", "mail",
	"mobilePhone", "officeLocation", "preferredLanguage", "surname", "userPrincipalName"}

func (s *Server) userObject(u *user) object {
	userType := "Member"
	if u.guest {
		userType = "Guest"
	}
	var onPrem any
	if u.onPremisesSyncEnabled {
		onPrem = true
	}
	local, _, _ := strings.Cut(u.mail, "@")
	var licenses []any
	if u.licensed {
		licenses = append(licenses, map[string]any{"disabledPlans": []string{}, "skuId": guid(s.t.seed, 0x5c0, 1)})
	}
	if licenses == nil {
		licenses = []any{}
	}
	return object{
		{"id", u.id},
		{"businessPhones", []string{"+1 425 555 " + pad4(u.idx)}},
		{"displayName", u.displayName},
		{"givenName", u.givenName},
		{"jobTitle", u.jobTitle},
		{"mail", u.mail},
		{"mobilePhone", nil},
		{"officeLocation", "Building " + itoa64(int64(u.idx%9+1))},
		{"preferredLanguage", "en-US"},
		{"surname", u.surname},
		{"userPrincipalName", u.upn},
		{"accountEnabled", u.accountEnabled},
		{"userType", userType},
		{"onPremisesSyncEnabled", onPrem},
		{"department", u.department},
		{"createdDateTime", ts(u.created)},
		{"mailNickname", local},
		{"proxyAddresses", []string{"SMTP:" + u.mail}},
		{"usageLocation", "US"},
		{"assignedLicenses", licenses},
	}
}

func pad4(i int) string {
	s := itoa64(int64(i % 10000))
	return strings.Repeat("0", 4-len(s)) + s
}

// selectOrDefault projects o on the $select list, or on the type's default
// property set when there is none.
func selectOrDefault(o object, sel, defaults []string) object {
	if len(sel) > 0 {
		return o.project(sel)
	}
	if defaults != nil {
		return o.project(defaults)
	}
	return o
}

func (rq *request) needsConsistency(advanced bool, t *listToken) *apiError {
	if !(advanced || t.Count || rq.q.search != "") {
		return nil
	}
	if strings.EqualFold(rq.r.Header.Get("ConsistencyLevel"), "eventual") {
		return nil
	}
	return newError(http.StatusBadRequest, "Request_UnsupportedQuery",
		"Unsupported Query. Advanced queries ($count, ne, not, endsWith, $search) need the ConsistencyLevel header set to 'eventual' and $count=true.")
}

func (rq *request) listUsers() error {
	s := rq.s
	t, err := rq.listOptions()
	if err != nil {
		return err
	}
	s.t.directory()
	objs := make([]object, len(s.t.users))
	for i, u := range s.t.users {
		objs[i] = s.userObject(u)
	}
	sel, err := selectList(t.Sel, "user", objs0(objs, s.userObject))
	if err != nil {
		return err
	}
	objs, advanced, err := applyFilter(t.Filter, objs)
	if err != nil {
		return err
	}
	if err := rq.needsConsistency(advanced, t); err != nil {
		return err
	}
	items := make([]any, len(objs))
	for i, o := range objs {
		items[i] = selectOrDefault(o, sel, defaultUserProps)
	}
	return rq.writeList("users", "users", t, items, rq.listPageSize(t, 100, 999))
}

// objs0 gives a sample object for $select validation even from an empty list.
func objs0(objs []object, mk func(*user) object) object {
	if len(objs) > 0 {
		return objs[0]
	}
	return mk(&user{})
}

func (rq *request) getUser() error {
	u, err := rq.s.lookupUser(rq.params["user"])
	if err != nil {
		return err
	}
	o := rq.s.userObject(u)
	sel, err := selectList(rq.q.sel, "user", o)
	if err != nil {
		return err
	}
	out := selectOrDefault(o, sel, defaultUserProps)
	rq.sendJSON(http.StatusOK, append(object{{"@odata.context", rq.graphLink("$metadata#users/$entity")}}, out...))
	return nil
}

// mailboxUser resolves the {user} of an Exchange call and requires a mailbox.
func (rq *request) mailboxUser() (*user, *apiError) {
	u, err := rq.s.lookupUser(rq.params["user"])
	if err != nil {
		return nil, err
	}
	if !u.hasMailbox {
		return nil, errMailboxNotEnabled()
	}
	return u, nil
}

func (rq *request) getMailboxSettings() error {
	u, err := rq.mailboxUser()
	if err != nil {
		return err
	}
	archive := rq.s.ids().encode(ref{Kind: kMailFolder, Owner: uint32(u.idx), Index: 7})
	rq.sendJSON(http.StatusOK, object{
		{"@odata.context", rq.graphLink("$metadata#users('" + u.id + "')/mailboxSettings")},
		{"archiveFolder", archive},
		{"timeZone", "UTC"},
		{"automaticRepliesSetting", map[string]any{"status": "disabled", "externalAudience": "all", "internalReplyMessage": "", "externalReplyMessage": ""}},
		{"dateFormat", "yyyy-MM-dd"},
		{"timeFormat", "HH:mm"},
		{"userPurpose", "user"},
		{"delegateMeetingMessageDeliveryOptions", "sendToDelegateOnly"},
		{"language", map[string]any{"locale": "en-US", "displayName": "English (United States)"}},
		{"workingHours", map[string]any{"daysOfWeek": []string{"monday", "tuesday", "wednesday", "thursday", "friday"},
			"startTime": "08:00:00.0000000", "endTime": "17:00:00.0000000", "timeZone": map[string]any{"name": "UTC"}}},
	})
	return nil
}

func (s *Server) groupObject(g *group) object {
	rpo := []string{}
	if g.isTeam {
		rpo = []string{"Team"}
	}
	mail := g.nickname + "@" + s.t.domain
	return object{
		{"id", g.id},
		{"createdDateTime", ts(g.created)},
		{"description", g.displayName + " collaboration space"},
		{"displayName", g.displayName},
		{"groupTypes", []string{"Unified"}},
		{"mail", mail},
		{"mailEnabled", true},
		{"mailNickname", g.nickname},
		{"proxyAddresses", []string{"SMTP:" + mail}},
		{"resourceProvisioningOptions", rpo},
		{"securityEnabled", false},
		{"visibility", "Private"},
	}
}

func (rq *request) listGroups() error {
	s := rq.s
	t, err := rq.listOptions()
	if err != nil {
		return err
	}
	s.t.directory()
	objs := make([]object, len(s.t.groups))
	for i, g := range s.t.groups {
		objs[i] = s.groupObject(g)
	}
	sel, err := selectList(t.Sel, "group", s.groupObject(&group{}))
	if err != nil {
		return err
	}
	objs, advanced, err := applyFilter(t.Filter, objs)
	if err != nil {
		return err
	}
	if err := rq.needsConsistency(advanced, t); err != nil {
		return err
	}
	items := make([]any, len(objs))
	for i, o := range objs {
		items[i] = selectOrDefault(o, sel, nil)
	}
	return rq.writeList("groups", "groups", t, items, rq.listPageSize(t, 100, 999))
}

func (rq *request) getGroup() error {
	g, ok := rq.s.t.groupByID(rq.params["group"])
	if !ok {
		return errResourceNotFound(rq.params["group"])
	}
	o := rq.s.groupObject(g)
	sel, err := selectList(rq.q.sel, "group", o)
	if err != nil {
		return err
	}
	rq.sendJSON(http.StatusOK, selectOrDefault(o, sel, nil))
	return nil
}

func (rq *request) getTeam() error {
	g, ok := rq.s.t.groupByID(rq.params["group"])
	if !ok || !g.isTeam {
		return newError(http.StatusNotFound, "NotFound", "No team found with Group Id %s", rq.params["group"])
	}
	rq.sendJSON(http.StatusOK, object{
		{"id", g.id},
		{"createdDateTime", ts(g.created)},
		{"displayName", g.displayName},
		{"description", g.displayName + " collaboration space"},
		{"isArchived", false},
		{"webUrl", "https://teams.microsoft.com/l/team/19%3a" + g.id + "%40thread.tacv2/conversations?groupId=" + g.id + "&tenantId=" + rq.s.opts.TenantID},
		{"visibility", "private"},
	})
	return nil
}

func (s *Server) siteObject(st *site) object {
	o := object{
		{"id", st.id},
		{"createdDateTime", ts(st.created)},
		{"lastModifiedDateTime", ts(st.created.AddDate(0, 3, 0))},
		{"name", st.name},
		{"displayName", st.displayName},
		{"webUrl", st.webURL},
		{"description", st.displayName},
		{"siteCollection", map[string]any{"hostname": siteHost(st, s.t.spHost())}},
	}
	if st.root {
		o = append(o, kv{"root", map[string]any{}})
	}
	return o
}

// site resolves a site key, including host:/path addresses.
func (rq *request) site(key string) (*site, *apiError) {
	var st *site
	var ok bool
	if rq.hasRel {
		st, ok = rq.s.t.siteByPath(key, rq.relPath)
	} else {
		st, ok = rq.s.t.siteByKey(key)
	}
	if !ok {
		return nil, newError(http.StatusNotFound, "itemNotFound", "Requested site could not be found")
	}
	return st, nil
}

func (rq *request) listSites() error {
	s := rq.s
	t, err := rq.listOptions()
	if err != nil {
		return err
	}
	s.t.directory()
	objs := make([]object, 0, len(s.t.sites)+len(s.t.listedSites))
	for _, st := range s.t.sites {
		objs = append(objs, s.siteObject(st))
	}
	for _, st := range s.t.listedSites {
		objs = append(objs, s.siteObject(st))
	}
	sel, err := selectList(t.Sel, "site", s.siteObject(&site{}), "root")
	if err != nil {
		return err
	}
	objs, _, err = applyFilter(t.Filter, objs)
	if err != nil {
		return err
	}
	items := make([]any, len(objs))
	for i, o := range objs {
		items[i] = selectOrDefault(o, sel, nil)
	}
	return rq.writeList("sites", "sites", t, items, rq.listPageSize(t, 200, 999))
}

func (rq *request) getSite() error {
	st, err := rq.site(rq.params["site"])
	if err != nil {
		return err
	}
	o := rq.s.siteObject(st)
	sel, err := selectList(rq.q.sel, "site", o, "root")
	if err != nil {
		return err
	}
	rq.sendJSON(http.StatusOK, selectOrDefault(o, sel, nil))
	return nil
}

func (rq *request) listSiteDrives() error {
	st, err := rq.site(rq.params["site"])
	if err != nil {
		return err
	}
	drives := []any{}
	if owner, ok := rq.s.t.siteDriveOwner(st); ok {
		drives = append(drives, rq.s.driveObject(owner))
		if st.idx >= 0 {
			for _, o := range rq.s.t.siteLibraryOwners(st)[1:] {
				drives = append(drives, rq.s.driveObject(o))
			}
		}
	}
	return rq.writeList("sites/"+escapeSeg(st.id)+"/drives", "drives", &listToken{}, drives, 1000)
}

func (rq *request) listUserDrives() error {
	u, err := rq.s.lookupUser(rq.params["user"])
	if err != nil {
		return err
	}
	if !u.hasDrive {
		return errNoMySite()
	}
	if rq.s.t.driveLocked(rq.s.t.driveOwnerOfUser(u)) {
		return errSiteLocked()
	}
	d := rq.s.driveObject(rq.s.t.driveOwnerOfUser(u))
	return rq.writeList("users/"+u.id+"/drives", "drives", &listToken{}, []any{d}, 1000)
}
