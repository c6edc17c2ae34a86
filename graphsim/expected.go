package graphsim

import "strings"

// Expectation is one resource or item a correct backup treats specially:
// it leaves it out with a cause, or backs it up despite a quirk. Together
// with State.Items (what a correct backup stores) it is the ground truth
// for backups of a tenant with persistent faults.
type Expectation struct {
	Resource   string `json:"resource"`           // UPN or site URL
	ResourceID string `json:"resourceId"`         // user id or site id
	Service    string `json:"service"`            // exchange, onedrive, sharepoint
	Category   string `json:"category,omitempty"` // mail, contacts, events, files; "" for a whole resource
	ItemID     string `json:"itemId,omitempty"`
	Name       string `json:"name,omitempty"` // item subject or file name
	Path       string `json:"path,omitempty"` // folder path, as StateItem.Path
	// Outcome is "skipped" (item left out, with cause), "notBackedUp"
	// (resource left out, not a failure), "failed" (resource fails alone)
	// or "backedUp" (readable despite the quirk; its items are in Items).
	Outcome string `json:"outcome"`
	// Cause is one of malware, oneNotePackage, corrupt, cannotOpen,
	// invalidRecipients, sizeDrift, noMailbox, unlicensed, onPremises,
	// noDrive, locked, accessDenied, quotaExceeded, instancesUnavailable
	// (an event stored without its exceptionOccurrences).
	Cause  string `json:"cause"`
	Source string `json:"source,omitempty"` // doc or report the behaviour is modelled from
}

// Expectation outcomes.
const (
	OutcomeSkipped     = "skipped"
	OutcomeNotBackedUp = "notBackedUp"
	OutcomeFailed      = "failed"
	OutcomeBackedUp    = "backedUp"
)

// Where each behaviour comes from (details at the answers in quirks.go).
const (
	srcNoMailbox      = "Graph 404 MailboxNotEnabledForRESTAPI for users without an Exchange Online mailbox (C: api/users.go EvaluateMailboxError)"
	srcUnlicensed     = "Corso issue #3743 / PR #3744: 400 AuthenticationError \"Error authenticating with resource\" for users without an Exchange licence"
	srcOnPremises     = "Graph 404 MailboxNotEnabledForRESTAPI \"The mailbox is either inactive, soft-deleted, or is hosted on-premise.\""
	srcNoDrive        = "Graph 404 ResourceNotFound \"User's mysite not found.\" (C: graph/errors.go MysiteNotFound)"
	srcLocked         = "Corso PR #4465: 423 notAllowed/resourceLocked \"Access to this site has been blocked.\" (C: graph/errors.go isErrResourceLocked)"
	srcAccessPolicy   = "learn.microsoft.com/graph/auth-limit-mailbox-access: 403 ErrorAccessDenied \"Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly AccessPolicy settings.\""
	srcQuota          = "learn.microsoft.com/graph/api/mailfolder-delta (note): 403 ErrorQuotaExceeded on delta while reads succeed (C: service/exchange/enabled.go)"
	srcCorrupt        = "Corso PR #5191: 500 ErrorCorruptData \"Data is corrupt., Invalid global object ID\" (C: collection/exchange/collection.go)"
	srcCannotOpen     = "Corso issue #3606 / PR #3607: ErrorCannotOpenFileAttachment \"OLE conversion failed for an attachment.\" (C: api/mail.go)"
	srcInvalidRecips  = "Corso PR #4834: ErrorInvalidRecipients on messages Exchange enumerates but will not return (C: collection/exchange/collection.go)"
	srcMalware        = "OneDrive/onedrive-api-docs#1626: 403 malwareDetected on download; malware facet (C: collection/drive/collection.go)"
	srcOneNote        = "OneNote sections in a package answer 503 for ever (C: collection/drive/collection.go SkipOneNote)"
	srcSizeDrift      = "OneDrive/onedrive-api-docs#492, abraunegg/onedrive#205: SharePoint rewrites Office files, downloads differ from size/quickXorHash"
	srcInstances      = "Corso PR #5223: a GET of a series with too many instances that expands exceptionOccurrences answers 503 with an empty body for ever (C: collection/exchange/events_backup.go CanSkipItemFailure, graph/errors.go ErrServiceUnavailableEmptyResp); the GET without that expansion works"
	categoryOneDrive  = "onedrive"
	categorySharePt   = "sharepoint"
	categoryExchange  = "exchange"
	causeOneNote      = "oneNotePackage"
	causeNoMailbox    = "noMailbox"
	causeNoDrive      = "noDrive"
	causeUnlicensed   = "unlicensed"
	causeLocked       = "locked"
	causeAccessDenied = "accessDenied"
	causeQuota        = "quotaExceeded"
	causeInstances    = "instancesUnavailable"
)

// expectations lists the special treatment of the selected users (and,
// without a user filter, of the sites).
func (s *Server) expectations(f StateFilter, users []*user) []Expectation {
	var out []Expectation
	add := func(e Expectation) {
		if f.Category == "" || strings.EqualFold(e.Category, f.Category) ||
			e.Category == "" && serviceHolds(e.Service, f.Category) {
			out = append(out, e)
		}
	}
	for _, u := range users {
		whole := func(service, outcome, cause, source string) {
			add(Expectation{Resource: u.upn, ResourceID: u.id, Service: service, Outcome: outcome, Cause: cause, Source: source})
		}
		switch {
		case u.special == specUnlicensed:
			whole(categoryExchange, OutcomeNotBackedUp, causeUnlicensed, srcUnlicensed)
		case u.special == specOnPrem:
			// Graph answers an on-premises mailbox exactly as one that is
			// inactive or soft-deleted, so a backup can only say "no
			// mailbox".
			whole(categoryExchange, OutcomeNotBackedUp, causeNoMailbox, srcOnPremises)
		case !u.hasMailbox:
			whole(categoryExchange, OutcomeNotBackedUp, causeNoMailbox, srcNoMailbox)
		case u.special == specPolicyBlocked:
			whole(categoryExchange, OutcomeFailed, causeAccessDenied, srcAccessPolicy)
		case u.special == specOverQuota:
			whole(categoryExchange, OutcomeBackedUp, causeQuota, srcQuota)
		case u.special == specQuirky:
			s.mailExpectations(u, add)
			s.eventExpectations(u, add)
		}
		switch {
		case !u.hasDrive:
			whole(categoryOneDrive, OutcomeNotBackedUp, causeNoDrive, srcNoDrive)
		case u.special == specLockedDrive:
			whole(categoryOneDrive, OutcomeNotBackedUp, causeLocked, srcLocked)
		case u.special == specQuirky:
			s.driveExpectations(u.upn, u.id, categoryOneDrive, s.t.driveOwnerOfUser(u), add)
		}
	}
	if f.User == "" {
		for _, st := range s.t.sites {
			if st.special == siteQuirks {
				s.driveExpectations(st.webURL, st.id, categorySharePt, s.t.driveOwnerOfSite(st), add)
			}
		}
	}
	return out
}

// serviceHolds reports whether a whole-resource expectation of service
// concerns category.
func serviceHolds(service, category string) bool {
	switch strings.ToLower(category) {
	case "mail", "contacts", "events":
		return service == categoryExchange
	case "files":
		return service == categoryOneDrive || service == categorySharePt
	}
	return false
}

func (s *Server) mailExpectations(u *user, add func(Expectation)) {
	for _, f := range s.folderMembers(s.treeCollection(kMailFolder, u)) {
		for _, v := range s.folderMembers(s.itemsCollection(f)) {
			q := s.itemQuirk(v)
			if q == quirkNone {
				continue
			}
			src := map[quirk]string{quirkCorrupt: srcCorrupt, quirkCannotOpen: srcCannotOpen, quirkInvalidRecipients: srcInvalidRecips}[q]
			add(Expectation{Resource: u.upn, ResourceID: u.id, Service: categoryExchange, Category: "mail",
				ItemID: s.ids().encode(v.ref), Name: s.message(v).subject, Path: s.folderPath(f),
				Outcome: OutcomeSkipped, Cause: q.String(), Source: src})
		}
	}
}

// eventExpectations lists the series whose exceptions Exchange cannot
// list: backed up without them (State.Items hashes that body).
func (s *Server) eventExpectations(u *user, add func(Expectation)) {
	for _, f := range s.calendars(u) {
		for _, v := range s.folderMembers(s.itemsCollection(f)) {
			if s.t.quirkOf(v.src) != quirkInstanceHeavy {
				continue
			}
			e := s.event(v)
			if !s.instancesUnavailable(v, e) {
				continue
			}
			add(Expectation{Resource: u.upn, ResourceID: u.id, Service: categoryExchange, Category: "events",
				ItemID: s.ids().encode(v.ref), Name: e.subject, Path: s.folderPath(f),
				Outcome: OutcomeBackedUp, Cause: causeInstances, Source: srcInstances})
		}
	}
}

func (s *Server) driveExpectations(resource, resourceID, service string, owner uint32, add func(Expectation)) {
	c := s.driveCollection(owner)
	m := s.model
	m.mu.RLock()
	order := c.tree()
	m.mu.RUnlock()
	for _, r := range order {
		v, alive := m.alive(r)
		if !alive {
			continue
		}
		q := s.itemQuirk(v)
		var outcome, source string
		switch q {
		case quirkMalware:
			outcome, source = OutcomeSkipped, srcMalware
		case quirkOneNoteSection:
			outcome, source = OutcomeSkipped, srcOneNote
		case quirkSizeDrift:
			outcome, source = OutcomeBackedUp, srcSizeDrift
		default:
			continue
		}
		path := s.drivePath(v)
		dir := ""
		if i := strings.LastIndexByte(path, '/'); i >= 0 {
			dir = path[:i]
		}
		add(Expectation{Resource: resource, ResourceID: resourceID, Service: service, Category: "files",
			ItemID: s.ids().encode(v.ref), Name: s.driveItem(v).name, Path: dir,
			Outcome: outcome, Cause: q.String(), Source: source})
	}
}
