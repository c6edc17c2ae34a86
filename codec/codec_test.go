package codec

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/corso-temporal/corso/codec/secretscan"
)

func mustKey(t *testing.T) string {
	t.Helper()
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestPayloadRoundTripHidesPlaintext(t *testing.T) {
	key := mustKey(t)
	dc, err := NewDataConverter(key)
	if err != nil {
		t.Fatal(err)
	}
	in := map[string]string{"bucket": "corso-test", "marker": "PLAINTEXT-MARKER"}
	p, err := dc.ToPayload(in)
	if err != nil {
		t.Fatal(err)
	}
	// The payload as the server stores it (binary) and as the Web UI and
	// tctl show it (protojson, where data is base64).
	sc := mustScanner(t, secretscan.S("marker", "PLAINTEXT-MARKER"), secretscan.S("bucket", "corso-test"))
	for what, b := range map[string][]byte{"payload data": p.Data, "payload as JSON": []byte(protoJSON(t, p))} {
		if fs := sc.Scan(b); len(fs) != 0 {
			t.Error(secretscan.Report("encoded "+what, fs))
		}
	}
	if len(p.Data) < len(`{"bucket":"corso-test","marker":"PLAINTEXT-MARKER"}`) {
		t.Fatalf("encoded payload is %d bytes, shorter than its input", len(p.Data))
	}
	for k, v := range p.Metadata {
		if bytes.Contains(v, []byte("json")) {
			t.Fatalf("metadata %s leaks the inner encoding: %s", k, v)
		}
	}
	var out map[string]string
	if err := dc.FromPayload(p, &out); err != nil {
		t.Fatal(err)
	}
	if out["marker"] != "PLAINTEXT-MARKER" {
		t.Fatalf("round trip lost data: %v", out)
	}
}

func TestPayloadFromAnotherKeyIsRejectedClearly(t *testing.T) {
	a, _ := NewPayloadCodec(mustKey(t))
	b, _ := NewPayloadCodec(mustKey(t))
	enc, err := a.Encode([]*commonpb.Payload{{Data: []byte("x")}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.Decode(enc)
	if err == nil || !strings.Contains(err.Error(), KeyEnv) {
		t.Fatalf("want an error naming %s, got %v", KeyEnv, err)
	}
}

func TestSealedSecretSurvivesUIDecoding(t *testing.T) {
	key := mustKey(t)
	s, _ := NewSealer(key)
	sealed, err := s.Seal("hunter2-passphrase", testBinding)
	if err != nil {
		t.Fatal(err)
	}
	// A workflow input holding the sealed secret, encoded as a worker would.
	dc, _ := NewDataConverter(key)
	p, err := dc.ToPayload(struct{ Secret Sealed }{sealed})
	if err != nil {
		t.Fatal(err)
	}
	// The Web UI asks the codec server to decode it.
	pk, err := DerivePayloadKey(key)
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHTTPHandler(pk, HTTPOptions{AllowOrigin: "http://127.0.0.1:8233"})
	if err != nil {
		t.Fatal(err)
	}
	reqBody := `{"payloads":[` + protoJSON(t, p) + `]}`
	req := httptest.NewRequest(http.MethodPost, "/decode", strings.NewReader(reqBody))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", "http://127.0.0.1:8233")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("decode status %d: %s", rec.Code, rec.Body.String())
	}
	if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "http://127.0.0.1:8233" {
		t.Fatalf("CORS origin %q", got)
	}
	// The UI shows the answer's payloads: look in the answer as sent and
	// in each payload's data, where the sealed secret is base64 in JSON.
	sc := mustScanner(t, secretscan.S("passphrase", "hunter2-passphrase"))
	if fs := sc.Scan(rec.Body.Bytes()); len(fs) != 0 {
		t.Error(secretscan.Report("the codec server's answer", fs))
	}
	var answer commonpb.Payloads
	if err := protojson.Unmarshal(rec.Body.Bytes(), &answer); err != nil || len(answer.Payloads) != 1 {
		t.Fatalf("codec server answer %s: %v", rec.Body.String(), err)
	}
	if !bytes.Contains(answer.Payloads[0].Data, []byte(`"Secret":"`)) {
		t.Fatalf("codec server did not decode the payload: %s", answer.Payloads[0].Data)
	}
	if fs := sc.Scan(answer.Payloads[0].Data); len(fs) != 0 {
		t.Error(secretscan.Report("the decoded payload", fs))
	}
	var back string
	if err := s.Open(sealed, testBinding, testNow, &back); err != nil || back != "hunter2-passphrase" {
		t.Fatalf("open sealed: %q %v", back, err)
	}
}

func TestSealedSecretHoldsNoFormOfIt(t *testing.T) {
	key := mustKey(t)
	s, _ := NewSealer(key)
	type creds struct{ Passphrase, SecretAccessKey string }
	in := creds{"hunter2-passphrase", "s3-secret-key-7f1e9a"}
	sc := mustScanner(t, secretscan.S("passphrase", in.Passphrase), secretscan.S("S3 secret key", in.SecretAccessKey))
	a, err := s.Seal(in, testBinding)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Seal(in, testBinding)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, b) {
		t.Error("sealing the same secret twice gave the same bytes")
	}
	j, _ := json.Marshal(struct{ Credentials Sealed }{a})
	for what, x := range map[string][]byte{"sealed bytes": a, "sealed bytes in JSON": j} {
		if fs := sc.Scan(x); len(fs) != 0 {
			t.Error(secretscan.Report(what, fs))
		}
	}
	var back creds
	if err := s.Open(a, testBinding, testNow, &back); err != nil || back != in {
		t.Fatalf("open: %+v %v", back, err)
	}
	// Only the shared key opens it: another key's sealer refuses.
	other, _ := NewSealer(mustKey(t))
	if err := other.Open(a, testBinding, testNow, &back); err == nil {
		t.Fatal("a sealer with another key opened the secret")
	}
	// The payload codec's sub-key, which the Web UI's codec server has,
	// does not open it either.
	pc, _ := NewPayloadCodec(key)
	hdr, _, ct, err := split(a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := open(pc.aead, ct, append(bytes.Clone(sealedAD), hdr...)); err == nil {
		t.Fatal("the payload sub-key opens sealed secrets")
	}
}

func TestBadKeyIsOneClearError(t *testing.T) {
	for _, k := range []string{"short", "!!!not base64!!!"} {
		if _, err := NewPayloadCodec(k); err == nil || !strings.Contains(err.Error(), KeyEnv) {
			t.Errorf("key %q: want error naming %s, got %v", k, KeyEnv, err)
		}
	}
}

func mustScanner(t *testing.T, secrets ...secretscan.Secret) *secretscan.Scanner {
	t.Helper()
	sc, err := secretscan.New(secrets...)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func protoJSON(t *testing.T, p *commonpb.Payload) string {
	t.Helper()
	b, err := protojson.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
