package conformance

import (
	"encoding/base64"
	"testing"
)

// quickXorHash is OneDrive's QuickXorHash, written here from Microsoft's
// description independently of the simulator's implementation: byte k of
// the input is XORed into a 160-bit ring at bit (11·k) mod 160, then the
// input length (little-endian, 64 bits) is XORed into the last 8 bytes.
// The result is sent base64-encoded in file.hashes.quickXorHash.
func quickXorHash(data []byte) string {
	const width, shift = 160, 11
	var ring [width / 8]byte
	for k, b := range data {
		pos := (k * shift) % width
		i, bit := pos/8, uint(pos%8)
		v := uint16(b) << bit
		ring[i] ^= byte(v)
		ring[(i+1)%len(ring)] ^= byte(v >> 8)
	}
	n := uint64(len(data))
	for i := 0; i < 8; i++ {
		ring[len(ring)-8+i] ^= byte(n >> (8 * i))
	}
	return base64.StdEncoding.EncodeToString(ring[:])
}

// TestQuickXorHashHelperMatchesReferenceVectors pins the helper the
// download tests rely on to vectors of Microsoft's reference
// implementation (as used by rclone's OneDrive backend tests).
func TestQuickXorHashHelperMatchesReferenceVectors(t *testing.T) {
	for _, v := range []struct{ in, out string }{
		{``, "AAAAAAAAAAAAAAAAAAAAAAAAAAA="},
		{`Sg==`, "SgAAAAAAAAAAAAAAAQAAAAAAAAA="},
		{`tbQ=`, "taAFAAAAAAAAAAAAAgAAAAAAAAA="},
		{`J9iPGCbfZSTNyw==`, "J8DGIzBggm+UgQTNUgYAAAAAAAA="},
		{`2fuxhBJXtpWFe8dOfdGeHw==`, "O9tHLAghgSvYohKFyMMxnNCHaHg="},
		{`NbYXsp5/K6mR+NmHwExjvWeWDJFnXTKWVlzYHoesp2E=`, "wjuAuWDiq04qDt1R8hHWDDcwVoQ="},
	} {
		in, err := base64.StdEncoding.DecodeString(v.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := quickXorHash(in); got != v.out {
			t.Errorf("len %d: got %s, want %s", len(in), got, v.out)
		}
	}
}
