package conformance

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/drives"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/corso-temporal/corso/graphsim"
)

// The deterministic transient answers (graphsim transient.go), as the real
// SDK sees them: each surfaces once as an error the client must retry, and
// the retry succeeds.

const revokedMessage = "Continuous access evaluation resulted in challenge with result: InteractionRequired and code: TokenCreatedWithOutdatedPolicies"

// TestRevokedTokenIsODataErrorUntilTheClientGetsANewToken revokes the
// token after 3 Graph requests: the SDK surfaces *ODataError 401
// InvalidAuthenticationToken without retrying it (no claims challenge, so
// kiota's CAE retry does not fire), and keeps failing with its cached
// token; a client with a new credential gets a new token, which works.
func TestRevokedTokenIsODataErrorUntilTheClientGetsANewToken(t *testing.T) {
	t.Parallel()
	const after = 3
	e := newEnv(t, func(o *graphsim.Options) { o.RevokeTokenAfter = after })
	u := e.user0()
	get := func() error {
		_, err := e.client.Users().ByUserId(u.ID).Get(e.ctx, nil)
		return err
	}
	for i := 0; i < after; i++ {
		if err := get(); err != nil {
			t.Fatalf("request %d before the revocation: %v", i+1, err)
		}
	}
	for i := 0; i < 2; i++ {
		oe := odataError(t, get(), http.StatusUnauthorized, "InvalidAuthenticationToken")
		if got := deref(oe.GetErrorEscaped().GetMessage()); got != revokedMessage {
			t.Errorf("message %q, want %q", got, revokedMessage)
		}
		if h := oe.GetResponseHeaders(); h == nil || len(h.Get("WWW-Authenticate")) == 0 ||
			strings.Contains(h.Get("WWW-Authenticate")[0], "claims=") {
			t.Errorf("WWW-Authenticate %v, want one without a claims challenge", h.Get("WWW-Authenticate"))
		}
		checkRequestID(t, oe)
	}
	if n := len(e.requests("/v1.0/users/" + u.ID)); n != after+2 {
		t.Errorf("%d user requests for %d calls: the SDK must not resend a 401 without a claims challenge", n, after+2)
	}
	if n := len(e.requests("/oauth2/v2.0/token")); n != 1 {
		t.Errorf("%d token requests before a new client, want 1 (the credential caches its token)", n)
	}

	fresh, _ := e.newClient(nil)
	for i := 0; i < 3; i++ {
		if _, err := fresh.Users().ByUserId(u.ID).Get(e.ctx, nil); err != nil {
			t.Fatalf("new client after the revocation: %v", err)
		}
	}
	if n := len(e.requests("/oauth2/v2.0/token")); n != 2 {
		t.Errorf("%d token requests, want 2", n)
	}
	odataError(t, get(), http.StatusUnauthorized, "InvalidAuthenticationToken")
	st := e.stats()
	if st.Faults["revokedToken"] != 1 || st.Faults["revokedTokenRejected"] != 3 {
		t.Errorf("stats faults %v, want revokedToken 1, revokedTokenRejected 3", st.Faults)
	}
}

// TestTransientInvalidRequestOnADriveDeltaPageIsODataErrorAndRetrySucceeds
// pages the quirky user's OneDrive with $top=2: the first nextLink page is
// *ODataError 400 invalidRequest "Invalid request" once (kiota's
// RetryHandler does not retry a 400), the same link then succeeds, and the
// round holds the whole drive.
func TestTransientInvalidRequestOnADriveDeltaPageIsODataErrorAndRetrySucceeds(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	u := e.specialUser("quirky")
	top := int32(2)
	first, err := e.client.Drives().ByDriveId(u.DriveID).Items().ByDriveItemId("root").Delta().GetAsDeltaGetResponse(e.ctx,
		&drives.ItemItemsItemDeltaRequestBuilderGetRequestConfiguration{
			QueryParameters: &drives.ItemItemsItemDeltaRequestBuilderGetQueryParameters{Top: &top},
		})
	if err != nil {
		t.Fatalf("first page: %v", err)
	}
	next := deref(first.GetOdataNextLink())
	if next == "" {
		t.Fatal("no nextLink with $top=2")
	}
	_, err = drives.NewItemItemsItemDeltaRequestBuilder(next, e.adapter).GetAsDeltaGetResponse(e.ctx, nil)
	odataMessage(t, err, http.StatusBadRequest, "invalidRequest", "Invalid request")
	if n := len(e.requests("/drives/" + u.DriveID)); n != 2 {
		t.Errorf("%d delta requests for 2 calls: a 400 must not be retried by the SDK", n)
	}
	page, err := drives.NewItemItemsItemDeltaRequestBuilder(next, e.adapter).GetAsDeltaGetResponse(e.ctx, nil)
	rest := e.followDrive(page, err)
	got := len(first.GetValue()) + rest.count()
	if again := e.rootDelta(u.DriveID, 2); again.count() != got || got < 3 {
		t.Errorf("round with a retried page: %d items, a round without the 400: %d", got, again.count())
	}
	if st := e.stats(); st.Faults["transient400"] != 1 {
		t.Errorf("stats faults[transient400] = %d, want 1", st.Faults["transient400"])
	}
}

// apiError404 requires the SDK's error for a 404 without a body: an
// *abstractions.ApiError (no ODataError: there is nothing to parse).
func apiError404(t *testing.T, err error) {
	t.Helper()
	var oe *odataerrors.ODataError
	var ae *abs.ApiError
	switch {
	case err == nil:
		t.Fatal("want a 404 without a body, got success")
	case errors.As(err, &oe):
		t.Fatalf("want a 404 without a body, got ODataError %d %v", oe.ResponseStatusCode, err)
	case !errors.As(err, &ae) || ae.ResponseStatusCode != http.StatusNotFound:
		t.Fatalf("want *abstractions.ApiError 404, got %T: %v", err, err)
	}
}

// TestTransientEmptyNotFoundOnMessageMIMEAndEventIsApiErrorAndRetrySucceeds
// reads the MIME of every message in the quirky user's Inbox and every
// event of its calendars once: exactly one of each answers 404 without a
// body, which the SDK returns as *abstractions.ApiError, and reading it
// again succeeds.
func TestTransientEmptyNotFoundOnMessageMIMEAndEventIsApiErrorAndRetrySucceeds(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	u := e.specialUser("quirky")
	msgs, err := e.client.Users().ByUserId(u.ID).MailFolders().ByMailFolderId("inbox").Messages().Get(e.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var empty []string
	for _, m := range msgs.GetValue() {
		id := deref(m.GetId())
		_, err := e.client.Users().ByUserId(u.ID).Messages().ByMessageId(id).Content().Get(e.ctx, nil)
		var ae *abs.ApiError
		if err != nil && errors.As(err, &ae) && ae.ResponseStatusCode == http.StatusNotFound {
			apiError404(t, err)
			empty = append(empty, id)
		}
	}
	if len(empty) != 1 {
		t.Fatalf("%d Inbox messages answered an empty 404, want 1", len(empty))
	}
	mime, err := e.client.Users().ByUserId(u.ID).Messages().ByMessageId(empty[0]).Content().Get(e.ctx, nil)
	if err != nil || !strings.Contains(string(mime), "Subject:") {
		t.Fatalf("MIME on retry: %v (%d bytes)", err, len(mime))
	}

	cals, err := e.client.Users().ByUserId(u.ID).Calendars().Get(e.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	top := int32(100)
	var emptyEvents []string
	for _, c := range cals.GetValue() {
		evs, err := e.client.Users().ByUserId(u.ID).Calendars().ByCalendarId(deref(c.GetId())).Events().Get(e.ctx,
			&users.ItemCalendarsItemEventsRequestBuilderGetRequestConfiguration{
				QueryParameters: &users.ItemCalendarsItemEventsRequestBuilderGetQueryParameters{Top: &top, Select: []string{"id"}},
			})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs.GetValue() {
			id := deref(ev.GetId())
			_, err := e.client.Users().ByUserId(u.ID).Events().ByEventId(id).Get(e.ctx, nil)
			if err != nil {
				apiError404(t, err)
				emptyEvents = append(emptyEvents, id)
			}
		}
	}
	if len(emptyEvents) != 1 {
		t.Fatalf("%d events answered an empty 404, want 1", len(emptyEvents))
	}
	ev, err := e.client.Users().ByUserId(u.ID).Events().ByEventId(emptyEvents[0]).Get(e.ctx, nil)
	if err != nil || deref(ev.GetId()) != emptyEvents[0] {
		t.Fatalf("event on retry: %v", err)
	}
	if st := e.stats(); st.Faults["transient404"] != 2 {
		t.Errorf("stats faults[transient404] = %d, want 2", st.Faults["transient404"])
	}
}
