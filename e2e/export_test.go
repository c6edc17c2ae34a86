package e2e

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"
	"github.com/emersion/go-vcard"

	"github.com/corso-temporal/corso/export"
	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/workflows"
)

// exportedFiles is an export, read from a directory or a zip: slash
// path below the root → content.
type exportedFiles map[string][]byte

func readExportDir(t *testing.T, root string) exportedFiles {
	t.Helper()
	out := exportedFiles{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		out[filepath.ToSlash(rel)] = data
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func readExportZip(t *testing.T, file string) exportedFiles {
	t.Helper()
	zr, err := zip.OpenReader(file)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	out := exportedFiles{}
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = data
	}
	return out
}

// tenantItem is one item of a simulated mailbox as the tenant itself
// gives it, and where its export belongs.
type tenantItem struct {
	category string // email, contacts, events
	user     string // the mailbox's user id
	id       string
	folder   []string // display names from the mailbox root
	title    string   // the subject or display name the file is named by
	hash     string   // mail: SHA-256 of the MIME the tenant serves
	doc      map[string]any
	raw      []byte // contacts and events: the tenant's JSON
}

// dir is where an export puts the item: the category, then the folder
// chain with each name made safe. SafeName is the product's own
// function, used here as a name mapper only: its rules are pinned with
// literal expectations in export's TestSafeName and TestFileName.
func (it tenantItem) dir() string {
	segs := []string{it.category}
	for _, f := range it.folder {
		segs = append(segs, export.SafeName(f))
	}
	return strings.Join(segs, "/")
}

// mailboxItems reads a mailbox's mail, contacts and events from the
// simulated tenant: state for mail hashes and folder names, Graph's JSON
// for everything else.
func mailboxItems(t *testing.T, c *simClient, user string) []tenantItem {
	t.Helper()
	st, err := c.sim.State(graphsim.StateFilter{User: user})
	if err != nil {
		t.Fatal(err)
	}
	cats := map[string]string{"mail": "email", "contacts": "contacts", "events": "events"}
	var out []tenantItem
	for _, it := range st.Items {
		cat, ok := cats[it.Category]
		if !ok || it.Kind == "folder" {
			continue
		}
		if len(it.Folders) == 0 {
			t.Fatalf("the tenant gives no folders of %s", it.ID)
		}
		ti := tenantItem{category: cat, user: it.ResourceID, id: it.ID, folder: it.Folders, title: it.Name}
		var path string
		switch cat {
		case "email":
			ti.hash = it.Hash
			path = "/v1.0/users/" + it.ResourceID + "/messages/" + url.PathEscape(it.ID)
		case "contacts":
			path = "/v1.0/users/" + it.ResourceID + "/contacts/" + url.PathEscape(it.ID)
		case "events":
			path = "/beta/users/" + it.ResourceID + "/events/" + url.PathEscape(it.ID) + "?$expand=exceptionOccurrences"
		}
		ti.raw = c.get(t, path)
		if err := json.Unmarshal(ti.raw, &ti.doc); err != nil {
			t.Fatal(err)
		}
		if cat == "contacts" {
			ti.title = contactTitle(ti.doc)
		}
		out = append(out, ti)
	}
	return out
}

func str(doc map[string]any, keys ...string) string {
	var v any = doc
	for _, k := range keys {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	s, _ := v.(string)
	return s
}

func strs(doc map[string]any, key string) []string {
	var out []string
	list, _ := doc[key].([]any)
	for _, x := range list {
		if s, _ := x.(string); strings.TrimSpace(s) != "" {
			out = append(out, strings.TrimSpace(s))
		}
	}
	return out
}

// contactTitle is the name a contact's file and FN carry: its display
// name, else its name parts, else its first address, else its company.
func contactTitle(doc map[string]any) string {
	one := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	if s := one(str(doc, "displayName")); s != "" {
		return s
	}
	var parts []string
	for _, k := range []string{"title", "givenName", "middleName", "surname", "generation"} {
		if s := strings.TrimSpace(str(doc, k)); s != "" {
			parts = append(parts, s)
		}
	}
	if s := one(strings.Join(parts, " ")); s != "" {
		return s
	}
	for _, e := range contactEmails(doc) {
		return e
	}
	if s := one(str(doc, "companyName")); s != "" {
		return s
	}
	return "Unnamed contact"
}

func contactEmails(doc map[string]any) []string {
	var out []string
	list, _ := doc["emailAddresses"].([]any)
	for _, x := range list {
		e, _ := x.(map[string]any)
		if a := strings.TrimSpace(str(e, "address")); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// namedAfter reports whether a file's name is the one an item's title
// gives, or that name numbered because another file of the folder took it.
func namedAfter(base, category, title string) bool {
	want := export.FileName(category, title)
	if base == want {
		return true
	}
	ext := path.Ext(want)
	stem, ok := strings.CutPrefix(strings.TrimSuffix(base, ext), strings.TrimSuffix(want, ext)+" (")
	if !ok || !strings.HasSuffix(base, ext) || !strings.HasSuffix(stem, ")") {
		return false
	}
	n, err := strconv.Atoi(strings.TrimSuffix(stem, ")"))
	return err == nil && n >= 2
}

// assertExportMatchesTenant checks an export file by file against the
// tenant: every file is one item of want, in that item's folder and named
// after it, with the tenant's content (a message's exact MIME; a
// contact's names, addresses, phones, organisation, notes and dates; an
// event's subject, times and occurrences), and every item of want is
// exported exactly once.
func assertExportMatchesTenant(t *testing.T, what string, c *simClient, files exportedFiles, want []tenantItem) {
	t.Helper()
	if len(want) == 0 {
		t.Fatalf("%s: nothing to compare", what)
	}
	byID := map[string]*tenantItem{}
	byHash := map[string][]*tenantItem{}
	for i := range want {
		it := &want[i]
		byID[it.category+"/"+it.id] = it
		if it.category == "email" {
			byHash[it.hash] = append(byHash[it.hash], it)
		}
	}
	if len(files) != len(want) {
		t.Errorf("%s: %d files exported, want %d", what, len(files), len(want))
	}
	done := map[*tenantItem]string{}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	bad := 0
	fail := func(format string, args ...any) {
		t.Helper()
		if bad++; bad <= 10 {
			t.Errorf("%s: "+format, append([]any{what}, args...)...)
		}
	}
	for _, name := range names {
		data := files[name]
		dir, base := path.Split(name)
		dir = strings.TrimSuffix(dir, "/")
		category, _, _ := strings.Cut(name, "/")
		var it *tenantItem
		switch category {
		case "email":
			if path.Ext(name) != ".eml" {
				fail("%s: not an .eml", name)
				continue
			}
			h := sha256.Sum256(data)
			for _, cand := range byHash[hex.EncodeToString(h[:])] {
				if done[cand] == "" && cand.dir() == dir {
					it = cand
					break
				}
			}
			if it == nil {
				fail("%s: no message of the tenant has these %d bytes in this folder", name, len(data))
				continue
			}
		case "contacts":
			card, err := vcard.NewDecoder(bytes.NewReader(data)).Decode()
			if err != nil || path.Ext(name) != ".vcf" {
				fail("%s: not a vCard: %v", name, err)
				continue
			}
			if it = byID["contacts/"+card.Value(vcard.FieldUID)]; it == nil {
				fail("%s: UID %q is no contact of the tenant", name, card.Value(vcard.FieldUID))
				continue
			}
			for _, d := range contactDiffs(card, it.doc) {
				fail("%s: %s", name, d)
			}
		case "events":
			cal, err := ical.NewDecoder(bytes.NewReader(data)).Decode()
			if err != nil || path.Ext(name) != ".ics" {
				fail("%s: not an iCalendar: %v", name, err)
				continue
			}
			uid := ""
			for _, ev := range cal.Events() {
				uid, _ = ev.Props.Text(ical.PropUID)
			}
			for _, cand := range byID {
				if cand.category == "events" && (str(cand.doc, "iCalUId") == uid || cand.id == uid) {
					it = cand
				}
			}
			if it == nil {
				fail("%s: UID %q is no event of the tenant", name, uid)
				continue
			}
			for _, d := range eventDiffs(t, c, cal, it) {
				fail("%s: %s", name, d)
			}
		default:
			fail("unexpected file %s", name)
			continue
		}
		if prev := done[it]; prev != "" {
			fail("%s and %s are both %s %s", prev, name, it.category, it.id)
		}
		done[it] = name
		if it.dir() != dir {
			fail("%s: in %s, want %s (folders %q)", name, dir, it.dir(), it.folder)
		}
		if !namedAfter(base, it.category, it.title) {
			fail("%s: not named after %q (%s)", name, it.title, export.FileName(it.category, it.title))
		}
	}
	for i := range want {
		if done[&want[i]] == "" {
			fail("%s %s %q in %q was not exported", want[i].category, want[i].id, want[i].title, want[i].folder)
		}
	}
	if bad > 0 {
		t.Fatalf("%s: %d of %d files differ from the tenant", what, bad, len(files))
	}
}

// contactDiffs compares a vCard with the tenant's contact.
func contactDiffs(card vcard.Card, doc map[string]any) []string {
	var out []string
	check := func(what string, got, want any) {
		if !reflect.DeepEqual(got, want) {
			format := "%s %v, want %v"
			switch got.(type) {
			case string, []string, [][]string:
				format = "%s %q, want %q"
			}
			out = append(out, fmt.Sprintf(format, what, got, want))
		}
	}
	values := func(field string) []string {
		var vs []string
		for _, f := range card[field] {
			vs = append(vs, f.Value)
		}
		return vs
	}
	typed := func(field, typ string) []string {
		var vs []string
		for _, f := range card[field] {
			if strings.EqualFold(strings.Join(f.Params.Types(), ","), typ) {
				vs = append(vs, f.Value)
			}
		}
		return vs
	}
	trim := func(keys ...string) []string {
		var vs []string
		for _, k := range keys {
			vs = append(vs, strings.TrimSpace(str(doc, k)))
		}
		return vs
	}
	check("UID", card.Value(vcard.FieldUID), str(doc, "id"))
	check("FN", card.Value(vcard.FieldFormattedName), contactTitle(doc))
	parts := trim("surname", "givenName", "middleName", "title", "generation")
	if strings.Join(parts, "") == "" {
		check("N", card.Get(vcard.FieldName) == nil, true)
	} else if n := card.Get(vcard.FieldName); n == nil {
		out = append(out, "no N")
	} else {
		check("N", splitStructured(n.Value), parts)
	}
	check("NICKNAME", card.Value(vcard.FieldNickname), strings.TrimSpace(str(doc, "nickName")))
	check("EMAIL", values(vcard.FieldEmail), contactEmails(doc))
	var cell []string
	if s := strings.TrimSpace(str(doc, "mobilePhone")); s != "" {
		cell = []string{s}
	}
	check("TEL;TYPE=cell", typed(vcard.FieldTelephone, "cell"), cell)
	check("TEL;TYPE=work", typed(vcard.FieldTelephone, "work"), strs(doc, "businessPhones"))
	check("TEL;TYPE=home", typed(vcard.FieldTelephone, "home"), strs(doc, "homePhones"))
	check("TEL", len(values(vcard.FieldTelephone)), len(cell)+len(strs(doc, "businessPhones"))+len(strs(doc, "homePhones")))
	var org []string
	if co, dep := strings.TrimSpace(str(doc, "companyName")), strings.TrimSpace(str(doc, "department")); dep != "" {
		org = []string{strings.Join([]string{co, dep}, ";")}
	} else if co != "" {
		org = []string{co}
	}
	if o := card.Get(vcard.FieldOrganization); o != nil {
		check("ORG", []string{strings.Join(splitStructured(o.Value), ";")}, org)
	} else {
		check("ORG", []string(nil), org)
	}
	check("TITLE", card.Value(vcard.FieldTitle), strings.TrimSpace(str(doc, "jobTitle")))
	check("ROLE", card.Value(vcard.FieldRole), strings.TrimSpace(str(doc, "profession")))
	for key, typ := range map[string]string{"homeAddress": "home", "businessAddress": "work", "otherAddress": ""} {
		a, _ := doc[key].(map[string]any)
		want := []string{"", "", strings.TrimSpace(str(a, "street")), strings.TrimSpace(str(a, "city")), strings.TrimSpace(str(a, "state")),
			strings.TrimSpace(str(a, "postalCode")), strings.TrimSpace(str(a, "countryOrRegion"))}
		var got [][]string
		for _, f := range card[vcard.FieldAddress] {
			if strings.Join(f.Params.Types(), ",") == typ {
				got = append(got, splitStructured(f.Value))
			}
		}
		if strings.Join(want, "") == "" {
			check("ADR "+key, len(got), 0)
		} else {
			check("ADR "+key, got, [][]string{want})
		}
	}
	if b := str(doc, "birthday"); len(b) >= 10 {
		want := strings.ReplaceAll(b[:10], "-", "")
		if b[:4] <= "1604" {
			want = "--" + want[4:]
		}
		check("BDAY", card.Value(vcard.FieldBirthday), want)
	} else {
		check("BDAY", card.Value(vcard.FieldBirthday), "")
	}
	if notes := str(doc, "personalNotes"); strings.TrimSpace(notes) != "" {
		check("NOTE", card.Value(vcard.FieldNote), strings.ReplaceAll(notes, "\r\n", "\n"))
	} else {
		check("NOTE", card.Value(vcard.FieldNote), "")
	}
	var cats []string
	if card.Get(vcard.FieldCategories) != nil {
		cats = card.Categories()
	}
	check("CATEGORIES", cats, strs(doc, "categories"))
	check("URL", card.Value(vcard.FieldURL), strings.TrimSpace(str(doc, "businessHomePage")))
	if rev, err := card.Revision(); err != nil || !sameInstant(rev, str(doc, "lastModifiedDateTime")) {
		out = append(out, fmt.Sprintf("REV %v (%v), want %s", rev, err, str(doc, "lastModifiedDateTime")))
	}
	return out
}

// splitStructured splits a structured vCard value, which go-vcard leaves
// with "\;" escaped.
func splitStructured(v string) []string {
	var out []string
	var cur strings.Builder
	for i := 0; i < len(v); i++ {
		switch {
		case v[i] == '\\' && i+1 < len(v) && v[i+1] == ';':
			cur.WriteByte(';')
			i++
		case v[i] == ';':
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(v[i])
		}
	}
	return append(out, cur.String())
}

func sameInstant(got time.Time, want string) bool {
	w, err := time.Parse(time.RFC3339, want)
	return err == nil && got.Equal(w.Truncate(time.Second))
}

// graphTime reads Graph's {dateTime, timeZone}; the simulator answers in
// UTC.
func graphTime(v any) (time.Time, error) {
	m, _ := v.(map[string]any)
	if zone := str(m, "timeZone"); zone != "UTC" {
		return time.Time{}, fmt.Errorf("time zone %q, want UTC", zone)
	}
	tm, err := time.Parse("2006-01-02T15:04:05.9999999", str(m, "dateTime"))
	return tm.Truncate(time.Second), err
}

// eventDiffs compares an iCalendar with the tenant's event: subject,
// start and end instants (dates for all-day events), and for a series
// every occurrence, moved ones where they moved to and cancelled ones
// left out, against the occurrences the tenant lists (/instances).
func eventDiffs(t *testing.T, c *simClient, cal *ical.Calendar, it *tenantItem) []string {
	t.Helper()
	var out []string
	var master *ical.Event
	overrides := map[time.Time]time.Time{} // original start → start
	for _, ev := range cal.Events() {
		if ev.Props.Get(ical.PropRecurrenceID) == nil {
			if master != nil {
				out = append(out, "two VEVENTs without RECURRENCE-ID")
			}
			master = &ev
			continue
		}
		rid, err1 := ev.Props.DateTime(ical.PropRecurrenceID, time.UTC)
		start, err2 := ev.DateTimeStart(time.UTC)
		if err := errors.Join(err1, err2); err != nil {
			out = append(out, "exception: "+err.Error())
			continue
		}
		overrides[rid.UTC()] = start.UTC()
	}
	if master == nil {
		return append(out, "no VEVENT without RECURRENCE-ID")
	}
	if got, _ := master.Props.Text(ical.PropSummary); got != str(it.doc, "subject") {
		out = append(out, fmt.Sprintf("SUMMARY %q, want %q", got, str(it.doc, "subject")))
	}
	start, err1 := graphTime(it.doc["start"])
	end, err2 := graphTime(it.doc["end"])
	if err := errors.Join(err1, err2); err != nil {
		t.Fatalf("event %s: %v", it.id, err)
	}
	if allDay, _ := it.doc["isAllDay"].(bool); allDay {
		for prop, want := range map[string]time.Time{ical.PropDateTimeStart: start, ical.PropDateTimeEnd: end} {
			if p := master.Props.Get(prop); p == nil || p.ValueType() != ical.ValueDate || p.Value != want.Format("20060102") {
				out = append(out, fmt.Sprintf("%s %v, want the date %s", prop, p, want.Format(time.DateOnly)))
			}
		}
	} else {
		gs, err1 := master.DateTimeStart(time.UTC)
		ge, err2 := master.DateTimeEnd(time.UTC)
		if errors.Join(err1, err2) != nil || !gs.Equal(start) || !ge.Equal(end) {
			out = append(out, fmt.Sprintf("DTSTART %v DTEND %v (%v), want %v to %v", gs, ge, errors.Join(err1, err2), start, end))
		}
	}
	if it.doc["recurrence"] == nil {
		if master.Props.Get(ical.PropRecurrenceRule) != nil || len(overrides) > 0 {
			out = append(out, "a single event exported as a series")
		}
		return out
	}
	set, err := master.RecurrenceSet(time.UTC)
	if err != nil || set == nil {
		return append(out, fmt.Sprintf("series without a readable RRULE: %v", err))
	}
	from, to := start.AddDate(0, 0, -1), start.AddDate(3, 0, 0)
	var got []time.Time
	for _, occ := range set.Between(from, to, true) {
		if moved, ok := overrides[occ.UTC()]; ok {
			occ = moved
		}
		got = append(got, occ.UTC())
	}
	var wantStarts []time.Time
	q := url.Values{"startDateTime": {from.Format(time.RFC3339)}, "endDateTime": {to.Format(time.RFC3339)}, "$top": {"1000"}}
	for next := "/v1.0/users/" + it.user + "/events/" + url.PathEscape(it.id) + "/instances?" + q.Encode(); next != ""; {
		var page struct {
			Value []map[string]any `json:"value"`
			Next  string           `json:"@odata.nextLink"`
		}
		if err := json.Unmarshal(c.get(t, next), &page); err != nil {
			t.Fatal(err)
		}
		for _, in := range page.Value {
			s, err := graphTime(in["start"])
			if err != nil {
				t.Fatalf("instance of %s: %v", it.id, err)
			}
			wantStarts = append(wantStarts, s)
		}
		next = strings.TrimPrefix(page.Next, c.sim.Endpoint)
	}
	slices.SortFunc(got, time.Time.Compare)
	slices.SortFunc(wantStarts, time.Time.Compare)
	if len(wantStarts) < 2 || !slices.EqualFunc(got, wantStarts, time.Time.Equal) {
		out = append(out, fmt.Sprintf("occurrences (%s)\n%v\nwant the tenant's instances\n%v", master.Props.Get(ical.PropRecurrenceRule).Value, got, wantStarts))
	}
	return out
}

// counts tells how many items of each category a list holds.
func counts(items []tenantItem) map[string]int {
	out := map[string]int{}
	for _, it := range items {
		out[it.category]++
	}
	return out
}

func keepItems(items []tenantItem, keep func(tenantItem) bool) []tenantItem {
	var out []tenantItem
	for _, it := range items {
		if keep(it) {
			out = append(out, it)
		}
	}
	return out
}

func TestExchangeExport(t *testing.T) {
	a := newExchangeAdmin(t, tenant, "exchange-export")
	user := mailboxes(t, tenant)[0]
	id := a.backup(t, user)[0].BackupID
	c := &simClient{sim: tenant}
	want := mailboxItems(t, c, user)
	if n := counts(want); n["email"] < 10 || n["contacts"] < 3 || n["events"] < 3 {
		t.Fatalf("mailbox too small to prove anything: %v", n)
	}
	series, zoned, cancelled, moved := 0, 0, 0, 0
	for _, it := range want {
		if rec, _ := it.doc["recurrence"].(map[string]any); rec != nil {
			series++
			if z := str(rec, "range", "recurrenceTimeZone"); z != "" && z != "UTC" {
				zoned++
			}
			c, _ := it.doc["cancelledOccurrences"].([]any)
			m, _ := it.doc["exceptionOccurrences"].([]any)
			cancelled, moved = cancelled+len(c), moved+len(m)
		}
	}
	t.Logf("%v; %d series (%d in other zones than UTC) with %d cancelled and %d moved occurrences", counts(want), series, zoned, cancelled, moved)
	if series < 2 || cancelled+moved == 0 {
		t.Fatalf("mailbox has too few series to prove the occurrences: %d series, %d cancelled, %d moved", series, cancelled, moved)
	}

	dir := t.TempDir()
	r := a.run(t, "export", "exchange", dir, "--backup", id, "--json")
	mustSucceed(t, r)
	var res workflows.ExportResult
	if err := json.Unmarshal([]byte(r.Stdout), &res); err != nil {
		t.Fatal(err)
	}
	if res.Files != int64(len(want)) || len(res.Errors) != 0 {
		t.Fatalf("export result: %+v, want %d files", res, len(want))
	}
	assertExportMatchesTenant(t, "export", c, readExportDir(t, dir), want)

	zipDir := t.TempDir()
	mustSucceed(t, a.run(t, "export", "exchange", zipDir, "--backup", id, "--archive"))
	zips, _ := filepath.Glob(filepath.Join(zipDir, "Corso_Export_*.zip"))
	all, _ := os.ReadDir(zipDir)
	if len(zips) != 1 || len(all) != 1 {
		t.Fatalf("archive export left %v in its directory, want one Corso_Export_*.zip", all)
	}
	assertExportMatchesTenant(t, "archive", c, readExportZip(t, zips[0]), want)

	// A selection exports what it selects, and nothing else: the fullest
	// top-level mail folder with its subfolders; the messages whose
	// subject holds a word of one subject.
	perTop := map[string]int{}
	top := ""
	for _, it := range want {
		if it.category == "email" {
			if perTop[it.folder[0]]++; perTop[it.folder[0]] > perTop[top] {
				top = it.folder[0]
			}
		}
	}
	inTop := keepItems(want, func(it tenantItem) bool { return it.category == "email" && it.folder[0] == top })
	if len(inTop) == 0 || len(inTop) == counts(want)["email"] {
		t.Fatalf("folder %q holds %d of %d messages: it proves nothing", top, len(inTop), counts(want)["email"])
	}
	sel := t.TempDir()
	mustSucceed(t, a.run(t, "export", "exchange", sel, "--backup", id, "--email-folder", top))
	assertExportMatchesTenant(t, "--email-folder "+top, c, readExportDir(t, sel), inTop)

	word := subjectWord(t, want)
	bySubject := keepItems(want, func(it tenantItem) bool {
		return it.category == "email" && strings.Contains(strings.ToLower(it.title), strings.ToLower(word))
	})
	sel = t.TempDir()
	mustSucceed(t, a.run(t, "export", "exchange", sel, "--backup", id, "--email-subject", strings.ToUpper(word)))
	assertExportMatchesTenant(t, "--email-subject "+word, c, readExportDir(t, sel), bySubject)
}

// subjectWord is a word of some message's subject that not every
// subject holds.
func subjectWord(t *testing.T, items []tenantItem) string {
	t.Helper()
	mail := keepItems(items, func(it tenantItem) bool { return it.category == "email" })
	for _, it := range mail {
		for _, w := range strings.Fields(it.title) {
			if len(w) < 5 {
				continue
			}
			n := len(keepItems(mail, func(o tenantItem) bool { return strings.Contains(strings.ToLower(o.title), strings.ToLower(w)) }))
			if n >= 1 && n < len(mail) {
				return w
			}
		}
	}
	t.Fatal("no subject word selects some messages but not all")
	return ""
}

func TestExchangeExportBadInput(t *testing.T) {
	a := newExchangeAdmin(t, tenant, "exchange-export-bad")
	id := a.backup(t, mailboxes(t, tenant)[0])[0].BackupID
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	for _, tc := range []struct {
		name  string
		args  []string
		wants []string
	}{
		{"unknown backup", []string{empty, "--backup", "0123456789abcdef"}, []string{"no backup with id 0123456789abcdef"}},
		{"not a directory", []string{filepath.Join(file, "sub"), "--backup", id}, []string{"a-file"}},
		{"unwritable", []string{"/proc/corso-export", "--backup", id}, []string{"/proc/corso-export"}},
		{"bad selector", []string{empty, "--backup", id, "--event-starts-before", "soon"}, []string{"--event-starts-before"}},
		{"no directory", []string{"--backup", id}, []string{"accepts 1 arg"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mustFail(t, a.run(t, append([]string{"export", "exchange"}, tc.args...)...), 30e9, tc.wants...)
		})
	}
	if left, _ := os.ReadDir(empty); len(left) != 0 {
		t.Fatalf("a refused export left %d entries behind", len(left))
	}
}
