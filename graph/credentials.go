package graph

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/corso-temporal/corso/m365"
)

// newCredential is the app's client-secret credential, for Microsoft's
// identity platform and for the simulator alike: the simulator is reached
// through hc's transport, which routes login.microsoftonline.com to it while
// the authority stays https (MSAL refuses anything else).
func newCredential(cfg Config, hc *http.Client) (azcore.TokenCredential, error) {
	opts := &azidentity.ClientSecretCredentialOptions{}
	opts.Transport = hc
	// Instance discovery asks login.microsoft.com about the authority's
	// cloud; a routed endpoint is not a Microsoft cloud.
	opts.DisableInstanceDiscovery = cfg.Endpoint != ""
	cred, err := azidentity.NewClientSecretCredential(cfg.TenantID, cfg.ClientID, cfg.ClientSecret, opts)
	if err != nil {
		// Only malformed ids get here; nothing a retry can fix.
		return nil, fmt.Errorf("graph: credential for tenant %q: %v: %w", cfg.TenantID, err, m365.ErrAuth)
	}
	return cred, nil
}

// refusedCredential reports whether err is the identity platform refusing
// the app (unknown tenant or client, wrong or expired secret, missing
// consent) rather than an outage on the way to it.
func refusedCredential(err error) bool {
	var af *azidentity.AuthenticationFailedError
	if !errors.As(err, &af) {
		return false
	}
	if af.RawResponse == nil {
		// No answer from the identity platform: a network failure, which a
		// later attempt may get past.
		return false
	}
	switch af.RawResponse.StatusCode {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		return true
	}
	return false
}
