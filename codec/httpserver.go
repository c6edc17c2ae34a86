package codec

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"go.temporal.io/sdk/converter"
)

// HTTPOptions says who may call the codec server.
type HTTPOptions struct {
	// AllowOrigin is the Web UI's origin (scheme://host[:port]). Browsers
	// on any other origin are refused; empty refuses every browser.
	AllowOrigin string
	// AuthToken, when set, must come with every encode and decode request
	// as "Authorization: Bearer TOKEN" (what `temporal --codec-auth`
	// sends, and the Web UI when its codec passAccessToken is on).
	AuthToken string
}

// MinAuthTokenLen is the shortest bearer token the codec server accepts.
const MinAuthTokenLen = 16

// The only method and request headers the Web UI and the temporal CLI use
// on the codec endpoint; a preflight asking for anything else is refused.
var corsHeaders = map[string]bool{
	"content-type":         true,
	"x-namespace":          true,
	"authorization":        true,
	"authorization-extras": true, // the UI's ID token, sent beside its access token
}

const corsAllowHeaders = "Content-Type, X-Namespace, Authorization, Authorization-Extras"

// NewHTTPHandler serves Temporal's remote codec protocol (POST /encode and
// /decode) for the Web UI and the temporal CLI. It holds only the payload
// sub-key, so sealed secrets inside decoded payloads stay sealed. It
// decodes for display only, so it shows unencrypted payloads (headers, old
// data) as they are. Encoded failures are payloads too: the UI decodes
// their messages here.
//
// CORS is granted to o.AllowOrigin alone, for POST with the headers the UI
// sends; requests from any other origin are refused. With o.AuthToken set,
// encode and decode need the bearer token (a preflight never carries it).
func NewHTTPHandler(k PayloadKey, o HTTPOptions) (http.Handler, error) {
	c, err := NewPayloadCodecFromKey(k)
	if err != nil {
		return nil, err
	}
	if err := checkOrigin(o.AllowOrigin); err != nil {
		return nil, err
	}
	s := &codecServer{origin: strings.TrimSuffix(o.AllowOrigin, "/"), codec: converter.NewPayloadCodecHTTPHandler(c)}
	if o.AuthToken != "" {
		if len(o.AuthToken) < MinAuthTokenLen {
			return nil, fmt.Errorf("the codec server's auth token must be at least %d characters (generate one with `openssl rand -base64 32`)", MinAuthTokenLen)
		}
		s.auth, s.token = true, sha256.Sum256([]byte(o.AuthToken))
	}
	return s, nil
}

// checkOrigin accepts exactly an origin: scheme and host, no wildcard,
// path, query or credentials.
func checkOrigin(origin string) error {
	if origin == "" {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Contains(origin, "*") ||
		u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("allowed origin %q must be the Web UI's origin, like https://temporal-ui.example.com:8080 (no wildcard, no path)", origin)
	}
	return nil
}

type codecServer struct {
	origin string
	auth   bool
	token  [sha256.Size]byte // compared as hashes so the time taken says nothing about the token's length
	codec  http.Handler
}

func (s *codecServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if origin != "" {
		// A browser on another origin gets no grant, and its request is
		// not run (a form post needs no preflight).
		if s.origin == "" || origin != s.origin {
			http.Error(w, "origin not allowed", http.StatusForbidden)
			return
		}
		w.Header().Set("Access-Control-Allow-Origin", origin)
	}
	if r.Method == http.MethodOptions {
		s.preflight(w, r, origin)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST, OPTIONS")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="corso codec server"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	s.codec.ServeHTTP(w, r)
}

// preflight grants the UI's origin POST with the UI's headers, and nothing
// else.
func (s *codecServer) preflight(w http.ResponseWriter, r *http.Request, origin string) {
	refuse := func() {
		w.Header().Del("Access-Control-Allow-Origin")
		http.Error(w, "CORS request not allowed", http.StatusForbidden)
	}
	if origin == "" || r.Header.Get("Access-Control-Request-Method") != http.MethodPost {
		refuse()
		return
	}
	for _, list := range r.Header.Values("Access-Control-Request-Headers") {
		for h := range strings.SplitSeq(list, ",") {
			if h = strings.ToLower(strings.TrimSpace(h)); h != "" && !corsHeaders[h] {
				refuse()
				return
			}
		}
	}
	w.Header().Set("Access-Control-Allow-Methods", http.MethodPost)
	w.Header().Set("Access-Control-Allow-Headers", corsAllowHeaders)
	w.Header().Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

func (s *codecServer) authorized(r *http.Request) bool {
	if !s.auth {
		return true
	}
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(token)))
	return subtle.ConstantTimeCompare(got[:], s.token[:]) == 1
}
