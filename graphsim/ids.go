package graphsim

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"strings"
)

// kind says what a ref names.
type kind uint8

const (
	kMailFolder kind = iota + 1
	kMessage
	kAttachment
	kContactFolder
	kContact
	kCalendar
	kEvent
	kDrive
	kDriveItem
	kPermission
	kMailTree    // collection key: a mailbox's folder hierarchy
	kContactTree // collection key: a mailbox's contact folder hierarchy
	kChannel
	kChatMessage
	kList      // a site's list (lists.go)
	kListItem  // an item of a list
	kSiteLists // collection key: the lists created in a site
)

// ref identifies any generated or created object. Generated objects have
// Serial 0 and are addressed by coordinates; created objects (writes,
// mutations, moves that change ids) get a tenant-unique Serial. Refs are
// comparable so the store can key its overlay maps by them.
type ref struct {
	Kind   kind
	Sub    uint16 // attachment index, occurrence number, permission index, drive file(1)/folder(0)
	Owner  uint32 // user index, or drive owner index (users, then sites)
	Coll   uint32 // container index within the owner
	Index  uint32 // index within the container
	Serial uint32 // non-zero for objects created after generation
}

func (r ref) isZero() bool { return r == ref{} }

const refLen = 19

func (r ref) bytes() []byte {
	b := make([]byte, refLen)
	b[0] = byte(r.Kind)
	binary.BigEndian.PutUint16(b[1:], r.Sub)
	binary.BigEndian.PutUint32(b[3:], r.Owner)
	binary.BigEndian.PutUint32(b[7:], r.Coll)
	binary.BigEndian.PutUint32(b[11:], r.Index)
	binary.BigEndian.PutUint32(b[15:], r.Serial)
	return b
}

func refFromBytes(b []byte) ref {
	return ref{
		Kind:   kind(b[0]),
		Sub:    binary.BigEndian.Uint16(b[1:]),
		Owner:  binary.BigEndian.Uint32(b[3:]),
		Coll:   binary.BigEndian.Uint32(b[7:]),
		Index:  binary.BigEndian.Uint32(b[11:]),
		Serial: binary.BigEndian.Uint32(b[15:]),
	}
}

// idCodec turns refs into Graph-shaped ids and back. A short keyed MAC in
// every id makes ids from another seed, or typed by hand, fail to decode
// instead of aliasing some other item.
type idCodec struct {
	k0, k1 uint64
}

func newIDCodec(seed int64) idCodec {
	var s [8]byte
	binary.BigEndian.PutUint64(s[:], uint64(seed))
	key := sha256.Sum256(append([]byte("graphsim-ids:"), s[:]...))
	return idCodec{k0: binary.LittleEndian.Uint64(key[:8]), k1: binary.LittleEndian.Uint64(key[8:16])}
}

// mac is a keyed check value. It only has to catch ids from other seeds
// and typos, so a fast keyed mix serves; ids are minted on every answer.
func (c idCodec) mac(payload []byte, n int) []byte {
	h := c.k0
	for i := 0; i < len(payload); i += 8 {
		var w [8]byte
		copy(w[:], payload[i:])
		h = mix64(h ^ binary.LittleEndian.Uint64(w[:]) ^ c.k1)
	}
	var out [16]byte
	binary.LittleEndian.PutUint64(out[:8], h)
	binary.LittleEndian.PutUint64(out[8:], mix64(h^c.k1))
	return out[:n]
}

const (
	exchangePrefix = "AAMkA"
	drivePrefix    = "b!"
	itemPrefix     = "01"
	macLen         = 5
)

var (
	b64url   = base64.URLEncoding // Exchange ids keep '=' padding
	b64raw   = base64.RawURLEncoding
	b32upper = base32.StdEncoding.WithPadding(base32.NoPadding)
)

// encode renders r in the id style of its service: Exchange ids are long
// URL-safe base64 with padding, drive ids are "b!" plus 64 characters, drive
// item ids are 34 upper-case characters starting "01".
func (c idCodec) encode(r ref) string {
	switch r.Kind {
	case kDriveItem:
		b := make([]byte, 14, 20)
		b[0] = byte(r.Kind)
		b[1] = byte(r.Sub)
		binary.BigEndian.PutUint32(b[2:], r.Owner)
		binary.BigEndian.PutUint32(b[6:], r.Index)
		binary.BigEndian.PutUint32(b[10:], r.Serial)
		b = append(b, c.mac(b, 6)...)
		return itemPrefix + b32upper.EncodeToString(b)
	case kDrive:
		p := r.bytes()
		p = append(p, c.mac(p, macLen)...)
		p = append(p, c.filler(p, 24)...)
		return drivePrefix + b64raw.EncodeToString(p)
	case kMailFolder, kMessage, kAttachment, kContactFolder, kContact, kCalendar, kEvent:
		p := r.bytes()
		p = append(p, c.mac(p, macLen)...)
		p = append(p, c.filler(p, 26)...)
		return exchangePrefix + b64url.EncodeToString(p)
	default:
		p := r.bytes()
		p = append(p, c.mac(p, macLen)...)
		return b64raw.EncodeToString(p)
	}
}

// filler pads ids to realistic lengths with bytes derived from the payload.
func (c idCodec) filler(p []byte, n int) []byte {
	out := make([]byte, n+8)
	h := binary.LittleEndian.Uint64(c.mac(p, 8))
	for i := 0; i < n; i += 8 {
		h = mix64(h + 0x9e3779b97f4a7c15)
		binary.LittleEndian.PutUint64(out[i:], h)
	}
	return out[:n]
}

// decode parses an id minted by encode. It fails on anything else.
func (c idCodec) decode(id string) (ref, bool) {
	switch {
	case strings.HasPrefix(id, exchangePrefix):
		b, err := b64url.DecodeString(id[len(exchangePrefix):])
		if err != nil || len(b) != refLen+macLen+26 {
			return ref{}, false
		}
		return c.check(b[:refLen], b[refLen:refLen+macLen])
	case strings.HasPrefix(id, drivePrefix):
		b, err := b64raw.DecodeString(id[len(drivePrefix):])
		if err != nil || len(b) != refLen+macLen+24 {
			return ref{}, false
		}
		return c.check(b[:refLen], b[refLen:refLen+macLen])
	case strings.HasPrefix(id, itemPrefix) && len(id) == 34:
		b, err := b32upper.DecodeString(id[len(itemPrefix):])
		if err != nil || len(b) != 20 {
			return ref{}, false
		}
		if string(c.mac(b[:14], 6)) != string(b[14:]) {
			return ref{}, false
		}
		return ref{
			Kind:   kind(b[0]),
			Sub:    uint16(b[1]),
			Owner:  binary.BigEndian.Uint32(b[2:]),
			Index:  binary.BigEndian.Uint32(b[6:]),
			Serial: binary.BigEndian.Uint32(b[10:]),
		}, true
	default:
		b, err := b64raw.DecodeString(id)
		if err != nil || len(b) != refLen+macLen {
			return ref{}, false
		}
		return c.check(b[:refLen], b[refLen:])
	}
}

func (c idCodec) check(payload, mac []byte) (ref, bool) {
	if string(c.mac(payload, len(mac))) != string(mac) {
		return ref{}, false
	}
	return refFromBytes(payload), true
}

// decodeKind decodes id and requires it to name a k.
func (c idCodec) decodeKind(id string, k kind) (ref, bool) {
	r, ok := c.decode(id)
	if !ok || r.Kind != k {
		return ref{}, false
	}
	return r, true
}
