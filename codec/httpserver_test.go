package codec

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/corso-temporal/corso/codec/secretscan"
)

const uiOrigin = "https://temporal-ui.example.com:8080"

// decodeRequest is what the Web UI sends to show one payload.
func decodeRequest(t *testing.T, shared string, v any) *http.Request {
	t.Helper()
	dc, err := NewDataConverter(shared)
	if err != nil {
		t.Fatal(err)
	}
	p, err := dc.ToPayload(v)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/decode", strings.NewReader(`{"payloads":[`+protoJSON(t, p)+`]}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Namespace", "default")
	return req
}

func serve(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestCodecServerWithThePayloadKeyDecodesButSecretsStaySealed(t *testing.T) {
	shared := mustKey(t)
	s, _ := NewSealer(shared)
	sealed, err := s.Seal("hunter2-passphrase", testBinding)
	if err != nil {
		t.Fatal(err)
	}
	// The operator derives the payload key; the codec server gets its
	// text form and nothing else.
	derived, err := DerivePayloadKey(shared)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := ParsePayloadKey(derived.String())
	if err != nil {
		t.Fatal(err)
	}
	master, _ := base64.StdEncoding.DecodeString(shared)
	k, _ := deriveKeys(shared)
	sc := mustScanner(t, secretscan.S("shared key", shared), secretscan.S("shared key, raw", string(master)),
		secretscan.S("secret sub-key", string(k.secret)), secretscan.S("secret sub-key, base64", base64.RawURLEncoding.EncodeToString(k.secret)))
	if fs := sc.Scan([]byte(pk.String())); len(fs) != 0 {
		t.Fatal(secretscan.Report("the payload key", fs))
	}
	if fs := sc.Scan(pk.key); len(fs) != 0 || bytes.Equal(pk.key, k.secret) {
		t.Fatalf("the payload key holds more than the payload sub-key: %v", fs)
	}
	if _, err := ParsePayloadKey(shared); err == nil {
		t.Fatal("the shared key was accepted as a payload key")
	}

	h, err := NewHTTPHandler(pk, HTTPOptions{AllowOrigin: uiOrigin})
	if err != nil {
		t.Fatal(err)
	}
	rec := serve(h, decodeRequest(t, shared, struct {
		Bucket string
		Secret Sealed
	}{"corso-test-bucket", sealed}))
	if rec.Code != http.StatusOK {
		t.Fatalf("decode status %d: %s", rec.Code, rec.Body.String())
	}
	var answer commonpb.Payloads
	if err := protojson.Unmarshal(rec.Body.Bytes(), &answer); err != nil || len(answer.Payloads) != 1 {
		t.Fatalf("codec server answer %s: %v", rec.Body.String(), err)
	}
	if !bytes.HasPrefix(answer.Payloads[0].Data, []byte(`{"Bucket":"corso-test-bucket","Secret":"`)) {
		t.Fatalf("the payload was not decoded: %s", answer.Payloads[0].Data)
	}
	passphrase := mustScanner(t, secretscan.S("passphrase", "hunter2-passphrase"))
	for what, b := range map[string][]byte{"answer": rec.Body.Bytes(), "decoded payload": answer.Payloads[0].Data} {
		if fs := passphrase.Scan(b); len(fs) != 0 {
			t.Error(secretscan.Report("the codec server's "+what, fs))
		}
	}
}

func TestCodecServerRefusesRequestsWithoutTheToken(t *testing.T) {
	shared := mustKey(t)
	pk, _ := DerivePayloadKey(shared)
	const token = "codec-token-5f0c1e9a2b7d"
	h, err := NewHTTPHandler(pk, HTTPOptions{AllowOrigin: uiOrigin, AuthToken: token})
	if err != nil {
		t.Fatal(err)
	}
	for name, auth := range map[string]string{
		"no header":        "",
		"wrong token":      "Bearer codec-token-5f0c1e9a2b7e",
		"token prefix":     "Bearer " + token[:len(token)-1],
		"token and more":   "Bearer " + token + "x",
		"another scheme":   "Basic " + token,
		"token, no scheme": token,
	} {
		req := decodeRequest(t, shared, "x")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := serve(h, req)
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401: %s", name, rec.Code, rec.Body.String())
		}
		if strings.Contains(rec.Body.String(), "payloads") {
			t.Errorf("%s: answered with payloads: %s", name, rec.Body.String())
		}
	}
	req := decodeRequest(t, shared, "x")
	req.Header.Set("Authorization", "bearer "+token)
	if rec := serve(h, req); rec.Code != http.StatusOK {
		t.Fatalf("the right token: status %d: %s", rec.Code, rec.Body.String())
	}
	if _, err := NewHTTPHandler(pk, HTTPOptions{AuthToken: "short"}); err == nil {
		t.Error("a 5-character token was accepted")
	}
}

func TestCodecServerGrantsCORSOnlyToTheUI(t *testing.T) {
	shared := mustKey(t)
	pk, _ := DerivePayloadKey(shared)
	h, err := NewHTTPHandler(pk, HTTPOptions{AllowOrigin: uiOrigin})
	if err != nil {
		t.Fatal(err)
	}
	preflight := func(origin, method, headers string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodOptions, "/decode", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", method)
		if headers != "" {
			req.Header.Set("Access-Control-Request-Headers", headers)
		}
		return serve(h, req)
	}
	granted := func(rec *httptest.ResponseRecorder) bool {
		return rec.Header().Get("Access-Control-Allow-Origin") != "" || rec.Header().Get("Access-Control-Allow-Methods") != "" ||
			rec.Header().Get("Access-Control-Allow-Headers") != "" || rec.Code/100 == 2
	}

	// The UI's own preflight: granted, to its origin only.
	rec := preflight(uiOrigin, "POST", "content-type,x-namespace,authorization")
	if rec.Code != http.StatusNoContent || rec.Header().Get("Access-Control-Allow-Origin") != uiOrigin {
		t.Fatalf("the UI's preflight: status %d, allow-origin %q", rec.Code, rec.Header().Get("Access-Control-Allow-Origin"))
	}
	if m := rec.Header().Get("Access-Control-Allow-Methods"); m != "POST" {
		t.Errorf("allowed methods %q, want POST", m)
	}
	for _, h := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Headers", "Access-Control-Allow-Methods"} {
		if strings.Contains(rec.Header().Get(h), "*") {
			t.Errorf("%s is a wildcard: %q", h, rec.Header().Get(h))
		}
	}
	if rec.Header().Get("Access-Control-Allow-Credentials") != "" {
		t.Error("credentials (cookies) are allowed, though the codec server uses none")
	}

	for name, rec := range map[string]*httptest.ResponseRecorder{
		"another origin":               preflight("https://attacker.example", "POST", "content-type"),
		"the UI's host, over http":     preflight("http://temporal-ui.example.com:8080", "POST", "content-type"),
		"the UI's origin, as a parent": preflight("https://example.com", "POST", "content-type"),
		"null origin":                  preflight("null", "POST", "content-type"),
		"another method":               preflight(uiOrigin, "PUT", "content-type"),
		"another header":               preflight(uiOrigin, "POST", "content-type, x-forwarded-user"),
	} {
		if granted(rec) {
			t.Errorf("preflight from %s was granted: status %d, headers %v", name, rec.Code, rec.Header())
		}
	}

	// A request from another origin is not run, even one that needs no
	// preflight.
	req := decodeRequest(t, shared, "x")
	req.Header.Set("Origin", "https://attacker.example")
	if rec := serve(h, req); rec.Code != http.StatusForbidden || rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("decode from another origin: status %d, allow-origin %q", rec.Code, rec.Header().Get("Access-Control-Allow-Origin"))
	}
	// Neither wildcards nor paths are origins.
	for _, bad := range []string{"*", "https://*.example.com", "https://temporal-ui.example.com/ui", "temporal-ui.example.com"} {
		if _, err := NewHTTPHandler(pk, HTTPOptions{AllowOrigin: bad}); err == nil {
			t.Errorf("allowed origin %q was accepted", bad)
		}
	}
}
