package graph

import (
	"context"
	"errors"
	"net/http"
	"testing"

	abs "github.com/microsoft/kiota-abstractions-go"

	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/m365"
)

// Answers real tenants give, as public sources report them, and what a
// backup must do about each.
func TestRealGraphAnswersMapToTheirFaultClass(t *testing.T) {
	for _, tc := range []struct {
		name          string
		status        int
		code, message string
		class         m365.Class
		cause         m365.Cause
		is            error // the sentinel it must also be, if any
	}{
		{"unlicensed user's mailbox", 400, "AuthenticationError", "Error authenticating with resource",
			m365.ResourceUnavailable, m365.CauseUnlicensed, ErrUnknownResource},
		{"unlicensed user's mailbox, as 401", 401, "AuthenticationError", "Error authenticating with resource",
			m365.ResourceUnavailable, m365.CauseUnlicensed, ErrUnknownResource},
		{"inactive, soft-deleted or on-premises mailbox", 404, "MailboxNotEnabledForRESTAPI",
			"The mailbox is either inactive, soft-deleted, or is hosted on-premise.", m365.ResourceUnavailable, m365.CauseNoMailbox, ErrUnknownResource},
		{"application access policy", 403, "ErrorAccessDenied",
			"Access to OData is disabled: Blocked by tenant configured AppOnly AccessPolicy settings.", m365.ResourceDenied, m365.CauseAccessDenied, nil},
		{"mailbox over quota on delta", 403, "ErrorQuotaExceeded", "The process failed to get the correct properties.",
			m365.DeltaUnavailable, m365.CauseQuotaExceeded, nil},
		{"corrupt item", 500, "ErrorCorruptData", "Data is corrupt.", m365.ItemSkipped, m365.CauseCorrupt, nil},
		{"attachment that cannot be opened", 400, "ErrorCannotOpenFileAttachment", "The attachment could not be opened.",
			m365.ItemSkipped, m365.CauseCannotOpen, nil},
		{"invalid recipients", 400, "ErrorInvalidRecipients", "At least one recipient isn't valid.",
			m365.ItemSkipped, m365.CauseInvalidRecipients, nil},
		{"malware-flagged file", 403, "malwareDetected", "Malware detected in file", m365.ItemSkipped, m365.CauseMalware, nil},
		{"locked OneDrive", 423, "resourceLocked", "The resource you are attempting to access is locked",
			m365.ResourceUnavailable, m365.CauseLocked, nil},
		{"offboarded OneDrive", 403, "notAllowed", "The site is read-only", m365.ResourceUnavailable, m365.CauseLocked, nil},
		{"OneDrive never provisioned", 404, "ResourceNotFound", "User's mysite not found.",
			m365.ResourceUnavailable, m365.CauseNoDrive, ErrUnknownResource},
		{"user whose OneDrive has no address yet", 400, "BadRequest", "Unable to retrieve user's mysite URL.",
			m365.ResourceUnavailable, m365.CauseNoDrive, ErrUnknownResource},
		{"tenant without SharePoint", 400, "BadRequest", "Tenant does not have a SPO license.",
			m365.ResourceUnavailable, m365.CauseNoDrive, ErrUnknownResource},
		{"directory consent missing", 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.",
			m365.RunFailed, m365.CauseNoConsent, ErrAuth},
		{"token refused", 401, "InvalidAuthenticationToken", "Access token validation failure.", m365.RunFailed, m365.CauseNoConsent, ErrAuth},
		{"drive access denied", 403, "accessDenied", "Access denied", m365.ResourceDenied, m365.CauseAccessDenied, nil},
		{"delta token expired", 410, "SyncStateNotFound", "", m365.Unclassified, "", ErrDeltaExpired},
		{"drive resync", 410, "resyncRequired", "", m365.Unclassified, "", ErrDeltaExpired},
		{"unknown user", 404, "Request_ResourceNotFound", "Resource 'x' does not exist", m365.Unclassified, "", ErrUnknownResource},
		{"item gone", 404, "ErrorItemNotFound", "The specified object was not found in the store.", m365.Unclassified, "", ErrNotFound},
		{"server error", 500, "InternalServerError", "", m365.Unclassified, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := answered(newAPIError("get", tc.status, tc.code, tc.message), nil)
			class, cause := m365.FaultOf(err)
			if class != tc.class || cause != tc.cause {
				t.Fatalf("%d %s: got %v/%q, want %v/%q", tc.status, tc.code, class, cause, tc.class, tc.cause)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("%d %s: %v is not %v", tc.status, tc.code, err, tc.is)
			}
			if tc.class != m365.RunFailed && errors.Is(err, ErrAuth) {
				t.Fatalf("%d %s: a resource's failure must not read as the app's credentials", tc.status, tc.code)
			}
		})
	}
}

func TestVirusHeaderMarksMalwareWhateverTheCode(t *testing.T) {
	h := abs.NewResponseHeaders()
	h.Add("X-Virus-Infected", "true")
	err := answered(newAPIError("download", http.StatusForbidden, "accessDenied", ""), h)
	if class, cause := m365.FaultOf(err); class != m365.ItemSkipped || cause != m365.CauseMalware {
		t.Fatalf("got %v/%q", class, cause)
	}
}

func TestThrottledAnswersKeepTheirRetryAfter(t *testing.T) {
	h := abs.NewResponseHeaders()
	h.Add("Retry-After", "7")
	var te *ThrottledError
	if err := answered(newAPIError("get", http.StatusTooManyRequests, "ApplicationThrottled", ""), h); !errors.As(err, &te) || te.RetryAfter.Seconds() != 7 {
		t.Fatalf("got %v", err)
	}
}

// Messages Exchange can never serve fail at once with their cause: the
// transport does not retry a 500 that is the item's own (ErrorCorruptData),
// and a 404 with an empty body, which passes, is retried.
func TestUnservableItemsFailAtOnce(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(nil)
	u := e.quirkyUser()
	skipped := 0
	for _, x := range e.state(u.ID, "mail").Expected {
		if x.Outcome != graphsim.OutcomeSkipped || x.ItemID == "" {
			continue
		}
		before := c.Stats().Retries
		body, err := c.FetchItem(context.Background(), u.ID, Email, x.ItemID)
		if err == nil {
			body.Close()
		}
		if class, cause := m365.FaultOf(err); class != m365.ItemSkipped || string(cause) != x.Cause {
			t.Errorf("%s: %v (%v/%q), want skipped as %s", x.Name, err, class, cause, x.Cause)
		}
		if n := c.Stats().Retries - before; n != 0 {
			t.Errorf("%s: retried %d times", x.Name, n)
		}
		skipped++
	}
	if skipped < 3 {
		t.Fatalf("%d unservable messages, the tenant has 3", skipped)
	}
	// The quirky Inbox's first ordinary message answers an empty 404 once.
	for _, it := range e.state(u.ID, "mail").Items {
		if it.Kind != "message" {
			continue
		}
		fetchBytes(t, c, u.ID, Email, it.ID)
	}
	if e.simStats().Faults["transient404"] == 0 {
		t.Error("no empty 404 was met")
	}
}
