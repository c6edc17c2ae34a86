package graphsim

import (
	"encoding/base64"
	"encoding/binary"
	"hash"
)

// QuickXorHash is OneDrive for Business's file hash, per Microsoft's
// published algorithm: every input byte k is XORed into a 160-bit ring at bit
// offset 11·k mod 160, and the little-endian 64-bit length is XORed into the
// last 8 bytes of the 20-byte result. Graph reports it base64-encoded in
// file.hashes.quickXorHash.
//
// Because bytes 160 apart land on the same bit offset, Write folds input into
// 160 lanes with word-wide XORs and Sum spreads the lanes into the ring once;
// this runs at memory speed, which matters when hashing generated files of
// hundreds of megabytes.
type QuickXorHash struct {
	lanes [20]uint64 // byte j of the fold lives in word j/8 at byte j%8 (little-endian)
	n     uint64
}

const (
	quickXorWidth = 160 // bits in the ring, and bytes in one fold period
	quickXorShift = 11
	quickXorSize  = 20
)

var _ hash.Hash = (*QuickXorHash)(nil)

// NewQuickXorHash returns an empty QuickXorHash.
func NewQuickXorHash() *QuickXorHash { return &QuickXorHash{} }

func (q *QuickXorHash) xorByte(lane int, b byte) {
	q.lanes[lane>>3] ^= uint64(b) << (8 * (lane & 7))
}

// Write folds p into the hash; it never fails.
func (q *QuickXorHash) Write(p []byte) (int, error) {
	n := len(p)
	lane := int(q.n % quickXorWidth)
	for lane != 0 && len(p) > 0 {
		q.xorByte(lane, p[0])
		p = p[1:]
		lane = (lane + 1) % quickXorWidth
	}
	for len(p) >= quickXorWidth {
		for i := range q.lanes {
			q.lanes[i] ^= binary.LittleEndian.Uint64(p[i*8:])
		}
		p = p[quickXorWidth:]
	}
	for i, b := range p {
		q.xorByte(i, b)
	}
	q.n += uint64(n)
	return n, nil
}

// Sum appends the 20-byte hash to b.
func (q *QuickXorHash) Sum(b []byte) []byte {
	var ring [3]uint64 // 64 + 64 + 32 bits
	for lane := 0; lane < quickXorWidth; lane++ {
		v := byte(q.lanes[lane>>3] >> (8 * (lane & 7)))
		if v == 0 {
			continue
		}
		pos := (lane * quickXorShift) % quickXorWidth
		for bit := 0; bit < 8; bit++ {
			if v&(1<<bit) != 0 {
				k := (pos + bit) % quickXorWidth
				ring[k/64] ^= 1 << (k % 64)
			}
		}
	}
	var out [quickXorSize]byte
	binary.LittleEndian.PutUint64(out[0:], ring[0])
	binary.LittleEndian.PutUint64(out[8:], ring[1])
	binary.LittleEndian.PutUint32(out[16:], uint32(ring[2]))
	var length [8]byte
	binary.LittleEndian.PutUint64(length[:], q.n)
	for i, l := range length {
		out[quickXorSize-8+i] ^= l
	}
	return append(b, out[:]...)
}

// Reset empties the hash.
func (q *QuickXorHash) Reset() { *q = QuickXorHash{} }

// Size is 20 bytes.
func (q *QuickXorHash) Size() int { return quickXorSize }

// BlockSize reports the fold period's natural word size.
func (q *QuickXorHash) BlockSize() int { return 64 }

// QuickXorBase64 returns the hash of data the way Graph reports it.
func QuickXorBase64(data []byte) string {
	var q QuickXorHash
	q.Write(data)
	return base64.StdEncoding.EncodeToString(q.Sum(nil))
}
