package graphsim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func (h *harness) postForm(path string, form url.Values) (int, map[string]any) {
	h.t.Helper()
	resp, err := http.PostForm(h.srv.URL+path, form)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		h.t.Fatalf("token endpoint answered non-JSON %q", b)
	}
	return resp.StatusCode, m
}

func TestTokenEndpointIssuesTokensOnlyForTheConfiguredApp(t *testing.T) {
	h := newHarness(t, Options{ClientID: "app-1", ClientSecret: "s3cret"})
	tenant := h.sim.TenantID()
	good := url.Values{"grant_type": {"client_credentials"}, "client_id": {"app-1"}, "client_secret": {"s3cret"}, "scope": {"https://graph.microsoft.com/.default"}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for key, vs := range good {
			f[key] = vs
		}
		f.Set(k, v)
		return f
	}
	for _, tc := range []struct {
		name, tenant string
		form         url.Values
		status       int
		code         string
	}{
		{"good by tenant id", tenant, good, 200, ""},
		{"good by domain", "contoso.onmicrosoft.com", good, 200, ""},
		{"wrong secret", tenant, with("client_secret", "nope"), 401, "invalid_client"},
		{"wrong client", tenant, with("client_id", "app-2"), 401, "invalid_client"},
		{"wrong grant", tenant, with("grant_type", "password"), 400, "unsupported_grant_type"},
		{"bad scope", tenant, with("scope", "Mail.Read"), 400, "invalid_scope"},
		{"msal adds openid scopes", tenant, with("scope", "https://graph.microsoft.com/.default openid offline_access profile"), 200, ""},
		{"openid scopes alone", tenant, with("scope", "openid profile"), 400, "invalid_scope"},
		{"unknown tenant", "00000000-0000-0000-0000-000000000000", good, 400, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := h.postForm("/"+tc.tenant+"/oauth2/v2.0/token", tc.form)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %v", status, tc.status, body)
			}
			if tc.code != "" {
				if body["error"] != tc.code || !strings.HasPrefix(body["error_description"].(string), "AADSTS") {
					t.Fatalf("error body %v", body)
				}
				return
			}
			if body["token_type"] != "Bearer" || body["expires_in"].(float64) <= 0 {
				t.Fatalf("token body %v", body)
			}
			h.token = body["access_token"].(string)
			h.getJSON("users", http.StatusOK)
		})
	}
}

func TestGraphCallsWithoutAValidTokenGet401(t *testing.T) {
	h := newHarness(t, Options{})
	other := New(Options{Tenant: TenantOptions{Seed: 99}, ClientSecret: "other"})
	foreign, _ := other.IssueToken()
	for _, tc := range []struct {
		name, token string
		advance     time.Duration
	}{
		{"missing", "", 0},
		{"garbage", "not-a-jwt", 0},
		{"other tenant's token", foreign, 0},
		{"expired", "", 2 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.token = tc.token
			if tc.advance > 0 {
				h.token, _ = h.sim.IssueToken()
				h.clock.Advance(tc.advance)
			}
			resp := h.do(http.MethodGet, "users", nil)
			if resp.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("no WWW-Authenticate")
			}
			e := errorOf(t, h.decode(resp, http.StatusUnauthorized))
			if e["code"] != "InvalidAuthenticationToken" || e["message"] == "" {
				t.Fatalf("401 body %v", e)
			}
		})
	}
}

func TestDisableAuthAcceptsAnonymousCalls(t *testing.T) {
	h := newHarness(t, Options{DisableAuth: true})
	h.token = ""
	h.getJSON("users", http.StatusOK)
}
