package conformance

import (
	"context"
	"net/http"
	"testing"

	abs "github.com/microsoft/kiota-abstractions-go"
	kauth "github.com/microsoft/kiota-abstractions-go/authentication"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/corso-temporal/corso/graphsim"
)

// checkRequestID asserts that innerError carries the request-id the answer
// was sent with, as Graph's envelope does.
func checkRequestID(t *testing.T, oe *odataerrors.ODataError) {
	t.Helper()
	inner := oe.GetErrorEscaped().GetInnerError()
	if inner == nil || deref(inner.GetRequestId()) == "" {
		t.Errorf("error without innerError.request-id")
		return
	}
	if h := oe.GetResponseHeaders(); h != nil {
		if v := h.Get("request-id"); len(v) > 0 && v[0] != deref(inner.GetRequestId()) {
			t.Errorf("innerError.request-id %q, header request-id %q", deref(inner.GetRequestId()), v[0])
		}
	}
}

// TestMissingDriveItemIsODataErrorItemNotFound reads a drive item that was
// deleted and one that never existed: the SDK returns *ODataError 404
// itemNotFound with a message, and Error() does not panic.
func TestMissingDriveItemIsODataErrorItemNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	u := e.user0()
	r := e.rootDelta(u.DriveID, 200)
	var victim string
	for id, it := range r.items() {
		if it.GetFile() != nil && (victim == "" || id < victim) {
			victim = id
		}
	}
	e.mutate(graphsim.MutateOp{Op: "delete", ID: victim})

	_, err := e.client.Drives().ByDriveId(u.DriveID).Items().ByDriveItemId(victim).Get(e.ctx, nil)
	checkRequestID(t, odataError(t, err, http.StatusNotFound, "itemNotFound"))

	_, err = e.client.Drives().ByDriveId(u.DriveID).Items().ByDriveItemId("01NOSUCHITEMEXISTSINTHISDRIVE0000").Get(e.ctx, nil)
	odataError(t, err, http.StatusNotFound, "itemNotFound")

	_, err = e.client.Drives().ByDriveId(u.DriveID).Items().ByDriveItemId(victim).Content().Get(e.ctx, nil)
	odataError(t, err, http.StatusNotFound, "itemNotFound")
}

// TestUnknownUserIsODataErrorResourceNotFound reads a user who does not
// exist: 404 Request_ResourceNotFound, as the directory answers.
func TestUnknownUserIsODataErrorResourceNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	_, err := e.client.Users().ByUserId("nobody@"+e.info.Domain).Get(e.ctx, nil)
	checkRequestID(t, odataError(t, err, http.StatusNotFound, "Request_ResourceNotFound"))
}

// fixedBearer sends a bearer token of its own, valid or not.
type fixedBearer string

func (f fixedBearer) AuthenticateRequest(_ context.Context, req *abs.RequestInformation, _ map[string]any) error {
	req.Headers.Add("Authorization", "Bearer "+string(f))
	return nil
}

// TestMissingTokenIsODataErrorInvalidAuthenticationToken calls Graph
// without a token (kiota's anonymous provider) and with a forged one: both
// are *ODataError 401 InvalidAuthenticationToken with a message, not
// retried, and the answer carries WWW-Authenticate.
func TestMissingTokenIsODataErrorInvalidAuthenticationToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	u := e.user0()
	for name, auth := range map[string]kauth.AuthenticationProvider{
		"anonymous": &kauth.AnonymousAuthenticationProvider{},
		"forged":    fixedBearer("eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJ4In0.c2ln"),
	} {
		e.resetLog()
		client, _ := e.newClient(auth)
		_, err := client.Users().ByUserId(u.ID).Get(e.ctx, nil)
		oe := odataError(t, err, http.StatusUnauthorized, "InvalidAuthenticationToken")
		if h := oe.GetResponseHeaders(); h == nil || len(h.Get("WWW-Authenticate")) == 0 {
			t.Errorf("%s: 401 without WWW-Authenticate", name)
		}
		reqs := e.requests("/users/")
		if len(reqs) != 1 || reqs[0].Auth != (name == "forged") {
			t.Errorf("%s: requests %+v, want exactly one (no retry)", name, reqs)
		}
	}
}

// TestClientSecretCredentialIsIssuedTokenBySimulator checks the wiring the
// suite relies on: azidentity's client-secret credential, with the
// authority left at https://login.microsoftonline.com, fetches the
// tenant's OpenID configuration and a token from the simulator, and Graph
// calls carry it.
func TestClientSecretCredentialIsIssuedTokenBySimulator(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	u := e.user0()
	if _, err := e.client.Users().ByUserId(u.ID).Get(e.ctx, nil); err != nil {
		t.Fatal(err)
	}
	tok := e.requests("/oauth2/v2.0/token")
	if len(tok) != 1 || tok[0].Method != http.MethodPost || tok[0].Status != http.StatusOK {
		t.Errorf("token requests %+v, want one POST answered 200", tok)
	}
	if cfg := e.requests("/.well-known/openid-configuration"); len(cfg) == 0 || cfg[0].Status != http.StatusOK {
		t.Errorf("OpenID configuration requests %+v", cfg)
	}
	if g := e.requests("/v1.0/users/"); len(g) != 1 || !g[0].Auth || g[0].Status != http.StatusOK {
		t.Errorf("Graph requests %+v, want one authorized 200", g)
	}
}
