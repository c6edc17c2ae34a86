package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"path"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/corso-temporal/corso/export"
	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/workflows"
)

// selected runs `backup details SERVICE --backup id --json args` and
// returns the ids of the entries it lists, sorted.
func (a exchangeAdmin) selected(t *testing.T, service, id string, args ...string) []string {
	t.Helper()
	r := a.run(t, append([]string{"backup", "details", service, "--backup", id, "--json"}, args...)...)
	mustSucceed(t, r)
	var d workflows.BackupDetailsResult
	if err := json.Unmarshal([]byte(r.Stdout), &d); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range d.Entries {
		out = append(out, e.ItemID)
	}
	sort.Strings(out)
	return out
}

// selection is one selector invocation and the items the tenant says it
// must select.
type selection struct {
	args []string
	want []string
}

// assertSelections runs each selection against one backup. Every one must
// select something, less than everything, and exactly what the tenant
// says.
func (a exchangeAdmin) assertSelections(t *testing.T, service, id string, total int, sels []selection) {
	t.Helper()
	for _, s := range sels {
		sort.Strings(s.want)
		if len(s.want) == 0 || len(s.want) >= total {
			t.Errorf("%v: the tenant has %d of %d items to select: that proves nothing", s.args, len(s.want), total)
			continue
		}
		if got := a.selected(t, service, id, s.args...); !slices.Equal(got, s.want) {
			t.Errorf("%v selected %d items, want %d:\n got %v\nwant %v", s.args, len(got), len(s.want), got, s.want)
		}
	}
}

func ids[T any](items []T, id func(T) string, keep func(T) bool) []string {
	var out []string
	for _, it := range items {
		if keep(it) {
			out = append(out, id(it))
		}
	}
	return out
}

func itemID(it tenantItem) string { return it.id }

func containsFold(have, want string) bool {
	return strings.Contains(strings.ToLower(have), strings.ToLower(want))
}

// splitTimes returns an instant between two of the times, near their
// middle, to the second, so that some are after it and some before.
func splitTimes(t *testing.T, times []time.Time) time.Time {
	t.Helper()
	sorted := slices.Clone(times)
	slices.SortFunc(sorted, time.Time.Compare)
	for d := 0; d < len(sorted)/2; d++ {
		for _, i := range []int{len(sorted)/2 + d, len(sorted)/2 - d} {
			if i <= 0 || i >= len(sorted) {
				continue
			}
			mid := sorted[i-1].Add(sorted[i].Sub(sorted[i-1]) / 2).Truncate(time.Second)
			if mid.After(sorted[i-1]) && mid.Before(sorted[i]) {
				return mid
			}
		}
	}
	t.Fatalf("no two distinct times among %v", times)
	return time.Time{}
}

// docTime reads a Graph date-time property: a string, or {dateTime,
// timeZone} in UTC.
func docTime(t *testing.T, doc map[string]any, key string) time.Time {
	t.Helper()
	if s, ok := doc[key].(string); ok {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatalf("%s %q: %v", key, s, err)
		}
		return tm
	}
	tm, err := graphTime(doc[key])
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return tm
}

// TestExchangeSelectors runs every Exchange selector of `backup details`
// once against one backup, each selecting what the simulated tenant says
// it must, and an export selecting events and contacts by calendar and
// folder.
func TestExchangeSelectors(t *testing.T) {
	a := newExchangeAdmin(t, tenant, "exchange-selectors")
	user := mailboxes(t, tenant)[0]
	id := a.backup(t, user)[0].BackupID
	c := &simClient{sim: tenant}
	items := mailboxItems(t, c, user)
	of := func(cat string) []tenantItem {
		return keepItems(items, func(it tenantItem) bool { return it.category == cat })
	}
	mail, events, contacts := of("email"), of("events"), of("contacts")
	if len(mail) < 10 || len(events) < 3 || len(contacts) < 3 {
		t.Fatalf("mailbox too small: %v", counts(items))
	}

	// Mail.
	sender := func(it tenantItem) string {
		if s := str(it.doc, "sender", "emailAddress", "address"); s != "" {
			return s
		}
		return str(it.doc, "from", "emailAddress", "address")
	}
	var received []time.Time
	for _, it := range mail {
		received = append(received, docTime(t, it.doc, "receivedDateTime"))
	}
	rcvSplit := splitTimes(t, received)
	perTop := map[string]int{}
	top := ""
	for _, it := range mail {
		if perTop[it.folder[0]]++; perTop[it.folder[0]] > perTop[top] {
			top = it.folder[0]
		}
	}
	word := subjectWord(t, items)
	from := sender(mail[len(mail)/2])
	// Events.
	var starts []time.Time
	for _, it := range events {
		starts = append(starts, docTime(t, it.doc, "start"))
	}
	startSplit := splitTimes(t, starts)
	calendar := events[0].folder
	eventWord := ""
	for _, w := range strings.Fields(events[1].title) {
		if len(w) >= 4 && len(ids(events, itemID, func(it tenantItem) bool { return containsFold(it.title, w) })) < len(events) {
			eventWord = w
			break
		}
	}
	organizer := str(events[0].doc, "organizer", "emailAddress", "address")
	// Contacts: a subfolder when there is one.
	contactFolder := contacts[0].folder
	for _, it := range contacts {
		if len(it.folder) > len(contactFolder) {
			contactFolder = it.folder
		}
	}
	name := strings.Fields(contacts[len(contacts)-1].title)[0]
	under := func(folder []string) func(tenantItem) bool {
		return func(it tenantItem) bool {
			return len(it.folder) >= len(folder) && slices.Equal(it.folder[:len(folder)], folder)
		}
	}

	a.assertSelections(t, "exchange", id, len(items), []selection{
		{[]string{"--email", mail[0].id + "," + mail[3].id}, []string{mail[0].id, mail[3].id}},
		{[]string{"--email-folder", top}, ids(mail, itemID, func(it tenantItem) bool { return it.folder[0] == top })},
		{[]string{"--email-subject", strings.ToUpper(word)}, ids(mail, itemID, func(it tenantItem) bool { return containsFold(it.title, word) })},
		{[]string{"--email-sender", strings.ToUpper(from)}, ids(mail, itemID, func(it tenantItem) bool { return containsFold(sender(it), from) })},
		{[]string{"--email-received-after", rcvSplit.Format(time.RFC3339)},
			ids(mail, itemID, func(it tenantItem) bool { return docTime(t, it.doc, "receivedDateTime").After(rcvSplit) })},
		{[]string{"--email-received-before", rcvSplit.Format(time.RFC3339)},
			ids(mail, itemID, func(it tenantItem) bool { return docTime(t, it.doc, "receivedDateTime").Before(rcvSplit) })},
		{[]string{"--event", events[1].id}, []string{events[1].id}},
		{[]string{"--event-calendar", strings.Join(calendar, "/")}, ids(events, itemID, under(calendar))},
		{[]string{"--event-subject", eventWord}, ids(events, itemID, func(it tenantItem) bool { return containsFold(it.title, eventWord) })},
		{[]string{"--event-organizer", organizer}, ids(events, itemID, func(it tenantItem) bool {
			return containsFold(str(it.doc, "organizer", "emailAddress", "address"), organizer)
		})},
		{[]string{"--event-starts-after", startSplit.Format(time.RFC3339)},
			ids(events, itemID, func(it tenantItem) bool { return docTime(t, it.doc, "start").After(startSplit) })},
		{[]string{"--event-starts-before", startSplit.Format(time.RFC3339)},
			ids(events, itemID, func(it tenantItem) bool { return docTime(t, it.doc, "start").Before(startSplit) })},
		{[]string{"--contact", contacts[2].id}, []string{contacts[2].id}},
		{[]string{"--contact-folder", strings.Join(contactFolder, "/")}, ids(contacts, itemID, under(contactFolder))},
		{[]string{"--contact-name", strings.ToLower(name)}, ids(contacts, itemID, func(it tenantItem) bool { return containsFold(it.title, name) })},
		// Filters of one category leave the others out; of two, select from both.
		{[]string{"--email-folder", top, "--contact-name", name}, append(
			ids(mail, itemID, func(it tenantItem) bool { return it.folder[0] == top }),
			ids(contacts, itemID, func(it tenantItem) bool { return containsFold(it.title, name) })...)},
	})
	if t.Failed() {
		return
	}

	// An export of a calendar and a contact folder holds exactly their
	// events and contacts, as the tenant has them.
	dir := t.TempDir()
	mustSucceed(t, a.run(t, "export", "exchange", dir, "--backup", id,
		"--event-calendar", strings.Join(calendar, "/"), "--contact-folder", strings.Join(contactFolder, "/")))
	assertExportMatchesTenant(t, "export of a calendar and a contact folder", c, readExportDir(t, dir),
		keepItems(items, func(it tenantItem) bool {
			return it.category == "events" && under(calendar)(it) || it.category == "contacts" && under(contactFolder)(it)
		}))
}

// driveFile is a file of a simulated drive as the tenant gives it.
type driveFile struct {
	graphsim.StateItem
	created time.Time
}

// TestSharePointSelectors runs every drive selector of `backup details`
// once against one SharePoint backup, each selecting what the simulated
// tenant says it must, and an export of one folder.
func TestSharePointSelectors(t *testing.T) {
	a := newExchangeAdmin(t, tenant, "sharepoint-selectors")
	var site graphsim.InfoRef
	for _, s := range tenant.Info().Sites {
		if s.Special == "" {
			site = s
			break
		}
	}
	if site.ID == "" {
		t.Fatal("the simulated tenant has no ordinary site")
	}
	c := &simClient{sim: tenant}
	var siteDoc struct {
		WebURL string `json:"webUrl"`
	}
	if err := json.Unmarshal(c.get(t, "/v1.0/sites/"+url.PathEscape(site.ID)), &siteDoc); err != nil {
		t.Fatal(err)
	}
	// By its id ("hostname,guid,guid"), which the comma-separated flag
	// must keep whole.
	bs := a.driveBackup(t, "sharepoint", "site", site.ID)
	if len(bs) != 1 || !strings.EqualFold(bs[0].ResourceName, siteDoc.WebURL) && bs[0].Resource != site.ID {
		t.Fatalf("want one backup of %s, got %+v", site.ID, bs)
	}
	id := bs[0].BackupID

	var library struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(c.get(t, "/v1.0/drives/"+url.PathEscape(site.DriveID)), &library); err != nil || library.Name == "" {
		t.Fatalf("library of %s: %v %q", site.ID, err, library.Name)
	}
	st, err := tenant.State(graphsim.StateFilter{Category: "files"})
	if err != nil {
		t.Fatal(err)
	}
	var files []driveFile
	for _, it := range st.Items {
		if it.Kind != "file" || it.ResourceID != site.ID {
			continue
		}
		var doc map[string]any
		if err := json.Unmarshal(c.get(t, "/v1.0/drives/"+url.PathEscape(site.DriveID)+"/items/"+url.PathEscape(it.ID)), &doc); err != nil {
			t.Fatal(err)
		}
		fsi, _ := doc["fileSystemInfo"].(map[string]any)
		created := fsi
		if str(fsi, "createdDateTime") == "" {
			created = doc
		}
		files = append(files, driveFile{StateItem: it, created: docTime(t, created, "createdDateTime")})
	}
	if len(files) < 6 {
		t.Fatalf("site %s has %d files: too few to select from", site.ID, len(files))
	}
	fileID := func(f driveFile) string { return f.ID }
	segs := func(f driveFile) []string {
		if f.Path == "" {
			return nil
		}
		return strings.Split(f.Path, "/")
	}
	// A top-level folder, and a word of a nested folder's name.
	perTop := map[string]int{}
	top, nested := "", ""
	for _, f := range files {
		if s := segs(f); len(s) > 0 {
			if perTop[s[0]]++; perTop[s[0]] > perTop[top] {
				top = s[0]
			}
			if len(s) > 1 && nested == "" {
				nested = s[len(s)-1]
			}
		}
	}
	if top == "" || nested == "" {
		t.Fatalf("site %s has no nested folders: %v", site.ID, perTop)
	}
	var created, modified []time.Time
	for _, f := range files {
		created, modified = append(created, f.created), append(modified, f.Modified)
	}
	createdSplit, modifiedSplit := splitTimes(t, created), splitTimes(t, modified)
	named := []string{files[1].Name, strings.ToUpper(files[4].Name)}

	a.assertSelections(t, "sharepoint", id, len(files), []selection{
		{[]string{"--folder", "/" + top}, ids(files, fileID, func(f driveFile) bool { s := segs(f); return len(s) > 0 && s[0] == top })},
		{[]string{"--folder", strings.ToLower(nested)}, ids(files, fileID, func(f driveFile) bool { return containsFold(f.Path, nested) })},
		{[]string{"--file", strings.Join(named, ",")}, ids(files, fileID, func(f driveFile) bool {
			return strings.EqualFold(f.Name, named[0]) || strings.EqualFold(f.Name, named[1])
		})},
		{[]string{"--file-created-after", createdSplit.Format(time.RFC3339)}, ids(files, fileID, func(f driveFile) bool { return f.created.After(createdSplit) })},
		{[]string{"--file-created-before", createdSplit.Format(time.RFC3339)}, ids(files, fileID, func(f driveFile) bool { return f.created.Before(createdSplit) })},
		{[]string{"--file-modified-after", modifiedSplit.Format(time.RFC3339)}, ids(files, fileID, func(f driveFile) bool { return f.Modified.After(modifiedSplit) })},
		{[]string{"--file-modified-before", modifiedSplit.Format(time.RFC3339)}, ids(files, fileID, func(f driveFile) bool { return f.Modified.Before(modifiedSplit) })},
		{[]string{"--library", strings.ToUpper(library.Name), "--folder", "/" + top},
			ids(files, fileID, func(f driveFile) bool { s := segs(f); return len(s) > 0 && s[0] == top })},
	})
	if got := a.selected(t, "sharepoint", id, "--library", library.Name); len(got) != len(files) {
		t.Errorf("--library %q selected %d files, the library has %d", library.Name, len(got), len(files))
	}
	if got := a.selected(t, "sharepoint", id, "--library", library.Name+" archive"); len(got) != 0 {
		t.Errorf("--library %q selected %d files of library %q", library.Name+" archive", len(got), library.Name)
	}

	// An export of one folder holds its files, by content and name.
	dir := t.TempDir()
	mustSucceed(t, a.run(t, "export", "sharepoint", dir, "--backup", id, "--folder", "/"+top))
	var got, want []string
	for name, data := range readExportDir(t, dir) {
		h := sha256.Sum256(data)
		got = append(got, path.Base(name)+" "+hex.EncodeToString(h[:]))
	}
	for _, f := range files {
		if s := segs(f); len(s) > 0 && s[0] == top {
			want = append(want, export.SafeName(f.Name)+" "+f.Hash)
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	if len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("export --folder /%s wrote\n%v\nwant\n%v", top, got, want)
	}
}
