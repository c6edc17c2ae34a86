package codec

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"
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
	if bytes.Contains(p.Data, []byte("PLAINTEXT-MARKER")) {
		t.Fatal("encoded payload contains the plaintext")
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
	sealed, err := s.Seal("hunter2-passphrase")
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
	h, _ := NewHTTPHandler(key, "http://127.0.0.1:8233")
	reqBody := `{"payloads":[` + protoJSON(t, p) + `]}`
	req := httptest.NewRequest(http.MethodPost, "/decode", strings.NewReader(reqBody))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("decode status %d: %s", rec.Code, rec.Body.String())
	}
	if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "http://127.0.0.1:8233" {
		t.Fatalf("CORS origin %q", got)
	}
	if strings.Contains(rec.Body.String(), "hunter2") {
		t.Fatal("decoded payload shows the sealed secret")
	}
	var back string
	if err := s.Open(sealed, &back); err != nil || back != "hunter2-passphrase" {
		t.Fatalf("open sealed: %q %v", back, err)
	}
}

func TestBadKeyIsOneClearError(t *testing.T) {
	for _, k := range []string{"short", "!!!not base64!!!"} {
		if _, err := NewPayloadCodec(k); err == nil || !strings.Contains(err.Error(), KeyEnv) {
			t.Errorf("key %q: want error naming %s, got %v", k, KeyEnv, err)
		}
	}
}

func protoJSON(t *testing.T, p *commonpb.Payload) string {
	t.Helper()
	b, err := protojson.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
