package graph

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/corso-temporal/corso/m365"
)

// newCredential is the app's client-secret credential, for Microsoft's
// identity platform and for the simulator alike: the simulator is reached
// through hc's transport, which routes login.microsoftonline.com to it while
// the authority stays https (MSAL refuses anything else).
func newCredential(cfg Config, hc *http.Client) (*cachedCredential, error) {
	opts := &azidentity.ClientSecretCredentialOptions{}
	opts.Transport = hc
	// Instance discovery asks login.microsoft.com about the authority's
	// cloud; a routed endpoint is not a Microsoft cloud.
	opts.DisableInstanceDiscovery = cfg.Endpoint != ""
	fresh := func() (azcore.TokenCredential, error) {
		return azidentity.NewClientSecretCredential(cfg.TenantID, cfg.ClientID, cfg.ClientSecret, opts)
	}
	cred, err := fresh()
	if err != nil {
		// Only malformed ids get here; nothing a retry can fix.
		return nil, fmt.Errorf("graph: credential for tenant %q: %v: %w", cfg.TenantID, err, m365.ErrAuth)
	}
	return &cachedCredential{cred: cred, fresh: fresh}, nil
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

// tokenMargin is how long before a token expires a fresh one is asked for.
const tokenMargin = 5 * time.Minute

// cachedCredential hands out the credential's last token until shortly
// before it expires or the identity platform suggests refreshing it. MSAL
// keeps tokens too, but looking one up there on every request costs a few
// percent of a backup's processor time.
type cachedCredential struct {
	cred azcore.TokenCredential
	// fresh makes a credential with caches of its own, for when Graph
	// refuses a token before its expiry (see renew).
	fresh func() (azcore.TokenCredential, error)

	mu   sync.Mutex
	opts policy.TokenRequestOptions // what tok was issued for
	tok  azcore.AccessToken
}

func (c *cachedCredential) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.mu.Lock()
	cred := c.cred
	c.mu.Unlock()
	if opts.Claims != "" {
		// A claims challenge asks for a token the cached one is not.
		return cred.GetToken(ctx, opts)
	}
	now := time.Now()
	c.mu.Lock()
	same := slices.Equal(c.opts.Scopes, opts.Scopes) && c.opts.TenantID == opts.TenantID && c.opts.EnableCAE == opts.EnableCAE
	tok, fresh := c.tok, same && now.Add(tokenMargin).Before(c.tok.ExpiresOn) &&
		(c.tok.RefreshOn.IsZero() || now.Before(c.tok.RefreshOn))
	c.mu.Unlock()
	if fresh {
		return tok, nil
	}
	tok, err := cred.GetToken(ctx, opts)
	if err != nil {
		return tok, err
	}
	opts.Scopes = slices.Clone(opts.Scopes)
	c.mu.Lock()
	c.opts, c.tok = opts, tok
	c.mu.Unlock()
	return tok, nil
}

// renew replaces a token Graph refused before its expiry (401
// InvalidAuthenticationToken: revoked, or rejected by continuous access
// evaluation). The identity platform's library would hand out the same
// token from its own cache, so a new credential, with new caches, asks for
// one. Callers that saw the same refused token share one renewal.
func (c *cachedCredential) renew(ctx context.Context, refused string) (azcore.AccessToken, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok.Token != refused && c.tok.Token != "" {
		return c.tok, nil // renewed already
	}
	cred, err := c.fresh()
	if err != nil {
		return azcore.AccessToken{}, err
	}
	tok, err := cred.GetToken(ctx, c.opts)
	if err != nil {
		return tok, err
	}
	c.cred, c.tok = cred, tok
	return tok, nil
}

// reauth sends a Graph request once more with a new token when Graph
// refused its token before the token's expiry. A second refusal reaches the
// caller, for whom it means the app itself is refused.
type reauth struct {
	base http.RoundTripper
	cred *cachedCredential
}

func (t *reauth) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	bearer, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
	if err != nil || resp.StatusCode != http.StatusUnauthorized || !ok ||
		!strings.EqualFold(answerOf(resp.StatusCode, peek(resp)).code, "InvalidAuthenticationToken") {
		return resp, err
	}
	// kiota's bodies are seekable (its retry handler rewinds them too).
	seeker, seekable := req.Body.(io.Seeker)
	if req.Body != nil && req.GetBody == nil && !seekable {
		return resp, nil // a body that cannot be sent twice
	}
	tok, rerr := t.cred.renew(req.Context(), bearer)
	if rerr != nil {
		return resp, nil
	}
	again := req.Clone(req.Context())
	again.Header.Set("Authorization", "Bearer "+tok.Token)
	switch {
	case req.GetBody != nil:
		if again.Body, rerr = req.GetBody(); rerr != nil {
			return resp, nil
		}
	case seekable:
		if _, rerr = seeker.Seek(0, io.SeekStart); rerr != nil {
			return resp, nil
		}
	}
	discard(resp)
	return t.base.RoundTrip(again)
}
