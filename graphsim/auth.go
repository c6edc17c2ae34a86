package graphsim

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// The token endpoint implements the OAuth 2.0 client-credentials grant the
// way Entra ID answers it, for exactly one application (Options.ClientID and
// ClientSecret). Access tokens are JWT-shaped and HMAC-signed with a key
// derived from the seed and secret, so they stay valid across restarts of a
// simulator with the same configuration; they are checked for signature,
// tenant and expiry on every Graph call.

type accessClaims struct {
	Aud   string   `json:"aud"`
	Iss   string   `json:"iss"`
	Iat   int64    `json:"iat"`
	Nbf   int64    `json:"nbf"`
	Exp   int64    `json:"exp"`
	AppID string   `json:"appid"`
	Tid   string   `json:"tid"`
	Roles []string `json:"roles"`
	Uti   string   `json:"uti"`
}

var jwtHeader = b64raw.EncodeToString([]byte(`{"typ":"JWT","alg":"HS256"}`))

// IssueToken mints an access token for the configured application, as the
// token endpoint would. Tests and the dev stack use it to skip the grant.
func (s *Server) IssueToken() (token string, expires time.Time) {
	now := s.now()
	exp := now.Add(s.opts.AccessTokenTTL)
	c := accessClaims{
		Aud:   "https://graph.microsoft.com",
		Iss:   "https://sts.windows.net/" + s.opts.TenantID + "/",
		Iat:   now.Unix(),
		Nbf:   now.Unix(),
		Exp:   exp.Unix(),
		AppID: s.opts.ClientID,
		Tid:   s.opts.TenantID,
		Roles: []string{"Mail.ReadWrite", "Contacts.ReadWrite", "Calendars.ReadWrite", "Files.ReadWrite.All", "Sites.ReadWrite.All", "User.Read.All", "Group.Read.All"},
		Uti:   s.nextUTI(), // every token a different string (transient.go)
	}
	body, _ := json.Marshal(c)
	signed := s.accessKeys.sign([]byte(jwtHeader + "." + b64raw.EncodeToString(body)))
	// signed is base64(header.payload) "." sig; re-shape into header.payload.sig.
	_, sig, _ := strings.Cut(signed, ".")
	return jwtHeader + "." + b64raw.EncodeToString(body) + "." + sig, exp
}

func (s *Server) verifyToken(tok string) (*accessClaims, string) {
	// Verified tokens are remembered: clients reuse one token for an hour,
	// and re-verifying it on every call would dominate small requests.
	if c, ok := s.tokenCache.Load(tok); ok {
		claims := c.(*accessClaims)
		if s.now().Unix() >= claims.Exp {
			return nil, "Lifetime validation failed, the token is expired."
		}
		return claims, ""
	}
	c, msg := s.verifyTokenSlow(tok)
	if c != nil {
		if s.tokenCacheSize.Add(1) > 1024 {
			s.tokenCache.Clear()
			s.tokenCacheSize.Store(0)
		}
		s.tokenCache.Store(tok, c)
	}
	return c, msg
}

func (s *Server) verifyTokenSlow(tok string) (*accessClaims, string) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, "IDX14100: JWT is not well formed, there are no dots (.)."
	}
	signingInput := parts[0] + "." + parts[1]
	if _, ok := s.accessKeys.verify(b64raw.EncodeToString([]byte(signingInput)) + "." + parts[2]); !ok {
		return nil, "Access token validation failure. Invalid signature."
	}
	payload, err := b64raw.DecodeString(parts[1])
	if err != nil {
		return nil, "IDX14100: JWT is not well formed."
	}
	var c accessClaims
	if json.Unmarshal(payload, &c) != nil {
		return nil, "IDX14100: JWT is not well formed."
	}
	if c.Tid != s.opts.TenantID || c.AppID != s.opts.ClientID {
		return nil, "Access token validation failure. Invalid audience."
	}
	if s.now().Unix() >= c.Exp {
		return nil, "Lifetime validation failed, the token is expired."
	}
	return &c, ""
}

// authenticate checks the bearer token of a Graph call.
func (s *Server) authenticate(r *http.Request) *apiError {
	if s.opts.DisableAuth {
		return nil
	}
	h := r.Header.Get("Authorization")
	scheme, tok, _ := strings.Cut(h, " ")
	tok = strings.TrimSpace(tok)
	if h == "" || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return newError(http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty.").
			with("WWW-Authenticate", `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`)
	}
	if _, msg := s.verifyToken(tok); msg != "" {
		return newError(http.StatusUnauthorized, "InvalidAuthenticationToken", "%s", msg).
			with("WWW-Authenticate", `Bearer realm="", error="invalid_token", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`)
	}
	return s.checkRevoked(tok)
}

// aadError is the error shape of the Microsoft identity platform.
type aadError struct {
	Error         string `json:"error"`
	Description   string `json:"error_description"`
	ErrorCodes    []int  `json:"error_codes"`
	Timestamp     string `json:"timestamp"`
	TraceID       string `json:"trace_id"`
	CorrelationID string `json:"correlation_id"`
}

func (s *Server) aadFail(c *httpCtx, status int, code string, aadsts int, desc string) {
	writeJSON(c.w, status, aadError{
		Error:         code,
		Description:   "AADSTS" + itoa64(int64(aadsts)) + ": " + desc + " Trace ID: " + c.requestID + " Correlation ID: " + c.requestID + " Timestamp: " + s.now().UTC().Format("2006-01-02 15:04:05Z"),
		ErrorCodes:    []int{aadsts},
		Timestamp:     s.now().UTC().Format("2006-01-02 15:04:05Z"),
		TraceID:       c.requestID,
		CorrelationID: c.requestID,
	})
}

// tenantMatches accepts the tenant id or the tenant's domain in the path.
func (s *Server) tenantMatches(t string) bool {
	return strings.EqualFold(t, s.opts.TenantID) || strings.EqualFold(t, s.t.domain)
}

// serveToken answers POST /{tenant}/oauth2/v2.0/token.
func (s *Server) serveToken(c *httpCtx) {
	r := c.r
	tenantSeg := firstSegment(r.URL.Path)
	if r.Method != http.MethodPost {
		s.aadFail(c, http.StatusMethodNotAllowed, "invalid_request", 900561, "The endpoint only accepts POST requests.")
		return
	}
	if !s.tenantMatches(tenantSeg) {
		s.aadFail(c, http.StatusBadRequest, "invalid_request", 90002, "Tenant '"+tenantSeg+"' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.")
		return
	}
	if err := r.ParseForm(); err != nil {
		s.aadFail(c, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
		return
	}
	grant := r.PostForm.Get("grant_type")
	id, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if bid, bsecret, ok := r.BasicAuth(); ok {
		id, secret = bid, bsecret
	}
	scope := r.PostForm.Get("scope")
	switch {
	case grant == "":
		s.aadFail(c, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
	case grant != "client_credentials":
		s.aadFail(c, http.StatusBadRequest, "unsupported_grant_type", 70003, "The app requested an unsupported grant type '"+grant+"'.")
	case id != s.opts.ClientID:
		s.aadFail(c, http.StatusUnauthorized, "invalid_client", 700016, "Application with identifier '"+id+"' was not found in the directory '"+s.t.domain+"'.")
	case subtle.ConstantTimeCompare([]byte(secret), []byte(s.opts.ClientSecret)) != 1:
		s.aadFail(c, http.StatusUnauthorized, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '"+id+"'.")
	case scope == "":
		s.aadFail(c, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'scope'.")
	case !hasDefaultScope(scope):
		s.aadFail(c, http.StatusBadRequest, "invalid_scope", 1002012, "The provided value for scope "+scope+" is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).")
	default:
		tok, exp := s.IssueToken()
		ttl := int(exp.Sub(s.now()).Seconds())
		writeJSON(c.w, http.StatusOK, map[string]any{
			"token_type":     "Bearer",
			"expires_in":     ttl,
			"ext_expires_in": ttl,
			"access_token":   tok,
		})
	}
}

// serveOpenIDConfig answers the discovery document MSAL fetches before a
// grant, pointing the token endpoint back at the simulator.
func (s *Server) serveOpenIDConfig(c *httpCtx) {
	tid := firstSegment(c.r.URL.Path)
	if !s.tenantMatches(tid) {
		s.aadFail(c, http.StatusBadRequest, "invalid_tenant", 90002, "Tenant '"+tid+"' not found.")
		return
	}
	base := s.baseURL(c.r) + "/" + s.opts.TenantID
	writeJSON(c.w, http.StatusOK, map[string]any{
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "client_secret_basic"},
		"jwks_uri":                              base + "/discovery/v2.0/keys",
		"issuer":                                "https://login.microsoftonline.com/" + s.opts.TenantID + "/v2.0",
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"tenant_region_scope":                   "NA",
		"cloud_instance_name":                   "microsoftonline.com",
	})
}

// hasDefaultScope reports whether a client-credentials scope names a
// resource's "/.default". MSAL adds the OpenID scopes (openid, profile,
// offline_access) to every request, which Entra ID accepts alongside it.
func hasDefaultScope(scope string) bool {
	found := false
	for _, s := range strings.Fields(scope) {
		switch {
		case strings.HasSuffix(s, "/.default"):
			found = true
		case s == "openid" || s == "profile" || s == "offline_access":
		default:
			return false
		}
	}
	return found
}
