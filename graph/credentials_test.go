package graph

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

func TestRefusedCredentialsAreFinal(t *testing.T) {
	e := newEnv(t, nil)
	for name, mod := range map[string]func(*Config){
		"wrong secret": func(c *Config) { c.ClientSecret = "not-the-secret" },
		"wrong client": func(c *Config) { c.ClientID = "someone-else" },
		"wrong tenant": func(c *Config) { c.TenantID = "00000000-0000-0000-0000-000000000000" },
	} {
		t.Run(name, func(t *testing.T) {
			c := e.client(mod)
			start := time.Now()
			_, err := c.ResolveMailboxes(context.Background(), []string{e.user(0).ID})
			if !errors.Is(err, ErrAuth) {
				t.Fatalf("err = %v, want ErrAuth", err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
			if n := c.Stats().Requests["auth.token"]; n > 1 {
				t.Errorf("%d token requests: refusals must not be retried", n)
			}
			if n := c.Stats().Requests["users.get"]; n != 0 {
				t.Errorf("%d Graph requests without a token", n)
			}
		})
	}

	t.Run("right secret", func(t *testing.T) {
		c := e.client(nil)
		if _, err := c.ResolveMailboxes(context.Background(), []string{e.user(0).ID}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.ResolveMailboxes(context.Background(), []string{e.user(2).ID}); err != nil {
			t.Fatal(err)
		}
		if n := c.Stats().Requests["auth.token"]; n != 1 {
			t.Errorf("%d token requests, want 1 (cached)", n)
		}
	})
}

// countingCredential issues numbered tokens valid for life.
type countingCredential struct {
	calls int
	life  time.Duration
	fail  error
}

func (c *countingCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.calls++
	if c.fail != nil {
		return azcore.AccessToken{}, c.fail
	}
	return azcore.AccessToken{Token: string(rune('a' + c.calls)), ExpiresOn: time.Now().Add(c.life)}, nil
}

func TestTokensAreReusedUntilShortlyBeforeTheyExpire(t *testing.T) {
	ctx := context.Background()
	graphOpts := policy.TokenRequestOptions{Scopes: graphScopes}
	inner := &countingCredential{life: time.Hour}
	c := &cachedCredential{cred: inner}
	first, err := c.GetToken(ctx, graphOpts)
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		if tok, _ := c.GetToken(ctx, graphOpts); tok.Token != first.Token {
			t.Fatalf("token %q, want the cached %q", tok.Token, first.Token)
		}
	}
	if inner.calls != 1 {
		t.Fatalf("%d token requests for 101 calls", inner.calls)
	}
	// Other scopes and claims challenges get their own tokens.
	if tok, _ := c.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://other/.default"}}); tok.Token == first.Token {
		t.Fatal("another scope got the Graph token")
	}
	if _, err := c.GetToken(ctx, policy.TokenRequestOptions{Scopes: graphScopes, Claims: `{"access_token":{}}`}); err != nil || inner.calls != 3 {
		t.Fatalf("claims challenge: %v, %d calls", err, inner.calls)
	}

	// A token about to expire is replaced; a failure is not cached.
	short := &countingCredential{life: time.Minute}
	c = &cachedCredential{cred: short}
	a, _ := c.GetToken(ctx, graphOpts)
	b, _ := c.GetToken(ctx, graphOpts)
	if a.Token == b.Token || short.calls != 2 {
		t.Fatalf("tokens %q %q after %d calls: one expiring within the margin must be replaced", a.Token, b.Token, short.calls)
	}
	short.fail = errors.New("refused")
	if _, err := c.GetToken(ctx, graphOpts); err == nil {
		t.Fatal("a failure became a token")
	}
}
