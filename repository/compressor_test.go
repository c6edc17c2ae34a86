package repository

import (
	"bytes"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/kopia/kopia/repo/compression"
)

// compressible is n bytes of text-like data with repeats near and far.
func compressible(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	words := []string{"mailbox ", "backup ", "tenant ", "Received: from ", "Subject: ", "\r\n", "kopia ", "graph "}
	var b bytes.Buffer
	for b.Len() < n {
		b.WriteString(words[r.IntN(len(words))])
		if r.IntN(50) == 0 {
			b.WriteString(string(rune('a' + r.IntN(26))))
		}
	}
	return b.Bytes()[:n]
}

func TestCompressorWritesWhatKopiaReads(t *testing.T) {
	c, ok := compression.ByName[Compressor].(*compressor)
	if !ok || compression.ByHeaderID[compression.HeaderZstdFastest] != c {
		t.Fatalf("kopia's %s compressor is not the repository's", Compressor)
	}
	for _, n := range []int{0, 1, 30 << 10, 3 << 20} { // empty, one byte, a mail, a content beyond the window
		in := compressible(n, uint64(n))
		var out bytes.Buffer
		if err := c.Compress(&out, bytes.NewReader(in)); err != nil {
			t.Fatal(err)
		}
		if n > 1<<10 && out.Len() >= n/2 {
			t.Errorf("%d bytes compressed to %d", n, out.Len())
		}
		var back bytes.Buffer
		if err := compression.DecompressByHeader(&back, &out); err != nil {
			t.Fatalf("%d bytes: kopia cannot read what was written: %v", n, err)
		}
		if !bytes.Equal(back.Bytes(), in) {
			t.Fatalf("%d bytes: read back %d different bytes", n, back.Len())
		}
	}
}

func TestCompressorKeepsItsEncodersAcrossCollections(t *testing.T) {
	kopias := compression.ByName[Compressor].(*compressor).Compressor
	c := newCompressor(kopias, zstd.SpeedFastest, 2)
	in := compressible(64<<10, 7)
	for i := range 10 {
		if err := c.Compress(&bytes.Buffer{}, bytes.NewReader(in)); err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		runtime.GC()
		if made := c.made.Load(); made != 1 {
			t.Fatalf("after %d compressions, one at a time, with collections between them: %d encoders made, want 1", i+1, made)
		}
	}
}
