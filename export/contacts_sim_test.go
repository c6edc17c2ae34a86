package export

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/emersion/go-vcard"
)

// checkContentLines checks the line syntax vCard and iCalendar share:
// CRLF only, physical lines of at most 75 octets, never a UTF-8 sequence
// split by a fold.
func checkContentLines(t *testing.T, name string, b []byte) {
	t.Helper()
	if !bytes.HasSuffix(b, []byte("\r\n")) {
		t.Errorf("%s: does not end with CRLF", name)
	}
	lines := bytes.Split(bytes.TrimSuffix(b, []byte("\r\n")), []byte("\r\n"))
	for i, l := range lines {
		if bytes.ContainsAny(l, "\r\n") {
			t.Errorf("%s line %d: bare CR or LF", name, i+1)
		}
		if len(l) > 75 {
			t.Errorf("%s line %d: %d octets", name, i+1, len(l))
		}
		if !utf8.Valid(l) {
			t.Errorf("%s line %d: a fold splits a character: %q", name, i+1, l)
		}
	}
}

// splitComponents splits a structured vCard value that go-vcard has
// unescaped except for "\;".
func splitComponents(v string) []string {
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

// craftedContacts are contacts with what the generated ones lack: no
// names at all, structured-value separators, line breaks, long text,
// several addresses and phones of each kind.
var craftedContacts = []map[string]any{
	{
		"givenName": "Zoë", "middleName": "Ann", "surname": "D'Angelo; Jr", "title": "Dr.", "generation": "III",
		"displayName": "Zoë D'Angelo, PhD", "nickName": "Zo",
		"emailAddresses": []any{map[string]any{"address": "zoe@example.com", "name": "Zoë"}, map[string]any{"address": "z.dangelo@example.org"}},
		"mobilePhone":    "+49 151 0000000",
		"businessPhones": []string{"+1 206 555 0100", "+1 206 555 0101"},
		"homePhones":     []string{"+44 20 7946 0000"},
		"companyName":    "Fabrikam; Europe", "department": "R&D", "jobTitle": "Chief Scientist", "profession": "Chemist",
		"personalNotes":    "Line one\r\nLine two; with, punctuation \\ and a backslash. " + strings.Repeat("Long note ✓ ", 40),
		"categories":       []string{"VIP ⭐", "Family"},
		"homeAddress":      map[string]any{"street": "1 Rue de Rivoli\nBât. B", "city": "Paris", "postalCode": "75001", "countryOrRegion": "France"},
		"businessAddress":  map[string]any{"street": "1 Microsoft Way", "city": "Redmond", "state": "WA", "postalCode": "98052", "countryOrRegion": "United States"},
		"otherAddress":     map[string]any{"city": "Zürich"},
		"businessHomePage": "https://example.com/zoe?a=1",
		"birthday":         "1604-02-29T11:59:00Z",
		"spouseName":       "Sam",
	},
	{"emailAddresses": []any{map[string]any{"address": "only.an.address@example.net"}}},
	{},
	{"givenName": "Ōta", "surname": "Hanako"},
}

func TestSimulatedContactsAsVCards(t *testing.T) {
	tn := newTenant(t)
	dir := t.TempDir()
	sink, err := NewDirSink(dir)
	if err != nil {
		t.Fatal(err)
	}
	sink.NoSync = true // durability is tested on its own
	for _, c := range craftedContacts {
		tn.post("/v1.0/users/"+tn.mailboxUsers()[0].ID+"/contacts", c)
	}
	checked := 0
	for _, u := range tn.mailboxUsers() {
		st := tn.state(u.ID, "contacts")
		chains := folderChains(st)
		for _, it := range st.Items {
			if it.Kind != "contact" {
				continue
			}
			raw := tn.storedContact(u.ID, it.ID)
			path, err := WriteItem(sink, Item{Category: CategoryContacts, Folder: append([]string{u.UPN}, chains[it.CollectionID]...), Data: raw})
			if err != nil {
				t.Fatalf("contact %s: %v", it.ID, err)
			}
			b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(path)))
			if err != nil {
				t.Fatal(err)
			}
			checkContact(t, path, raw, b)
			checked++
		}
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	if checked < 20 || sink.Files() != checked {
		t.Fatalf("checked %d contacts, sink wrote %d files", checked, sink.Files())
	}
	t.Logf("%d contacts, %d bytes", checked, sink.Bytes())
}

func checkContact(t *testing.T, path string, raw, card []byte) {
	t.Helper()
	if !strings.HasSuffix(path, ".vcf") {
		t.Errorf("%s: not a .vcf name", path)
	}
	checkContentLines(t, path, card)
	var c graphContact
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	dec := vcard.NewDecoder(bytes.NewReader(card))
	vc, err := dec.Decode()
	if err != nil {
		t.Fatalf("%s: %v\n%s", path, err, card)
	}
	if _, err := dec.Decode(); err != io.EOF {
		t.Errorf("%s: more than one card (%v)", path, err)
	}
	if v := vc.Value(vcard.FieldVersion); v != "4.0" {
		t.Errorf("%s: VERSION %q", path, v)
	}
	wantFN := c.DisplayName
	if wantFN == "" {
		wantFN = strings.Join(nonEmpty(c.Title, c.GivenName, c.MiddleName, c.Surname, c.Generation), " ")
	}
	if wantFN == "" && len(c.EmailAddresses) > 0 {
		wantFN = c.EmailAddresses[0].Address
	}
	if wantFN == "" {
		wantFN = "Unnamed contact"
	}
	if fn := vc.Value(vcard.FieldFormattedName); fn != wantFN {
		t.Errorf("%s: FN %q, want %q", path, fn, wantFN)
	}
	if base := filepath.Base(path); !strings.HasPrefix(base, SafeName(wantFN)[:min(len(SafeName(wantFN)), 20)]) {
		t.Errorf("%s: file not named after %q", path, wantFN)
	}
	if nf := vc.Get(vcard.FieldName); c.GivenName+c.Surname+c.MiddleName+c.Title+c.Generation == "" {
		if nf != nil {
			t.Errorf("%s: N written for a contact without name parts", path)
		}
	} else if nf == nil {
		t.Errorf("%s: no N", path)
	} else {
		got := splitComponents(nf.Value)
		want := []string{c.Surname, c.GivenName, c.MiddleName, c.Title, c.Generation}
		if !slices.Equal(got, want) {
			t.Errorf("%s: N %q, want %q", path, got, want)
		}
	}
	var wantEmails []string
	for _, e := range c.EmailAddresses {
		wantEmails = append(wantEmails, e.Address)
	}
	if got := vc.Values(vcard.FieldEmail); !slices.Equal(got, wantEmails) {
		t.Errorf("%s: EMAIL %q, want %q", path, got, wantEmails)
	}
	phones := map[string][]string{}
	for _, f := range vc[vcard.FieldTelephone] {
		typ := strings.Join(f.Params.Types(), ",")
		phones[typ] = append(phones[typ], f.Value)
	}
	var wantCell []string
	if c.MobilePhone != "" {
		wantCell = []string{c.MobilePhone}
	}
	for typ, want := range map[string][]string{"cell": wantCell, "work": c.BusinessPhones, "home": c.HomePhones} {
		if !slices.Equal(phones[typ], want) && len(phones[typ])+len(want) > 0 {
			t.Errorf("%s: TEL;TYPE=%s %q, want %q", path, typ, phones[typ], want)
		}
		delete(phones, typ)
	}
	if len(phones) > 0 {
		t.Errorf("%s: unexpected phones %q", path, phones)
	}
	if c.CompanyName != "" {
		org := vc.Get(vcard.FieldOrganization)
		if org == nil || splitComponents(org.Value)[0] != c.CompanyName {
			t.Errorf("%s: ORG %v, want company %q", path, org, c.CompanyName)
		}
	}
	if got := vc.Value(vcard.FieldTitle); got != strings.TrimSpace(c.JobTitle) {
		t.Errorf("%s: TITLE %q, want %q", path, got, c.JobTitle)
	}
	if got, want := vc.Value(vcard.FieldNote), strings.ReplaceAll(c.PersonalNotes, "\r\n", "\n"); got != want {
		t.Errorf("%s: NOTE %q, want %q", path, got, want)
	}
	var cats []string
	if vc.Get(vcard.FieldCategories) != nil {
		cats = vc.Categories()
	}
	if got := cats; !slices.Equal(got, nonEmpty(c.Categories...)) {
		t.Errorf("%s: CATEGORIES %q, want %q", path, got, c.Categories)
	}
	if got := vc.Value(vcard.FieldUID); got != c.ID {
		t.Errorf("%s: UID %q, want %q", path, got, c.ID)
	}
	if c.Birthday != "" {
		want := strings.ReplaceAll(c.Birthday[:10], "-", "")
		if strings.HasPrefix(c.Birthday, "1604-") {
			want = "--" + want[4:]
		}
		if got := vc.Value(vcard.FieldBirthday); got != want {
			t.Errorf("%s: BDAY %q, want %q", path, got, want)
		}
	}
	wantAdr := 0
	for _, a := range []*graphAddress{c.HomeAddress, c.BusinessAddress, c.OtherAddress} {
		if !a.empty() {
			wantAdr++
		}
	}
	if got := len(vc[vcard.FieldAddress]); got != wantAdr {
		t.Errorf("%s: %d ADR, want %d", path, got, wantAdr)
	}
	if a := c.BusinessAddress; !a.empty() {
		var adr *vcard.Field
		for _, f := range vc[vcard.FieldAddress] {
			if f.Params.HasType("work") {
				adr = f
			}
		}
		if adr == nil {
			t.Errorf("%s: no work ADR", path)
		} else if got, want := splitComponents(adr.Value), []string{"", "", a.Street, a.City, a.State, a.PostalCode, a.CountryOrRegion}; !slices.Equal(got, want) {
			t.Errorf("%s: work ADR %q, want %q", path, got, want)
		}
	}
	if rev, err := vc.Revision(); err != nil || rev.Format("2006-01-02T15:04:05Z") != c.LastModifiedDateTime {
		t.Errorf("%s: REV %v (%v), want %s", path, rev, err, c.LastModifiedDateTime)
	}
}
