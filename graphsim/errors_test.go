package graphsim

import (
	"net/http"
	"strings"
	"testing"
)

func TestEveryErrorCarriesTheFullGraphEnvelope(t *testing.T) {
	h := newHarness(t, Options{})
	u := h.user(0)
	noMailbox := ""
	for _, us := range h.sim.Info().Users {
		if !us.HasMailbox {
			noMailbox = us.ID
		}
	}
	cases := []struct {
		name, method, path string
		status             int
		code               string
	}{
		{"unknown user", "GET", "users/nobody@contoso.onmicrosoft.com", 404, "Request_ResourceNotFound"},
		{"unknown segment", "GET", "users/" + u + "/frobnicate", 400, "BadRequest"},
		{"wrong method", "DELETE", "users", 405, "Request_BadRequest"},
		{"malformed message id", "GET", "users/" + u + "/messages/xyz", 400, "ErrorInvalidIdMalformed"},
		{"unknown folder name", "GET", "users/" + u + "/mailFolders/nosuchfolder", 400, "ErrorInvalidIdMalformed"},
		{"unknown $select property", "GET", "users/" + u + "/mailFolders/inbox/messages/delta?$select=id,subjekt", 400, "BadRequest"},
		{"bad delta token", "GET", "users/" + u + "/mailFolders/inbox/messages/delta?$deltatoken=abc", 400, "ErrorInvalidUrlQuery"},
		{"unknown drive item", "GET", "drives/b!AAAA/items/01ABC", 400, "invalidRequest"},
		{"/me is delegated-only", "GET", "me/messages", 400, "BadRequest"},
		{"bad version", "GET", "/v2.0/users", 400, "BadRequest"},
		{"advanced query without ConsistencyLevel", "GET", "users?$count=true", 400, "Request_UnsupportedQuery"},
	}
	if noMailbox != "" {
		cases = append(cases, struct {
			name, method, path string
			status             int
			code               string
		}{"user without mailbox", "GET", "users/" + noMailbox + "/mailFolders", 404, "MailboxNotEnabledForRESTAPI"})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := h.do(tc.method, tc.path, nil, "client-request-id", "abc-123")
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Fatalf("content type %q", ct)
			}
			e := errorOf(t, h.decode(resp, tc.status))
			if e["code"] != tc.code {
				t.Fatalf("code %v, want %s (%v)", e["code"], tc.code, e["message"])
			}
			if m, _ := e["message"].(string); m == "" {
				t.Fatalf("empty message")
			}
			inner := e["innerError"].(map[string]any)
			if inner["date"] == "" || inner["request-id"] == "" || inner["client-request-id"] != "abc-123" {
				t.Fatalf("innerError %v", inner)
			}
			if resp.Header.Get("request-id") != inner["request-id"] {
				t.Fatalf("request-id header %q vs body %v", resp.Header.Get("request-id"), inner["request-id"])
			}
		})
	}
}

func TestJSONAnswersAlwaysDeclareJSON(t *testing.T) {
	h := newHarness(t, Options{})
	u := h.user(0)
	for _, p := range []string{"users", "users/" + u, "users/" + u + "/mailFolders", "users/" + u + "/drive",
		"users/" + u + "/drive/root/children", "sites", "groups", "users/" + u + "/calendars", "users/" + u + "/contactFolders"} {
		resp := h.do(http.MethodGet, p, nil)
		h.decode(resp, http.StatusOK) // checks the content type
	}
}
