package graphsim

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
)

// An event's transactionId is an idempotency key for creating it:
//
//	"transactionId: A custom identifier specified by a client app for the
//	server to avoid redundant POST operations in case of client retries to
//	create the same event. [...] After you set transactionId when creating
//	an event, you cannot change transactionId in a subsequent update."
//	(learn.microsoft.com/graph/api/resources/event; the second sentence is
//	from microsoftgraph/microsoft-graph-docs PR #9322)
//
// What Graph answers when a POST carries a transactionId that an event of
// the mailbox already has:
//
//   - The very same request again: 201 Created, and no new event is made
//     (blog.rykoma.net/2020/10/05/1559, a step-by-step
//     walk-through: "もう一度まったく同じリクエストを実行すると、レスポンス
//     としては 201 が返ってきますが、実際には新しい予定は作成されません",
//     run exactly the same request again and the answer is 201, but no new
//     event is created). The simulator answers with the existing event.
//   - Different content under the same transactionId: 400
//     ErrorDuplicateTransactionId "Your request can't be completed. The
//     TransactionId specified in the request has already been used to create
//     a different event." (alcionai/corso issue #2490: restoring a restored
//     event, whose body the restore had changed, under its original
//     transactionId; public Graph clients test for this code together with
//     HTTP 400 BadRequest). Corso's fix (PR #2611, transform.go
//     toEventSimplified) is what a correct restore does: it posts
//     transactionId null.
//
// No source says which properties Exchange compares. The simulator calls a
// POST "the same" when its client-settable properties (everything but
// annotations, server-assigned properties, nulls and transactionId itself)
// equal those the existing event was created with, or those it shows now
// (so posting an event's own JSON back is a retry of it). Nor does any
// source bound the search; the simulator looks through the whole mailbox,
// every calendar, live events only. (Corso #2490's reproduction suggests
// Exchange may look in a narrower scope, the target calendar or recent
// creations; a client that strips transactionId is right either way.)
//
// Events created by client apps carry one: a third of generated events get
// a GUID-like transactionId derived from the seed and the event's
// coordinates, the rest null. It is drawn from the event's own hash stream
// (tagTransaction), not from the rng genEvent draws its other properties
// from, so every other generated property is unchanged. The GUID is an
// invertible keyed encoding of the event's coordinates, so a POST can find
// the generated event its transactionId names without scanning the mailbox.

// txKey keys created events by mailbox and transactionId.
type txKey struct {
	owner uint32
	tx    string
}

// txRound is one Feistel round of the transactionId encoding.
func (s *Server) txRound(round, x uint64) uint64 {
	return hashOf(s.t.seed, tagTransaction, round, x)
}

func (s *Server) txHash(c [3]uint64) uint64 {
	return hashOf(s.t.seed, tagTransaction, c[0], c[1], c[2])
}

// generatedTransactionID is the transactionId of the generated event with
// coordinates c (msgCoords of its source), if it has one.
func (s *Server) generatedTransactionID(c [3]uint64) (string, bool) {
	h := s.txHash(c)
	if (h>>32)%3 != 0 {
		return "", false
	}
	l := c[0]<<32 | c[1]&0xffffffff
	r := c[2]<<32 | h&0xffffffff
	r ^= s.txRound(1, l)
	l ^= s.txRound(2, r)
	r ^= s.txRound(3, l)
	var raw [16]byte
	binary.BigEndian.PutUint64(raw[:8], l)
	binary.BigEndian.PutUint64(raw[8:], r)
	x := hex.EncodeToString(raw[:])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:], true
}

// generatedTransactionSource decodes a generated event's transactionId to
// the source ref of that event (see msgCoords); false for any other string.
func (s *Server) generatedTransactionSource(tx string) (ref, bool) {
	raw, err := hex.DecodeString(strings.ReplaceAll(tx, "-", ""))
	if err != nil || len(raw) != 16 || len(tx) != 36 {
		return ref{}, false
	}
	l, r := binary.BigEndian.Uint64(raw[:8]), binary.BigEndian.Uint64(raw[8:])
	r ^= s.txRound(3, l)
	l ^= s.txRound(2, r)
	r ^= s.txRound(1, l)
	c := [3]uint64{l >> 32, l & 0xffffffff, r >> 32}
	h := s.txHash(c)
	if h&0xffffffff != r&0xffffffff || (h>>32)%3 != 0 {
		return ref{}, false
	}
	if c[1] == 0xffffffff { // an event a mutation added (content from its serial)
		return ref{Kind: kEvent, Owner: uint32(c[0]), Serial: uint32(c[2])}, true
	}
	return ref{Kind: kEvent, Owner: uint32(c[0]), Coll: uint32(c[1]), Index: uint32(c[2])}, true
}

// eventTransactionIDOf is the transactionId event v shows ("" for null).
func (s *Server) eventTransactionIDOf(v view) string {
	if v.st != nil {
		if x, ok := docProperty(v.st.doc, "transactionId"); ok {
			tx, _ := x.(string)
			return tx
		}
	}
	if v.src.isZero() {
		return ""
	}
	tx, _ := s.generatedTransactionID(msgCoords(v.src))
	return tx
}

// postedTransactionID is the transactionId a posted event carries ("" for
// none or null). Graph matches property names in any letter case.
func postedTransactionID(doc map[string]any) string {
	x, _ := docProperty(doc, "transactionId")
	tx, _ := x.(string)
	return tx
}

// docProperty looks a property up in a posted document in any letter case.
func docProperty(doc map[string]any, name string) (any, bool) {
	if x, ok := doc[name]; ok {
		return x, true
	}
	for k, x := range doc {
		if strings.EqualFold(k, name) {
			return x, true
		}
	}
	return nil, false
}

// eventWithTransactionIDLocked finds the live event of mailbox owner that
// carries transactionId tx; m.mu must be held.
func (s *Server) eventWithTransactionIDLocked(owner uint32, tx string) (view, bool) {
	m := s.model
	var cands []ref
	if src, ok := s.generatedTransactionSource(tx); ok && src.Owner == owner {
		cands = append(cands, src)
	}
	cands = append(cands, m.txEvents[txKey{owner, tx}]...)
	for _, r := range cands {
		for i := 0; i < 1024; i++ {
			next, moved := m.movedTo[r]
			if !moved {
				break
			}
			r = next
		}
		if v, ok := m.viewLocked(r); ok && m.aliveLocked(v) && s.eventTransactionIDOf(v) == tx {
			return v, true
		}
	}
	return view{}, false
}

// txFingerprint reduces an event document to the client-settable content a
// retry of its creation repeats (see the comment at the top).
func txFingerprint(doc map[string]any) string {
	norm := make(map[string]any, len(doc))
	for k, x := range doc {
		lk := strings.ToLower(k)
		if x == nil || strings.Contains(k, "@") || serverAssignedProps[lk] || lk == "transactionid" {
			continue
		}
		norm[lk] = x
	}
	b, _ := json.Marshal(norm) // map keys come out sorted
	return string(b)
}

// isRetryOfLocked reports whether posting doc repeats the creation of the
// existing event v: the same content it was created with, or the content
// it shows now. m.mu must be held.
func (s *Server) isRetryOfLocked(v view, doc map[string]any) bool {
	fp := txFingerprint(doc)
	if v.src.isZero() && v.st != nil && txFingerprint(v.st.doc) == fp {
		return true
	}
	b, err := marshalNoEscape(s.renderItem(v))
	if err != nil {
		return false
	}
	var shown map[string]any
	if json.Unmarshal(b, &shown) != nil {
		return false
	}
	return txFingerprint(shown) == fp
}

func errDuplicateTransactionID() *apiError {
	return newError(http.StatusBadRequest, "ErrorDuplicateTransactionId",
		"Your request can't be completed. The TransactionId specified in the request has already been used to create a different event.")
}
