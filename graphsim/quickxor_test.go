package graphsim

import (
	"encoding/base64"
	"math/rand/v2"
	"testing"
)

// Vectors computed with Microsoft's reference implementation (as also used by
// rclone's OneDrive backend tests).
var quickXorVectors = []struct{ in, out string }{
	{``, "AAAAAAAAAAAAAAAAAAAAAAAAAAA="},
	{`Sg==`, "SgAAAAAAAAAAAAAAAQAAAAAAAAA="},
	{`tbQ=`, "taAFAAAAAAAAAAAAAgAAAAAAAAA="},
	{`0pZP`, "0rDEEwAAAAAAAAAAAwAAAAAAAAA="},
	{`J9iPGCbfZSTNyw==`, "J8DGIzBggm+UgQTNUgYAAAAAAAA="},
	{`2fuxhBJXtpWFe8dOfdGeHw==`, "O9tHLAghgSvYohKFyMMxnNCHaHg="},
	{`NbYXsp5/K6mR+NmHwExjvWeWDJFnXTKWVlzYHoesp2E=`, "wjuAuWDiq04qDt1R8hHWDDcwVoQ="},
	{`ikwCorI7PKWz17EI50jZCGbV9JU2E8bXVfxNMg5zdmqSZ2NlsQPp0kqYIPjzwTg1MBtfWPg53k0h0P2naJNEVgrqpoHTfV2b3pJ4m0zYPTJmUX4Bg/lOxcnCxAYKU29Y5F0U8Quz7ZXFBEweftXxJ7RS4r6N7BzJrPsLhY7hgck=`, "imAoFvCWlDn4yVw3/oq1PDbbm6U="},
	{`qwGf2ESubE5jOUHHyc94ORczFYYbc2OmEzo+hBIyzJiNwAzC8PvJqtTzwkWkSslgHFGWQZR2BV5+uYTrYT7HVwRM40vqfj0dBgeDENyTenIOL1LHkjtDKoXEnQ0mXAHoJ8PjbNC93zi5TovVRXTNzfGEs5dpWVqxUzb5lc7dwkyvOluBw482mQ4xrzYyIY1t+//OrNi1ObGXuUw2jBQOFfJVj2Y6BOyYmfB1y36eBxi3zxeG5d5NYjm2GSh6e08QMAwu3zrINcqIzLOuNIiGXBtl7DjKt7b5wqi4oFiRpZsCyx2smhSrdrtK/CkdU6nDN+34vSR/M8rZpWQdBE7a8g==`, "WYT9JY3JIo/pEBp+tIM6Gt2nyTM="},
}

func TestQuickXorHashMatchesPublishedVectors(t *testing.T) {
	for _, v := range quickXorVectors {
		in, err := base64.StdEncoding.DecodeString(v.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := QuickXorBase64(in); got != v.out {
			t.Errorf("len %d: got %s want %s", len(in), got, v.out)
		}
	}
}

// referenceQuickXor is the bit-by-bit statement of the algorithm, kept to
// check the folded implementation on inputs longer than the vectors.
func referenceQuickXor(data []byte) []byte {
	var ring [quickXorWidth]bool
	for k, b := range data {
		pos := (k * quickXorShift) % quickXorWidth
		for bit := 0; bit < 8; bit++ {
			if b&(1<<bit) != 0 {
				ring[(pos+bit)%quickXorWidth] = !ring[(pos+bit)%quickXorWidth]
			}
		}
	}
	out := make([]byte, quickXorSize)
	for i, on := range ring {
		if on {
			out[i/8] |= 1 << (i % 8)
		}
	}
	n := uint64(len(data))
	for i := 0; i < 8; i++ {
		out[12+i] ^= byte(n >> (8 * i))
	}
	return out
}

func TestQuickXorHashAgreesWithReferenceAcrossChunkings(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{0, 1, 159, 160, 161, 1000, 4096 + 37} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		want := referenceQuickXor(data)
		for _, chunk := range []int{1, 7, 160, 333, size + 1} {
			var q QuickXorHash
			for off := 0; off < size; off += chunk {
				q.Write(data[off:min(off+chunk, size)])
			}
			if got := q.Sum(nil); string(got) != string(want) {
				t.Fatalf("size %d chunk %d: got %x want %x", size, chunk, got, want)
			}
		}
	}
}
