package secretscan

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
)

func TestFindsEveryEncodingAtEveryAlignment(t *testing.T) {
	secret := []byte("s3cret-Value-77")
	sc, err := New(Secret{"the secret", secret})
	if err != nil {
		t.Fatal(err)
	}
	encs := map[string]func([]byte) string{
		"plaintext":      func(b []byte) string { return string(b) },
		"hex":            hex.EncodeToString,
		"HEX":            func(b []byte) string { return strings.ToUpper(hex.EncodeToString(b)) },
		"base64 std":     base64.StdEncoding.EncodeToString,
		"base64 std raw": base64.RawStdEncoding.EncodeToString,
		"base64 url":     base64.URLEncoding.EncodeToString,
		"base64 url raw": base64.RawURLEncoding.EncodeToString,
		"json of bytes":  func(b []byte) string { j, _ := json.Marshal(b); return string(j) },
		"double base64 std": func(b []byte) string {
			return base64.StdEncoding.EncodeToString([]byte(base64.StdEncoding.EncodeToString(b)))
		},
	}
	for name, enc := range encs {
		for prefix := range 6 {
			for _, suffix := range []string{"", "x", "yz", "\x00\xff\x10"} {
				val := append(append(append([]byte{}, make([]byte, prefix)...), secret...), suffix...)
				for i := range prefix {
					val[i] = byte(0x41 + 17*i)
				}
				hay := []byte(`{"field":"` + enc(val) + `"}`)
				if fs := sc.Scan(hay); len(fs) == 0 {
					t.Errorf("%s with %d bytes before and %q after: not found in %s", name, prefix, suffix, hay)
				}
			}
		}
	}
}

func TestFindsNothingInOtherBytes(t *testing.T) {
	sc, err := New(S("a", "s3cret-Value-77"), S("b", "another-secret-0042"))
	if err != nil {
		t.Fatal(err)
	}
	noise := make([]byte, 1<<16)
	if _, err := rand.Read(noise); err != nil {
		t.Fatal(err)
	}
	hay := noise
	hay = append(hay, base64.StdEncoding.EncodeToString(noise)...)
	hay = append(hay, hex.EncodeToString(noise)...)
	hay = append(hay, "s3cret-Value-7 another-secret-004 czNjcmV0LVZhbHVlLT"...)
	if fs := sc.Scan(hay); len(fs) != 0 {
		t.Fatalf("found %v in bytes that do not hold the secrets", fs)
	}
}

func TestRefusesSecretsTooShortToFind(t *testing.T) {
	if _, err := New(S("short", "abc")); err == nil {
		t.Fatal("a 3-byte secret was accepted")
	}
	if _, err := New(); err == nil {
		t.Fatal("a scanner with no secrets was accepted")
	}
}
