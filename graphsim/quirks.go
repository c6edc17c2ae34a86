package graphsim

import (
	"fmt"
	"net/http"
	"strings"
)

// Persistent faults. Real tenants fail on one resource, the same way on
// every attempt: a mailbox without licence, an access policy, a full
// mailbox, a locked OneDrive, a corrupt message, a malware-flagged file, a
// OneNote section. These answers never pass on retry, do not depend on
// FaultOptions and are the same for the same seed on every restart. Each
// answer below names the public source it is modelled from ("C:" is a file
// of Corso, github.com/alcionai/corso at 880cb899b).

// quirk is an item-level persistent behaviour, keyed by the generated ref
// the item came from (so it survives moves and modifications).
type quirk uint8

const (
	quirkNone              quirk = iota
	quirkCorrupt                 // message: GET and $value fail with ErrorCorruptData
	quirkCannotOpen              // message: one attachment cannot be opened
	quirkInvalidRecipients       // message: GET and $value fail with ErrorInvalidRecipients
	quirkMalware                 // file: malware facet, content 403 malwareDetected
	quirkOneNotePackage          // folder: a OneNote notebook (package facet)
	quirkOneNoteSection          // file in the package: content 503 for ever
	quirkOneNoteTOC              // file in the package: readable
	quirkSizeDrift               // file: downloaded bytes differ from size and hash
	quirkInstanceHeavy           // event: a series whose exceptions Exchange cannot list (503 for ever)
)

// Positions of the quirky items. The quirky user's Inbox holds the three
// unreadable messages first; a quirk drive (the quirky user's OneDrive and
// the Quirks site's library) has this fixed layout:
//
//	root/                 2 ordinary files, the malware file, the drift file
//	root/Team Notebook/   (package) Open Notebook.onetoc2, General.one
const (
	quirkInbox          = 1 // mail layout index of the Inbox
	quirkDriveNormal    = 2
	quirkFileMalware    = quirkDriveNormal
	quirkFileDrift      = quirkDriveNormal + 1
	quirkFileTOC        = quirkDriveNormal + 2
	quirkFileSection    = quirkDriveNormal + 3
	quirkDriveFiles     = quirkDriveNormal + 4
	quirkPackageFolder  = 1
	quirkPackageName    = "Team Notebook"
	quirkAttachmentName = "scan-0042.pdf"
)

func (t *tenant) buildQuirks() {
	t.quirks = map[ref]quirk{}
	if u := t.specialUser(specQuirky); u != nil {
		for i, q := range []quirk{quirkCorrupt, quirkCannotOpen, quirkInvalidRecipients} {
			t.quirks[ref{Kind: kMessage, Owner: uint32(u.idx), Coll: quirkInbox, Index: uint32(i)}] = q
		}
		t.addDriveQuirks(t.driveOwnerOfUser(u))
		if r, ok := t.instanceHeavyEvent(u); ok {
			t.quirks[r] = quirkInstanceHeavy
		}
	}
	if s := t.quirksSite(); s != nil {
		t.addDriveQuirks(t.driveOwnerOfSite(s))
	}
}

func (t *tenant) addDriveQuirks(owner uint32) {
	t.quirks[driveFileRef(owner, quirkFileMalware)] = quirkMalware
	t.quirks[driveFileRef(owner, quirkFileDrift)] = quirkSizeDrift
	t.quirks[driveFolderRef(owner, quirkPackageFolder)] = quirkOneNotePackage
	t.quirks[driveFileRef(owner, quirkFileTOC)] = quirkOneNoteTOC
	t.quirks[driveFileRef(owner, quirkFileSection)] = quirkOneNoteSection
}

// quirkOf is the quirk of a generated object (by its origin ref).
func (t *tenant) quirkOf(src ref) quirk {
	if len(t.quirks) == 0 || src.isZero() || src.Serial != 0 {
		return quirkNone
	}
	return t.quirks[src]
}

// itemQuirk is the quirk of a live object: its origin's, unless a client
// replaced its content.
func (s *Server) itemQuirk(v view) quirk {
	if v.st != nil && v.st.content != nil {
		return quirkNone
	}
	return s.t.quirkOf(v.src)
}

// quirkDriveLayout is the fixed layout of a drive that holds quirky items,
// or nil for any other drive.
func (t *tenant) quirkDriveLayout(owner uint32) *driveLayout {
	t.directory()
	if t.quirks[driveFolderRef(owner, quirkPackageFolder)] != quirkOneNotePackage {
		return nil
	}
	return &driveLayout{
		files: quirkDriveFiles,
		folders: []driveFolder{
			{name: "root", parent: -1, fileStart: 0, fileCount: quirkDriveNormal + 2, subfolders: []int{quirkPackageFolder}},
			{name: quirkPackageName, parent: 0, depth: 1, fileStart: quirkFileTOC, fileCount: 2},
		},
		starts: []int{0, quirkFileTOC},
	}
}

// driveLocked reports whether a drive's site is locked (the lockeddrive
// user's OneDrive).
func (t *tenant) driveLocked(owner uint32) bool {
	u, _, _ := t.driveOwner(owner)
	return u != nil && u.special == specLockedDrive
}

// applyDriveQuirk gives a quirky file its name, type and size; the
// content key stays the generated one, so versions still change it.
func applyDriveQuirk(d *driveItemSpec, q quirk, version uint32) {
	fixed := func(name, mime string, size int64) {
		d.name, d.mime = name, mime
		d.content = contentOf(d.content.key, size+int64(version)*512, false)
	}
	switch q {
	case quirkMalware:
		// The malware facet is what Graph reports on a flagged item
		// (learn.microsoft.com/graph/api/resources/malware; C: config.go
		// selects it, collection/drive/collection.go skips on it).
		fixed("invoice-viewer.exe", "application/x-msdownload", 68)
		d.malware = "Trojan:Win32/Wacatac detected by Microsoft Defender"
	case quirkOneNoteSection:
		// C: collection/drive/collection.go oneNoteMimeType.
		fixed("General.one", "application/msonenote", 48<<10)
	case quirkOneNoteTOC:
		fixed("Open Notebook.onetoc2", "application/msonenote", 4<<10)
	case quirkSizeDrift:
		// SharePoint rewrites Office files (it writes its own metadata into
		// them), so the bytes downloaded differ from the listed size and
		// hash (OneDrive/onedrive-api-docs#492 and #123, abraunegg/onedrive
		// #205 "Sharepoint modified file handling"). The listing keeps the
		// uploaded file's size and quickXorHash; the download is longer.
		fixed("Quarterly Report.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", 23911)
		listed := d.content
		d.listed = &listed
		d.content = contentOf(mix64(listed.key^0xd21f7), listed.size+1348, false)
	}
}

// unopenableAttachment is the file attachment of the cannotOpen message.
func unopenableAttachment(key uint64, m *msgSpec) *attSpec {
	size := 18 << 10
	return &attSpec{name: quirkAttachmentName, contentType: "application/pdf", size: size, modified: m.received,
		unopenable: true, data: func() []byte { return contentOf(key, int64(size), false).bytes() }}
}

// instanceHeavyEvent picks the quirky user's series that stands for one
// with very many occurrences: the first generated series (calendars and
// events in layout order) that has an exception, else the first series,
// else the first event, which instanceHeavySeries then makes a series.
// The event whose first GET answers a transient 404 (transient.go) is
// never picked, so the two behaviours stay apart.
func (t *tenant) instanceHeavyEvent(u *user) (ref, bool) {
	var first, series ref
	transient := true // the first event of the first non-empty calendar
	for c, f := range t.calendarLayout(u).folders {
		for i := 0; i < f.count; i++ {
			r := ref{Kind: kEvent, Owner: uint32(u.idx), Coll: uint32(c), Index: uint32(i)}
			if transient {
				transient = false
				continue
			}
			if first.isZero() {
				first = r
			}
			e, _ := t.eventHead(msgCoords(r))
			if e.typ != "seriesMaster" {
				continue
			}
			if len(e.exceptions) > 0 {
				return r, true
			}
			if series.isZero() {
				series = r
			}
		}
	}
	if !series.isZero() {
		return series, true
	}
	return first, !first.isZero()
}

// instanceHeavySeries makes the picked event a series when the quirky
// calendars generated none, the way generated series are made but from a
// stream of its own (so nothing else of the event moves), and gives it a
// moved occurrence, for the backup to miss, when it has none.
func (t *tenant) instanceHeavySeries(e *eventSpec, c [3]uint64) {
	if e.typ != "seriesMaster" {
		e.makeSeries(newRNG(t.seed, tagSpecial, 5, c[0], c[1], c[2]), newRNG(t.seed, tagZone, c[0], c[1], c[2]))
	}
	if len(e.exceptions) == 0 {
		e.moveOccurrence(2)
	}
}

// instancesUnavailable reports whether Exchange cannot list the
// exceptions of event v (whose spec is e): the instance-heavy series, as
// long as it is one.
func (s *Server) instancesUnavailable(v view, e *eventSpec) bool {
	return s.t.quirkOf(v.src) == quirkInstanceHeavy && e.typ == "seriesMaster"
}

// ---- the answers ----

// errUnlicensed is Exchange's answer for a user with no Exchange licence.
// Corso issue #3743 ("GET on /inbox can return 400 AuthenticationError")
// and PR #3744 ("license issues can produce an authenticationError");
// the message is the one Graph sends with that code (e.g. the logs quoted
// in stackoverflow.com/q/76387216 and PlaceOS drivers' visitor_mailer
// docs: 400 Bad Request {"code":"AuthenticationError","message":"Error
// authenticating with resource"}). C: users.go EvaluateMailboxError reads it
// as "no mailbox". Note: 400, not 401.
func errUnlicensed() *apiError {
	return newError(http.StatusBadRequest, "AuthenticationError", "Error authenticating with resource")
}

// errAccessPolicy is the answer for a mailbox an Exchange application
// access policy scopes the app out of; it covers mail, contacts,
// calendars and mailbox settings, not OneDrive
// (learn.microsoft.com/graph/auth-limit-mailbox-access). Text as quoted in
// public reports: 403 {"code":"ErrorAccessDenied","message":"Access to
// OData is disabled: [RAOP] : Blocked by tenant configured AppOnly
// AccessPolicy settings."}.
func errAccessPolicy() *apiError {
	return newError(http.StatusForbidden, "ErrorAccessDenied",
		"Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly AccessPolicy settings.")
}

// errMailboxQuota: a mailbox at its storage quota answers delta with 403
// ErrorQuotaExceeded while plain reads succeed
// (learn.microsoft.com/graph/api/mailfolder-delta, note). Body as Corso
// mocks the messages-delta quota probe (PR #4144, api/users_test.go;
// C: service/exchange/enabled.go).
func errMailboxQuota() *apiError {
	return newError(http.StatusForbidden, "ErrorQuotaExceeded", "The process failed to get the correct properties.")
}

// errCorruptData: a corrupt message answers 500 ErrorCorruptData for ever
// (Corso PR #5191: `{"code":"ErrorCorruptData","message":"Data is
// corrupt., Invalid global object ID: some ID`; C: graph/errors.go, and
// collection/exchange/collection.go skips it).
func errCorruptData(r ref) *apiError {
	return newError(http.StatusInternalServerError, "ErrorCorruptData",
		"Data is corrupt., Invalid global object ID: 040000008200E00074C5B7101A82E008%016X", hashOf(uint64(r.Owner), uint64(r.Coll), uint64(r.Index)))
}

// errInvalidRecipients: Exchange enumerates some messages (ones older than
// the mailbox, e.g. after an on-premises migration) but will not return
// them (Corso PR #4834; C: collection/exchange/collection.go skips them).
// Neither gives the status; 400 and the message are what Graph sends with
// this code elsewhere (microsoftgraph/msgraph-sdk-php#280,
// microsoftgraph/php-connect-sample#13).
func errInvalidRecipients() *apiError {
	return newError(http.StatusBadRequest, "ErrorInvalidRecipients", "At least one recipient isn't valid.")
}

// errCannotOpenAttachment: "The GetAttachment operation returns this error
// if it cannot retrieve the body of a file attachment" (EWS response code
// docs); Graph passes the code through on GET .../attachments/{id}, usually
// with "OLE conversion failed for an attachment." (Corso issue #3606, PR
// #3607; C: api/mail.go getAttachmentByID drops the attachment). No public
// source gives the status; 500 as for other Exchange store failures.
func errCannotOpenAttachment() *apiError {
	return newError(http.StatusInternalServerError, "ErrorCannotOpenFileAttachment", "OLE conversion failed for an attachment.")
}

// errMalware: downloading a malware-flagged file answers 403
// {"code":"malwareDetected","message":"Malware detected"}
// (OneDrive/onedrive-api-docs#1626 on GET .../content, #1882 on the
// download URL). C: graph/errors.go IsMalwareResp also reads
// X-Virus-Infected: true (MS-WSSHP).
func errMalware() *apiError {
	return newError(http.StatusForbidden, "malwareDetected", "Malware detected").with("X-Virus-Infected", "true")
}

// errOneNoteUnavailable: OneNote sections (files inside a notebook
// package) answer 503 for ever; Corso skips a 503 on a package member or a
// application/msonenote file (C: collection/drive/collection.go). Sent
// without a body (C: graph/errors.go ErrServiceUnavailableEmptyResp) and
// without Retry-After, so no retry policy ever succeeds.
func errOneNoteUnavailable() *apiError {
	return &apiError{status: http.StatusServiceUnavailable, emptyBody: true}
}

// quirkEventPageLimit is the most events a delta page of the quirky
// user's calendars may carry. Exchange answers a beta event delta page it
// cannot assemble in time with 503 and an empty body, persistently, while
// smaller pages of the same round work; Corso retries such a page with
// odata.maxpagesize=10 and then falls back to listing the calendar (C:
// pkg/services/m365/api/events_pager.go, graph/errors.go
// ErrServiceUnavailableEmptyResp). Large events (long bodies, many
// attendees) make pages too large; the quirky user's calendars stand for
// such a calendar.
const quirkEventPageLimit = 10

// eventDeltaPageLimit is the page limit of u's calendars, 0 for none.
func (t *tenant) eventDeltaPageLimit(u *user) int {
	if u.special == specQuirky {
		return quirkEventPageLimit
	}
	return 0
}

// errEventPageTooLarge is the answer to an event delta page above the
// calendar's limit.
func errEventPageTooLarge() *apiError {
	return &apiError{status: http.StatusServiceUnavailable, emptyBody: true}
}

// errInstancesUnavailable: Exchange answers a GET of a series master with
// very many occurrences that expands exceptionOccurrences with 503 and an
// empty body, on every attempt, while the same GET without that expansion
// works. Corso keeps a list of resources for which such events are skipped
// (C: internal/m365/collection/exchange/events_backup.go CanSkipItemFailure:
// "we do know that we get 503s with empty response bodies due to failures
// when getting too many instances", matched as graph/errors.go
// ErrServiceUnavailableEmptyResp, a 503 whose Content-Length is 0;
// pkg/control/options.go SkipEventsOnInstance503ForResources; skip cause
// pkg/fault/skipped.go SkipKnownEventInstance503s "known_event_instance_503";
// Corso PR #5223). No body and no Retry-After, so no retry ever passes.
func errInstancesUnavailable() *apiError {
	return &apiError{status: http.StatusServiceUnavailable, emptyBody: true}
}

// errSiteLocked: a locked (or offboarded) OneDrive/site answers 423 with
// code notAllowed and inner code resourceLocked. Body from Corso PR #4465
// (review thread, a real response; C: graph/errors.go isErrResourceLocked);
// the status as dust-tt/dust handles it
// (connectors/src/connectors/microsoft/temporal/cast_known_errors.test.ts).
func errSiteLocked() *apiError {
	e := newError(http.StatusLocked, "notAllowed", "Access to this site has been blocked. Please contact the administrator to resolve this problem.")
	e.innerCode = "resourceLocked"
	return e
}

// ---- hooks ----

// persistentFault answers a routed Graph call that a special resource
// refuses, or returns nil. It runs after random faults and throttling,
// when the call reaches the service.
func (s *Server) persistentFault(rq *request) *apiError {
	if s.t.opts.Clean {
		return nil
	}
	switch rq.route.service {
	case "exchange":
		u, err := s.lookupUser(rq.params["user"])
		if err != nil {
			return nil
		}
		if f := mailboxRefusal(u); f != nil {
			return f
		}
		switch u.special {
		case specOverQuota:
			// Delta writes sync state into the mailbox; listing does not.
			if rq.route.class == "mail.folders.delta" || rq.route.class == "mail.messages.delta" {
				return errMailboxQuota()
			}
		case specQuirky:
			if f := rq.messageFault(u); f != nil {
				return f
			}
			return rq.eventFault(u)
		}
	case "drive":
		if id := rq.params["drive"]; id != "" {
			if r, ok := s.ids().decodeKind(id, kDrive); ok && s.t.driveLocked(r.Owner) {
				return errSiteLocked()
			}
		}
	}
	return nil
}

// exchangeSegments are the /users/{id}/ segments Exchange serves.
var exchangeSegments = []string{"mailFolders", "messages", "contactFolders", "contacts", "calendars", "calendar",
	"events", "calendarView", "calendarGroups", "mailboxSettings", "inferenceClassification", "outlook"}

// mailboxPathFault is the answer of a mailbox that refuses everything, for
// an Exchange path the simulator has no route for.
func (s *Server) mailboxPathFault(segs []string) *apiError {
	if s.t.opts.Clean || len(segs) < 3 || !strings.EqualFold(segs[0], "users") || !containsFold(exchangeSegments, segs[2]) {
		return nil
	}
	u, err := s.lookupUser(segs[1])
	if err != nil {
		return nil
	}
	return mailboxRefusal(u)
}

// mailboxRefusal is the answer to every Exchange call of a user whose
// mailbox refuses them all, or nil.
func mailboxRefusal(u *user) *apiError {
	switch u.special {
	case specUnlicensed:
		return errUnlicensed()
	case specPolicyBlocked:
		return errAccessPolicy()
	}
	return nil
}

// messageFault answers reads of the quirky user's unreadable messages.
func (rq *request) messageFault(u *user) *apiError {
	id, ok := rq.params["message"]
	if !ok || rq.r.Method != http.MethodGet {
		return nil
	}
	v, err := rq.lookupItem(kMessage, u, id)
	if err != nil {
		return nil
	}
	q := rq.s.itemQuirk(v)
	switch q {
	case quirkCorrupt:
		return errCorruptData(v.src)
	case quirkInvalidRecipients:
		return errInvalidRecipients()
	case quirkCannotOpen:
	default:
		return nil
	}
	// The message itself reads; its attachment's body does not, so every
	// call that needs that body fails: MIME, $expand=attachments, the
	// bulk attachment list with content, and the attachment by id.
	switch rq.route.class {
	case "mail.message.mime":
		return errCannotOpenAttachment()
	case "mail.message":
		if strings.Contains(strings.ToLower(rq.q.expand), "attachments") {
			return errCannotOpenAttachment()
		}
	case "mail.attachments":
		if len(rq.q.sel) == 0 || containsFold(rq.q.sel, "contentBytes") {
			return errCannotOpenAttachment()
		}
	case "mail.attachment", "mail.attachment.value":
		r, ok := rq.s.ids().decodeKind(rq.params["attachment"], kAttachment)
		if !ok {
			return nil
		}
		atts := rq.s.message(v).atts
		if p, i := attachmentParent(r); p == v.ref && i >= 0 && i < len(atts) && atts[i].unopenable {
			return errCannotOpenAttachment()
		}
	}
	return nil
}

// eventFault answers a GET of the quirky user's instance-heavy series
// that expands its exceptions; the GET without them (alone, or with
// attachments) works.
func (rq *request) eventFault(u *user) *apiError {
	if rq.route.class != "events.get" || rq.r.Method != http.MethodGet || !parseEventExpansion(rq.q.expand).exceptions {
		return nil
	}
	r, ok := rq.s.ids().decodeKind(rq.params["event"], kEvent)
	if !ok || int(r.Owner) != u.idx || r.Sub != 0 {
		return nil // not the series master
	}
	v, alive := rq.s.model.alive(r)
	if !alive || rq.s.t.quirkOf(v.src) != quirkInstanceHeavy || !rq.s.instancesUnavailable(v, rq.s.event(v)) {
		return nil
	}
	return errInstancesUnavailable()
}

// contentFault answers a download of a file that can never be read.
func (s *Server) contentFault(v view) *apiError {
	if s.t.driveLocked(v.ref.Owner) {
		return errSiteLocked()
	}
	switch s.itemQuirk(v) {
	case quirkMalware:
		return errMalware()
	case quirkOneNoteSection:
		return errOneNoteUnavailable()
	}
	return nil
}

func (q quirk) String() string {
	switch q {
	case quirkCorrupt:
		return "corrupt"
	case quirkCannotOpen:
		return "cannotOpen"
	case quirkInvalidRecipients:
		return "invalidRecipients"
	case quirkMalware:
		return "malware"
	case quirkOneNotePackage, quirkOneNoteSection, quirkOneNoteTOC:
		return "oneNotePackage"
	case quirkSizeDrift:
		return "sizeDrift"
	case quirkInstanceHeavy:
		return "instancesUnavailable"
	}
	return fmt.Sprintf("quirk(%d)", uint8(q))
}
