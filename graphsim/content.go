package graphsim

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"io"
	"strings"
	"sync"
)

// Generated file and attachment content. Content is a pure function of
// (key, size, kind) produced in 64 KiB blocks, each from its own seed, so
// any byte range can be produced without producing what comes before it and
// nothing is ever held whole in memory. Binary content is pseudo-random
// (incompressible, like already-compressed office files and media); text
// content is word soup that compresses and deduplicates like real text.

const contentBlock = 64 << 10

type content struct {
	key    uint64
	size   int64
	text   bool
	stored []byte // written by a client; served as is
}

func contentOf(key uint64, size int64, text bool) content {
	return content{key: key, size: size, text: text}
}

func storedContent(b []byte) content { return content{size: int64(len(b)), stored: b} }

// id names the bytes for the hash cache.
func (c content) id() [3]uint64 {
	t := uint64(0)
	if c.text {
		t = 1
	}
	return [3]uint64{c.key, uint64(c.size), t}
}

var blockPool = sync.Pool{New: func() any { b := make([]byte, contentBlock); return &b }}

// fillBlock writes block b of c into buf (len contentBlock).
func (c content) fillBlock(b int64, buf []byte) {
	if c.text {
		corpus := textCorpus()
		off := int(mix64(c.key^uint64(b)*0x9e3779b97f4a7c15) % uint64(len(corpus)))
		n := copy(buf, corpus[off:])
		for n < len(buf) {
			n += copy(buf[n:], corpus)
		}
		// A per-block header keeps blocks distinct while the body dedups.
		var hdr [24]byte
		copy(hdr[:], "\nblock ")
		binary.BigEndian.PutUint64(hdr[7:], uint64(b))
		binary.BigEndian.PutUint64(hdr[15:], c.key)
		hdr[23] = '\n'
		for i := 7; i < 23; i++ {
			hdr[i] = 'a' + hdr[i]%26
		}
		copy(buf, hdr[:])
		return
	}
	// A splitmix64 stream: statistically random (incompressible) and several
	// GB/s, so generation never limits download benchmarks.
	x := mix64(c.key ^ mix64(uint64(b)+0x67726170687369))
	for i := 0; i+8 <= len(buf); i += 8 {
		x += 0x9e3779b97f4a7c15
		binary.LittleEndian.PutUint64(buf[i:], mix64(x))
	}
}

// WriteRange writes bytes [off, off+n) of c to w.
func (c content) WriteRange(w io.Writer, off, n int64) error {
	if off < 0 || n < 0 || off+n > c.size {
		return io.ErrUnexpectedEOF
	}
	if c.stored != nil {
		_, err := w.Write(c.stored[off : off+n])
		return err
	}
	bp := blockPool.Get().(*[]byte)
	defer blockPool.Put(bp)
	buf := *bp
	for n > 0 {
		b := off / contentBlock
		in := off % contentBlock
		c.fillBlock(b, buf)
		end := int64(contentBlock)
		if rest := c.size - b*contentBlock; rest < end {
			end = rest
		}
		chunk := min(end-in, n)
		if _, err := w.Write(buf[in : in+chunk]); err != nil {
			return err
		}
		off += chunk
		n -= chunk
	}
	return nil
}

// bytes returns the whole content; only for small content (attachments).
func (c content) bytes() []byte {
	if c.stored != nil {
		return c.stored
	}
	var b strings.Builder
	b.Grow(int(c.size))
	_ = c.WriteRange(&b, 0, c.size)
	return []byte(b.String())
}

var (
	corpusOnce sync.Once
	corpus     []byte
)

func textCorpus() []byte {
	corpusOnce.Do(func() {
		r := newRNG(42, tagContent)
		var b strings.Builder
		for b.Len() < 3*contentBlock {
			b.WriteString(capitalize(pickWords(r, r.between(6, 18))))
			b.WriteString(".\n")
		}
		corpus = []byte(b.String())
	})
	return corpus
}

// contentHashes are the hashes of one content.
type contentHashes struct {
	quickXor string // base64, as Graph reports it
	sha256   string // hex
}

// hashCache remembers hashes of generated content: computing them reads
// the whole (generated) content once. Only content that costs more to
// hash than to remember is kept, at most hashCacheEntries of them, so a
// library of a million small files costs the simulator nothing per file.
type hashCache struct {
	mu sync.Mutex
	m  map[[3]uint64]contentHashes
}

const (
	hashCacheMinSize = 64 << 10
	hashCacheEntries = 1 << 16
)

func newHashCache() *hashCache { return &hashCache{m: map[[3]uint64]contentHashes{}} }

func (h *hashCache) of(c content) contentHashes {
	if c.stored == nil {
		h.mu.Lock()
		v, ok := h.m[c.id()]
		h.mu.Unlock()
		if ok {
			return v
		}
	}
	q := NewQuickXorHash()
	s := sha256.New()
	_ = c.WriteRange(io.MultiWriter(q, s), 0, c.size)
	v := contentHashes{quickXor: base64.StdEncoding.EncodeToString(q.Sum(nil)), sha256: hex.EncodeToString(s.Sum(nil))}
	if c.stored == nil && c.size >= hashCacheMinSize {
		h.mu.Lock()
		if len(h.m) >= hashCacheEntries {
			clear(h.m)
		}
		h.m[c.id()] = v
		h.mu.Unlock()
	}
	return v
}
