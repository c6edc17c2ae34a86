package codec

import (
	"bytes"
	"crypto/cipher"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Sealed is a secret encrypted with the secret sub-key. It is what workflow
// inputs carry instead of a passphrase or a cloud key: even a payload
// decoded for the Web UI shows only ciphertext.
//
// A sealed secret is bound to the request it was sealed for: the binding
// (workflow id or schedule id, purpose, expiry) travels in the clear in
// front of the ciphertext and is its associated data, so a copy pasted
// into another request, or a binding edited to match one, does not open.
type Sealed []byte

// Binding is what a sealed secret may be used for: the workflow id of the
// request (the root of its workflow chain), what the request does, and
// until when.
//
// A schedule's secrets are bound to the schedule instead: Temporal names
// each run it starts (schedule id and start time), and a schedule runs for
// years, so they name the schedule id, open in any request that schedule
// started, and need no expiry. Whoever opens them must first prove the
// request was started by that schedule (Temporal's search attributes do
// not prove it: a client may set TemporalScheduledById on any start).
type Binding struct {
	WorkflowID string    `json:"w"`
	Schedule   string    `json:"s,omitempty"`
	Purpose    string    `json:"p"`
	Expires    time.Time `json:"e"`
}

// Errors Open returns; each wraps ErrRefused.
var (
	ErrRefused      = errors.New("sealed credentials refused")
	ErrUnbound      = fmt.Errorf("%w: they are bound to no request (sealed by an older corso); submit the request again with this corso", ErrRefused)
	ErrOtherRequest = fmt.Errorf("%w: they were sealed for another request", ErrRefused)
	ErrNotScheduled = fmt.Errorf("%w: they were sealed for a schedule, and this request was not started by it", ErrRefused)
	ErrOtherPurpose = fmt.Errorf("%w: they were sealed for another kind of request", ErrRefused)
	ErrExpired      = fmt.Errorf("%w: they have expired", ErrRefused)
	ErrTampered     = fmt.Errorf("%w: they do not open with this %s (another key, or altered)", ErrRefused, KeyEnv)
)

// sealedVersion starts every bound sealed secret. Unbound ones (v1) start
// with a random nonce, so a v1 secret reads as unbound, or as tampered when
// its first byte happens to match.
const sealedVersion = 2

var sealedAD = []byte("corso sealed secret v2\x00")

// Sealer seals and opens secrets.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer builds a sealer from the shared key.
func NewSealer(key string) (*Sealer, error) {
	k, err := deriveKeys(key)
	if err != nil {
		return nil, err
	}
	aead, err := newGCM(k.secret)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

type bindingHeader struct {
	WorkflowID string `json:"w"`
	Schedule   string `json:"s,omitempty"`
	Purpose    string `json:"p"`
	// Expires is Unix seconds; 0, for a schedule's secrets only, is none.
	Expires int64 `json:"e"`
}

// Seal encrypts v (any JSON-encodable value) for the request or schedule
// b names.
func (s *Sealer) Seal(v any, b Binding) (Sealed, error) {
	switch {
	case b.Purpose == "":
		return nil, errors.New("seal secret: a purpose is required")
	case b.Schedule != "" && b.WorkflowID != "":
		return nil, errors.New("seal secret: bind to a workflow id or to a schedule, not both")
	case b.Schedule == "" && (b.WorkflowID == "" || b.Expires.IsZero()):
		return nil, errors.New("seal secret: a workflow id and an expiry (or a schedule) are required")
	}
	plain, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("seal secret: %w", err)
	}
	var expires int64
	if !b.Expires.IsZero() {
		expires = b.Expires.Unix()
	}
	hdr, err := json.Marshal(bindingHeader{b.WorkflowID, b.Schedule, b.Purpose, expires})
	if err != nil {
		return nil, fmt.Errorf("seal secret: %w", err)
	}
	ct, err := seal(s.aead, plain, append(bytes.Clone(sealedAD), hdr...))
	if err != nil {
		return nil, err
	}
	out := binary.AppendUvarint([]byte{sealedVersion}, uint64(len(hdr)))
	out = append(out, hdr...)
	return append(out, ct...), nil
}

// split returns a sealed secret's binding header and ciphertext.
func split(sealed Sealed) (hdr []byte, b Binding, ct []byte, err error) {
	if len(sealed) == 0 || sealed[0] != sealedVersion {
		return nil, Binding{}, nil, ErrUnbound
	}
	n, k := binary.Uvarint(sealed[1:])
	if k <= 0 || n > uint64(len(sealed)-1-k) {
		return nil, Binding{}, nil, ErrUnbound
	}
	hdr = sealed[1+k : 1+k+int(n)]
	var h bindingHeader
	if err := json.Unmarshal(hdr, &h); err != nil {
		return nil, Binding{}, nil, ErrUnbound
	}
	b = Binding{WorkflowID: h.WorkflowID, Schedule: h.Schedule, Purpose: h.Purpose}
	if h.Expires != 0 || h.Schedule == "" {
		b.Expires = time.Unix(h.Expires, 0).UTC()
	}
	return hdr, b, sealed[1+k+int(n):], nil
}

// BindingOf returns the binding a sealed secret claims, without checking
// it; Open is what checks.
func BindingOf(sealed Sealed) (Binding, error) {
	_, b, _, err := split(sealed)
	return b, err
}

// Open decrypts a sealed value into v if it was sealed for the request
// want names (its workflow id and purpose) and has not expired at now. A
// schedule's secret opens when want.Schedule, the schedule the caller has
// proved started the request, is the one it was sealed for. A refusal
// wraps ErrRefused and says why.
func (s *Sealer) Open(sealed Sealed, want Binding, now time.Time, v any) error {
	if len(sealed) == 0 {
		return errors.New("no sealed secret in the request")
	}
	hdr, b, ct, err := split(sealed)
	if err != nil {
		return err
	}
	plain, err := open(s.aead, ct, append(bytes.Clone(sealedAD), hdr...))
	if err != nil {
		return ErrTampered
	}
	switch {
	case b.Schedule != "" && b.Schedule != want.Schedule:
		return fmt.Errorf("%w (schedule %s; request %s)", ErrNotScheduled, b.Schedule, orNone(want.WorkflowID))
	case b.Schedule == "" && b.WorkflowID != want.WorkflowID:
		return fmt.Errorf("%w (%s), not for %s", ErrOtherRequest, b.WorkflowID, orNone(want.WorkflowID))
	case b.Purpose != want.Purpose:
		return fmt.Errorf("%w (%s), not for %s", ErrOtherPurpose, b.Purpose, orNone(want.Purpose))
	case !b.Expires.IsZero() && !now.Before(b.Expires):
		return fmt.Errorf("%w (at %s)", ErrExpired, b.Expires.Format(time.RFC3339))
	}
	return json.Unmarshal(plain, v)
}

func orNone(s string) string {
	if s == "" {
		return "an unknown request"
	}
	return s
}
