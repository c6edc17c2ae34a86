package graph

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"hash"
)

// QuickXorHash is the content hash OneDrive for Business and SharePoint
// report for files (file.hashes.quickXorHash, base64), as Microsoft
// publishes it: the n-th byte of the content is XORed into a 160-bit
// register at bit offset 11·n mod 160 (wrapping around its end), and the
// content's length, as a little-endian 64-bit number, is XORed into the last
// eight bytes of the 20-byte result.
//
// Bytes 160 positions apart land on the same offset, so the content is
// first folded into 160 byte lanes (lane n mod 160), which is a plain XOR
// of 160-byte blocks; Sum places the lanes into the register.
type QuickXorHash struct {
	lanes [quickXorLanes]byte
	n     uint64 // bytes written
}

const (
	quickXorBits  = 160
	quickXorLanes = quickXorBits // a byte per position before the offsets repeat
	quickXorShift = 11
	quickXorSize  = quickXorBits / 8
)

var _ hash.Hash = (*QuickXorHash)(nil)

// NewQuickXorHash returns an empty QuickXorHash.
func NewQuickXorHash() *QuickXorHash { return new(QuickXorHash) }

// Write adds p to the hash. It never fails.
func (h *QuickXorHash) Write(p []byte) (int, error) {
	n := len(p)
	lane := int(h.n % quickXorLanes)
	// Up to the next block boundary, byte by byte.
	if lane != 0 {
		k := min(quickXorLanes-lane, len(p))
		subtle.XORBytes(h.lanes[lane:lane+k], h.lanes[lane:lane+k], p[:k])
		p = p[k:]
	}
	// Whole blocks, a block at a time.
	for len(p) >= quickXorLanes {
		subtle.XORBytes(h.lanes[:], h.lanes[:], p[:quickXorLanes])
		p = p[quickXorLanes:]
	}
	// The rest starts a block.
	if len(p) > 0 {
		subtle.XORBytes(h.lanes[:len(p)], h.lanes[:len(p)], p)
	}
	h.n += uint64(n)
	return n, nil
}

// Sum appends the 20-byte hash to b; the hash itself is unchanged.
func (h *QuickXorHash) Sum(b []byte) []byte {
	// The register as three little-endian words: bits 0-63, 64-127 and
	// 128-159.
	var reg [3]uint64
	for lane, v := range h.lanes {
		if v == 0 {
			continue
		}
		off := lane * quickXorShift % quickXorBits
		for bit := 0; bit < 8; bit++ {
			if v&(1<<bit) != 0 {
				pos := (off + bit) % quickXorBits
				reg[pos/64] ^= 1 << (pos % 64)
			}
		}
	}
	var out [quickXorSize]byte
	binary.LittleEndian.PutUint64(out[0:], reg[0])
	binary.LittleEndian.PutUint64(out[8:], reg[1])
	binary.LittleEndian.PutUint32(out[16:], uint32(reg[2]))
	var length [8]byte
	binary.LittleEndian.PutUint64(length[:], h.n)
	subtle.XORBytes(out[quickXorSize-8:], out[quickXorSize-8:], length[:])
	return append(b, out[:]...)
}

// Reset empties the hash.
func (h *QuickXorHash) Reset() { *h = QuickXorHash{} }

// Size is 20 bytes.
func (h *QuickXorHash) Size() int { return quickXorSize }

// BlockSize is the size of the blocks the content is folded in.
func (h *QuickXorHash) BlockSize() int { return quickXorLanes }

// Base64 is the hash as Graph reports it.
func (h *QuickXorHash) Base64() string { return base64.StdEncoding.EncodeToString(h.Sum(nil)) }
