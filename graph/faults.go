package graph

import (
	"net/http"
	"strings"

	"github.com/corso-temporal/corso/m365"
)

// The fault taxonomy: how Graph's answers (status, error code and, where
// the code alone is ambiguous, the message) map to what a backup does. It
// is read in this one place for every service. A 401 or 403 is not by
// itself a credentials problem: Exchange answers 401 for users without a
// licence and 403 for mailboxes an access policy hides or that are over
// their quota, SharePoint 403 for malware.

// answerRule maps one kind of answer to its sentinel (what callers test
// with errors.Is) and its class and cause. Zero fields match anything;
// code and message compare without case, message as a substring.
type answerRule struct {
	status  int
	code    string
	message string
	kind    error
	class   m365.Class
	cause   m365.Cause
}

// answerRules are tried in order; the first match wins. Sources:
//   - Exchange's per-mailbox answers: Corso's users.go EvaluateMailboxError
//     and graph/errors.go (AuthenticationError, MailboxNotEnabledForRESTAPI,
//     ErrorAccessDenied, ErrorQuotaExceeded, ErrorCorruptData,
//     ErrorInvalidRecipients, ErrorCannotOpenFileAttachment);
//   - application access policies: learn.microsoft.com/graph/auth-limit-mailbox-access
//     ("Access to OData is disabled: Blocked by tenant configured AppOnly
//     AccessPolicy settings.", 403 ErrorAccessDenied);
//   - quota: learn.microsoft.com/graph/api/mailfolder-delta (a mailbox at
//     its quota answers 403 ErrorQuotaExceeded to delta queries);
//   - drives: learn.microsoft.com/onedrive/developer/rest-api/concepts/errors
//     (resourceLocked 423, notAllowed, malwareDetected), OneDrive/onedrive-api-docs#1626,
//     Corso's graph/errors.go ("mysite not found", "Tenant does not have a
//     SPO license");
//   - directory consent: Authorization_RequestDenied, "Insufficient
//     privileges to complete the operation".
var answerRules = []answerRule{
	// Delta state Graph no longer has: enumerate again.
	{code: "syncStateNotFound", kind: ErrDeltaExpired},
	{code: "resyncRequired", kind: ErrDeltaExpired},
	{code: "syncStateInvalid", kind: ErrDeltaExpired},
	{status: http.StatusGone, kind: ErrDeltaExpired},

	// Users and mailboxes.
	// Corso issue #3743: 400 (also seen as 401) AuthenticationError "Error
	// authenticating with resource" for users without an Exchange licence.
	{code: "AuthenticationError", kind: ErrUnknownResource, class: m365.ResourceUnavailable, cause: m365.CauseUnlicensed},
	// "The mailbox is either inactive, soft-deleted, or is hosted
	// on-premise.": Graph does not say which.
	{code: "MailboxNotEnabledForRESTAPI", kind: ErrUnknownResource,
		class: m365.ResourceUnavailable, cause: m365.CauseNoMailbox},
	{code: "ErrorNonExistentMailbox", kind: ErrUnknownResource, class: m365.ResourceUnavailable, cause: m365.CauseNoMailbox},
	{code: "ErrorMailboxNotFound", kind: ErrUnknownResource, class: m365.ResourceUnavailable, cause: m365.CauseNoMailbox},
	{code: "Request_ResourceNotFound", kind: ErrUnknownResource},
	{code: "ErrorInvalidUser", kind: ErrUnknownResource},
	{code: "ErrorQuotaExceeded", class: m365.DeltaUnavailable, cause: m365.CauseQuotaExceeded},
	{code: "ErrorAccessDenied", class: m365.ResourceDenied, cause: m365.CauseAccessDenied},

	// OneDrive and SharePoint.
	{message: "mysite not found", kind: ErrUnknownResource, class: m365.ResourceUnavailable, cause: m365.CauseNoDrive},
	{message: "does not have a SPO license", kind: ErrUnknownResource, class: m365.ResourceUnavailable, cause: m365.CauseNoDrive},
	{message: "Unable to retrieve user's mysite URL", kind: ErrUnknownResource, class: m365.ResourceUnavailable, cause: m365.CauseNoDrive},
	{code: "malwareDetected", class: m365.ItemSkipped, cause: m365.CauseMalware},
	{code: "resourceLocked", class: m365.ResourceUnavailable, cause: m365.CauseLocked},
	{status: http.StatusLocked, class: m365.ResourceUnavailable, cause: m365.CauseLocked},
	{code: "notAllowed", class: m365.ResourceUnavailable, cause: m365.CauseLocked},
	{code: "ResourceNotFound", kind: ErrUnknownResource},

	// Items Exchange can never serve.
	{code: "ErrorCorruptData", class: m365.ItemSkipped, cause: m365.CauseCorrupt},
	{code: "ErrorCannotOpenFileAttachment", class: m365.ItemSkipped, cause: m365.CauseCannotOpen},
	{code: "ErrorInvalidRecipients", class: m365.ItemSkipped, cause: m365.CauseInvalidRecipients},

	// The app itself: no consent for the directory, or refused outright.
	{code: "Authorization_RequestDenied", kind: ErrAuth, class: m365.RunFailed, cause: m365.CauseNoConsent},
	{status: http.StatusUnauthorized, kind: ErrAuth, class: m365.RunFailed, cause: m365.CauseNoConsent},
	// Any other refusal concerns the resource asked for (a drive, a
	// site): it fails alone, and the run says when every one did.
	{status: http.StatusForbidden, class: m365.ResourceDenied, cause: m365.CauseAccessDenied},

	{status: http.StatusNotFound, kind: ErrNotFound},
}

// classifyAnswer finds the rule for an answer.
func classifyAnswer(status int, code, message string) answerRule {
	for _, r := range answerRules {
		if r.status != 0 && r.status != status {
			continue
		}
		if r.code != "" && !strings.EqualFold(r.code, code) {
			continue
		}
		if r.message != "" && !strings.Contains(strings.ToLower(message), strings.ToLower(r.message)) {
			continue
		}
		return r
	}
	return answerRule{}
}
