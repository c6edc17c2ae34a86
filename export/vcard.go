package export

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// graphContact is the part of a Microsoft Graph contact that a vCard
// carries. Absent and null properties decode as zero values and are left
// out of the card.
type graphContact struct {
	ID                   string        `json:"id"`
	DisplayName          string        `json:"displayName"`
	GivenName            string        `json:"givenName"`
	MiddleName           string        `json:"middleName"`
	Surname              string        `json:"surname"`
	Title                string        `json:"title"`      // honorific prefix, e.g. "Dr."
	Generation           string        `json:"generation"` // honorific suffix, e.g. "Jr."
	NickName             string        `json:"nickName"`
	EmailAddresses       []graphEmail  `json:"emailAddresses"`
	MobilePhone          string        `json:"mobilePhone"`
	BusinessPhones       []string      `json:"businessPhones"`
	HomePhones           []string      `json:"homePhones"`
	CompanyName          string        `json:"companyName"`
	Department           string        `json:"department"`
	JobTitle             string        `json:"jobTitle"`
	Profession           string        `json:"profession"`
	HomeAddress          *graphAddress `json:"homeAddress"`
	BusinessAddress      *graphAddress `json:"businessAddress"`
	OtherAddress         *graphAddress `json:"otherAddress"`
	Birthday             string        `json:"birthday"`
	PersonalNotes        string        `json:"personalNotes"`
	Categories           []string      `json:"categories"`
	BusinessHomePage     string        `json:"businessHomePage"`
	SpouseName           string        `json:"spouseName"`
	Children             []string      `json:"children"`
	LastModifiedDateTime string        `json:"lastModifiedDateTime"`
}

type graphEmail struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	Type    string `json:"type"` // beta only: work, personal, main, other, unknown
}

type graphAddress struct {
	Street          string `json:"street"`
	City            string `json:"city"`
	State           string `json:"state"`
	PostalCode      string `json:"postalCode"`
	CountryOrRegion string `json:"countryOrRegion"`
}

func (a *graphAddress) empty() bool {
	return a == nil || strings.TrimSpace(a.Street+a.City+a.State+a.PostalCode+a.CountryOrRegion) == ""
}

func parseContact(contact []byte) (*graphContact, error) {
	var c graphContact
	if err := json.Unmarshal(contact, &c); err != nil {
		return nil, fmt.Errorf("contact is not valid JSON: %w", err)
	}
	return &c, nil
}

// formattedName is the contact's display name, or the best stand-in: the
// name parts, then the first e-mail address, then "Unnamed contact".
func (c *graphContact) formattedName() string {
	if s := oneLine(c.DisplayName); s != "" {
		return s
	}
	if s := oneLine(strings.Join(nonEmpty(c.Title, c.GivenName, c.MiddleName, c.Surname, c.Generation), " ")); s != "" {
		return s
	}
	for _, e := range c.EmailAddresses {
		if s := oneLine(e.Address); s != "" {
			return s
		}
	}
	if s := oneLine(c.CompanyName); s != "" {
		return s
	}
	return "Unnamed contact"
}

// ContactTitle is the name a contact is filed under: its display name or
// the same stand-in its vCard's FN uses.
func ContactTitle(contact []byte) (string, error) {
	c, err := parseContact(contact)
	if err != nil {
		return "", err
	}
	return c.formattedName(), nil
}

// ContactVCard writes a Microsoft Graph contact (its JSON as stored by a
// backup) as a vCard 4.0 (RFC 6350).
func ContactVCard(w io.Writer, contact []byte) error {
	c, err := parseContact(contact)
	if err != nil {
		return err
	}
	lw := newLineWriter(w)
	lw.prop("BEGIN", nil, "VCARD")
	lw.prop("VERSION", nil, "4.0")
	lw.prop("PRODID", nil, escapeVCardText(prodID))
	lw.prop("FN", nil, escapeVCardText(c.formattedName()))
	if parts := []string{c.Surname, c.GivenName, c.MiddleName, c.Title, c.Generation}; len(nonEmpty(parts...)) > 0 {
		lw.prop("N", nil, components(parts...))
	}
	if s := strings.TrimSpace(c.NickName); s != "" {
		lw.prop("NICKNAME", nil, escapeVCardText(s))
	}
	for _, e := range c.EmailAddresses {
		addr := strings.TrimSpace(e.Address)
		if addr == "" {
			continue
		}
		var ps []param
		switch strings.ToLower(e.Type) {
		case "work":
			ps = []param{{"TYPE", "work"}}
		case "personal":
			ps = []param{{"TYPE", "home"}}
		}
		lw.prop("EMAIL", ps, escapeVCardText(addr))
	}
	tel := func(number, typ string) {
		if n := strings.TrimSpace(number); n != "" {
			lw.prop("TEL", []param{{"TYPE", typ}}, escapeVCardText(n))
		}
	}
	tel(c.MobilePhone, "cell")
	for _, p := range c.BusinessPhones {
		tel(p, "work")
	}
	for _, p := range c.HomePhones {
		tel(p, "home")
	}
	switch {
	case strings.TrimSpace(c.Department) != "":
		// Organization name; unit (a department alone keeps its place).
		lw.prop("ORG", nil, components(c.CompanyName, c.Department))
	case strings.TrimSpace(c.CompanyName) != "":
		lw.prop("ORG", nil, components(c.CompanyName))
	}
	if s := strings.TrimSpace(c.JobTitle); s != "" {
		lw.prop("TITLE", nil, escapeVCardText(s))
	}
	if s := strings.TrimSpace(c.Profession); s != "" {
		lw.prop("ROLE", nil, escapeVCardText(s))
	}
	adr := func(a *graphAddress, ps []param) {
		if a.empty() {
			return
		}
		// PO box; extended address; street; locality; region; postal code; country.
		lw.prop("ADR", ps, components("", "", a.Street, a.City, a.State, a.PostalCode, a.CountryOrRegion))
	}
	adr(c.HomeAddress, []param{{"TYPE", "home"}})
	adr(c.BusinessAddress, []param{{"TYPE", "work"}})
	adr(c.OtherAddress, nil)
	if bday := vcardDate(c.Birthday); bday != "" {
		lw.prop("BDAY", nil, bday)
	}
	if s := strings.TrimSpace(c.PersonalNotes); s != "" {
		lw.prop("NOTE", nil, escapeVCardText(c.PersonalNotes))
	}
	if cats := nonEmpty(c.Categories...); len(cats) > 0 {
		esc := make([]string, len(cats))
		for i, s := range cats {
			esc[i] = escapeVCardText(s)
		}
		lw.prop("CATEGORIES", nil, strings.Join(esc, ","))
	}
	if s := strings.TrimSpace(c.BusinessHomePage); s != "" {
		lw.prop("URL", nil, escapeVCardText(s))
	}
	if s := strings.TrimSpace(c.SpouseName); s != "" {
		lw.prop("RELATED", []param{{"TYPE", "spouse"}, {"VALUE", "text"}}, escapeVCardText(s))
	}
	for _, s := range nonEmpty(c.Children...) {
		lw.prop("RELATED", []param{{"TYPE", "child"}, {"VALUE", "text"}}, escapeVCardText(s))
	}
	if c.ID != "" {
		// An Exchange id is not a URI, so the value type is reset to text.
		lw.prop("UID", []param{{"VALUE", "text"}}, escapeVCardText(c.ID))
	}
	if t, ok := parseInstant(c.LastModifiedDateTime); ok {
		lw.prop("REV", nil, t.UTC().Format("20060102T150405Z"))
	}
	lw.prop("END", nil, "VCARD")
	return lw.flush()
}

// components joins the parts of a structured vCard value.
func components(parts ...string) string {
	esc := make([]string, len(parts))
	for i, p := range parts {
		esc[i] = escapeText(strings.TrimSpace(p))
	}
	return strings.Join(esc, ";")
}

// vcardDate turns Graph's birthday (a date-time, by convention at 11:59 UTC
// so that the day holds in every zone) into a vCard date. Outlook stores a
// birthday without a year as year 1604, written "--MMDD".
func vcardDate(s string) string {
	s = strings.TrimSpace(s)
	if len(s) < len("2006-01-02") {
		return ""
	}
	d, err := time.Parse("2006-01-02", s[:10])
	if err != nil {
		return ""
	}
	if d.Year() <= 1604 {
		return d.Format("--0102")
	}
	return d.Format("20060102")
}

// nonEmpty keeps the strings that are not blank, trimmed.
func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// oneLine collapses all white space, line breaks included, into single
// spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
