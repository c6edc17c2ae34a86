package graph

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	khttp "github.com/microsoft/kiota-http-go"
)

// issuer hands out the tokens of its list in turn.
type issuer struct {
	tokens []string
	n      atomic.Int32
}

func (i *issuer) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	k := int(i.n.Add(1)) - 1
	return azcore.AccessToken{Token: i.tokens[min(k, len(i.tokens)-1)], ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// A token Graph refuses before its expiry is replaced once, from a new
// credential, and the request sent again; a refused new token reaches the
// caller.
func TestRefusedTokenIsRenewedOnce(t *testing.T) {
	refused := map[string]bool{"old": true}
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		seen = append(seen, tok)
		if refused[tok] {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":{"code":"InvalidAuthenticationToken","message":"Access token validation failure."}}`)
			return
		}
		io.WriteString(w, "ok "+tok)
	}))
	defer srv.Close()

	fresh := &issuer{tokens: []string{"new", "newer"}}
	cred := &cachedCredential{cred: &issuer{tokens: []string{"old"}}, fresh: func() (azcore.TokenCredential, error) { return fresh, nil }}
	ctx := context.Background()
	opts := policy.TokenRequestOptions{Scopes: graphScopes}
	if tok, _ := cred.GetToken(ctx, opts); tok.Token != "old" {
		t.Fatalf("first token %q", tok.Token)
	}
	hc := &http.Client{Transport: &reauth{base: http.DefaultTransport, cred: cred}}
	get := func(token string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("old"); code != http.StatusOK || body != "ok new" {
		t.Fatalf("got %d %q, want the request sent again with a new token", code, body)
	}
	// Another request that still carried the refused token shares the
	// renewal, and later ones get the new token from the cache.
	if code, body := get("old"); code != http.StatusOK || body != "ok new" {
		t.Fatalf("got %d %q", code, body)
	}
	if tok, _ := cred.GetToken(ctx, opts); tok.Token != "new" || fresh.n.Load() != 1 {
		t.Fatalf("cached %q after %d renewals", tok.Token, fresh.n.Load())
	}
	// A refused new token is the app's problem: the 401 reaches the caller.
	refused["new"], refused["newer"] = true, true
	if code, body := get("new"); code != http.StatusUnauthorized || !strings.Contains(body, "InvalidAuthenticationToken") {
		t.Fatalf("got %d %q", code, body)
	}
	if strings.Join(seen, ",") != "old,new,old,new,new,newer" {
		t.Fatalf("tokens sent: %v", seen)
	}
}

// A request body kiota sends (seekable, without GetBody) goes again whole
// with the new token.
func TestRefusedTokenResendsTheBody(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, r.Header.Get("Authorization")+" "+string(b))
		if r.Header.Get("Authorization") == "Bearer old" {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":{"code":"InvalidAuthenticationToken","message":"Lifetime validation failed, the token is expired."}}`)
			return
		}
		w.WriteHeader(http.StatusCreated)
	}))
	defer srv.Close()
	fresh := &issuer{tokens: []string{"new"}}
	cred := &cachedCredential{cred: &issuer{tokens: []string{"old"}}, fresh: func() (azcore.TokenCredential, error) { return fresh, nil }}
	if _, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: graphScopes}); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL, nil)
	req.Body = khttp.NopCloser(strings.NewReader(`{"subject":"x"}`))
	req.Header.Set("Authorization", "Bearer old")
	resp, err := (&http.Client{Transport: &reauth{base: http.DefaultTransport, cred: cred}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || strings.Join(got, "|") != `Bearer old {"subject":"x"}|Bearer new {"subject":"x"}` {
		t.Fatalf("%d after %q", resp.StatusCode, got)
	}
}
