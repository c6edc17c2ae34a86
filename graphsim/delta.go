package graphsim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// A delta round pages through a collection. The first round enumerates the
// live members; it records the change sequence at its start (the snapshot)
// and ends with a deltaLink whose token holds that sequence. A later round
// replays the collection's change log after that sequence, collapsed per
// object, so it returns exactly what changed since the token: upserts for
// members and removals for objects that left. Changes made while a round
// pages show up again in the next round, which is allowed by Graph.
//
// Tokens are self-contained and signed: they carry the collection, the
// round's position and the query options of the first call, because clients
// follow nextLink/deltaLink verbatim and never repeat $select or $top.

// deltaToken is the state inside $skiptoken, $deltatoken and drive token=.
type deltaToken struct {
	Coll  [6]uint32         `json:"c"`
	Link  bool              `json:"l,omitempty"` // a deltaLink: the next call starts a new round
	From  uint64            `json:"f,omitempty"` // incremental rounds: changes after this sequence
	To    uint64            `json:"t,omitempty"` // snapshot: the sequence at the round's start
	Inc   bool              `json:"i,omitempty"`
	Cur   int               `json:"p,omitempty"` // position within the round
	Sel   []string          `json:"s,omitempty"`
	Top   int               `json:"n,omitempty"`
	Gen   uint64            `json:"g,omitempty"`
	GGen  uint64            `json:"gg,omitempty"`
	Iss   int64             `json:"a"` // issue time of the round's origin (unix seconds)
	Extra map[string]string `json:"x,omitempty"`
}

func collRefArray(r ref) [6]uint32 {
	return [6]uint32{uint32(r.Kind), uint32(r.Sub), r.Owner, r.Coll, r.Index, r.Serial}
}

func (t *deltaToken) coll() ref {
	c := t.Coll
	return ref{Kind: kind(c[0]), Sub: uint16(c[1]), Owner: c[2], Coll: c[3], Index: c[4], Serial: c[5]}
}

type tokenSigner struct{ key []byte }

func newTokenSigner(seed int64, purpose string) tokenSigner {
	k := sha256.Sum256([]byte("graphsim-" + purpose + ":" + itoa64(seed)))
	return tokenSigner{key: k[:]}
}

func (s tokenSigner) sign(payload []byte) string {
	m := hmac.New(sha256.New, s.key)
	m.Write(payload)
	return b64raw.EncodeToString(payload) + "." + b64raw.EncodeToString(m.Sum(nil)[:9])
}

func (s tokenSigner) verify(tok string) ([]byte, bool) {
	p, sig, ok := strings.Cut(tok, ".")
	if !ok {
		return nil, false
	}
	payload, err := b64raw.DecodeString(p)
	if err != nil {
		return nil, false
	}
	want, err := b64raw.DecodeString(sig)
	if err != nil {
		return nil, false
	}
	m := hmac.New(sha256.New, s.key)
	m.Write(payload)
	return payload, hmac.Equal(m.Sum(nil)[:9], want)
}

func (s tokenSigner) encodeDelta(t deltaToken) string {
	b, _ := json.Marshal(t)
	return s.sign(b)
}

func (s tokenSigner) decodeDelta(tok string) (*deltaToken, bool) {
	b, ok := s.verify(tok)
	if !ok {
		return nil, false
	}
	var t deltaToken
	if json.Unmarshal(b, &t) != nil {
		return nil, false
	}
	return &t, true
}

// collection describes a delta-able set of objects.
type collection struct {
	key     ref // change-log key
	service string
	baseLen int
	base    func(i int) ref
	// member reports whether a view belongs to the collection now; m.mu held.
	member func(v view) bool
	// treeOrder keeps parents before children after moves (drives).
	treeOrder bool
	// tree returns the enumeration order from scratch; m.mu held.
	tree func() []ref
}

// deltaEntry is one element of a delta page.
type deltaEntry struct {
	v       view
	removed bool
}

// deltaPage is the outcome of one delta call.
type deltaPage struct {
	entries []deltaEntry
	next    *deltaToken // nextLink, or
	delta   *deltaToken // deltaLink when the round is complete
}

// tokenExpired reports whether a token may no longer be used and with
// which error code.
func (s *Server) tokenExpired(c collection, tok *deltaToken) (string, bool) {
	m := s.model
	m.mu.RLock()
	cs := m.colls[c.key]
	var gen uint64
	code := ""
	if cs != nil {
		gen, code = cs.gen, cs.code
	}
	ggen, gcode := m.globalGen, m.globalCode
	since := 0
	if tok.Inc || tok.Link {
		since = m.changesSinceLocked(c.key, tok.From)
	}
	m.mu.RUnlock()
	if tok.GGen != ggen {
		return gcode, true
	}
	if tok.Gen != gen {
		return code, true
	}
	d := s.opts.Delta
	if d.TokenTTL > 0 && s.now().Sub(time.Unix(tok.Iss, 0)) > d.TokenTTL {
		return "", true
	}
	if d.MaxLogEntries > 0 && since > d.MaxLogEntries {
		return "", true
	}
	return "", false
}

// startToken begins an initial round.
func (s *Server) startToken(c collection, sel []string, top int, extra map[string]string) *deltaToken {
	m := s.model
	m.mu.RLock()
	var gen uint64
	if cs := m.colls[c.key]; cs != nil {
		gen = cs.gen
	}
	seq, ggen := m.seq, m.globalGen
	m.mu.RUnlock()
	return &deltaToken{Coll: collRefArray(c.key), To: seq, Sel: sel, Top: top, Gen: gen, GGen: ggen,
		Iss: s.now().Unix(), Extra: extra}
}

// latestToken is a deltaLink token at the current position (drive
// token=latest): the next round returns only later changes.
func (s *Server) latestToken(c collection, sel []string, top int, extra map[string]string) *deltaToken {
	t := s.startToken(c, sel, top, extra)
	t.Link, t.From, t.To = true, t.To, 0
	return t
}

// runDelta serves one page of a round.
func (s *Server) runDelta(c collection, tok *deltaToken, pageSize int) deltaPage {
	m := s.model
	if tok.Link {
		// A deltaLink starts an incremental round from its sequence.
		m.mu.RLock()
		to := m.seq
		m.mu.RUnlock()
		nt := *tok
		nt.Link, nt.Inc, nt.To, nt.Cur = false, true, to, 0
		tok = &nt
	}
	if tok.Inc {
		return s.incrementalPage(c, tok, pageSize)
	}
	return s.initialPage(c, tok, pageSize)
}

func (s *Server) initialPage(c collection, tok *deltaToken, pageSize int) deltaPage {
	m := s.model
	m.mu.RLock()
	defer m.mu.RUnlock()
	var order []ref
	cs := m.colls[c.key]
	if c.treeOrder && cs != nil && cs.structSeq > 0 {
		// The order is fixed per round (keyed by its snapshot) so that moves
		// during the round cannot shift unseen objects behind the cursor.
		m.orderMu.Lock()
		if cs.orders == nil {
			cs.orders = map[uint64][]ref{}
		}
		var ok bool
		if order, ok = cs.orders[tok.To]; !ok {
			order = c.tree()
			if len(cs.orders) >= 4 {
				clear(cs.orders)
			}
			cs.orders[tok.To] = order
		}
		m.orderMu.Unlock()
	}
	var added []ref
	if cs != nil {
		added = cs.added
	}
	total := c.baseLen + len(added)
	if order != nil {
		total = len(order)
	}
	var page deltaPage
	cur := tok.Cur
	for cur < total && len(page.entries) < pageSize {
		var r ref
		switch {
		case order != nil:
			r = order[cur]
		case cur < c.baseLen:
			r = c.base(cur)
		default:
			r = added[cur-c.baseLen]
		}
		cur++
		v, ok := m.viewLocked(r)
		if ok && c.member(v) {
			page.entries = append(page.entries, deltaEntry{v: v})
		}
	}
	nt := *tok
	nt.Iss = s.now().Unix()
	if cur >= total {
		nt.Link, nt.From, nt.To, nt.Cur = true, tok.To, 0, 0
		page.delta = &nt
	} else {
		nt.Cur = cur
		page.next = &nt
	}
	return page
}

func (s *Server) incrementalPage(c collection, tok *deltaToken, pageSize int) deltaPage {
	m := s.model
	m.mu.RLock()
	defer m.mu.RUnlock()
	changes := m.changesLocked(c.key, tok.From, tok.To)
	var page deltaPage
	cur := tok.Cur
	for cur < len(changes) && len(page.entries) < pageSize {
		r := changes[cur]
		cur++
		v, ok := m.viewLocked(r)
		if !ok {
			continue
		}
		if c.member(v) {
			page.entries = append(page.entries, deltaEntry{v: v})
			continue
		}
		if v.st != nil && v.st.created > tok.From {
			continue // created and gone within the interval: the client never saw it
		}
		page.entries = append(page.entries, deltaEntry{v: v, removed: true})
	}
	nt := *tok
	nt.Iss = s.now().Unix()
	if cur >= len(changes) {
		nt.Link, nt.Inc, nt.From, nt.To, nt.Cur = true, false, tok.To, 0, 0
		page.delta = &nt
	} else {
		nt.Cur = cur
		page.next = &nt
	}
	return page
}

// pageSizeFor picks the page size: Prefer odata.maxpagesize for Exchange
// (re-sent on every page by the SDK), or $top carried in the token for
// drives; Graph's defaults otherwise.
func pageSizeFor(service string, pref prefer, tokTop int) int {
	switch service {
	case "drive":
		n := tokTop
		if n <= 0 {
			n = 200
		}
		return min(n, 1000)
	default:
		n := pref.maxPageSize
		if n <= 0 {
			n = 10
		}
		return min(n, 1000)
	}
}

// expiredDeltaError is the answer to an expired token: Exchange sends 410
// with a sync-state code; drives send 410 resyncRequired with a Location to
// a fresh enumeration and an inner resync code.
func (s *Server) expiredDeltaError(service, code, freshURL string) *apiError {
	if service == "drive" {
		inner := code
		if inner == "" {
			inner = s.opts.Delta.DriveCode
		}
		e := newError(http.StatusGone, "resyncRequired",
			"Resync required. Replace any local items with the server's version (including deletes) if you're sure that the service was up to date with your local changes when you last sync'd. Upload any local changes that the server doesn't know about.")
		e.innerCode = inner
		return e.with("Location", freshURL)
	}
	if code == "" {
		code = s.opts.Delta.ExchangeCode
	}
	msg := "The sync state generation was not found."
	switch strings.ToLower(code) {
	case "resyncrequired":
		msg = "Resync required. The delta token is no longer valid."
	case "syncstateinvalid":
		msg = "The sync state is invalid."
	}
	return newError(http.StatusGone, code, "%s", msg)
}
