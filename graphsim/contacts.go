package graphsim

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Contacts and contact folders. A contact's canonical content is its JSON
// as served by GET /users/{id}/contacts/{id} (no query options): a fixed
// property order, so the bytes are stable and hashable.

var contactProps = []string{
	"createdDateTime", "lastModifiedDateTime", "changeKey", "categories", "parentFolderId",
	"birthday", "fileAs", "displayName", "givenName", "initials", "middleName", "nickName",
	"surname", "title", "generation", "imAddresses", "jobTitle", "companyName", "department",
	"officeLocation", "profession", "businessHomePage", "assistantName", "manager", "homePhones",
	"mobilePhone", "businessPhones", "spouseName", "personalNotes", "children", "emailAddresses",
	"homeAddress", "businessAddress", "otherAddress",
}

var contactKnownProps = func() object {
	o := object{{"id", nil}}
	for _, p := range contactProps {
		o = append(o, kv{p, nil})
	}
	return o
}()

func contactCoords(src ref) [3]uint64 { return msgCoords(src) }

// contactValues derives a contact's properties.
func (s *Server) contactValues(v view) map[string]any {
	vals := map[string]any{}
	if v.src.isZero() && v.st != nil {
		for k, x := range v.st.doc {
			if len(k) > 0 && k[0] != '@' && k != "id" {
				vals[k] = x
			}
		}
		vals["createdDateTime"] = ts(v.st.createdAt)
	} else {
		c := contactCoords(v.src)
		r := newRNG(s.t.seed, tagContact, c[0], c[1], c[2])
		first, last := pick(r, firstNames), pick(r, lastNames)
		company := pick(r, companies)
		created := epoch.Add(-time.Duration(r.intn(900*24)) * time.Hour)
		vals["createdDateTime"] = ts(created)
		vals["lastModifiedDateTime"] = ts(created)
		vals["givenName"] = first
		vals["surname"] = last
		vals["displayName"] = first + " " + last
		vals["fileAs"] = last + ", " + first
		vals["initials"] = first[:1] + "." + last[:1] + "."
		vals["companyName"] = company
		vals["jobTitle"] = pick(r, jobTitles)
		vals["department"] = pick(r, departments)
		vals["emailAddresses"] = []any{map[string]any{"name": first + " " + last, "address": addressLocal(first, last) + "@" + addressLocal(company, "") + "com"}}
		vals["businessPhones"] = []string{fmt.Sprintf("+1 206 555 %04d", r.intn(10000))}
		if r.chance(0.6) {
			vals["mobilePhone"] = fmt.Sprintf("+1 425 555 %04d", r.intn(10000))
		}
		if r.chance(0.3) {
			vals["birthday"] = ts(time.Date(1950+r.intn(50), time.Month(1+r.intn(12)), 1+r.intn(28), 11, 59, 0, 0, time.UTC))
		}
		if r.chance(0.4) {
			vals["personalNotes"] = capitalize(pickWords(r, r.between(5, 30)))
		}
		if r.chance(0.2) {
			vals["categories"] = []string{pick(r, []string{"Family", "Customers", "VIP ⭐"})}
		}
		if r.chance(0.5) {
			vals["businessAddress"] = map[string]any{"street": fmt.Sprintf("%d Main St", 1+r.intn(999)), "city": "Redmond", "state": "WA", "countryOrRegion": "United States", "postalCode": "98052"}
		}
		if v.version > 0 {
			notes, _ := vals["personalNotes"].(string)
			vals["personalNotes"] = fmt.Sprintf("%s (updated v%d)", notes, v.version)
			cats, _ := vals["categories"].([]string)
			vals["categories"] = append(append([]string(nil), cats...), fmt.Sprintf("Reviewed v%d", v.version))
		}
		if v.st != nil {
			for k, x := range v.st.doc {
				vals[k] = x
			}
		}
	}
	if v.st != nil && (v.version > 0 || v.st.doc != nil || v.src.isZero()) {
		vals["lastModifiedDateTime"] = ts(v.st.modified)
	}
	vals["changeKey"] = s.changeKey(v.ref, v.version)
	vals["parentFolderId"] = s.ids().encode(v.container)
	return vals
}

// contactObject renders a contact in the canonical property order; absent
// properties are rendered with Graph's empty values.
func (s *Server) contactObject(v view) object {
	vals := s.contactValues(v)
	o := make(object, 0, len(contactProps)+2)
	o = append(o, kv{"@odata.etag", `W/"` + vals["changeKey"].(string) + `"`}, kv{"id", s.ids().encode(v.ref)})
	for _, p := range contactProps {
		x, ok := vals[p]
		if !ok {
			x = emptyContactValue(p)
		}
		o = append(o, kv{p, x})
	}
	return o
}

func emptyContactValue(p string) any {
	switch p {
	case "categories", "imAddresses", "homePhones", "businessPhones", "children", "emailAddresses":
		return []any{}
	case "homeAddress", "businessAddress", "otherAddress":
		return map[string]any{}
	}
	return nil
}

func (s *Server) contactFolderObject(v view) object {
	parent := ""
	if !v.container.isZero() {
		parent = s.ids().encode(v.container)
	} else if v.ref.Owner < uint32(len(s.t.users)) {
		// The default contacts folder hangs below the mailbox root.
		parent = s.ids().encode(ref{Kind: kMailFolder, Owner: v.ref.Owner, Index: mailRootIndex})
	}
	return object{
		{"id", s.ids().encode(v.ref)},
		{"displayName", s.folderName(v)},
		{"parentFolderId", parent},
	}
}

var contactFolderKnownProps = object{{"id", nil}, {"displayName", nil}, {"parentFolderId", nil}}

func (rq *request) listContactFolders() error {
	u, err := rq.mailboxUser()
	if err != nil {
		return err
	}
	def, err := rq.s.resolveFolder(kContactFolder, u, "contacts")
	if err != nil {
		return err
	}
	return rq.writeFolderList(rq.s.subfolders(def), "users/"+u.id+"/contactFolders", rq.s.contactFolderObject, "contactFolder", contactFolderKnownProps)
}

func (rq *request) getContactFolder() error {
	return rq.getFolder(kContactFolder, rq.s.contactFolderObject, "contactFolder", contactFolderKnownProps)
}

func (rq *request) contactFoldersDelta() error {
	u, err := rq.mailboxUser()
	if err != nil {
		return err
	}
	c := rq.s.treeCollection(kContactFolder, u)
	return rq.serveDelta(c, "users/"+u.id+"/contactFolders/delta", "contactFolder", contactFolderKnownProps, rq.s.contactFolderObject)
}

func (rq *request) listContacts() error {
	return rq.listFolderItems(kContactFolder, "contact", contactKnownProps, "contacts", rq.s.contactObject)
}

func (rq *request) contactsDelta() error {
	return rq.exchangeDelta(kContactFolder, "contact", contactKnownProps, "contacts", rq.s.contactObject)
}

func (rq *request) getContact() error {
	u, err := rq.mailboxUser()
	if err != nil {
		return err
	}
	v, err := rq.lookupItem(kContact, u, rq.params["contact"])
	if err != nil {
		return err
	}
	sel, err := selectList(rq.q.sel, "contact", contactKnownProps)
	if err != nil {
		return err
	}
	rq.fetchedItem("contact", rq.s.ids().encode(v.ref))
	rq.sendJSON(http.StatusOK, rq.s.contactObject(v).project(sel))
	return nil
}

// createContact handles POST .../contacts (default folder) and
// POST .../contactFolders/{id}/contacts.
func (rq *request) createContact() error {
	return rq.createJSONItem(kContact, kContactFolder, "contacts")
}

// serverAssignedProps are the properties of contacts and events that
// Exchange sets itself. Values a client sends for them, as a restore does
// when it posts an item's backed-up JSON, are ignored: the item carries the
// server's own (postprops.go cites the sources). Attachments and a series'
// exceptions and cancellations are written through their own requests.
var serverAssignedProps = foldedSet(
	"id", "createdDateTime", "lastModifiedDateTime", "changeKey", "parentFolderId",
	"calendar", "calendarId", "webLink", "iCalUId", "uid", "seriesMasterId", "type",
	"originalStart", "occurrenceId", "exceptionOccurrences", "cancelledOccurrences", "instances",
	"attachments", "hasAttachments", "responseStatus",
)

// foldedSet is a set of property names keyed in lower case: Graph matches
// property names in any letter case.
func foldedSet(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[strings.ToLower(n)] = true
	}
	return m
}

// withoutServerAssigned drops server-assigned properties and annotations
// (@odata.etag, @odata.type, attachments@odata.context, ...) from a posted
// document.
func withoutServerAssigned(doc map[string]any) map[string]any {
	out := make(map[string]any, len(doc))
	for k, x := range doc {
		if strings.Contains(k, "@") || serverAssignedProps[strings.ToLower(k)] {
			continue
		}
		out[k] = x
	}
	return out
}

// createJSONItem stores a contact or event posted as JSON.
func (rq *request) createJSONItem(k, fk kind, defaultFolder string) error {
	s := rq.s
	u, err := rq.mailboxUser()
	if err != nil {
		return err
	}
	key := rq.params["folder"]
	if key == "" {
		key = defaultFolder
	}
	f, err := s.resolveFolder(fk, u, key)
	if err != nil {
		return err
	}
	doc, keys, err := rq.readJSONObjectBody()
	if err != nil {
		return err
	}
	if err := rq.checkPostedProperties(k, keys); err != nil {
		return err
	}
	doc = withoutServerAssigned(doc)
	tx := ""
	if k == kEvent {
		tx = postedTransactionID(doc)
	}
	m := s.model
	m.mu.Lock()
	if tx != "" {
		// A transactionId already used in the mailbox: a retry gets the
		// event it created, other content is refused (eventtx.go).
		if ev, found := s.eventWithTransactionIDLocked(uint32(u.idx), tx); found {
			retry := s.isRetryOfLocked(ev, doc)
			var existing object
			if retry {
				existing = s.renderItem(ev)
			}
			m.mu.Unlock()
			if !retry {
				return errDuplicateTransactionID()
			}
			rq.sendJSON(http.StatusCreated, existing)
			return nil
		}
	}
	st := m.createLocked(k, uint32(u.idx), f.ref, ref{}, 0)
	if k == kEvent {
		doc["iCalUId"] = s.iCalUID(st.ref)
	}
	st.doc = doc
	if tx != "" {
		key := txKey{uint32(u.idx), tx}
		m.txEvents[key] = append(m.txEvents[key], st.ref)
	}
	m.mu.Unlock()
	v, _ := m.view(st.ref)
	rq.sendJSON(http.StatusCreated, s.renderItem(v))
	return nil
}
